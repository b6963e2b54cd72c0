// Command benchgen ages a clone's local store for scripts/bench.sh: it
// decides and records N events of a fleet's work through the store's own
// code (policy.Decide, then what Act records), in one process and one write,
// instead of N oxygen commands.
//
//	go run ./internal/benchgen -root CLONE [-policy FILE] -events N -mix leases|mixed -end UNIX
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

func main() {
	root := flag.String("root", ".", "the clone whose local store is aged")
	file := flag.String("policy", "", "the policy (default: the clone's resources.yaml)")
	events := flag.Int("events", 10000, "events to record")
	mix := flag.String("mix", "leases", "leases: claims and releases only; mixed: also capsules and signals")
	end := flag.Int64("end", time.Now().Add(-24*time.Hour).Unix(), "unix time of the last event")
	flag.Parse()
	if err := run(*root, *file, *events, *mix, time.Unix(*end, 0)); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(2)
	}
}

func run(root, file string, n int, mix string, end time.Time) error {
	if mix != "leases" && mix != "mixed" {
		return fmt.Errorf("-mix %q: want leases or mixed", mix)
	}
	if file == "" {
		file = filepath.Join(root, policy.FileName)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	p, err := policy.Load(file, data)
	if err != nil {
		return err
	}
	// One event a minute, or closer where that would start before a month ago.
	step := min(time.Minute, 30*24*time.Hour/time.Duration(max(n, 1)))
	start := end.Add(-time.Duration(n) * step)
	recorded, refused, err := store.OpenLocal(root).Seed(p, store.FleetActs(n, mix == "mixed", start, step))
	if err != nil {
		return err
	}
	fmt.Printf("benchgen: %d events recorded (%s), %d acts refused\n", recorded, mix, refused)
	if refused > 0 {
		return fmt.Errorf("%d acts were refused: the history is not the one asked for", refused)
	}
	return nil
}

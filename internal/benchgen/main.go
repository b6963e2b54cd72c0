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

var (
	resources = []string{"schema", "storage", "index", "execution", "deployment", "identity", "policy", "coordination"}
	domains   = []string{"watcher", "builder", "guardian", "scribe", "gems"}
	cores     = []string{"monitoring", "runtime", "secrets", "docs", "ui"} // a folder of each domain's core
)

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
	recorded, refused, err := store.OpenLocal(root).Seed(p, acts(n, mix, start, step))
	if err != nil {
		return err
	}
	fmt.Printf("benchgen: %d events recorded (%s), %d acts refused\n", recorded, mix, refused)
	if refused > 0 {
		return fmt.Errorf("%d acts were refused: the history is not the one asked for", refused)
	}
	return nil
}

// acts yields the fleet's acts, one event each. A round of ten, for mixed:
// three leases claimed and released, a capsule assigned and done, a missive
// sent to another domain and acknowledged; for leases, five leases.
func acts(n int, mix string, start time.Time, step time.Duration) func(yield func(policy.Act, time.Time) bool) {
	return func(yield func(policy.Act, time.Time) bool) {
		at := start
		k := 0
		emit := func(a policy.Act) bool {
			at = at.Add(step)
			k++
			return yield(a, at)
		}
		for round := 0; k < n; round++ {
			dom := round % len(domains)
			by := fmt.Sprintf("agent%d@%s.example", round%13, domains[dom])
			leases := 5
			if mix == "mixed" {
				leases = 3
			}
			for i := 0; i < leases && k < n; i++ {
				res := []string{resources[(round*leases+i)%len(resources)]}
				claim := policy.Act{Kind: policy.ActClaim, By: by, Domain: domains[dom], Resources: res, TTL: 2 * time.Hour, Reason: "fleet work"}
				if !emit(claim) || k < n && !emit(policy.Act{Kind: policy.ActRelease, By: by, Resources: res}) {
					return
				}
			}
			if mix != "mixed" {
				continue
			}
			id := fmt.Sprintf("c%d", round)
			if k < n && !emit(policy.Act{Kind: policy.ActAssign, By: by, Domain: domains[dom], ID: id, Owner: by, Scope: []string{"src/" + id + "/**"}}) {
				return
			}
			if k < n && !emit(policy.Act{Kind: policy.ActDone, By: by, ID: id}) {
				return
			}
			to := (dom + 1) % len(domains)
			sig := fmt.Sprintf("s%d", round)
			send := policy.Act{Kind: policy.ActSignal, By: by, Domain: domains[dom], ID: sig, Signal: policy.SignalMissive,
				To: []string{domains[to]}, Files: []string{cores[to] + "/" + sig + ".md"}, Subject: "a change to your surface"}
			if k < n && !emit(send) {
				return
			}
			ack := policy.Act{Kind: policy.ActAck, By: fmt.Sprintf("agent%d@%s.example", round%11, domains[to]), ID: sig}
			if k < n && !emit(ack) {
				return
			}
		}
	}
}

package store

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
)

// refOf writes the history of local store s as one state commit, cut in
// segments of segmentEvents events as the git store seals them, each with
// its checkpoint when checkpoints is set (else as a store sealed before
// checkpoints were written), in a new bare repository.
func refOf(tb testing.TB, s *Local, checkpoints bool) (gitcli.Runner, string) {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("no git")
	}
	dir := tb.TempDir()
	if out, err := exec.Command("git", "init", "-q", "--bare", dir).CombinedOutput(); err != nil {
		tb.Fatalf("git init: %v\n%s", err, out)
	}
	log, err := os.ReadFile(filepath.Join(s.dir, eventsLog))
	if err != nil {
		tb.Fatal(err)
	}
	put := map[string][]byte{}
	var cp []byte
	for n := 1; bytes.Count(log, []byte("\n")) >= segmentEvents; n++ {
		cut := 0
		for range segmentEvents {
			cut += bytes.IndexByte(log[cut:], '\n') + 1
		}
		seg := log[:cut]
		if cp, err = nextCheckpoint(cp, seg, segmentPath(n)); err != nil {
			tb.Fatal(err)
		}
		put[segmentPath(n)], log = seg, log[cut:]
		if checkpoints {
			put[checkpointPath(n)] = cp
		}
	}
	put[eventsLog] = log
	r := gitcli.Runner{Dir: dir}
	tip, err := r.WriteCommit(dir, gitcli.StateCommit{Put: put, Message: "aged", By: "ada@builder.example", At: time.Now()})
	if err != nil {
		tb.Fatal(err)
	}
	// Packed as a server's gc packs it: fast-import chains each checkpoint
	// on the one before, and reading the newest would undo a hundred deltas.
	if _, err := r.Run(nil, "repack", "-a", "-d", "-f", "-q"); err != nil {
		tb.Fatal(err)
	}
	return r, tip
}

// TestReplayRefFromCheckpoint: read from the state ref's newest checkpoint
// at or before since, the history holds everything that matters from
// since on exactly as the whole replay does, and far less than it; a store
// sealed before checkpoints reads the same from the beginning.
func TestReplayRefFromCheckpoint(t *testing.T) {
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := agedStore(t, 5500, end)
	full, err := s.HistoryState(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r, tip := refOf(t, s, true)
	old, oldTip := refOf(t, s, false)
	for _, back := range []time.Duration{0, 90 * time.Minute, 470 * time.Minute, 30 * time.Hour, 91 * time.Hour, 1000 * time.Hour} {
		since := end.Add(-back)
		st, err := replayRef(r, tip, "state", since)
		if err != nil {
			t.Fatal(err)
		}
		fromCheckpoint(t, fmt.Sprintf("since end-%s", back), st, full, since, back < 24*time.Hour)
		st, err = replayRef(old, oldTip, "state", since)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(matters(st, since), matters(full, since)) {
			t.Errorf("since end-%s: a store without checkpoints reads otherwise", back)
		}
	}
}

// BenchmarkRefHistoryState: the server's (and a fresh clone's) read of
// the state ref's history for a recent range costs the events after the
// checkpoint before it, however old the store; from the beginning, or in a
// store sealed before checkpoints, it costs the store's age.
func BenchmarkRefHistoryState(b *testing.B) {
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{10_000, 100_000} {
		s := agedStore(b, n, end)
		for _, c := range []struct {
			name        string
			checkpoints bool
			since       time.Time
		}{{"whole", true, time.Time{}}, {"nocheckpoints", false, end.Add(-time.Hour)}, {"checkpoint", true, end.Add(-time.Hour)}} {
			r, tip := refOf(b, s, c.checkpoints)
			b.Run(fmt.Sprintf("%s/%dk", c.name, n/1000), func(b *testing.B) {
				for b.Loop() {
					if _, err := replayRef(r, tip, "state", c.since); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// FuzzParseCheckpoint: whatever a checkpoint file holds, reading it neither
// panics nor takes what the server would refuse: what it accepts, written
// again, reads the same.
func FuzzParseCheckpoint(f *testing.F) {
	seg := []byte(`{"v":1,"op":"claim","by":"ada@builder.example","at":"2026-03-01T00:00:00Z","lease":{"resource":"schema","owner":"ada@builder.example","domain":"builder","ttl":3600,"created_at":"2026-03-01T00:00:00Z","expires_at":"2026-03-01T01:00:00Z"}}` + "\n")
	good, err := nextCheckpoint(nil, seg, segmentPath(1))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"v":1,"at":"2026-01-01T00:00:00Z","state":{}}`))
	f.Add([]byte(`{"v":2,"at":"2026-01-01T00:00:00Z","state":{}}`))
	f.Add([]byte(`{"v":1,"at":"2026-01-01T00:00:00Z","state":{},"x":1}`))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := parseCheckpoint(data, "checkpoints/000001.json")
		if err != nil {
			return
		}
		if cp.V != formatVersion {
			t.Fatalf("version %d accepted", cp.V)
		}
		next, err := nextCheckpoint(data, seg, segmentPath(2))
		if err != nil {
			t.Fatalf("a checkpoint that reads does not replay: %v", err)
		}
		if again, err := nextCheckpoint(next, seg, segmentPath(3)); err != nil || again == nil {
			t.Fatalf("a written checkpoint does not read: %v", err)
		}
	})
}

package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/policy"
)

// agedStore seeds a local store with n mixed events, a minute apart,
// ending at end.
func agedStore(tb testing.TB, n int, end time.Time) *Local {
	tb.Helper()
	p, err := policy.Load("resources.yaml", oxygen.ReferencePolicy)
	if err != nil {
		tb.Fatal(err)
	}
	s := OpenLocal(tb.TempDir())
	if _, refused, err := s.Seed(p, FleetActs(n, true, end.Add(-time.Duration(n)*time.Minute), time.Minute)); err != nil || refused > 0 {
		tb.Fatalf("seed: %d refused, %v", refused, err)
	}
	return s
}

// matters keeps what of a state can matter to a commit made at t or after
// (give or take a clock_skew under a day): what a checkpoint must keep.
func matters(st policy.State, t time.Time) policy.State {
	keep := t.Add(-time.Hour)
	var out policy.State
	for _, l := range st.Leases {
		if !l.End().Before(keep) {
			out.Leases = append(out.Leases, l)
		}
	}
	for _, c := range st.Capsules {
		if end, ok := finishedCapsule(c); !ok || !end.Before(keep) {
			out.Capsules = append(out.Capsules, c)
		}
	}
	for _, s := range st.Signals {
		if end, ok := finishedSignal(st, s); !ok || !end.Before(keep) {
			out.Signals = append(out.Signals, s)
		}
	}
	return out
}

// TestHistoryStateFromCheckpoint: read from a checkpoint, the history holds
// everything that matters from the checkpoint's time on exactly as the
// whole replay does, and far less than it; a log that no longer starts as
// the checkpoint's did is read from the beginning.
func TestHistoryStateFromCheckpoint(t *testing.T) {
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := agedStore(t, 5500, end)
	full, err := s.HistoryState(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, back := range []time.Duration{0, 90 * time.Minute, 470 * time.Minute, 30 * time.Hour, 91 * time.Hour} { // 470m: 30m after a checkpoint
		since := end.Add(-back)
		for pass := range 2 { // the first writes the checkpoints, the second reads one
			st, err := s.HistoryState(since)
			if err != nil {
				t.Fatal(err)
			}
			fromCheckpoint(t, fmt.Sprintf("since end-%s, pass %d", back, pass), st, full, since, pass == 1 && back < 24*time.Hour)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(s.dir, checkpointsDir)); len(entries) != 5 {
		t.Errorf("%d checkpoints, want one every %d of 5500 events", len(entries), checkpointEvery)
	}

	// Another log of the same length or longer: the checkpoints are not its.
	other := agedStore(t, 5600, end.Add(time.Hour))
	data, err := os.ReadFile(filepath.Join(other.dir, eventsLog))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, eventsLog), data, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := other.HistoryState(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.HistoryState(end)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(matters(got, end), matters(want, end)) {
		t.Error("a replaced log was read from a checkpoint of the old one")
	}
}

// fromCheckpoint fails the test unless st, read from a checkpoint at or
// before since, holds what matters from since on as the whole replay full
// does; and, where a checkpoint must have been used, far fewer records.
func fromCheckpoint(t *testing.T, label string, st, full policy.State, since time.Time, used bool) {
	t.Helper()
	if got, want := matters(st, since), matters(full, since); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: what matters differs from the whole replay:\n got %d leases %d capsules %d signals\nwant %d, %d, %d",
			label, len(got.Leases), len(got.Capsules), len(got.Signals), len(want.Leases), len(want.Capsules), len(want.Signals))
	}
	if n, all := len(st.Leases)+len(st.Capsules)+len(st.Signals), len(full.Leases)+len(full.Capsules)+len(full.Signals); used && n > all/2 {
		t.Errorf("%s: %d records, the whole history %d: no checkpoint used", label, n, all)
	}
}

// BenchmarkHistoryState: a range check's read of the history, from the
// beginning and from the checkpoint before a recent range.
func BenchmarkHistoryState(b *testing.B) {
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{10_000, 100_000} {
		s := agedStore(b, n, end)
		for _, c := range []struct {
			name  string
			since time.Time
		}{{"whole", time.Time{}}, {"checkpoint", end.Add(-time.Hour)}} {
			b.Run(fmt.Sprintf("%s/%dk", c.name, n/1000), func(b *testing.B) {
				if _, err := s.HistoryState(c.since); err != nil { // writes the checkpoints
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := s.HistoryState(c.since); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// FuzzCheckpointFile: whatever a checkpoint file holds, reading the history
// from it neither fails nor panics, and a file that is not a checkpoint of
// this log changes nothing.
func FuzzCheckpointFile(f *testing.F) {
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := agedStore(f, 1200, end)
	full, err := s.HistoryState(time.Time{}) // writes the checkpoint at 1000
	if err != nil {
		f.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(s.dir, checkpointsDir))
	if err != nil || len(entries) != 1 {
		f.Fatalf("checkpoints: %v, %v", entries, err)
	}
	file := filepath.Join(s.dir, checkpointsDir, entries[0].Name())
	good, err := os.ReadFile(file)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"v":1,"offset":0,"events":0,"at":"2026-01-01T00:00:00Z","prefix":"","state":{}}`))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := s.HistoryState(end)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, good) && len(st.Leases) < len(matters(full, end).Leases) {
			var cp checkpoint
			if json.Unmarshal(data, &cp) != nil || cp.Prefix == "" {
				t.Errorf("a file that is no checkpoint of this log lost leases: %d of %d", len(st.Leases), len(matters(full, end).Leases))
			}
		}
	})
}

package store

import (
	"slices"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// TestPruneQueueAndDeadEnds: a place in a queue leaves the live state once
// its heartbeat passed, a dead end a retention after it happened; prune
// says when the next of them may go.
func TestPruneQueueAndDeadEnds(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st := policy.State{
		Waiters:  []policy.Waiter{{ID: "w-a", Since: t0, Until: t0.Add(time.Minute)}, {ID: "w-b", Since: t0, Until: t0.Add(2 * time.Minute)}},
		DeadEnds: []policy.DeadEnd{{ID: "d-1", At: t0}},
	}
	tests := []struct {
		at   time.Duration
		want []string
		next time.Duration
	}{
		{time.Minute - time.Millisecond, nil, time.Minute},
		{time.Minute, []string{"waiters/w-a.yaml"}, 2 * time.Minute},
		{2 * time.Minute, []string{"waiters/w-a.yaml", "waiters/w-b.yaml"}, policy.DeadEndRetention},
		{policy.DeadEndRetention, []string{"refusals/d-1.yaml", "waiters/w-a.yaml", "waiters/w-b.yaml"}, 0},
	}
	for _, tc := range tests {
		chs := []change{{files: map[string][]byte{"leases/x.yaml": []byte("x")}}}
		next := prune(st, t0.Add(tc.at), chs)
		var got []string
		for path, data := range chs[0].files {
			if data == nil {
				got = append(got, path)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("at t0+%s: removed %v, want %v", tc.at, got, tc.want)
		}
		if want := t0.Add(tc.next); tc.next == 0 && !next.IsZero() || tc.next != 0 && !next.Equal(want) {
			t.Errorf("at t0+%s: next prune at %v, want t0+%s", tc.at, next, tc.next)
		}
	}
	// A place the act renews is not removed by it.
	chs := []change{{files: map[string][]byte{"waiters/w-a.yaml": []byte("w")}}}
	prune(st, t0.Add(time.Hour), chs)
	if chs[0].files["waiters/w-a.yaml"] == nil {
		t.Error("prune removed the place the act renews")
	}
}

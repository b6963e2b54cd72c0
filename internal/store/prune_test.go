package store

import (
	"slices"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

func TestPrune(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	done := policy.Capsule{ID: "done", Status: policy.CapsuleDone, CreatedAt: t0, ClosedAt: t0.Add(time.Hour)}
	named := policy.Capsule{ID: "named", Status: policy.CapsuleDone, CreatedAt: t0, ClosedAt: t0}
	open := policy.Capsule{ID: "open", Status: policy.CapsuleInProgress, CreatedAt: t0}
	missive := policy.Signal{ID: "m", Kind: policy.SignalMissive, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	live := policy.Signal{ID: "live", Kind: policy.SignalCouncilCall, Capsule: "named", CreatedAt: t0} // open: it keeps its capsule
	ofDone := policy.Signal{ID: "of-done", Kind: policy.SignalMissive, Capsule: "done", CreatedAt: t0, ExpiresAt: t0.Add(30 * 24 * time.Hour)}
	declined := policy.Signal{ID: "declined", Kind: policy.SignalMissive, CreatedAt: t0, ExpiresAt: t0.Add(30 * 24 * time.Hour), Declined: &policy.Ack{At: t0}}
	call := policy.Signal{ID: "call", Kind: policy.SignalCouncilCall, CreatedAt: t0}
	used := policy.Signal{ID: "used", Kind: policy.SignalCouncilCall, CreatedAt: t0, UsedAt: t0.Add(2 * time.Hour)}
	st := policy.State{Capsules: []policy.Capsule{done, named, open}, Signals: []policy.Signal{missive, live, ofDone, declined, call, used}}
	tests := []struct {
		at   time.Duration // after t0
		want []string      // the paths removed
	}{
		{0, nil},
		{Retention - time.Millisecond, nil},
		{Retention, []string{"signals/declined.yaml"}},
		// the missive of a done capsule ends when the capsule does: both go
		{Retention + time.Hour, []string{"capsules/done.yaml", "signals/declined.yaml", "signals/of-done.yaml"}},
		{Retention + 2*time.Hour, []string{"capsules/done.yaml", "signals/declined.yaml", "signals/of-done.yaml", "signals/used.yaml"}},
		{Retention + 24*time.Hour, []string{"capsules/done.yaml", "signals/declined.yaml", "signals/m.yaml", "signals/of-done.yaml", "signals/used.yaml"}},
	}
	for _, tc := range tests {
		chs := []change{{files: map[string][]byte{"leases/x.yaml": []byte("x")}}}
		prune(st, t0.Add(tc.at), chs)
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
	}
	// A done capsule an open signal names stays; an open capsule and an
	// open call never go.
	rest := policy.State{Capsules: st.Capsules, Signals: []policy.Signal{call, live}}
	chs := []change{{files: map[string][]byte{}}}
	prune(rest, t0.Add(365*24*time.Hour), chs)
	if _, ok := chs[0].files["capsules/done.yaml"]; !ok || len(chs[0].files) != 1 {
		t.Errorf("a year on: %v, want only capsules/done.yaml removed", chs[0].files)
	}
	// A record the act writes itself is never removed by it.
	chs = []change{{files: map[string][]byte{"signals/m.yaml": []byte("m")}}}
	prune(st, t0.Add(365*24*time.Hour), chs)
	if chs[0].files["signals/m.yaml"] == nil {
		t.Error("prune removed the record the act writes")
	}
	// No change, no removal: an act that writes nothing records nothing.
	prune(st, t0.Add(365*24*time.Hour), nil)
}

func TestHistoryState(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c1 := policy.Capsule{ID: "T-1", Status: policy.CapsuleInProgress, CreatedAt: t0}
	c1done := c1
	c1done.Status, c1done.ClosedAt = policy.CapsuleDone, t0.Add(time.Hour)
	c2 := policy.Capsule{ID: "T-1", Status: policy.CapsuleInProgress, CreatedAt: t0.Add(30 * 24 * time.Hour)} // the id used again
	cc := policy.Signal{ID: "cc", Kind: policy.SignalCouncilCall, CreatedAt: t0}
	events := []Event{
		{Op: OpAssign, At: t0, Capsule: &c1},
		{Op: OpSignal, At: t0, Signal: &cc},
		{Op: OpClaim, At: t0.Add(time.Minute), Council: "cc", Lease: policy.Lease{Resource: "schema", CreatedAt: t0.Add(time.Minute)}},
		{Op: OpClaim, At: t0.Add(2 * time.Minute), Council: "cc", Lease: policy.Lease{Resource: "index", CreatedAt: t0.Add(2 * time.Minute)}},
		{Op: OpDone, At: t0.Add(time.Hour), Capsule: &c1done},
		{Op: OpAssign, At: c2.CreatedAt, Capsule: &c2},
	}
	p := newPast(policy.State{})
	for _, e := range events {
		p.add(e)
	}
	st := p.state()
	if len(st.Leases) != 2 {
		t.Errorf("leases: %v", st.Leases)
	}
	if len(st.Capsules) != 2 || st.Capsule("T-1").CreatedAt != c2.CreatedAt || st.Capsules[1].ClosedAt != c1done.ClosedAt {
		t.Errorf("capsules: %+v, want the done T-1 and, found first, the new one", st.Capsules)
	}
	if s := st.Signal("cc"); s == nil || !s.UsedAt.Equal(t0.Add(time.Minute)) || s.UsedFor != "claim schema" {
		t.Errorf("council call: %+v, want used by the first claim citing it", s)
	}
}

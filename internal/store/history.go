package store

import (
	"slices"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// past is the state of the past as the history builds it, event by event:
// every lease recorded, and every capsule and signal as the last event
// about it left it, those pruned from the live records too. A council call
// is marked used by the first act that cites it. An id used again after its
// record was pruned starts a new record (told apart by its creation time).
type past struct {
	st       policy.State
	open     map[string]int // resource -> index in st.Leases of its latest lease not released
	capsules map[string]int // id -> index in st.Capsules of its newest record
	signals  map[string]int
}

// newPast starts from the records of st (a checkpoint's).
func newPast(st policy.State) *past {
	p := &past{st: st, open: map[string]int{}, capsules: map[string]int{}, signals: map[string]int{}}
	for i, l := range st.Leases {
		if j, ok := p.open[l.Resource]; l.ReleasedAt.IsZero() && (!ok || st.Leases[j].CreatedAt.Before(l.CreatedAt)) {
			p.open[l.Resource] = i
		}
	}
	for i, c := range st.Capsules {
		p.capsules[c.ID] = i
	}
	for i, s := range st.Signals {
		p.signals[s.ID] = i
	}
	return p
}

func (p *past) add(e Event) {
	st := &p.st
	i, ok := p.open[e.Lease.Resource]
	switch e.Op {
	case OpClaim, OpTakeover:
		p.open[e.Lease.Resource] = len(st.Leases)
		st.Leases = append(st.Leases, e.Lease)
	case OpRenew:
		if ok && st.Leases[i].CreatedAt.Equal(e.Lease.CreatedAt) {
			st.Leases[i].ExpiresAt, st.Leases[i].TTL = e.Lease.ExpiresAt, e.Lease.TTL
		}
	case OpRelease:
		if ok && st.Leases[i].CreatedAt.Equal(e.Lease.CreatedAt) {
			st.Leases[i].ReleasedAt = e.At
			delete(p.open, e.Lease.Resource)
		}
	}
	if c := e.Capsule; c != nil {
		if i, ok := p.capsules[c.ID]; ok && st.Capsules[i].CreatedAt.Equal(c.CreatedAt) {
			st.Capsules[i] = *c
		} else {
			p.capsules[c.ID] = len(st.Capsules)
			st.Capsules = append(st.Capsules, *c)
		}
	}
	if s := e.Signal; s != nil {
		if i, ok := p.signals[s.ID]; ok && st.Signals[i].CreatedAt.Equal(s.CreatedAt) {
			st.Signals[i] = *s
		} else {
			p.signals[s.ID] = len(st.Signals)
			st.Signals = append(st.Signals, *s)
		}
	}
	if i, ok := p.signals[e.Council]; ok && e.Council != "" && st.Signals[i].UsedAt.IsZero() {
		st.Signals[i].UsedAt, st.Signals[i].UsedFor = e.At, e.Op+" "+e.subject()
	}
}

// state is a copy of what the past holds: leases by resource and start,
// capsules and signals newest first, so that a lookup of a reused id finds
// its newest record.
func (p *past) state() policy.State {
	st := policy.State{Leases: slices.Clone(p.st.Leases), Capsules: slices.Clone(p.st.Capsules), Signals: slices.Clone(p.st.Signals)}
	sortLeases(st.Leases)
	slices.Reverse(st.Capsules)
	slices.Reverse(st.Signals)
	return st
}

// since is what of the past can matter to a commit made at cutoff or
// after, give or take less than checkpointKeep: the leases not ended
// before cutoff-checkpointKeep or still open, the capsules and signals
// not finished by then (see prune).
func (p *past) since(cutoff time.Time) policy.State {
	keep := cutoff.Add(-checkpointKeep)
	var st policy.State
	for i, l := range p.st.Leases {
		if j, open := p.open[l.Resource]; open && j == i || !l.End().Before(keep) {
			st.Leases = append(st.Leases, l)
		}
	}
	idx := p.st
	idx.Capsules = slices.Clone(p.st.Capsules)
	idx.Index()
	for _, c := range p.st.Capsules {
		if end, ok := finishedCapsule(c); !ok || !end.Before(keep) {
			st.Capsules = append(st.Capsules, c)
		}
	}
	for _, s := range p.st.Signals {
		if end, ok := finishedSignal(idx, s); !ok || !end.Before(keep) {
			st.Signals = append(st.Signals, s)
		}
	}
	return st
}

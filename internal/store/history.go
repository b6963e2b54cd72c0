package store

import (
	"slices"

	"github.com/oxygen-protocol/oxygen/policy"
)

// historyState replays the history into what judging the past needs:
// every lease ever recorded, and every capsule and signal as the last
// event about it left it, the ones pruned from the live records too. A
// council call is marked used by the first act that cites it. An id used
// again after its record was pruned starts a new record (told apart by
// its creation time); lookups by id then find the newest.
func historyState(events []Event) policy.State {
	st := policy.State{Leases: Replay(events)}
	capsules := map[string]int{} // id -> index in st.Capsules of its newest record
	signals := map[string]int{}
	for _, e := range events {
		if c := e.Capsule; c != nil {
			if i, ok := capsules[c.ID]; ok && st.Capsules[i].CreatedAt.Equal(c.CreatedAt) {
				st.Capsules[i] = *c
			} else {
				capsules[c.ID] = len(st.Capsules)
				st.Capsules = append(st.Capsules, *c)
			}
		}
		if s := e.Signal; s != nil {
			if i, ok := signals[s.ID]; ok && st.Signals[i].CreatedAt.Equal(s.CreatedAt) {
				st.Signals[i] = *s
			} else {
				signals[s.ID] = len(st.Signals)
				st.Signals = append(st.Signals, *s)
			}
		}
		if i, ok := signals[e.Council]; ok && e.Council != "" && st.Signals[i].UsedAt.IsZero() {
			st.Signals[i].UsedAt, st.Signals[i].UsedFor = e.At, e.Op+" "+e.subject()
		}
	}
	// Newest first: a lookup of a reused id finds its newest record.
	slices.Reverse(st.Capsules)
	slices.Reverse(st.Signals)
	return st
}

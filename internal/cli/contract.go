package cli

import (
	"fmt"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// LeasesOutput is what leases --json prints, with or without --all.
type LeasesOutput struct {
	SchemaVersion int                  `json:"schema_version"`
	Leases        []policy.Lease       `json:"leases"`
	Broken        []policy.BrokenLease `json:"broken"`
	Queue         []store.Waiter       `json:"queue"` // live waiters, by resource, first in line first
	StateAsOf     *StateAsOf           `json:"state_as_of,omitempty"`
}

// StateAsOf is which state a git-store answer read: the state commit and
// when this clone fetched it.
type StateAsOf struct {
	Commit   string    `json:"commit"`
	SyncedAt time.Time `json:"synced_at"`
}

// stateAsOf is nil for a store that is its own authority.
func stateAsOf(s store.Store) *StateAsOf {
	g, ok := s.(*store.Git)
	if !ok {
		return nil
	}
	commit, at, ok := g.SyncedAs()
	if !ok {
		return &StateAsOf{}
	}
	return &StateAsOf{Commit: commit, SyncedAt: at}
}

// waiting is the queue of every resource, never nil.
func waiting(s store.Store, now time.Time) ([]store.Waiter, error) {
	out := []store.Waiter{}
	if q := store.QueueOf(s); q != nil {
		ws, err := q.Waiting(now)
		if err != nil {
			return nil, err
		}
		out = append(out, ws...)
	}
	return out, nil
}

func (a *app) printQueue(ws []store.Waiter) {
	for i, w := range ws {
		if i == 0 || ws[i-1].Resource != w.Resource {
			fmt.Fprintf(a.stdout, "waiting for %s:\n", w.Resource)
		}
		fmt.Fprintf(a.stdout, "  %s (%s) since %s\n", w.Owner, w.Domain, stamp(w.Since))
	}
}

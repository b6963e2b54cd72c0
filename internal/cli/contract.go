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
	Queue         []policy.Waiter      `json:"queue"` // live waiters, by resource, first in line first
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

func (a *app) printQueue(ws []policy.Waiter) {
	for i, w := range ws {
		if i == 0 || ws[i-1].Resource != w.Resource {
			fmt.Fprintf(a.stdout, "waiting for %s:\n", w.Resource)
		}
		fmt.Fprintf(a.stdout, "  %s (%s) since %s\n", w.Owner, w.Domain, stamp(w.Since))
	}
}

// ActOutput is what claim, renew and release print with --json: one shape
// for the three acts, one entry per resource.
type ActOutput struct {
	SchemaVersion int        `json:"schema_version"`
	Act           string     `json:"act"` // claim, renew or release
	Leases        []ActLease `json:"leases"`
	StateAsOf     *StateAsOf `json:"state_as_of,omitempty"`
}

// ActLease is one resource's outcome: the lease as the act left it.
type ActLease struct {
	policy.Lease
	// Outcome: claimed, held (the domain held it already: nothing changed),
	// took-over (it replaced Replaced, a lapsed lease of another domain),
	// renewed, released, or free (release: nothing was leased; only
	// resource is set).
	Outcome  string        `json:"outcome"`
	Replaced *policy.Lease `json:"replaced,omitempty"`
}

// Outcomes of an act on a lease.
const (
	outcomeClaimed  = "claimed"
	outcomeHeld     = "held"
	outcomeTookOver = "took-over"
	outcomeRenewed  = "renewed"
	outcomeReleased = "released"
	outcomeFree     = "free"
)

func (a *app) writeAct(s store.Store, act string, leases ...ActLease) error {
	return writeJSON(a.stdout, ActOutput{SchemaVersion: SchemaVersion, Act: act, Leases: leases, StateAsOf: stateAsOf(s)})
}

// claimedLeases turns claims' results into the act's entries.
func claimedLeases(res []policy.Claimed) []ActLease {
	out := make([]ActLease, len(res))
	for i, cl := range res {
		out[i] = ActLease{Lease: cl.Lease, Outcome: outcomeClaimed, Replaced: cl.TookOver}
		switch {
		case cl.Existing:
			out[i].Outcome = outcomeHeld
		case cl.TookOver != nil:
			out[i].Outcome = outcomeTookOver
		}
	}
	return out
}

// SignalOutput is a signal as every command prints it: sent, acknowledged
// or listed, with its status now.
type SignalOutput struct {
	policy.Signal
	Status string `json:"status"`
}

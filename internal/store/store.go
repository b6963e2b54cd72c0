// Package store owns the coordination state: leases and the append-only
// history of every change to them.
package store

import (
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// Store is the coordination state of one repository. The local kind keeps it
// in files of the clone; the rest of the program cannot tell kinds apart.
type Store interface {
	// Current reads every record: leases live or lapsed, capsules, signals,
	// and the records that could not be read. It takes no lock: writers
	// replace files whole.
	Current() (policy.State, error)
	// Act decides act a with the policy against the current state
	// (policy.Decide) and records what it decided, all or nothing. The
	// clock is read when the store decides, under its lock and again on
	// every retry: a time read before waiting would be stale. A refusal is
	// a *policy.Refusal.
	Act(p *policy.Policy, a policy.Act, clock func() time.Time) (policy.Decision, error)
	// History is every lease ever recorded, with when each was released.
	// The git kind fetches the remote's state first.
	History() ([]policy.Lease, error)
	// Sync refreshes the materialised copy from the authority, if any.
	Sync() error
	// Freshness says how current Current is, for people ("" when it is the
	// authority itself).
	Freshness(now time.Time) string
}

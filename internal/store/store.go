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
	// Current reads every live record: leases live or lapsed, capsules and
	// signals (those finished longer than Retention ago are pruned), and
	// the records that could not be read. It takes no lock: writers
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
	// HistoryState is what judging commits made at or after since needs:
	// History's leases, and every capsule and signal as the history left
	// it, including those the live records no longer hold (see Retention).
	// Records that ended long before since may be left out (checkpoints);
	// a zero since gives the whole history. The git kind fetches the
	// remote's state first.
	HistoryState(since time.Time) (policy.State, error)
	// Sync refreshes the materialised copy from the authority, if any.
	Sync() error
	// Freshness says how current Current is, for people ("" when it is the
	// authority itself).
	Freshness(now time.Time) string
}

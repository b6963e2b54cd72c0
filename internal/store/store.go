// Package store owns the coordination state: leases and the append-only
// history of every change to them.
package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// Store is the coordination state of one repository. The local kind keeps it
// in files of the clone; the rest of the program cannot tell kinds apart.
type Store interface {
	// Current reads every lease on record, live or lapsed, and the records
	// that could not be read. It takes no lock: writers replace files whole.
	Current() (policy.State, error)
	// Claim takes leases, all or none, or answers with the ones the domain
	// already holds.
	Claim(cs []Claim) ([]Claimed, error)
	// Renew moves a held lease's expiry to now + ttl.
	Renew(r Renewal) (policy.Lease, error)
	// Release ends a lease early. Releasing a free resource is no error.
	Release(r Release) (released *policy.Lease, err error)
	// History is every lease ever recorded, with when each was released.
	// The git kind fetches the remote's state first.
	History() ([]policy.Lease, error)
	// Sync refreshes the materialised copy from the authority, if any.
	Sync() error
	// Freshness says how current Current is, for people ("" when it is the
	// authority itself).
	Freshness(now time.Time) string
}

// Claim asks for a lease.
type Claim struct {
	Resource string
	Owner    string // the claimer's e-mail
	Domain   string
	TTL      time.Duration
	Reason   string
	Capsule  string
	Budget   int       // live leases the domain may hold at once (the change budget)
	Now      time.Time // zero: the clock's time when the store decides
}

// Claimed is a successful claim.
type Claimed struct {
	Lease    policy.Lease
	Existing bool          // the domain already held it; nothing changed
	TookOver *policy.Lease // a lapsed lease of someone else that this one replaced
}

// Renewal asks to extend a lease.
type Renewal struct {
	Resource string
	By       string   // who asks
	Domains  []string // the asker's domains; one must hold the lease
	TTL      time.Duration
	Now      time.Time // zero: the clock's time when the store decides
}

// Release asks to end a lease.
type Release struct {
	Resource string
	By       string
	Domains  []string
	Now      time.Time // zero: the clock's time when the store decides
}

// HeldError refuses a claim: another domain holds a live lease.
type HeldError struct{ Lease policy.Lease }

func (e *HeldError) Error() string {
	l := e.Lease
	return fmt.Sprintf("%s is leased by %s (%s) until %s (%s left)",
		l.Resource, l.Domain, l.Owner, l.ExpiresAt.Format(time.RFC3339), left(l.ExpiresAt))
}

// BudgetError refuses a claim: the domain holds as many leases as it may.
type BudgetError struct {
	Domain string
	Limit  int
	Held   []policy.Lease
}

func (e *BudgetError) Error() string {
	ids := make([]string, len(e.Held))
	for i, l := range e.Held {
		ids[i] = l.Resource
	}
	return fmt.Sprintf("change budget spent: %s holds %d of %d leases (%s)", e.Domain, len(e.Held), e.Limit, strings.Join(ids, ", "))
}

// NotHolderError refuses a renewal or release by someone whose domains do
// not hold the lease, or of a lease that has lapsed.
type NotHolderError struct {
	Lease  *policy.Lease // nil: the resource is not leased
	Lapsed bool
}

func (e *NotHolderError) Error() string {
	switch {
	case e.Lease == nil:
		return "not leased"
	case e.Lapsed:
		return fmt.Sprintf("the lease of %s (%s) ended at %s", e.Lease.Domain, e.Lease.Owner, e.Lease.ExpiresAt.Format(time.RFC3339))
	default:
		return fmt.Sprintf("leased by %s (%s) until %s, not by your domain", e.Lease.Domain, e.Lease.Owner, e.Lease.ExpiresAt.Format(time.RFC3339))
	}
}

// BrokenError is a lease record that cannot be read or may not be replaced.
type BrokenError struct{ policy.BrokenLease }

func (e *BrokenError) Error() string {
	return fmt.Sprintf("%s: %s (look at it, then remove it to free %s)", e.File, e.Cause, e.Resource)
}

func left(t time.Time) string {
	d := time.Until(t).Round(time.Second)
	if d < 0 {
		return "0s"
	}
	return d.String()
}

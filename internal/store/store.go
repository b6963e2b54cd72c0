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
	// Current reads every record: leases live or lapsed, capsules, signals,
	// and the records that could not be read. It takes no lock: writers
	// replace files whole.
	Current() (policy.State, error)
	// Claim takes leases, all or none, or answers with the ones the domain
	// already holds.
	Claim(cs []Claim) ([]Claimed, error)
	// Renew moves a held lease's expiry to now + ttl.
	Renew(r Renewal) (policy.Lease, error)
	// Release ends a lease early. Releasing a free resource is no error.
	Release(r Release) (released *policy.Lease, err error)
	// Assign opens a context capsule; Done closes it.
	Assign(a Assign) (policy.Capsule, error)
	Done(d Done) (policy.Capsule, error)
	// Signal sends a missive or council call; Ack acknowledges one.
	Signal(r SignalRequest) (policy.Signal, error)
	Ack(a AckRequest) (policy.Signal, error)
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
	Council  string    // a granted council call that lifts the budget, if it must
	Now      time.Time // zero: the clock's time when the store decides

	liftedBy string // the council call an earlier claim of the same act spent
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
	Force    bool      // release another domain's live lease...
	Council  string    // ...which a granted council call allows
	Now      time.Time // zero: the clock's time when the store decides
}

// Assign asks to open a context capsule.
type Assign struct {
	ID, Owner, Domain string
	Scope, Resources  []string
	By                string
	Budget            int    // in-progress capsules the domain may have (the attention budget)
	Council           string // a granted council call that lifts the budget, if it must
	Now               time.Time
}

// Done asks to close a capsule.
type Done struct {
	ID      string
	By      string
	Domains []string
	Now     time.Time
}

// SignalRequest asks to send a missive or a council call.
type SignalRequest struct {
	ID, Kind, From, By, Subject, Capsule string
	To, Files                            []string
	Now                                  time.Time
}

// AckRequest asks to acknowledge a signal.
type AckRequest struct {
	ID      string
	By      string
	Domains []string
	Now     time.Time
}

// HeldError refuses a claim: another domain holds a live lease.
type HeldError struct{ Lease policy.Lease }

func (e *HeldError) Error() string {
	l := e.Lease
	return fmt.Sprintf("%s is leased by %s (%s) until %s (%s left)",
		l.Resource, l.Domain, l.Owner, l.ExpiresAt.Format(time.RFC3339), left(l.ExpiresAt))
}

// BudgetError refuses an act past one of the balance law's budgets.
type BudgetError struct {
	Budget string // "change" or "attention"
	Domain string
	Limit  int
	Held   []string // what uses it: resources or capsules
}

func (e *BudgetError) Error() string {
	verb, what := "holds", "leases"
	if e.Budget == "attention" {
		verb, what = "has", "capsules in progress"
	}
	return fmt.Sprintf("%s budget spent: %s %s %d of %d %s (%s)", e.Budget, e.Domain, verb, len(e.Held), e.Limit, what, strings.Join(e.Held, ", "))
}

// CouncilError: the council call cited cannot lift anything.
type CouncilError struct{ ID, Why string }

func (e *CouncilError) Error() string { return fmt.Sprintf("council call %s %s", e.ID, e.Why) }

// ExistsError: a record with that id exists already (or is closed).
type ExistsError struct{ What, ID, Status, Owner string }

func (e *ExistsError) Error() string {
	if e.Status != "" {
		return fmt.Sprintf("%s %s exists already (%s, %s)", e.What, e.ID, e.Status, e.Owner)
	}
	return fmt.Sprintf("%s %s exists already", e.What, e.ID)
}

// UnknownError: no record with that id.
type UnknownError struct{ What, ID string }

func (e *UnknownError) Error() string { return fmt.Sprintf("no %s %s", e.What, e.ID) }

// NotMemberError: the asker is not a member of the domain the act needs.
type NotMemberError struct{ Who, Domain, Act string }

func (e *NotMemberError) Error() string {
	return fmt.Sprintf("%s may not %s: that takes a member of %s", e.Who, e.Act, e.Domain)
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
	if e.Resource == "" {
		return fmt.Sprintf("%s: %s (look at it, then remove it)", e.File, e.Cause)
	}
	return fmt.Sprintf("%s: %s (look at it, then remove it to free %s)", e.File, e.Cause, e.Resource)
}

func left(t time.Time) string {
	d := time.Until(t).Round(time.Second)
	if d < 0 {
		return "0s"
	}
	return d.String()
}

package store

import (
	"fmt"
	"slices"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// change is what one mutation does to the state: an event for the history
// and the lease file it leaves (nil: the file is removed). Every kind of
// store decides with the functions below and only persists differently.
type change struct {
	event Event
	lease *policy.Lease
}

// noChange marks a mutation that changed nothing (a claim answered with the
// lease the domain already holds, or a release of a free resource).
var noChange = change{}

func (c change) empty() bool { return c.event.Op == "" }

// holding reports whether l still holds its resource at now. A lease that
// has not started yet (created on a clock ahead of this one, or after a
// reading of now that a retry made stale) holds it too: only its end frees it.
func holding(l policy.Lease, now time.Time) bool { return now.Before(l.End()) }

// decisionTime is the request's time, or the clock's when it has none: a
// store decides at the moment it decides, attempt after attempt.
func decisionTime(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Truncate(time.Millisecond)
}

func find(st policy.State, resource string) (*policy.Lease, *policy.BrokenLease) {
	for i := range st.Broken {
		if st.Broken[i].Resource == resource {
			return nil, &st.Broken[i]
		}
	}
	for i := range st.Leases {
		if st.Leases[i].Resource == resource {
			return &st.Leases[i], nil
		}
	}
	return nil, nil
}

// decideClaims decides several claims as one: all or nothing, each against
// the state the ones before it leave (so the budget counts them all).
func decideClaims(st policy.State, cs []Claim) ([]Claimed, []change, error) {
	var out []Claimed
	var chs []change
	for _, c := range cs {
		res, ch, err := decideClaim(st, c)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, res)
		if !ch.empty() {
			chs = append(chs, ch)
			st = st.With(*ch.lease)
		}
	}
	return out, chs, nil
}

func decideClaim(st policy.State, c Claim) (Claimed, change, error) {
	if !policy.ValidName(c.Resource) {
		return Claimed{}, noChange, fmt.Errorf("resource id %q is not a plain name", c.Resource)
	}
	if err := validTTL(c.TTL); err != nil {
		return Claimed{}, noChange, err
	}
	now := decisionTime(c.Now)
	cur, broken := find(st, c.Resource)
	var res Claimed
	switch {
	case broken != nil:
		return res, noChange, &BrokenError{*broken}
	case cur != nil && holding(*cur, now) && cur.Domain == c.Domain:
		return Claimed{Lease: *cur, Existing: true}, noChange, nil
	case cur != nil && holding(*cur, now):
		return res, noChange, &HeldError{Lease: *cur}
	case cur != nil:
		lapsed := *cur
		res.TookOver = &lapsed
	}
	var held []policy.Lease // the domain's live leases, for the change budget
	for _, l := range st.Leases {
		if l.Domain == c.Domain && holding(l, now) {
			held = append(held, l)
		}
	}
	if c.Budget > 0 && len(held) >= c.Budget {
		return res, noChange, &BudgetError{Domain: c.Domain, Limit: c.Budget, Held: held}
	}
	res.Lease = policy.Lease{
		Resource: c.Resource, Owner: c.Owner, Domain: c.Domain,
		TTL: int64(c.TTL / time.Second), CreatedAt: now, ExpiresAt: now.Add(c.TTL.Truncate(time.Second)),
		Reason: c.Reason, Capsule: c.Capsule,
	}
	op := OpClaim
	if res.TookOver != nil {
		op = OpTakeover
	}
	lease := res.Lease
	return res, change{event: Event{Op: op, By: c.Owner, At: now, Lease: lease, Replaced: res.TookOver}, lease: &lease}, nil
}

// held returns the live lease of resource if one of domains holds it.
func held(st policy.State, resource string, domains []string, now time.Time) (policy.Lease, error) {
	if !policy.ValidName(resource) {
		return policy.Lease{}, fmt.Errorf("resource id %q is not a plain name", resource)
	}
	cur, broken := find(st, resource)
	switch {
	case broken != nil:
		return policy.Lease{}, &BrokenError{*broken}
	case cur == nil:
		return policy.Lease{}, &NotHolderError{}
	case !holding(*cur, now):
		return policy.Lease{}, &NotHolderError{Lease: cur, Lapsed: true}
	case !slices.Contains(domains, cur.Domain):
		return policy.Lease{}, &NotHolderError{Lease: cur}
	}
	return *cur, nil
}

// validTTL keeps a lease within what a lease file may say.
func validTTL(d time.Duration) error {
	if d < policy.MinTTL || d > policy.LongestTTL {
		return fmt.Errorf("ttl %s is not between %s and %s", d, policy.MinTTL, policy.LongestTTL)
	}
	return nil
}

func decideRenew(st policy.State, r Renewal) (policy.Lease, change, error) {
	if err := validTTL(r.TTL); err != nil {
		return policy.Lease{}, noChange, err
	}
	now := decisionTime(r.Now)
	l, err := held(st, r.Resource, r.Domains, now)
	if err != nil {
		return l, noChange, err
	}
	l.TTL = int64(r.TTL / time.Second)
	l.ExpiresAt = now.Add(r.TTL.Truncate(time.Second))
	lease := l
	return l, change{event: Event{Op: OpRenew, By: r.By, At: now, Lease: l}, lease: &lease}, nil
}

// decideRelease ends a live lease held by one of the asker's domains, or
// clears a lapsed one of anybody's (a lapsed lease holds nothing).
func decideRelease(st policy.State, r Release) (*policy.Lease, change, error) {
	now := decisionTime(r.Now)
	l, err := held(st, r.Resource, r.Domains, now)
	if nh, ok := err.(*NotHolderError); ok {
		switch {
		case nh.Lease == nil:
			return nil, noChange, nil
		case nh.Lapsed:
			l, err = *nh.Lease, nil
		}
	}
	if err != nil {
		return nil, noChange, err
	}
	l.ReleasedAt = now
	return &l, change{event: Event{Op: OpRelease, By: r.By, At: l.ReleasedAt, Lease: l}}, nil
}

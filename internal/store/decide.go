package store

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// change is what one mutation does to the state: an event for the history
// and the state files it writes (a nil content removes the file). Every kind
// of store decides with the functions below and only persists differently;
// the server replays them to check what a push claims they decided.
type change struct {
	event Event
	files map[string][]byte
}

func (c change) empty() bool { return c.event.Op == "" }

// The state's folders, and a record's path in them.
const (
	capsulesDir = "capsules"
	signalsDir  = "signals"
)

func leasePath(resource string) string { return leasesDir + "/" + resource + ".yaml" }
func capsulePath(id string) string     { return capsulesDir + "/" + id + ".yaml" }
func signalPath(id string) string      { return signalsDir + "/" + id + ".yaml" }

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

// brokenAt returns the unreadable record at a state path, if any: a record
// that cannot be read is never silently replaced.
func brokenAt(st policy.State, path string) error {
	for _, b := range st.Broken {
		if b.Record == path {
			return &BrokenError{b}
		}
	}
	return nil
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

// useCouncil spends granted council call id on one act, or says why it
// cannot: every use is recorded in the call itself.
func useCouncil(st policy.State, id, act string, now time.Time, ch *change) error {
	s := st.Granted(id, now)
	switch {
	case s == nil:
		return &CouncilError{ID: id, Why: "is not a granted council call (every addressed domain must acknowledge it first)"}
	case !s.UsedAt.IsZero():
		return &CouncilError{ID: id, Why: fmt.Sprintf("was used already, for %s at %s", s.UsedFor, s.UsedAt.Format(time.RFC3339))}
	}
	used := *s
	used.UsedAt, used.UsedFor = now, act
	ch.files[signalPath(id)] = FormatSignal(used)
	ch.event.Council = id
	return nil
}

// decideClaims decides several claims as one act: all or nothing, at one
// time, each against the state the ones before it leave (so the budget
// counts them all). A council call spent by one of them lifts the budget for
// the rest of the act, which record it too.
func decideClaims(st policy.State, cs []Claim) ([]Claimed, []change, error) {
	var out []Claimed
	var chs []change
	now, lifted := time.Time{}, ""
	if len(cs) > 0 {
		now = decisionTime(cs[0].Now)
	}
	for _, c := range cs {
		c.Now, c.liftedBy = now, lifted
		res, ch, err := decideClaim(st, c)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, res)
		if !ch.empty() {
			chs = append(chs, ch)
			st = st.With(res.Lease)
		}
		lifted = cmp.Or(lifted, ch.event.Council)
	}
	return out, chs, nil
}

func decideClaim(st policy.State, c Claim) (Claimed, change, error) {
	var res Claimed
	if !policy.ValidName(c.Resource) {
		return res, change{}, fmt.Errorf("resource id %q is not a plain name", c.Resource)
	}
	if err := validTTL(c.TTL); err != nil {
		return res, change{}, err
	}
	if err := validText([]string{c.Owner, c.Reason, c.Capsule}); err != nil {
		return res, change{}, err
	}
	now := decisionTime(c.Now)
	cur, broken := find(st, c.Resource)
	switch {
	case broken != nil:
		return res, change{}, &BrokenError{*broken}
	case cur != nil && holding(*cur, now) && cur.Domain == c.Domain:
		return Claimed{Lease: *cur, Existing: true}, change{}, nil
	case cur != nil && holding(*cur, now):
		return res, change{}, &HeldError{Lease: *cur}
	case cur != nil:
		lapsed := *cur
		res.TookOver = &lapsed
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
	ch := change{
		event: Event{Op: op, By: c.Owner, At: now, Lease: res.Lease, Replaced: res.TookOver},
		files: map[string][]byte{leasePath(c.Resource): FormatLease(res.Lease)},
	}
	var held []policy.Lease // the domain's leases, for the change budget
	for _, l := range st.Leases {
		if l.Domain == c.Domain && holding(l, now) {
			held = append(held, l)
		}
	}
	switch {
	case c.liftedBy != "":
		ch.event.Council = c.liftedBy // lifted by the call an earlier claim of the act spent
	case c.Budget > 0 && len(held) >= c.Budget:
		if c.Council == "" {
			return res, change{}, &BudgetError{Budget: "change", Domain: c.Domain, Limit: c.Budget, Held: resources(held)}
		}
		if err := useCouncil(st, c.Council, "claim "+c.Resource, now, &ch); err != nil {
			return res, change{}, err
		}
	}
	return res, ch, nil
}

func resources(ls []policy.Lease) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Resource
	}
	return out
}

// Bounds on what a record may carry, far beyond any real use and far
// within what a record file may hold (a record past maxRecord is
// unreadable, so a decision must never write one).
const (
	maxText  = 4 << 10 // a reason, a subject
	maxPaths = 256     // files of a signal, globs of a scope, resources of a capsule
)

// validText checks free text and lists a request carries.
func validText(texts []string, lists ...[]string) error {
	for _, t := range texts {
		if len(t) > maxText {
			return fmt.Errorf("a text of %d bytes: at most %d", len(t), maxText)
		}
	}
	for _, l := range lists {
		if len(l) > maxPaths {
			return fmt.Errorf("a list of %d: at most %d", len(l), maxPaths)
		}
		if err := validText(l); err != nil {
			return err
		}
	}
	return nil
}

// validTTL keeps a lease within what a lease file may say.
func validTTL(d time.Duration) error {
	if d < policy.MinTTL || d > policy.LongestTTL {
		return fmt.Errorf("ttl %s is not between %s and %s", d, policy.MinTTL, policy.LongestTTL)
	}
	return nil
}

// held returns the lease of resource if one of domains holds it.
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

func decideRenew(st policy.State, r Renewal) (policy.Lease, change, error) {
	if err := validTTL(r.TTL); err != nil {
		return policy.Lease{}, change{}, err
	}
	now := decisionTime(r.Now)
	l, err := held(st, r.Resource, r.Domains, now)
	if err != nil {
		return l, change{}, err
	}
	l.TTL = int64(r.TTL / time.Second)
	l.ExpiresAt = now.Add(r.TTL.Truncate(time.Second))
	return l, change{
		event: Event{Op: OpRenew, By: r.By, At: now, Lease: l},
		files: map[string][]byte{leasePath(l.Resource): FormatLease(l)},
	}, nil
}

// decideRelease ends a live lease held by one of the asker's domains, or
// clears a lapsed one of anybody's (a lapsed lease holds nothing). Another
// domain's live lease needs Force and a granted council call.
func decideRelease(st policy.State, r Release) (*policy.Lease, change, error) {
	now := decisionTime(r.Now)
	l, err := held(st, r.Resource, r.Domains, now)
	if nh, ok := err.(*NotHolderError); ok {
		switch {
		case nh.Lease == nil:
			return nil, change{}, nil
		case nh.Lapsed:
			l, err = *nh.Lease, nil
		case r.Force && r.Council != "":
			l, err = *nh.Lease, nil
		}
	}
	if err != nil {
		return nil, change{}, err
	}
	forced := !slices.Contains(r.Domains, l.Domain) && holding(l, now) // before it ends below
	l.ReleasedAt = now
	ch := change{
		event: Event{Op: OpRelease, By: r.By, At: now, Lease: l},
		files: map[string][]byte{leasePath(l.Resource): nil},
	}
	if forced {
		ch.event.Force = true
		if err := useCouncil(st, r.Council, "release "+l.Resource, now, &ch); err != nil {
			return nil, change{}, err
		}
	}
	return &l, ch, nil
}

// decideAssign opens a context capsule, within the attention budget.
func decideAssign(st policy.State, a Assign) (policy.Capsule, change, error) {
	now := decisionTime(a.Now)
	c := policy.Capsule{
		ID: a.ID, Owner: a.Owner, Domain: a.Domain, Status: policy.CapsuleInProgress,
		Scope: a.Scope, Resources: a.Resources, CreatedAt: now, By: a.By,
	}
	if !policy.ValidRecordID(a.ID) {
		return c, change{}, fmt.Errorf("capsule id %q: use letters, digits, '.', '_' and '-'", a.ID)
	}
	if err := validText([]string{a.Owner, a.By}, a.Scope, a.Resources); err != nil {
		return c, change{}, err
	}
	if err := brokenAt(st, capsulePath(a.ID)); err != nil {
		return c, change{}, err
	}
	for _, cur := range st.Capsules {
		if cur.ID == a.ID {
			return c, change{}, &ExistsError{What: "capsule", ID: a.ID, Status: cur.Status, Owner: cur.Owner}
		}
	}
	ch := change{
		event: Event{Op: OpAssign, By: a.By, At: now, Capsule: &c},
		files: map[string][]byte{capsulePath(a.ID): FormatCapsule(c)},
	}
	busy := st.InProgress("", a.Domain, now)
	if a.Budget > 0 && len(busy) >= a.Budget {
		if a.Council == "" {
			ids := make([]string, len(busy))
			for i, b := range busy {
				ids[i] = b.ID
			}
			return c, change{}, &BudgetError{Budget: "attention", Domain: a.Domain, Limit: a.Budget, Held: ids}
		}
		if err := useCouncil(st, a.Council, "assign "+a.ID, now, &ch); err != nil {
			return c, change{}, err
		}
	}
	return c, ch, nil
}

// decideDone closes an in-progress capsule: its owner or a member of its
// domain may.
func decideDone(st policy.State, d Done) (policy.Capsule, change, error) {
	now := decisionTime(d.Now)
	if err := brokenAt(st, capsulePath(d.ID)); err != nil {
		return policy.Capsule{}, change{}, err
	}
	for _, c := range st.Capsules {
		if c.ID != d.ID {
			continue
		}
		switch {
		case c.Status != policy.CapsuleInProgress:
			return c, change{}, &ExistsError{What: "capsule", ID: c.ID, Status: c.Status, Owner: c.Owner}
		case c.Owner != d.By && !slices.Contains(d.Domains, c.Domain):
			return c, change{}, &NotMemberError{Who: d.By, Domain: c.Domain, Act: "close capsule " + c.ID}
		}
		c.Status, c.ClosedAt = policy.CapsuleDone, now
		return c, change{
			event: Event{Op: OpDone, By: d.By, At: now, Capsule: &c},
			files: map[string][]byte{capsulePath(c.ID): FormatCapsule(c)},
		}, nil
	}
	return policy.Capsule{}, change{}, &UnknownError{What: "capsule", ID: d.ID}
}

// decideSignal records a missive or a council call.
func decideSignal(st policy.State, r SignalRequest) (policy.Signal, change, error) {
	now := decisionTime(r.Now)
	s := policy.Signal{
		ID: r.ID, Kind: r.Kind, From: r.From, By: r.By, To: r.To, Files: r.Files,
		Subject: r.Subject, Capsule: r.Capsule, CreatedAt: now, Acks: []policy.Ack{},
	}
	if err := validText([]string{r.By, r.Subject, r.Capsule}, r.To, r.Files); err != nil {
		return s, change{}, err
	}
	switch {
	case !policy.ValidRecordID(r.ID):
		return s, change{}, fmt.Errorf("signal id %q is not valid", r.ID)
	case r.Kind == policy.SignalMissive && (len(r.To) != 1 || len(r.Files) == 0):
		return s, change{}, fmt.Errorf("a missive goes to one domain and names the exact files")
	case r.Kind == policy.SignalCouncilCall && len(r.To) == 0:
		return s, change{}, fmt.Errorf("a council call goes to at least one domain")
	}
	if err := brokenAt(st, signalPath(r.ID)); err != nil {
		return s, change{}, err
	}
	for _, cur := range st.Signals {
		if cur.ID == r.ID {
			return s, change{}, &ExistsError{What: "signal", ID: r.ID}
		}
	}
	if r.Capsule != "" && !slices.ContainsFunc(st.Capsules, func(c policy.Capsule) bool { return c.ID == r.Capsule }) {
		return s, change{}, &UnknownError{What: "capsule", ID: r.Capsule}
	}
	return s, change{
		event: Event{Op: OpSignal, By: r.By, At: now, Signal: &s},
		files: map[string][]byte{signalPath(s.ID): FormatSignal(s)},
	}, nil
}

// decideAck acknowledges a signal for the first of the asker's domains it
// addresses that has not acknowledged it yet. Acknowledging again is no
// change.
func decideAck(st policy.State, a AckRequest) (policy.Signal, change, error) {
	now := decisionTime(a.Now)
	if err := brokenAt(st, signalPath(a.ID)); err != nil {
		return policy.Signal{}, change{}, err
	}
	for _, s := range st.Signals {
		if s.ID != a.ID {
			continue
		}
		var addressed []string
		for _, d := range a.Domains {
			if slices.Contains(s.To, d) {
				addressed = append(addressed, d)
			}
		}
		if len(addressed) == 0 {
			return s, change{}, &NotMemberError{Who: a.By, Domain: joinOr(s.To), Act: "acknowledge signal " + s.ID}
		}
		for _, d := range addressed {
			if s.AckedBy(d, now) {
				continue
			}
			s.Acks = append(slices.Clone(s.Acks), policy.Ack{Domain: d, By: a.By, At: now})
			return s, change{
				event: Event{Op: OpAck, By: a.By, At: now, Signal: &s},
				files: map[string][]byte{signalPath(s.ID): FormatSignal(s)},
			}, nil
		}
		return s, change{}, nil
	}
	return policy.Signal{}, change{}, &UnknownError{What: "signal", ID: a.ID}
}

func joinOr(ds []string) string {
	out := ""
	for i, d := range ds {
		if i > 0 {
			out += " or "
		}
		out += d
	}
	return out
}

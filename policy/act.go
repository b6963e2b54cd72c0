package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Acts a domain takes on the coordination state.
const (
	ActClaim   = "claim"
	ActRenew   = "renew"
	ActRelease = "release"
	ActAssign  = "assign"
	ActDone    = "done"
	ActAccept  = "accept" // the owner's consent to a capsule assigned from outside their domains
	ActWiden   = "widen"  // the owner adds globs to a capsule's scope
	ActSignal  = "signal"
	ActAck     = "ack"
	ActDecline = "decline"
)

// Act is one request to change the coordination state, by one person. Who
// may do what follows from By through the policy's members: an act never
// names the asker's domains itself.
type Act struct {
	Kind      string
	By        string        // the asker's e-mail
	Domain    string        // claim, assign, wait: the domain acted for; signal: the sender's
	Resources []string      // claim: the resources, all or none; renew, release: one; assign: expected
	TTL       time.Duration // claim, renew; wait: the heartbeat
	Reason    string        // claim
	Capsule   string        // claim, signal: the capsule the work belongs to
	Council   string        // claim, assign, release: a granted council call to spend
	Force     bool          // release: another domain's live lease
	ID        string        // assign, done, accept, widen, signal, ack, decline, wait, unwait
	Owner     string        // assign
	Scope     []string      // assign, widen
	Signal    string        // signal: SignalMissive or SignalCouncilCall
	To, Files []string      // signal
	Subject   string        // signal
	DeadEnd   *DeadEnd      // dead-end
}

// Decision is what an act does: the records it leaves, each as the act
// leaves it. Nothing set: the act changes nothing (a claim of what the
// domain holds, a second acknowledgement, the release of a free resource).
type Decision struct {
	At      time.Time // when it was decided, as recorded (UTC, milliseconds)
	Claims  []Claimed // claim, one a resource
	Lease   *Lease    // renew: the renewed lease; release: the ended one
	Forced  bool      // release: another domain's live lease
	Capsule *Capsule  // assign, done, accept, widen
	Signal  *Signal   // signal, ack, decline
	Council *Signal   // the council call the act spent, marked used
	Waiter  *Waiter   // wait: the place as it is now; unwait: the place left
	Unwait  bool      // the waiter left its queue
	DeadEnd *DeadEnd  // dead-end
}

// Claimed is one resource of a claim.
type Claimed struct {
	Lease    Lease
	Existing bool   // the domain held it already: nothing changed
	TookOver *Lease // another's lapsed lease this one replaced
	Council  string // the council call that lifted the change budget for it
}

// Changes reports whether the decision writes anything.
func (d Decision) Changes() bool {
	for _, c := range d.Claims {
		if !c.Existing {
			return true
		}
	}
	return d.Lease != nil || d.Capsule != nil || d.Signal != nil || d.Waiter != nil || d.DeadEnd != nil
}

// HeldAt reports whether l holds its resource at now: until its end. A lease
// whose start lies after now (written by a clock running ahead) holds it
// too, so that what blocks a claim is what `oxygen leases` lists.
func (l Lease) HeldAt(now time.Time) bool { return now.Before(l.End()) }

// Held lists the leases domain holds at now: what its change budget counts.
func (st State) Held(domain string, now time.Time) []Lease {
	var out []Lease
	for _, l := range st.Leases {
		if l.Domain == domain && l.HeldAt(now) {
			out = append(out, l)
		}
	}
	return out
}

// Member reports whether email is a member of domain.
func (p *Policy) Member(email, domain string) bool {
	return slices.Contains(p.DomainsOf(email), domain)
}

// Granted finds council call id if it was granted by t: every addressed
// domain acknowledged it, a quorum of the council outside the caller's own
// domains among them, and nobody declined it first. Whether it was used is
// the caller's to judge (UsedAt).
func (p *Policy) Granted(st State, id string, t time.Time) *Signal {
	s := st.Signal(id)
	if s == nil || s.Kind != SignalCouncilCall || !s.Complete(t) || s.DeclinedBy(t) {
		return nil
	}
	if p.councilVotes(*s, t) < p.Council.Quorum {
		return nil
	}
	return s
}

// councilVotes counts the acknowledgements by t that count towards the
// quorum: from a seat of the council that is none of the caller's domains.
func (p *Policy) councilVotes(s Signal, t time.Time) int {
	own := p.DomainsOf(s.By)
	n := 0
	for _, a := range s.Acks {
		if !a.At.After(t) && !slices.Contains(own, a.Domain) && !strings.EqualFold(a.By, s.By) && p.seat(a.Domain) {
			n++
		}
	}
	return n
}

func (p *Policy) seat(domain string) bool {
	return len(p.Council.Domains) == 0 || slices.Contains(p.Council.Domains, domain)
}

// SignalStatus is a signal's state for people: open, acknowledged,
// declined, or (council calls) granted and used.
func (p *Policy) SignalStatus(st State, s Signal, t time.Time) string {
	switch {
	case !s.UsedAt.IsZero():
		return "used"
	case s.DeclinedBy(t):
		return "declined"
	case s.Kind == SignalCouncilCall && p.Granted(st, s.ID, t) != nil:
		return "granted"
	case s.Kind == SignalMissive && s.Complete(t) && !t.Before(s.HandshakeEnd()):
		return "ended"
	case s.Complete(t):
		return "acknowledged"
	}
	return "open"
}

// Decide decides one act against the state at now: the records it writes,
// or a *Refusal (or an error for input no act may carry). It is the one
// definition of who may do what; every store, and the server replaying a
// pushed history, calls it.
func (p *Policy) Decide(a Act, st State, now time.Time) (Decision, error) {
	now = now.UTC().Truncate(time.Millisecond)
	if err := ValidText([]string{a.By, a.Reason, a.Capsule, a.Owner, a.Subject}, a.Resources, a.Scope, a.To, a.Files); err != nil {
		return Decision{}, err
	}
	if a.By == "" {
		return Decision{}, fmt.Errorf("%s: no e-mail says who acts", a.Kind)
	}
	d, err := p.decide(a, st, now)
	d.At = now
	return d, err
}

func (p *Policy) decide(a Act, st State, now time.Time) (Decision, error) {
	switch a.Kind {
	case ActClaim:
		return p.decideClaim(a, st, now)
	case ActRenew:
		return p.decideRenew(a, st, now)
	case ActRelease:
		return p.decideRelease(a, st, now)
	case ActAssign:
		return p.decideAssign(a, st, now)
	case ActDone, ActAccept, ActWiden:
		return p.decideCapsule(a, st, now)
	case ActSignal:
		return p.decideSignal(a, st, now)
	case ActAck, ActDecline:
		return p.decideAnswer(a, st, now)
	case ActWait:
		return p.decideWait(a, st, now)
	case ActUnwait:
		return p.decideUnwait(a, st, now)
	case ActDeadEnd:
		return p.decideDeadEnd(a, st, now)
	}
	return Decision{}, fmt.Errorf("unknown act %q", a.Kind)
}

// Bounds on what a record may carry, far beyond any real use and far
// within what a record file may hold.
const (
	maxText  = 4 << 10 // a reason, a subject
	maxPaths = 256     // files of a signal, globs of a scope, resources of an act
)

// ValidText bounds texts and lists of them as a record may carry them:
// each one line of printable UTF-8. A record's YAML would keep a line
// break, yet not always read it back as written ("\n 00" does not parse,
// "\n\n" reads as "\n"), and one unreadable record is lost to every clone.
func ValidText(texts []string, lists ...[]string) error {
	for _, t := range texts {
		if len(t) > maxText {
			return fmt.Errorf("a text of %d bytes: at most %d", len(t), maxText)
		}
		if !utf8.ValidString(t) {
			return fmt.Errorf("the text %q is not UTF-8", t)
		}
		if i := strings.IndexFunc(t, unprintable); i >= 0 {
			r, _ := utf8.DecodeRuneInString(t[i:])
			return fmt.Errorf("the text %q holds %U, a line break or control character: a record keeps one line of text", t, r)
		}
	}
	for _, l := range lists {
		if len(l) > maxPaths {
			return fmt.Errorf("a list of %d: at most %d", len(l), maxPaths)
		}
		if err := ValidText(l); err != nil {
			return err
		}
	}
	return nil
}

// unprintable says whether r is a control character or a line break (YAML
// counts U+0085, U+2028 and U+2029 as ones).
func unprintable(r rune) bool {
	return r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0x2028 || r == 0x2029
}

// OneLine is s as ValidText lets a record keep it: s itself if it is one
// line of printable UTF-8, else s quoted, with escapes (Go's syntax), as
// git quotes a path it prints.
func OneLine(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unprintable) {
		return s
	}
	return strconv.Quote(s)
}

func validTTL(d time.Duration) error {
	if d < MinTTL || d > LongestTTL {
		return fmt.Errorf("ttl %s is not between %s and %s", d, MinTTL, LongestTTL)
	}
	return nil
}

// member refuses an act for domain by someone who is not its member.
func (p *Policy) member(a Act, domain, what string) error {
	if p.Member(a.By, domain) {
		return nil
	}
	if _, ok := p.Domain(domain); !ok {
		return fmt.Errorf("unknown domain %q", domain)
	}
	return &Refusal{Code: CodeNotMember, Exit: 1, Message: fmt.Sprintf("%s may not %s: that takes a member of %s", a.By, what, domain)}
}

// brokenAt refuses an act on a record that cannot be read: it is never
// silently replaced.
func brokenAt(st State, record string) error {
	for _, b := range st.Broken {
		if b.Record == record {
			return brokenRefusal(b)
		}
	}
	return nil
}

// brokenRefusal stops an act at an unreadable record (exit 2): a person must look.
func brokenRefusal(b BrokenLease) *Refusal {
	msg := fmt.Sprintf("%s: %s (look at it, then remove it)", b.File, b.Cause)
	if b.Resource != "" {
		msg = fmt.Sprintf("%s: %s (look at it, then remove it to free %s)", b.File, b.Cause, b.Resource)
	}
	return &Refusal{Code: CodeBrokenRecord, Exit: 2, Message: msg}
}

// lease finds the record of resource, refusing an unreadable one.
func (st State) lease(resource string) (*Lease, error) {
	if !ValidName(resource) {
		return nil, fmt.Errorf("resource id %q is not a plain name", resource)
	}
	if err := brokenAt(st, "leases/"+resource+".yaml"); err != nil {
		return nil, err
	}
	for i := range st.Leases {
		if st.Leases[i].Resource == resource {
			return &st.Leases[i], nil
		}
	}
	return nil, nil
}

// spend uses granted council call id for one act by by, or says why it
// cannot.
func (p *Policy) spend(st State, id, act, by string, now time.Time) (*Signal, error) {
	s := p.Granted(st, id, now)
	if err := p.notCaller(s, id, by); err != nil {
		return nil, err
	}
	if s == nil {
		code, why := CodeCouncilNotGranted, "is not a granted council call (every addressed domain must acknowledge it first)"
		if c := st.Signal(id); c != nil && c.DeclinedBy(now) {
			code, why = CodeCouncilDeclined, fmt.Sprintf("was declined by %s (%s)", c.Declined.Domain, c.Declined.By)
		}
		fix := &Fix{Argv: []string{"oxygen", "signals"}, Needs: "every addressed domain acknowledges the call"}
		if code == CodeCouncilDeclined {
			fix = p.councilFix(st.Signal(id).By, "a new call for "+act, "a new call, granted")
		}
		return nil, &Refusal{Code: code, Exit: 1, Message: fmt.Sprintf("council call %s %s; see oxygen signals", id, why), Fix: fix}
	}
	if !s.UsedAt.IsZero() {
		return nil, &Refusal{Code: CodeCouncilUsed, Exit: 1, Message: fmt.Sprintf("council call %s was used already, for %s at %s; see oxygen signals", id, s.UsedFor, s.UsedAt.Format(time.RFC3339)),
			Fix: p.councilFix(s.By, "a new call for "+act, "a new call, granted: a call lifts one act")}
	}
	used := *s
	used.UsedAt, used.UsedFor = now, act
	return &used, nil
}

// notCaller refuses a granted call s to someone outside the domain that
// raised it: acknowledging another domain's call must not be a way to
// grant oneself a budget.
func (p *Policy) notCaller(s *Signal, id, by string) error {
	if s == nil || p.Member(by, s.From) {
		return nil
	}
	return &Refusal{Code: CodeCouncilNotCaller, Exit: 1,
		Message: fmt.Sprintf("council call %s was raised by %s (%s): it lifts a budget for %s only", id, s.From, s.By, s.From),
		Fix:     p.councilFix(by, "a call of your own", "the council's acknowledgement; then cite your own call")}
}

// councilFix is the call that would lift a budget: to every other domain
// of the council, with subject until the caller says better why.
func (p *Policy) councilFix(caller, subject, needs string) *Fix {
	var to []string
	own := p.DomainsOf(caller)
	for _, d := range p.Domains {
		if !slices.Contains(own, d.Name) && p.seat(d.Name) {
			to = append(to, d.Name)
		}
	}
	return callFix(to, subject, "why it must go past the budget", needs)
}

// callFix raises a council call to domains to, about subject.
func callFix(to []string, subject, why, needs string) *Fix {
	argv := append(append([]string{"oxygen", "signal", "council-call", "--to"}, to...), "--subject", subject)
	return &Fix{Argv: argv, Choose: map[string]string{"--subject": why + ", in a line, for the council to read"}, Needs: needs}
}

func (p *Policy) decideClaim(a Act, st State, now time.Time) (Decision, error) {
	var d Decision
	if len(a.Resources) == 0 {
		return d, fmt.Errorf("claim: name a resource")
	}
	if err := validTTL(a.TTL); err != nil {
		return d, err
	}
	if err := p.member(a, a.Domain, "claim for "+a.Domain); err != nil {
		return d, err
	}
	for _, res := range a.Resources {
		if _, ok := p.Resource(res); !ok && ValidName(res) {
			return d, unknown("resource", res) // the server's replay too: no lease on a made-up name
		}
	}
	lifted := "" // the council call an earlier claim of this act spent
	for _, res := range a.Resources {
		cur, err := st.lease(res)
		if err != nil {
			return Decision{}, err
		}
		var c Claimed
		switch {
		case cur != nil && cur.HeldAt(now) && cur.Domain == a.Domain:
			d.Claims = append(d.Claims, Claimed{Lease: *cur, Existing: true})
			continue
		case cur != nil && cur.HeldAt(now):
			return Decision{}, &Refusal{Code: CodeHeldByOther, Exit: 1, Holder: cur,
				Message: fmt.Sprintf("%s is leased by %s (%s) until %s (%s left); ask %s to run `oxygen release %s`, or claim it after it ends",
					res, cur.Domain, cur.Owner, cur.ExpiresAt.Format(time.RFC3339), left(cur.End(), now), cur.Owner, res),
				Fix: &Fix{Argv: ClaimWaitArgv(a.Resources, a.Domain), RetryAfter: cur.End(), Needs: cur.Owner + " releases it, or it ends"}}
		}
		if err := queuedAhead(st, res, a.By, a.Domain, now); err != nil {
			return Decision{}, err
		}
		switch {
		case cur != nil:
			lapsed := *cur
			c.TookOver = &lapsed
		}
		c.Lease = Lease{
			Resource: res, Owner: a.By, Domain: a.Domain,
			TTL: int64(a.TTL / time.Second), CreatedAt: now, ExpiresAt: now.Add(a.TTL.Truncate(time.Second)),
			Reason: a.Reason, Capsule: a.Capsule,
		}
		held := st.Held(a.Domain, now)
		switch {
		case lifted != "":
			c.Council = lifted
		case len(held) >= p.Budgets.LeasesPerDomain:
			if a.Council == "" {
				return Decision{}, &Refusal{Code: CodeBudgetChange, Exit: 1,
					Message: fmt.Sprintf("change budget spent: %s holds %d of %d leases (%s); release one first (oxygen release RESOURCE), or raise a council call (oxygen signal council-call --to DOMAIN... --subject WHY) and claim with --council ID once granted",
						a.Domain, len(held), p.Budgets.LeasesPerDomain, strings.Join(resourcesOf(held), ", ")),
					Fix: &Fix{Argv: []string{"oxygen", "release", held[0].Resource},
						Choose: map[string]string{held[0].Resource: "which of " + strings.Join(resourcesOf(held), ", ") + " to release"},
						Needs:  "to keep them all instead: a granted council call (oxygen signal council-call), cited with claim --council ID"}}
			}
			used, err := p.spend(st, a.Council, "claim "+res, a.By, now)
			if err != nil {
				return Decision{}, err
			}
			d.Council, lifted, c.Council = used, a.Council, a.Council
		}
		d.Claims = append(d.Claims, c)
		st = st.With(c.Lease)
	}
	return d, nil
}

func resourcesOf(ls []Lease) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Resource
	}
	return out
}

func left(end, now time.Time) string {
	d := end.Sub(now).Round(time.Second)
	if d < 0 {
		return "0s"
	}
	return d.String()
}

// heldLease finds the lease of an act's one resource, and whether one of
// the asker's domains holds it; a free resource is a refusal with fix.
func (p *Policy) heldLease(a Act, st State) (*Lease, bool, error) {
	if len(a.Resources) != 1 {
		return nil, false, fmt.Errorf("%s: name one resource", a.Kind)
	}
	cur, err := st.lease(a.Resources[0])
	if err != nil || cur == nil {
		return nil, false, err
	}
	return cur, p.Member(a.By, cur.Domain), nil
}

func (p *Policy) decideRenew(a Act, st State, now time.Time) (Decision, error) {
	if err := validTTL(a.TTL); err != nil {
		return Decision{}, err
	}
	cur, mine, err := p.heldLease(a, st)
	if err != nil {
		return Decision{}, err
	}
	res := a.Resources[0]
	claim := &Fix{Argv: ClaimArgv(res, p.DomainsOf(a.By))}
	switch {
	case cur == nil:
		return Decision{}, &Refusal{Code: CodeNotLeased, Exit: 1, Fix: claim, Message: fmt.Sprintf("not leased; claim it instead: oxygen claim %s", res)}
	case !cur.HeldAt(now):
		return Decision{}, &Refusal{Code: CodeLapsed, Exit: 1, Fix: claim, Message: fmt.Sprintf("the lease of %s (%s) ended at %s; claim it instead: oxygen claim %s", cur.Domain, cur.Owner, cur.ExpiresAt.Format(time.RFC3339), res)}
	case !mine:
		return Decision{}, notHolder(cur, "claim it instead: oxygen claim "+res,
			&Fix{Argv: append(ClaimArgv(res, p.DomainsOf(a.By)), "--wait"), RetryAfter: cur.End(), Needs: cur.Owner + " releases it, or it ends"})
	}
	l := *cur
	l.TTL = int64(a.TTL / time.Second)
	// From now, or from its start where a clock ahead of this one wrote
	// it: a lease never ends less than its ttl after it began.
	from := now
	if l.CreatedAt.After(now) {
		from = l.CreatedAt
	}
	l.ExpiresAt = from.Add(a.TTL.Truncate(time.Second))
	return Decision{Lease: &l}, nil
}

func notHolder(l *Lease, hint string, fix *Fix) *Refusal {
	return &Refusal{Code: CodeNotHolder, Exit: 1, Holder: l, Fix: fix,
		Message: fmt.Sprintf("leased by %s (%s) until %s, not by your domain; %s", l.Domain, l.Owner, l.ExpiresAt.Format(time.RFC3339), hint)}
}

// releaseCallFix asks the holder's domain for a council call that lets
// another domain release l.
func releaseCallFix(l *Lease, needs string) *Fix {
	return callFix([]string{l.Domain}, "release "+l.Resource+", held by "+l.Owner, "why "+l.Resource+" must be released early", needs)
}

// decideRelease ends a live lease held by one of the asker's domains, or
// clears a lapsed one of anybody's (a lapsed lease holds nothing). Another
// domain's live lease needs Force and a granted council call that the
// lease's own domain acknowledged.
func (p *Policy) decideRelease(a Act, st State, now time.Time) (Decision, error) {
	cur, mine, err := p.heldLease(a, st)
	if err != nil || cur == nil {
		return Decision{}, err
	}
	d := Decision{Forced: !mine && cur.HeldAt(now)}
	if d.Forced {
		res := cur.Resource
		if !a.Force || a.Council == "" {
			return Decision{}, notHolder(cur, fmt.Sprintf("ask %s to release it, or raise a council call that %s acknowledges and release with --force --council ID", cur.Owner, cur.Domain),
				releaseCallFix(cur, "the call granted (every addressed domain acknowledges it), then: oxygen release "+res+" --force --council ID; or "+cur.Owner+" releases it"))
		}
		call := st.Signal(a.Council)
		if call != nil && !call.DeclinedBy(now) && !call.AckedBy(cur.Domain, now) {
			return Decision{}, &Refusal{Code: CodeCouncilNeedsHolder, Exit: 1, Holder: cur,
				Message: fmt.Sprintf("council call %s was not acknowledged by %s, whose live lease it would end: a forced release needs the holder's domain's consent", a.Council, cur.Domain),
				Fix:     releaseCallFix(cur, "a member of "+cur.Domain+" acknowledges it")}
		}
		if d.Council, err = p.spend(st, a.Council, "release "+res, a.By, now); err != nil {
			return Decision{}, err
		}
	}
	l := *cur
	l.ReleasedAt = now
	d.Lease = &l
	return d, nil
}

// decideAssign opens a context capsule within the attention budget. A
// capsule for someone outside the assigner's domains binds them only once
// they (or a member of one of their domains) accept it.
func (p *Policy) decideAssign(a Act, st State, now time.Time) (Decision, error) {
	if !ValidRecordID(a.ID) {
		return Decision{}, fmt.Errorf("capsule id %q: use letters, digits, '.', '_' and '-'", a.ID)
	}
	if a.Owner == "" {
		return Decision{}, fmt.Errorf("a capsule needs an owner")
	}
	if err := p.member(a, a.Domain, "open a capsule for "+a.Domain); err != nil {
		return Decision{}, err
	}
	if err := brokenAt(st, "capsules/"+a.ID+".yaml"); err != nil {
		return Decision{}, err
	}
	if cur := st.Capsule(a.ID); cur != nil {
		return Decision{}, exists("capsule", a.ID, cur.Status, cur.Owner)
	}
	c := Capsule{
		ID: a.ID, Owner: a.Owner, Domain: a.Domain, Status: CapsuleInProgress,
		Scope: a.Scope, Resources: a.Resources, CreatedAt: now, By: a.By,
		AwaitsConsent: !strings.EqualFold(a.Owner, a.By) && !overlap(p.DomainsOf(a.Owner), p.DomainsOf(a.By)),
	}
	d := Decision{Capsule: &c}
	busy := st.InProgress("", a.Domain, now)
	if len(busy) >= p.Budgets.InProgressPerDomain {
		if a.Council == "" {
			ids := make([]string, len(busy))
			for i, b := range busy {
				ids[i] = b.ID
			}
			return Decision{}, &Refusal{Code: CodeBudgetAttention, Exit: 1,
				Message: fmt.Sprintf("attention budget spent: %s has %d of %d capsules in progress (%s)", a.Domain, len(busy), p.Budgets.InProgressPerDomain, strings.Join(ids, ", ")),
				Fix:     p.councilFix(a.By, "lift the attention budget of "+a.Domain+" for "+a.ID, "the council's acknowledgement; then assign again with --council ID")}
		}
		var err error
		if d.Council, err = p.spend(st, a.Council, "assign "+a.ID, a.By, now); err != nil {
			return Decision{}, err
		}
	}
	return d, nil
}

func overlap(a, b []string) bool {
	return slices.ContainsFunc(a, func(s string) bool { return slices.Contains(b, s) })
}

func exists(what, id, status, owner string) *Refusal {
	msg := fmt.Sprintf("%s %s exists already", what, id)
	if status != "" {
		msg = fmt.Sprintf("%s %s exists already (%s, %s)", what, id, status, owner)
	}
	return &Refusal{Code: CodeExists, Exit: 1, Message: msg}
}

func unknown(what, id string) *Refusal {
	return &Refusal{Code: CodeUnknown, Exit: 2, Message: fmt.Sprintf("no %s %s", what, id)}
}

// decideCapsule closes (done), accepts or widens an in-progress capsule.
// Its owner or a member of its domain may close it; its owner, or a member
// of one of the owner's domains, accepts it; its owner widens its scope.
func (p *Policy) decideCapsule(a Act, st State, now time.Time) (Decision, error) {
	if err := brokenAt(st, "capsules/"+a.ID+".yaml"); err != nil {
		return Decision{}, err
	}
	cur := st.Capsule(a.ID)
	if cur == nil {
		return Decision{}, unknown("capsule", a.ID)
	}
	c := *cur
	if c.Status != CapsuleInProgress {
		return Decision{}, exists("capsule", c.ID, c.Status, c.Owner)
	}
	owner := strings.EqualFold(c.Owner, a.By)
	refuse := func(who, what string) error {
		argv := map[string][]string{ActDone: {"oxygen", "done", c.ID}, ActAccept: {"oxygen", "capsules", "accept", c.ID}, ActWiden: {"oxygen", "capsules", "widen", c.ID}}[a.Kind]
		fix := &Fix{Argv: argv, Needs: "run by " + who}
		if a.Kind == ActWiden {
			fix.Choose = map[string]string{"--scope": "the globs to add"}
		}
		return &Refusal{Code: CodeNotMember, Exit: 1, Message: fmt.Sprintf("%s may not %s capsule %s: that takes %s", a.By, what, c.ID, who), Fix: fix}
	}
	switch a.Kind {
	case ActDone:
		if !owner && !p.Member(a.By, c.Domain) {
			return Decision{}, refuse("its owner or a member of "+c.Domain, "close")
		}
		c.Status, c.ClosedAt = CapsuleDone, now
	case ActAccept:
		ds := p.DomainsOf(c.Owner)
		if !owner && !overlap(ds, p.DomainsOf(a.By)) {
			return Decision{}, refuse("its owner "+c.Owner+" or a member of their domain", "accept")
		}
		if !c.AwaitsConsent || c.Consent != nil {
			return Decision{}, nil // nothing to accept
		}
		dom := c.Domain
		if own := p.DomainsOf(a.By); len(own) > 0 {
			dom = own[0]
			if i := slices.IndexFunc(own, func(d string) bool { return slices.Contains(ds, d) }); i >= 0 {
				dom = own[i]
			}
		}
		c.Consent = &Ack{Domain: dom, By: a.By, At: now}
	case ActWiden:
		switch {
		case !owner:
			return Decision{}, refuse("its owner "+c.Owner, "widen")
		case len(a.Scope) == 0:
			return Decision{}, fmt.Errorf("widen: name the globs to add with --scope")
		case len(c.Scope) == 0:
			return Decision{}, fmt.Errorf("capsule %s has no scope: it bounds nothing already", c.ID)
		}
		scope := slices.Clone(c.Scope)
		for _, g := range a.Scope {
			if !slices.Contains(scope, g) {
				scope = append(scope, g)
			}
		}
		if len(scope) == len(c.Scope) {
			return Decision{}, nil
		}
		if err := ValidText(nil, scope); err != nil {
			return Decision{}, err
		}
		c.Scope = scope
	}
	return Decision{Capsule: &c}, nil
}

// decideSignal records a missive or a council call. A missive asks the
// owner of a core surface about files of that surface, and its handshake
// lasts budgets.handshake_ttl at most; a council call must ask someone
// outside the caller's domains.
func (p *Policy) decideSignal(a Act, st State, now time.Time) (Decision, error) {
	switch {
	case !ValidRecordID(a.ID):
		return Decision{}, fmt.Errorf("signal id %q is not valid", a.ID)
	case a.Signal == SignalMissive && (len(a.To) != 1 || len(a.Files) == 0):
		return Decision{}, fmt.Errorf("a missive goes to one domain and names the exact files")
	case a.Signal == SignalCouncilCall && len(a.To) == 0:
		return Decision{}, fmt.Errorf("a council call goes to at least one domain")
	case a.Signal != SignalMissive && a.Signal != SignalCouncilCall:
		return Decision{}, fmt.Errorf("unknown signal kind %q", a.Signal)
	}
	for _, d := range a.To {
		if _, ok := p.Domain(d); !ok {
			return Decision{}, fmt.Errorf("unknown domain %q", d)
		}
	}
	if err := p.member(a, a.Domain, "send from "+a.Domain); err != nil {
		return Decision{}, err
	}
	if err := brokenAt(st, "signals/"+a.ID+".yaml"); err != nil {
		return Decision{}, err
	}
	if st.Signal(a.ID) != nil {
		return Decision{}, exists("signal", a.ID, "", "")
	}
	if a.Capsule != "" && st.Capsule(a.Capsule) == nil {
		return Decision{}, unknown("capsule", a.Capsule)
	}
	s := Signal{
		ID: a.ID, Kind: a.Signal, From: a.Domain, By: a.By, To: a.To, Files: a.Files,
		Subject: a.Subject, Capsule: a.Capsule, CreatedAt: now, Acks: []Ack{},
	}
	switch a.Signal {
	case SignalMissive:
		to := a.To[0]
		var outside []string
		for _, f := range a.Files {
			// The policy file is nobody's core, but a missive naming it is
			// how a domain consents to a redraw of its boundaries.
			if f != FileName && !slices.Contains(p.classifier.Classify(f).Owners(), to) {
				outside = append(outside, f)
			}
		}
		if len(outside) > 0 {
			return Decision{}, &Refusal{Code: CodeMissiveOutsideCore, Exit: 1,
				Message: fmt.Sprintf("a missive to %s names %s, outside %s's core surface: a handshake covers only files the addressee owns", to, strings.Join(outside, " "), to)}
		}
		s.ExpiresAt = now.Add(p.Budgets.HandshakeTTL)
	case SignalCouncilCall:
		own := p.DomainsOf(a.By)
		var outside []string
		for _, d := range a.To {
			if !slices.Contains(own, d) && p.seat(d) {
				outside = append(outside, d)
			}
		}
		if len(outside) < p.Council.Quorum {
			return Decision{}, &Refusal{Code: CodeCouncilSelf, Exit: 1,
				Message: fmt.Sprintf("a council call must reach %d council domain(s) other than your own (%s); it addresses %s", p.Council.Quorum, strings.Join(own, ", "), strings.Join(a.To, ", ")),
				Fix:     p.councilFix(a.By, a.Subject, "")}
		}
	}
	return Decision{Signal: &s}, nil
}

// decideAnswer acknowledges or declines a signal for the first of the
// asker's domains it addresses that has not answered yet. A declined
// signal is spent: it grants nothing and no handshake.
func (p *Policy) decideAnswer(a Act, st State, now time.Time) (Decision, error) {
	if err := brokenAt(st, "signals/"+a.ID+".yaml"); err != nil {
		return Decision{}, err
	}
	cur := st.Signal(a.ID)
	if cur == nil {
		return Decision{}, unknown("signal", a.ID)
	}
	s := *cur
	var addressed []string
	for _, d := range p.DomainsOf(a.By) {
		if slices.Contains(s.To, d) {
			addressed = append(addressed, d)
		}
	}
	verb := "acknowledge"
	if a.Kind == ActDecline {
		verb = "decline"
	}
	switch {
	case len(addressed) == 0:
		return Decision{}, &Refusal{Code: CodeNotMember, Exit: 1, Message: fmt.Sprintf("%s may not %s signal %s: that takes a member of %s", a.By, verb, s.ID, strings.Join(s.To, " or ")),
			Fix: &Fix{Argv: []string{"oxygen", "signal", a.Kind, s.ID}, Needs: "run by a member of " + strings.Join(s.To, " or ")}}
	case s.Declined != nil:
		return Decision{}, &Refusal{Code: CodeSignalDeclined, Exit: 1, Message: fmt.Sprintf("signal %s was declined by %s (%s) at %s: it is spent", s.ID, s.Declined.Domain, s.Declined.By, s.Declined.At.Format(time.RFC3339))}
	case !s.UsedAt.IsZero():
		return Decision{}, &Refusal{Code: CodeCouncilUsed, Exit: 1, Message: fmt.Sprintf("council call %s was used already, for %s at %s: answering it changes nothing", s.ID, s.UsedFor, s.UsedAt.Format(time.RFC3339))}
	case a.Kind == ActDecline:
		s.Declined = &Ack{Domain: addressed[0], By: a.By, At: now}
		return Decision{Signal: &s}, nil
	}
	for _, d := range addressed {
		if s.AckedBy(d, now) {
			continue
		}
		s.Acks = append(slices.Clone(s.Acks), Ack{Domain: d, By: a.By, At: now})
		return Decision{Signal: &s}, nil
	}
	return Decision{}, nil
}

package policy

import (
	"slices"
	"strings"
	"time"
)

// Capsule is the context capsule of a work item: who works on it, for which
// domain, and the paths it may touch.
type Capsule struct {
	ID        string    `json:"id" yaml:"id"`
	Owner     string    `json:"owner" yaml:"owner"` // e-mail
	Domain    string    `json:"domain" yaml:"domain"`
	Status    string    `json:"status" yaml:"status"`                           // CapsuleInProgress or CapsuleDone
	Scope     []string  `json:"scope" yaml:"scope"`                             // path globs; empty: anywhere
	Resources []string  `json:"resources,omitempty" yaml:"resources,omitempty"` // the resources it expects to lease
	CreatedAt time.Time `json:"created_at" yaml:"created_at"`
	ClosedAt  time.Time `json:"closed_at,omitzero" yaml:"closed_at,omitempty"`
	By        string    `json:"by" yaml:"by"` // who assigned it
	// AwaitsConsent marks a capsule assigned to someone outside the
	// assigner's domains: its scope binds its owner only from Consent on.
	AwaitsConsent bool `json:"awaits_consent,omitempty" yaml:"awaits_consent,omitempty"`
	Consent       *Ack `json:"consent,omitempty" yaml:"consent,omitempty"`
}

// Capsule statuses.
const (
	CapsuleInProgress = "in_progress"
	CapsuleDone       = "done"
)

// InProgressAt reports whether the capsule was in progress at t.
func (c Capsule) InProgressAt(t time.Time) bool {
	return !t.Before(c.CreatedAt) && (c.ClosedAt.IsZero() || t.Before(c.ClosedAt))
}

// BindsAt reports whether the capsule's scope bound its owner at t: in
// progress, and consented to where the owner's consent was needed.
func (c Capsule) BindsAt(t time.Time) bool {
	return c.InProgressAt(t) && (!c.AwaitsConsent || c.Consent != nil && !t.Before(c.Consent.At))
}

// Signal is an explicit handoff between domains: a missive to one domain
// naming exact files, or a council call to several.
type Signal struct {
	ID        string    `json:"id" yaml:"id"`
	Kind      string    `json:"kind" yaml:"kind"` // SignalMissive or SignalCouncilCall
	From      string    `json:"from" yaml:"from"` // the sender's domain
	By        string    `json:"by" yaml:"by"`     // the sender's e-mail
	To        []string  `json:"to" yaml:"to"`     // addressed domains
	Files     []string  `json:"files" yaml:"files"`
	Subject   string    `json:"subject" yaml:"subject"`
	Capsule   string    `json:"capsule,omitempty" yaml:"capsule,omitempty"` // evidence: the work item it belongs to
	CreatedAt time.Time `json:"created_at" yaml:"created_at"`
	Acks      []Ack     `json:"acks" yaml:"acks"`
	// UsedAt and UsedFor record the one act a granted council call lifted.
	UsedAt  time.Time `json:"used_at,omitzero" yaml:"used_at,omitempty"`
	UsedFor string    `json:"used_for,omitempty" yaml:"used_for,omitempty"`
	// ExpiresAt ends a missive's handshake (budgets.handshake_ttl after it
	// was sent); a record without one ends DefaultHandshakeTTL after.
	ExpiresAt time.Time `json:"expires_at,omitzero" yaml:"expires_at,omitempty"`
	// Declined is an addressed domain's refusal: the signal is spent.
	Declined *Ack `json:"declined,omitempty" yaml:"declined,omitempty"`
}

// Ack is an addressed domain's acknowledgement of a signal.
type Ack struct {
	Domain string    `json:"domain" yaml:"domain"`
	By     string    `json:"by" yaml:"by"`
	At     time.Time `json:"at" yaml:"at"`
}

// Signal kinds.
const (
	SignalMissive     = "missive"
	SignalCouncilCall = "council_call"
)

// AckedBy reports whether domain acknowledged the signal by time t.
func (s Signal) AckedBy(domain string, t time.Time) bool {
	for _, a := range s.Acks {
		if a.Domain == domain && !a.At.After(t) {
			return true
		}
	}
	return false
}

// Complete reports whether every addressed domain acknowledged it by t: a
// missive is then a handshake, a council call is granted.
func (s Signal) Complete(t time.Time) bool {
	for _, d := range s.To {
		if !s.AckedBy(d, t) {
			return false
		}
	}
	return len(s.To) > 0
}

// DeclinedBy reports whether an addressed domain declined the signal by t.
func (s Signal) DeclinedBy(t time.Time) bool { return s.Declined != nil && !s.Declined.At.After(t) }

// HandshakeEnd is when an acknowledged missive stops covering its files.
func (s Signal) HandshakeEnd() time.Time {
	if s.ExpiresAt.IsZero() {
		return s.CreatedAt.Add(DefaultHandshakeTTL)
	}
	return s.ExpiresAt
}

// Handshake finds a missive from one of domains to owner naming path,
// acknowledged by owner by time at and not over (its TTL ended, its capsule
// done, or declined); else the open one waiting for the ack. Clock skew
// loosens both ends, never tightens them: a handshake counts from at+skew
// for its start and acknowledgement, and at-skew for its end.
func (st State) Handshake(domains []string, owner, path string, at time.Time, skew time.Duration) (done, waiting *Signal) {
	latest, earliest := at.Add(skew), at.Add(-skew)
	for i := range st.Signals {
		s := &st.Signals[i]
		if s.Kind != SignalMissive || !slices.Contains(domains, s.From) || !slices.Contains(s.To, owner) || !slices.Contains(s.Files, path) ||
			s.CreatedAt.After(latest) || !earliest.Before(s.HandshakeEnd()) || s.DeclinedBy(earliest) || st.closedBy(s, earliest) {
			continue
		}
		if s.AckedBy(owner, latest) {
			return s, nil
		}
		waiting = s
	}
	return nil, waiting
}

// closedBy reports whether the capsule missive s is tied to was done by t.
func (st State) closedBy(s *Signal, t time.Time) bool {
	if s.Capsule == "" {
		return false
	}
	c := st.CapsuleOf(s)
	return c != nil && !c.ClosedAt.IsZero() && !t.Before(c.ClosedAt)
}

// Signal returns the signal with that id, if any.
func (st State) Signal(id string) *Signal {
	if st.ids != nil {
		if i, ok := st.ids.signals[id]; ok {
			return &st.Signals[i]
		}
		return nil
	}
	for i := range st.Signals {
		if st.Signals[i].ID == id {
			return &st.Signals[i]
		}
	}
	return nil
}

// Capsule returns the capsule with that id, if any.
func (st State) Capsule(id string) *Capsule {
	if st.ids != nil {
		if i, ok := st.ids.capsules[id]; ok {
			return &st.Capsules[i]
		}
		return nil
	}
	for i := range st.Capsules {
		if st.Capsules[i].ID == id {
			return &st.Capsules[i]
		}
	}
	return nil
}

// CapsuleOf returns the capsule signal s is tied to: the newest record of
// its id made no later than s. An id is free again once its record is
// pruned, and the history keeps both: a capsule assigned later must not
// stand in for the one a missive ended with.
func (st State) CapsuleOf(s *Signal) *Capsule {
	if c := st.Capsule(s.Capsule); c == nil || !c.CreatedAt.After(s.CreatedAt) {
		return c
	}
	var tied *Capsule
	for i := range st.Capsules {
		c := &st.Capsules[i]
		if c.ID == s.Capsule && !c.CreatedAt.After(s.CreatedAt) && (tied == nil || c.CreatedAt.After(tied.CreatedAt)) {
			tied = c
		}
	}
	return tied
}

// recordIndex finds capsules and signals by id in constant time, for a
// reader that applies many acts to one state (the server's replay).
type recordIndex struct{ capsules, signals map[string]int }

// Index makes Capsule and Signal look up by id in constant time from now
// on. The state must then change only through PutCapsule and PutSignal, and
// only one copy of it may: copies share the index.
func (st *State) Index() {
	st.ids = &recordIndex{capsules: map[string]int{}, signals: map[string]int{}}
	for i, c := range st.Capsules {
		st.ids.capsules[c.ID] = i
	}
	for i, s := range st.Signals {
		st.ids.signals[s.ID] = i
	}
}

// PutCapsule writes c into the state, in place: a new record or the new
// version of one.
func (st *State) PutCapsule(c Capsule) {
	if cur := st.Capsule(c.ID); cur != nil {
		*cur = c
		return
	}
	if st.ids != nil {
		st.ids.capsules[c.ID] = len(st.Capsules)
	}
	st.Capsules = append(st.Capsules, c)
}

// PutSignal writes s into the state, in place, as PutCapsule does.
func (st *State) PutSignal(s Signal) {
	if cur := st.Signal(s.ID); cur != nil {
		*cur = s
		return
	}
	if st.ids != nil {
		st.ids.signals[s.ID] = len(st.Signals)
	}
	st.Signals = append(st.Signals, s)
}

// InProgress lists the capsules whose scope bound owner at t (or, with
// owner "", every capsule of domain in progress at t: what its attention
// budget counts).
func (st State) InProgress(owner, domain string, t time.Time) []Capsule {
	var out []Capsule
	if owner != "" {
		for c := range st.capsulesOf(owner) {
			if strings.EqualFold(c.Owner, owner) && c.BindsAt(t) {
				out = append(out, *c)
			}
		}
		return out
	}
	for _, c := range st.Capsules {
		if c.Domain == domain && c.InProgressAt(t) {
			out = append(out, c)
		}
	}
	return out
}

// ValidRecordID reports whether s may name a capsule, signal or dead end,
// like ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$: it becomes a file name, so no
// separator, and it cannot start with a dot.
func ValidRecordID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

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

// Status is the signal's state for people: open, acknowledged, or (council
// calls) granted and used.
func (s Signal) Status(t time.Time) string {
	switch {
	case !s.UsedAt.IsZero():
		return "used"
	case s.Complete(t) && s.Kind == SignalCouncilCall:
		return "granted"
	case s.Complete(t):
		return "acknowledged"
	}
	return "open"
}

// Handshake finds a missive from one of domains to owner naming path,
// acknowledged by owner by time t; else the open one waiting for the ack.
func (st State) Handshake(domains []string, owner, path string, t time.Time) (done, waiting *Signal) {
	for i := range st.Signals {
		s := &st.Signals[i]
		if s.Kind != SignalMissive || !slices.Contains(domains, s.From) || !slices.Contains(s.To, owner) || !slices.Contains(s.Files, path) || s.CreatedAt.After(t) {
			continue
		}
		if s.AckedBy(owner, t) {
			return s, nil
		}
		waiting = s
	}
	return nil, waiting
}

// Granted finds council call id if it was granted by t. Whether it was
// used already is the caller's to judge (UsedAt).
func (st State) Granted(id string, t time.Time) *Signal {
	for i := range st.Signals {
		s := &st.Signals[i]
		if s.ID == id && s.Kind == SignalCouncilCall && s.Complete(t) {
			return s
		}
	}
	return nil
}

// InProgress lists the capsules owned by owner (or, with owner "", by
// anyone of domain) that were in progress at t.
func (st State) InProgress(owner, domain string, t time.Time) []Capsule {
	var out []Capsule
	for _, c := range st.Capsules {
		if c.InProgressAt(t) && (owner != "" && strings.EqualFold(c.Owner, owner) || owner == "" && c.Domain == domain) {
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

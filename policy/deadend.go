package policy

import (
	"fmt"
	"strings"
	"time"
)

// ActDeadEnd carries a refusal a hook recorded in a clone to the shared
// state, so that the whole team's audit sees it.
const ActDeadEnd = "dead-end"

// CodeDeadEndsFull: the shared state holds MaxDeadEnds already.
const CodeDeadEndsFull = "dead-ends-full"

// DeadEndRetention is how long a dead end stays in the shared state; after
// that it lives on in the history only. MaxDeadEnds bounds how many it
// holds: a fleet retrying a refused commit must not make every read slow.
const (
	DeadEndRetention = 7 * 24 * time.Hour
	MaxDeadEnds      = 500
	maxDeadEndText   = 16 << 10 // all its texts together: a record stays far within what a record file may hold
)

// DeadEnd records one refusal by a hook: who was stopped, when, on which
// paths and resources, why, and the fix (the protocol's dead_end artifact
// for a shadow edit).
type DeadEnd struct {
	ID        string    `json:"id" yaml:"id"`
	Hook      string    `json:"hook" yaml:"hook"`
	Who       string    `json:"who" yaml:"who"`
	At        time.Time `json:"at" yaml:"at"`
	Commits   []string  `json:"commits,omitempty" yaml:"commits,omitempty"`
	Paths     []string  `json:"paths" yaml:"paths"`
	Resources []string  `json:"resources,omitempty" yaml:"resources,omitempty"`
	Why       []string  `json:"why" yaml:"why"`
	Fix       []string  `json:"fix" yaml:"fix"`
}

// decideDeadEnd records a.DeadEnd in the shared state: by whom it stopped
// only, bounded in size, not from the future nor past its retention. One
// recorded already changes nothing, so carrying it twice is harmless.
func (p *Policy) decideDeadEnd(a Act, st State, now time.Time) (Decision, error) {
	d := a.DeadEnd
	switch {
	case d == nil || !ValidRecordID(d.ID):
		return Decision{}, fmt.Errorf("dead-end: no valid id")
	case !strings.EqualFold(d.Who, a.By):
		return Decision{}, &Refusal{Code: CodeNotMember, Exit: 1, Message: fmt.Sprintf("%s may not record a dead end of %s's: each carries their own", a.By, d.Who)}
	case d.At.After(now.Add(time.Minute)) || !d.At.After(now.Add(-DeadEndRetention)):
		return Decision{}, fmt.Errorf("dead-end %s at %s: not within %s before now", d.ID, d.At.Format(time.RFC3339), DeadEndRetention)
	}
	if err := ValidText([]string{d.Hook, d.Who}, d.Commits, d.Paths, d.Resources, d.Why, d.Fix); err != nil {
		return Decision{}, err
	}
	size := len(d.Hook) + len(d.Who)
	for _, l := range [][]string{d.Commits, d.Paths, d.Resources, d.Why, d.Fix} {
		for _, s := range l {
			size += len(s)
		}
	}
	if size > maxDeadEndText {
		return Decision{}, fmt.Errorf("dead-end %s: %d bytes of text, at most %d", d.ID, size, maxDeadEndText)
	}
	n := 0
	for _, x := range st.DeadEnds {
		if x.ID == d.ID {
			return Decision{}, nil
		}
		if x.At.After(now.Add(-DeadEndRetention)) {
			n++
		}
	}
	if n >= MaxDeadEnds {
		return Decision{}, Refuse(CodeDeadEndsFull, nil, "the shared state holds %d dead ends, the most it keeps", n)
	}
	c := *d
	c.At = c.At.UTC()
	return Decision{DeadEnd: &c}, nil
}

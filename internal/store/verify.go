package store

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/policy"
)

// Ref is the store as a server sees it: the state ref in its own (bare)
// repository is the authority, read in place. Mutations happen in clones
// and arrive by push, where VerifyUpdate checks them.
type Ref struct {
	ops
	git gitcli.Runner
	ref string
}

// OpenRef returns the store held by ref in the repository r runs in.
func OpenRef(r gitcli.Runner, ref string) *Ref {
	return &Ref{ops: ops{mutate: serverSide}, git: r, ref: ref}
}

// ErrServerSide refuses a mutation on the server's own repository.
var ErrServerSide = errors.New("this is a bare repository: claim, renew and release from a clone, whose pushes update the state here")

func (s *Ref) files() (map[string][]byte, error) {
	tip, err := s.git.RefID(s.ref)
	if err != nil || tip == "" {
		return map[string][]byte{}, err
	}
	return s.git.ReadTree(tip)
}

// Current reads the state ref's leases.
func (s *Ref) Current() (policy.State, error) {
	files, err := s.files()
	return stateFiles(files, s.fileName), err
}

// History replays the state ref's history.
func (s *Ref) History() ([]policy.Lease, error) {
	files, err := s.files()
	if err != nil {
		return nil, err
	}
	events, err := ParseEvents(bytes.NewReader(files[eventsLog]), s.ref+":"+eventsLog)
	return Replay(events), err
}

func (s *Ref) fileName(path string) string { return s.ref + ":" + path }

// Sync has nothing to do: the ref is the authority.
func (s *Ref) Sync() error { return nil }

// Freshness is empty: the ref is the authority.
func (s *Ref) Freshness(time.Time) string { return "" }

// serverSide refuses every mutation on a server's own repository.
func serverSide(string, func(policy.State) ([]change, error)) error { return ErrServerSide }

// Verifier checks a push to the state ref. Every new commit must extend the
// history by whole events, and its leases must be exactly what replaying
// those events through the same decisions a client makes would give: so a
// lease cannot be forged, backdated, taken over while live, or claimed for
// a domain its author is not a member of.
type Verifier struct {
	Git    gitcli.Runner
	Policy *policy.Policy
	Pusher string    // who the host says pushes ("" if it does not say)
	Now    time.Time // the server's clock
}

// VerifyUpdate checks the update of the state ref from old to new (ids;
// all-zero for none).
func (v Verifier) VerifyUpdate(old, new string) error {
	switch {
	case gitcli.IsZeroID(new):
		return errors.New("the state ref may not be deleted: its history is the audit log")
	case !gitcli.IsZeroID(old):
		ok, err := v.Git.IsAncestor(old, new)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("the state ref only moves forward: this push rewrites its history")
		}
	}
	revs := []string{new}
	if !gitcli.IsZeroID(old) {
		revs = append(revs, "^"+old)
	}
	commits, err := v.Git.RevList(revs...)
	if err != nil {
		return err
	}
	prev := map[string][]byte{}
	if !gitcli.IsZeroID(old) {
		if prev, err = v.Git.ReadTree(old); err != nil {
			return err
		}
	}
	parent := old
	for _, c := range commits {
		if gitcli.IsZeroID(parent) && len(c.Parents) != 0 || !gitcli.IsZeroID(parent) && (len(c.Parents) != 1 || c.Parents[0] != parent) {
			return fmt.Errorf("state commit %s: the state ref's history must be a single line", c.ID[:12])
		}
		files, err := v.Git.ReadTree(c.ID)
		if err != nil {
			return err
		}
		if err := v.verifyStep(prev, files); err != nil {
			return fmt.Errorf("state commit %s: %w", c.ID[:12], err)
		}
		prev, parent = files, c.ID
	}
	return nil
}

// verifyStep checks one state commit against its parent's files.
func (v Verifier) verifyStep(before, after map[string][]byte) error {
	for path := range after {
		if !stateFileName(path) {
			return fmt.Errorf("%s has no place in the state", path)
		}
	}
	old, added := before[eventsLog], after[eventsLog]
	if !bytes.HasPrefix(added, old) {
		return errors.New("events.jsonl was rewritten: the history may only grow")
	}
	events, err := ParseEvents(bytes.NewReader(added[len(old):]), eventsLog)
	if err != nil {
		return err
	}
	if len(events) == 0 || !bytes.HasSuffix(added, []byte("\n")) {
		return errors.New("a state commit must add whole events to events.jsonl")
	}
	want := maps.Clone(before)
	spent := map[string]time.Time{} // council calls spent in this commit: an act of several claims
	for _, e := range events {
		ch, err := v.replay(stateFiles(want, func(p string) string { return p }), e, spent)
		if err != nil {
			return fmt.Errorf("%s %s by %s: %w", e.Op, e.subject(), e.By, err)
		}
		for path, data := range ch.files {
			if data == nil {
				delete(want, path)
			} else {
				want[path] = data
			}
		}
	}
	want[eventsLog] = added
	if !maps.EqualFunc(want, after, bytes.Equal) {
		return errors.New("the state files do not match what the events decide")
	}
	return nil
}

// replay re-decides one event with the decisions a client makes and checks
// that it records exactly what they decide. spent holds the council calls
// earlier claims of this commit spent, with when.
func (v Verifier) replay(st policy.State, e Event, spent map[string]time.Time) (change, error) {
	skew := v.Policy.Budgets.ClockSkew
	if e.At.Before(v.Now.Add(-skew-time.Minute)) || e.At.After(v.Now.Add(skew)) {
		return change{}, fmt.Errorf("recorded at %s, but the server's time is %s: a change is pushed when it is made (check the clock)", e.At.Format(time.RFC3339), v.Now.UTC().Format(time.RFC3339))
	}
	// Where the host names who pushes, every decision is made with the
	// pusher's domains: the event's "by" is whatever the client wrote.
	domains := v.Policy.DomainsOf(e.By)
	if v.Pusher != "" {
		domains = v.Policy.DomainsOf(v.Pusher)
		if e.Op == OpDone && !strings.EqualFold(v.Pusher, e.Capsule.Owner) && !slices.Contains(domains, e.Capsule.Domain) {
			return change{}, fmt.Errorf("pushed by %s, who neither owns capsule %s nor is a member of %s", v.Pusher, e.Capsule.ID, e.Capsule.Domain)
		}
	}
	member := func(d string) error {
		switch {
		case slices.Contains(domains, d):
			return nil
		case v.Pusher != "":
			return fmt.Errorf("pushed by %s, who is not a member of %s", v.Pusher, d)
		}
		return fmt.Errorf("%s is not a member of %s", e.By, d)
	}
	var ch change
	var err error
	b := v.Policy.Budgets
	switch e.Op {
	case OpClaim, OpTakeover:
		if err = member(e.Lease.Domain); err == nil {
			c := Claim{
				Resource: e.Lease.Resource, Owner: e.By, Domain: e.Lease.Domain, TTL: time.Duration(e.Lease.TTL) * time.Second,
				Reason: e.Lease.Reason, Capsule: e.Lease.Capsule, Budget: b.LeasesPerDomain, Council: e.Council, Now: e.At,
			}
			if at, ok := spent[e.Council]; ok && at.Equal(e.At) {
				c.liftedBy = e.Council // the same act as the claim that spent it
			}
			_, ch, err = decideClaim(st, c)
			if err == nil && ch.event.Council != "" && c.liftedBy == "" {
				spent[e.Council] = e.At
			}
		}
	case OpRenew:
		_, ch, err = decideRenew(st, Renewal{Resource: e.Lease.Resource, By: e.By, Domains: domains, TTL: time.Duration(e.Lease.TTL) * time.Second, Now: e.At})
	case OpRelease:
		_, ch, err = decideRelease(st, Release{Resource: e.Lease.Resource, By: e.By, Domains: domains, Force: e.Force, Council: e.Council, Now: e.At})
	case OpAssign:
		c := e.Capsule
		if err = member(c.Domain); err == nil {
			_, ch, err = decideAssign(st, Assign{ID: c.ID, Owner: c.Owner, Domain: c.Domain, Scope: c.Scope, Resources: c.Resources, By: e.By, Budget: b.InProgressPerDomain, Council: e.Council, Now: e.At})
		}
	case OpDone:
		_, ch, err = decideDone(st, Done{ID: e.Capsule.ID, By: e.By, Domains: domains, Now: e.At})
	case OpSignal:
		s := e.Signal
		if err = member(s.From); err == nil {
			_, ch, err = decideSignal(st, SignalRequest{ID: s.ID, Kind: s.Kind, From: s.From, By: e.By, Subject: s.Subject, Capsule: s.Capsule, To: s.To, Files: s.Files, Now: e.At})
		}
	case OpAck:
		if len(e.Signal.Acks) == 0 {
			return change{}, errors.New("an acknowledgement without an ack")
		}
		if v.Pusher != "" {
			err = member(e.Signal.Acks[len(e.Signal.Acks)-1].Domain)
		}
		if err == nil {
			_, ch, err = decideAck(st, AckRequest{ID: e.Signal.ID, By: e.By, Domains: domains, Now: e.At})
		}
	}
	if err != nil {
		return change{}, err
	}
	if ch.empty() || !sameEvent(ch.event, e) {
		return change{}, errors.New("the event does not record what the decision gives")
	}
	return ch, nil
}

// sameEvent compares events as the history records them.
func sameEvent(a, b Event) bool {
	a.V, b.V = formatVersion, formatVersion
	ea, erra := encodeEvent(a)
	eb, errb := encodeEvent(b)
	return erra == nil && errb == nil && bytes.Equal(ea, eb)
}

// stateFileName says whether path is one the state holds.
func stateFileName(path string) bool {
	if path == eventsLog {
		return true
	}
	dir, file, ok := strings.Cut(path, "/")
	id, isYAML := strings.CutSuffix(file, ".yaml")
	if !ok || !isYAML {
		return false
	}
	switch dir {
	case leasesDir:
		return policy.ValidName(id)
	case capsulesDir, signalsDir:
		return policy.ValidRecordID(id)
	}
	return false
}

package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/policy"
)

// Ref is the store as a server sees it: the state ref in its own (bare)
// repository is the authority, read in place. Mutations happen in clones
// and arrive by push, where VerifyUpdate checks them.
type Ref struct {
	git gitcli.Runner
	ref string
}

// OpenRef returns the store held by ref in the repository r runs in.
func OpenRef(r gitcli.Runner, ref string) *Ref { return &Ref{git: r, ref: ref} }

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
	return stateFiles(files, s.ref), err
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

// Sync has nothing to do: the ref is the authority.
func (s *Ref) Sync() error { return nil }

// Freshness is empty: the ref is the authority.
func (s *Ref) Freshness(time.Time) string { return "" }

// Claim is not done on a server.
func (s *Ref) Claim([]Claim) ([]Claimed, error) { return nil, ErrServerSide }

// Renew is not done on a server.
func (s *Ref) Renew(Renewal) (policy.Lease, error) { return policy.Lease{}, ErrServerSide }

// Release is not done on a server.
func (s *Ref) Release(Release) (*policy.Lease, error) { return nil, ErrServerSide }

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
		if _, ok := stateFileName(path); !ok {
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
	st := stateFiles(before, "before")
	for _, e := range events {
		if st, err = v.replay(st, e); err != nil {
			return fmt.Errorf("%s %s by %s: %w", e.Op, e.Lease.Resource, e.By, err)
		}
	}
	want := stateFiles(after, "after")
	if len(want.Broken) > 0 {
		return fmt.Errorf("%s: %s", want.Broken[0].File, want.Broken[0].Cause)
	}
	if !sameLeases(st.Leases, want.Leases) {
		return errors.New("the lease files do not match what the events decide")
	}
	return nil
}

// replay applies one event with the decisions a client makes, and checks
// that it records exactly what they decide.
func (v Verifier) replay(st policy.State, e Event) (policy.State, error) {
	skew := v.Policy.Budgets.ClockSkew
	if e.At.Before(v.Now.Add(-skew-time.Minute)) || e.At.After(v.Now.Add(skew)) {
		return st, fmt.Errorf("recorded at %s, but the server's time is %s: a change is pushed when it is made (check the clock)", e.At.Format(time.RFC3339), v.Now.UTC().Format(time.RFC3339))
	}
	domains := v.Policy.DomainsOf(e.By)
	if v.Pusher != "" && !slices.Contains(v.Policy.DomainsOf(v.Pusher), e.Lease.Domain) {
		return st, fmt.Errorf("pushed by %s, who is not a member of %s", v.Pusher, e.Lease.Domain)
	}
	var ch change
	var err error
	switch e.Op {
	case OpClaim, OpTakeover:
		if !slices.Contains(domains, e.Lease.Domain) {
			return st, fmt.Errorf("%s is not a member of %s", e.By, e.Lease.Domain)
		}
		_, ch, err = decideClaim(st, Claim{
			Resource: e.Lease.Resource, Owner: e.By, Domain: e.Lease.Domain, TTL: time.Duration(e.Lease.TTL) * time.Second,
			Reason: e.Lease.Reason, Capsule: e.Lease.Capsule, Budget: v.Policy.Budgets.LeasesPerDomain, Now: e.At,
		})
		if err == nil && ch.event.Op != e.Op {
			err = fmt.Errorf("recorded as %s, but it is a %s", e.Op, ch.event.Op)
		}
	case OpRenew:
		_, ch, err = decideRenew(st, Renewal{Resource: e.Lease.Resource, By: e.By, Domains: domains, TTL: time.Duration(e.Lease.TTL) * time.Second, Now: e.At})
	case OpRelease:
		_, ch, err = decideRelease(st, Release{Resource: e.Lease.Resource, By: e.By, Domains: domains, Now: e.At})
	}
	if err != nil {
		return st, err
	}
	if ch.empty() || !sameEvent(ch.event, e) {
		return st, errors.New("the event does not record what the decision gives")
	}
	if ch.lease == nil {
		return without(st, e.Lease.Resource), nil
	}
	return st.With(*ch.lease), nil
}

// sameEvent compares events as the history records them.
func sameEvent(a, b Event) bool {
	a.V, b.V = formatVersion, formatVersion
	ea, erra := encodeEvent(a)
	eb, errb := encodeEvent(b)
	return erra == nil && errb == nil && bytes.Equal(ea, eb)
}

func without(st policy.State, resource string) policy.State {
	out := policy.State{Broken: st.Broken}
	for _, l := range st.Leases {
		if l.Resource != resource {
			out.Leases = append(out.Leases, l)
		}
	}
	return out
}

func sameLeases(a, b []policy.Lease) bool {
	if len(a) != len(b) {
		return false
	}
	sortLeases(a)
	sortLeases(b)
	for i := range a {
		if !bytes.Equal(FormatLease(a[i]), FormatLease(b[i])) {
			return false
		}
	}
	return true
}

// stateFileName says whether path is one the state holds.
func stateFileName(path string) (resource string, ok bool) {
	if path == eventsLog {
		return "", true
	}
	name, ok := cutPrefixSuffix(path, leasesDir+"/", ".yaml")
	return name, ok && policy.ValidName(name)
}

func cutPrefixSuffix(s, prefix, suffix string) (string, bool) {
	if len(s) < len(prefix)+len(suffix) || s[:len(prefix)] != prefix || s[len(s)-len(suffix):] != suffix {
		return "", false
	}
	return s[len(prefix) : len(s)-len(suffix)], true
}

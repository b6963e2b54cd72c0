package store

import (
	"bytes"
	"cmp"
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

// files reads the state ref's files; with history, its segments too (never
// its checkpoints).
func (s *Ref) files(history bool) (map[string][]byte, error) {
	tip, err := s.git.RefID(s.ref)
	if err != nil || tip == "" {
		return map[string][]byte{}, err
	}
	skip := sealedFile
	if history {
		skip = isCheckpoint
	}
	files, _, err := s.git.ReadTreeSkip(tip, skip)
	return files, err
}

// Current reads the state ref's leases.
func (s *Ref) Current() (policy.State, error) {
	files, err := s.files(false)
	return stateFiles(files, s.fileName), err
}

// History replays the state ref's history.
func (s *Ref) History() ([]policy.Lease, error) {
	events, err := s.events()
	return Replay(events), err
}

func (s *Ref) events() ([]Event, error) {
	files, err := s.files(true)
	if err != nil {
		return nil, err
	}
	return ParseEvents(bytes.NewReader(fullLog(files)), s.ref+":"+historyDir+"/*+"+eventsLog)
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
	// Found is the state ref's id as the server found it before the push
	// ("" where it had none), where the update is checked before git
	// applies it; nil where it is not.
	Found *string
}

// VerifyUpdate checks the update of the state ref from old to new (ids;
// all-zero for none).
func (v Verifier) VerifyUpdate(old, new string) error {
	// Another clone's push landed first: git would refuse this update
	// anyway, so it is refused before its replay, at once, in words the
	// pushing clone takes for a lost race (gitcli.ErrLostRace).
	if f := v.Found; f != nil && *f != old && !(*f == "" && gitcli.IsZeroID(old)) {
		return errors.New(gitcli.MovedMeanwhile)
	}
	if gitcli.IsZeroID(new) {
		return errors.New("the state ref may not be deleted: its history is the audit log")
	}
	// One more than a push may carry is enough to refuse a flood, so git
	// never lists more, whatever the push holds.
	revs := []string{fmt.Sprintf("--max-count=%d", MaxPushCommits+1), new}
	if !gitcli.IsZeroID(old) {
		revs = append(revs, "^"+old)
	}
	commits, err := v.Git.RevList(revs...)
	if err != nil {
		return err
	}
	if len(commits) > MaxPushCommits {
		return fmt.Errorf("the push carries more than %d state commits, the most one push may: push fewer at once", MaxPushCommits)
	}
	// git lists new first of all (last, reversed) where it is a commit. An
	// annotated tag of one lists its commit instead: the ref would name the
	// tag, which no later push could move from (each must name a commit's
	// parent), so it is refused, not replayed.
	if len(commits) > 0 && commits[len(commits)-1].ID != new {
		return fmt.Errorf("%.12s is not a commit (an annotated tag?): the state ref names state commits only; push the commit itself", new)
	}
	// old is an ancestor of new exactly where it is a parent of one of the
	// commits new has and old has not (or is new itself): no merge-base
	// process, the commits being listed anyway.
	if !gitcli.IsZeroID(old) && old != new && !slices.ContainsFunc(commits, func(c gitcli.Commit) bool { return slices.Contains(c.Parents, old) }) {
		return errors.New("the state ref only moves forward: this push rewrites its history")
	}
	trees := []string{new}
	if !gitcli.IsZeroID(old) {
		trees = append(trees, old)
	}
	for _, c := range commits[:max(len(commits)-1, 0)] {
		trees = append(trees, c.ID)
	}
	read, err := v.Git.ReadTrees(trees, sealedFile)
	if err != nil {
		return err
	}
	tree := map[string]gitcli.Tree{}
	for i, id := range trees {
		tree[id] = read[i]
	}
	prev, prevEntries := map[string][]byte{}, map[string]gitcli.TreeEntry{}
	if !gitcli.IsZeroID(old) {
		prev, prevEntries = tree[old].Files, tree[old].Entries
	}
	parent := old
	st := stateFiles(prev, func(p string) string { return p })
	st.Index()
	rs := replayState{budget: MaxPushEvents}
	for _, c := range commits {
		if gitcli.IsZeroID(parent) && len(c.Parents) != 0 || !gitcli.IsZeroID(parent) && (len(c.Parents) != 1 || c.Parents[0] != parent) {
			return fmt.Errorf("state commit %s: the state ref's history must be a single line", c.ID[:12])
		}
		files, entries := tree[c.ID].Files, tree[c.ID].Entries
		var events []Event
		if st, events, err = v.verifyStep(prev, files, prevEntries, entries, st, &rs); err != nil {
			return fmt.Errorf("state commit %s: %w", c.ID[:12], err)
		}
		// Its subject is the audit log's line in git log: it says what the
		// events do, not what the pusher would like read.
		if want := stateSubject(events); c.Subject != want {
			return fmt.Errorf("state commit %s: its subject is %q, but its events say %q", c.ID[:12], c.Subject, want)
		}
		prev, prevEntries, parent = files, entries, c.ID
	}
	return nil
}

// Bounds on one push to the state ref: a client pushes one commit an act,
// a few events each; far more is a flood, refused with the number before
// any is replayed.
const (
	MaxPushCommits = 100
	MaxPushEvents  = 10_000
)

// replayState is what the replay of one push carries from act to act: the
// events it may still replay, and when pruning may next remove a record
// (pruneAt; zero: never, as the records stand), before which the scan of
// every record is skipped, so that a push of many events costs the events,
// not their product with the records.
type replayState struct {
	budget  int
	pruneAt time.Time
	scanned bool // pruneAt is known
}

// regularFile is the mode of every file oxygen writes on the state ref.
const regularFile = "100644"

// verifyStep checks one state commit against its parent's files, whose
// records st holds already parsed; it returns the records after it. Each
// event costs one decision and the records it writes: linear in the events.
// History segments are compared by blob, never read; a seal's checkpoint is
// computed from the checkpoint before it, at the cost of a segment. It
// returns, too, the events it checked.
func (v Verifier) verifyStep(before, after map[string][]byte, beforeEntries, afterEntries map[string]gitcli.TreeEntry, st policy.State, rs *replayState) (policy.State, []Event, error) {
	for path, e := range afterEntries {
		if !stateFileName(path) && !sealedFile(path) {
			return st, nil, fmt.Errorf("%s has no place in the state", path)
		}
		// Contents are compared, not modes: else a checkpoint or record
		// could turn into an executable or a symlink (whose target is its
		// content), a sealed one after its seal. Only a new or changed
		// entry is asked, so a ref written so before stays usable.
		if e.Mode != regularFile && e != beforeEntries[path] {
			return st, nil, fmt.Errorf("%s has mode %s: the state's files are plain files (%s)", path, e.Mode, regularFile)
		}
	}
	old, seal, err := checkSegments(before, beforeEntries, afterEntries)
	if err != nil {
		return st, nil, err
	}
	if seal > 0 {
		if err := checkCheckpoint(v.Git, beforeEntries, afterEntries, seal, before[eventsLog]); err != nil {
			return st, nil, err
		}
	}
	added := after[eventsLog]
	if !bytes.HasPrefix(added, old) {
		return st, nil, errors.New("events.jsonl was rewritten: the history may only grow")
	}
	fresh := added[len(old):]
	if n := bytes.Count(fresh, []byte("\n")); n > rs.budget {
		return st, nil, fmt.Errorf("the push carries more than %d events (this commit alone adds %d): push fewer at once", MaxPushEvents, n)
	}
	events, err := ParseEvents(bytes.NewReader(fresh), eventsLog)
	if err != nil {
		return st, nil, err
	}
	if len(events) == 0 || !bytes.HasSuffix(added, []byte("\n")) {
		return st, nil, errors.New("a state commit must add whole events to events.jsonl")
	}
	rs.budget -= len(events)
	written := events
	want := maps.Clone(before)
	for len(events) > 0 {
		n := actLen(events)
		chs, err := v.replay(st, events[:n])
		if err != nil {
			e := events[0]
			return st, nil, fmt.Errorf("%s %s by %s: %w", e.Op, e.subject(), e.By, err)
		}
		if at := events[0].At; !rs.scanned || !rs.pruneAt.IsZero() && !at.Before(rs.pruneAt) {
			rs.pruneAt, rs.scanned = prune(st, at, chs), true
		}
		for _, ch := range chs {
			for path, data := range ch.files {
				if data == nil {
					delete(want, path)
				} else {
					want[path] = data
				}
				st = putRecord(st, path, data)
			}
		}
		for _, ch := range chs {
			for path, data := range ch.files {
				if data != nil {
					if t := prunableFrom(st, path); !t.IsZero() {
						rs.pruneAt = earliest(rs.pruneAt, t)
					}
				}
			}
		}
		events = events[n:]
	}
	// Byte for byte as oxygen writes them: decoding ignores unknown fields
	// and takes the last of repeated keys, so anything else could pad the
	// log every clone reads forever, or say one thing to another reader.
	lines := bytes.SplitAfter(fresh, []byte("\n"))
	for i, e := range written {
		if b, err := encodeEvent(e); err != nil || !bytes.Equal(b, lines[i]) {
			return st, nil, fmt.Errorf("%s line %d is not written as oxygen writes events (no unknown fields, repeated keys or other spelling)", eventsLog, bytes.Count(old, []byte("\n"))+i+1)
		}
	}
	want[eventsLog] = added
	if !maps.EqualFunc(want, after, bytes.Equal) {
		return st, nil, errors.New("the state files do not match what the events decide")
	}
	return st, written, nil
}

// actLen is how many of events make the first act: a claim of several
// resources writes one event each, at one time, by one person.
func actLen(events []Event) int {
	first := events[0]
	if first.Op != OpClaim && first.Op != OpTakeover {
		return 1
	}
	n := 1
	for n < len(events) {
		e := events[n]
		if e.Op != OpClaim && e.Op != OpTakeover || !e.At.Equal(first.At) || e.By != first.By || e.Lease.Domain != first.Lease.Domain ||
			e.Lease.TTL != first.Lease.TTL || e.Lease.Reason != first.Lease.Reason || e.Lease.Capsule != first.Lease.Capsule {
			break
		}
		n++
	}
	return n
}

// putRecord updates parsed state st, which the verifier owns, in place
// with one written record (nil: removed).
func putRecord(st policy.State, path string, data []byte) policy.State {
	dir, file, _ := strings.Cut(path, "/")
	id := strings.TrimSuffix(file, ".yaml")
	switch dir {
	case leasesDir:
		st.Leases = slices.DeleteFunc(st.Leases, func(l policy.Lease) bool { return l.Resource == id })
		if l, err := ParseLease(id, data); data != nil && err == nil {
			st.Leases = append(st.Leases, l)
		}
	case capsulesDir:
		if data == nil {
			st.Capsules = slices.DeleteFunc(st.Capsules, func(c policy.Capsule) bool { return c.ID == id })
			st.Index() // positions moved; a removal is rare: once in a record's life
		} else if c, err := ParseCapsule(id, data); err == nil {
			st.PutCapsule(c)
		}
	case signalsDir:
		if data == nil {
			st.Signals = slices.DeleteFunc(st.Signals, func(s policy.Signal) bool { return s.ID == id })
			st.Index()
		} else if s, err := ParseSignal(id, data); err == nil {
			st.PutSignal(s)
		}
	case refusalsDir:
		st.DeadEnds = slices.DeleteFunc(st.DeadEnds, func(d policy.DeadEnd) bool { return d.ID == id })
		if d, err := ParseDeadEnd(id, data); data != nil && err == nil {
			st.DeadEnds = append(st.DeadEnds, d)
		}
	case waitersDir:
		st.Waiters = slices.DeleteFunc(st.Waiters, func(w policy.Waiter) bool { return w.ID == id })
		if w, err := ParseWaiter(id, data); data != nil && err == nil {
			st.Waiters = append(st.Waiters, w)
		}
	}
	return st
}

// replay re-decides one act from its events with the policy, as the
// client did, and checks that the events record exactly that decision.
// Where the host names who pushes, every event must be the pusher's own:
// its "by", and so the owner of a lease, the sender of a signal and the
// author of an acknowledgement, is whoever the client wrote.
func (v Verifier) replay(st policy.State, events []Event) ([]change, error) {
	e := events[0]
	skew := v.Policy.Budgets.ClockSkew
	if e.At.Before(v.Now.Add(-skew-time.Minute)) || e.At.After(v.Now.Add(skew)) {
		return nil, fmt.Errorf("recorded at %s, but the server's time is %s: a change is pushed when it is made (check the clock)", e.At.Format(time.RFC3339), v.Now.UTC().Format(time.RFC3339))
	}
	if err := v.mayAct(e.By); err != nil {
		return nil, err
	}
	a := actOf(events)
	d, err := v.Policy.Decide(a, st, e.At)
	if err != nil {
		return nil, err
	}
	if err := v.selfGranted(a, d); err != nil {
		return nil, err
	}
	chs := record(a, d)
	if len(chs) != len(events) {
		return nil, errors.New("the events do not record what the decision gives")
	}
	for i := range chs {
		if !sameEvent(chs[i].event, events[i]) {
			return nil, errors.New("the event does not record what the decision gives")
		}
	}
	return chs, nil
}

// mayAct refuses an act recorded as by's where the host says someone who
// may not act for by pushes it.
func (v Verifier) mayAct(by string) error {
	if v.Pusher != "" && !v.Policy.ActsFor(v.Pusher, by) {
		return fmt.Errorf("pushed by %s, but recorded as %s's: a push carries only the pusher's own acts", v.Pusher, by)
	}
	return nil
}

// selfGranted refuses a council vote carried by a pusher who may also act
// for the call's caller. A host that names pushers by user name lets one
// listed in two domains stand for an address of each: the call raised as
// the one and acknowledged as the other would be granted by its caller.
func (v Verifier) selfGranted(a policy.Act, d policy.Decision) error {
	call := d.Signal
	if v.Pusher == "" || a.Kind != policy.ActAck || call == nil || call.Kind != policy.SignalCouncilCall || len(call.Acks) == 0 {
		return nil
	}
	vote := call.Acks[len(call.Acks)-1]
	if slices.Contains(v.Policy.DomainsOf(call.By), vote.Domain) || !v.Policy.ActsFor(v.Pusher, call.By) {
		return nil // not a vote, or not the caller's
	}
	return fmt.Errorf("%s may act for %s, who raised council call %s: a call is granted by someone else; a member of %s other than the caller acknowledges it", v.Pusher, call.By, call.ID, vote.Domain)
}

// actOf is the act whose decision events record.
func actOf(events []Event) policy.Act {
	e := events[0]
	a := policy.Act{By: e.By, Council: e.Council}
	switch e.Op {
	case OpClaim, OpTakeover:
		a.Kind, a.Domain = policy.ActClaim, e.Lease.Domain
		a.TTL, a.Reason, a.Capsule = time.Duration(e.Lease.TTL)*time.Second, e.Lease.Reason, e.Lease.Capsule
		for _, c := range events {
			a.Resources = append(a.Resources, c.Lease.Resource)
			a.Council = cmp.Or(a.Council, c.Council)
		}
	case OpRenew:
		a.Kind, a.Resources, a.TTL = policy.ActRenew, []string{e.Lease.Resource}, time.Duration(e.Lease.TTL)*time.Second
	case OpRelease:
		a.Kind, a.Resources, a.Force = policy.ActRelease, []string{e.Lease.Resource}, e.Force
	case OpAssign, OpDone, OpAccept, OpWiden:
		c := e.Capsule
		a.Kind, a.ID = map[string]string{OpAssign: policy.ActAssign, OpDone: policy.ActDone, OpAccept: policy.ActAccept, OpWiden: policy.ActWiden}[e.Op], c.ID
		if e.Op == OpAssign {
			a.Domain, a.Owner, a.Scope, a.Resources = c.Domain, c.Owner, c.Scope, c.Resources
		}
		if e.Op == OpWiden {
			a.Scope = c.Scope
		}
	case OpSignal:
		s := e.Signal
		a.Kind, a.ID, a.Domain, a.Signal, a.To, a.Files, a.Subject, a.Capsule = policy.ActSignal, s.ID, s.From, s.Kind, s.To, s.Files, s.Subject, s.Capsule
	case OpAck:
		a.Kind, a.ID = policy.ActAck, e.Signal.ID
	case OpDecline:
		a.Kind, a.ID = policy.ActDecline, e.Signal.ID
	case OpWait:
		w := e.Waiter
		a.Kind, a.ID, a.Resources, a.Domain, a.TTL = policy.ActWait, w.ID, []string{w.Resource}, w.Domain, w.Until.Sub(e.At)
	case OpUnwait:
		a.Kind, a.ID = policy.ActUnwait, e.Waiter.ID
	case OpDeadEnd:
		a.Kind, a.DeadEnd = policy.ActDeadEnd, e.DeadEnd
	}
	return a
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
	case capsulesDir, signalsDir, waitersDir, refusalsDir:
		return policy.ValidRecordID(id)
	}
	return false
}

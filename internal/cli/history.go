package cli

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// recommitAdvice follows a refusal of commits that exist already: a lease
// claimed now covers commits made from now on, so they must be made again.
const recommitAdvice = `A commit is judged at the time it was made. After the fix (a claim, a
handshake, a council call), make the refused commits again:
git commit --amend --no-edit (the last one) or git rebase --force-rebase BASE
(several); or ask the holder to release.`

// judgeCommits judges each commit as its committer (or as the identity as,
// where a server knows who pushes), at its committer time (give or take the
// policy's clock_skew), under the policy of its first parent, against the
// whole lease history: a lease released after a commit still covers it.
func (a *app) judgeCommits(r *repo, list func() ([]git.Commit, error), as string) ([]git.Commit, []policy.Violation, error) {
	// The state (the lease history: for the git store, a fetch) is read
	// while git lists the commits: in a long-lived repository it costs as
	// much as the listing.
	type state struct {
		st  policy.State
		err error
	}
	loaded := make(chan state, 1)
	go func() {
		history, err := r.store.History()
		var st policy.State
		if err == nil {
			// Capsules and signals keep their times and are never deleted:
			// the current records answer for the past too.
			st, err = r.store.Current()
		}
		st.Leases = history
		st.Broken = nil // a record broken today says nothing of the past: the history judges it
		loaded <- state{st, err}
	}()
	commits, err := list()
	ls := <-loaded
	if err != nil || len(commits) == 0 {
		return commits, nil, err
	}
	if ls.err != nil {
		return nil, nil, ls.err
	}
	st := ls.st
	shallow, err := git.ShallowCommits(r.dirs)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range commits {
		if shallow[c.ID] {
			return nil, nil, fmt.Errorf("commit %s: %w", shortID(c.ID), git.ErrShallow)
		}
	}
	policies, err := a.commitPolicies(commits)
	if err != nil {
		return nil, nil, err
	}
	changes, err := a.policyChanges(commits)
	if err != nil {
		return nil, nil, err
	}
	var out []policy.Violation
	for i, c := range commits {
		p := policies[i]
		if as != "" {
			c.Committer = as
		}
		cs := policy.ChangeSet{
			Commit: c.ID, Subject: c.Subject, Committer: c.Committer,
			At: c.Time, Skew: p.Budgets.ClockSkew, Paths: c.Paths, Deleted: c.Deleted, Council: c.Council,
		}
		out = append(out, p.Judge(cs, st)...)
		if next := changes[c.ID]; next != nil {
			out = append(out, p.JudgeBoundaries(next, cs, st)...)
		}
	}
	return commits, out, nil
}

// policyChanges finds, for each commit that changes resources.yaml itself
// (its paths name it), the policy it brings in (broughtIn), for the
// core-boundary rule: one git process, and only when the range changes the
// policy.
func (a *app) policyChanges(commits []git.Commit) (map[string]*policy.Policy, error) {
	var ids, specs []string
	for _, c := range commits {
		if len(c.Parents) > 0 && slices.Contains(c.Paths, policy.FileName) {
			ids, specs = append(ids, c.ID), append(specs, c.ID+":"+policy.FileName)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	blobs, err := a.git.ReadBlobs(specs...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*policy.Policy, len(ids))
	for i, b := range blobs {
		if p := broughtIn(b); p != nil {
			out[ids[i]] = p
		}
	}
	return out, nil
}

// broughtIn is the policy a change of resources.yaml brings in: the
// built-in one where it deletes it, nil where it does not load (it is never
// in force, so it redraws nothing).
func broughtIn(b git.Blob) *policy.Policy {
	data := b.Data
	if b.Missing {
		data = oxygen.ReferencePolicy
	}
	p, err := policy.Load(policy.FileName, data)
	if err != nil {
		return nil
	}
	return p
}

// commitPolicies finds the policy in force for each commit: its first
// parent's resources.yaml, else its own (a root commit, or a repository
// adopting oxygen), else the built-in one. A commit holds its first
// parent's resources.yaml unless its paths say it changes it, or it is a
// merge or a root; so only those, and the parents at the range's edge, are
// looked up: two small git processes whatever the range's length, each
// distinct policy parsed once. Commits come parents first.
func (a *app) commitPolicies(commits []git.Commit) ([]*policy.Policy, error) {
	own := make(map[string]string, len(commits)) // commit -> its resources.yaml blob ("" none)
	inRange := make(map[string]bool, len(commits))
	for _, c := range commits {
		inRange[c.ID] = true
	}
	var lookup []string
	want := func(id string) {
		if _, ok := own[id]; !ok {
			own[id] = ""
			lookup = append(lookup, id)
		}
	}
	for _, c := range commits {
		if len(c.Parents) > 0 && !inRange[c.Parents[0]] {
			want(c.Parents[0])
		}
		if len(c.Parents) != 1 || slices.Contains(c.Paths, policy.FileName) {
			want(c.ID)
		}
	}
	specs := make([]string, len(lookup))
	for i, id := range lookup {
		specs[i] = id + ":" + policy.FileName
	}
	oids, err := a.git.ObjectIDs("blob", specs)
	if err != nil {
		return nil, err
	}
	for i, id := range lookup {
		own[id] = oids[i]
	}
	for _, c := range commits {
		if _, ok := own[c.ID]; !ok {
			own[c.ID] = own[c.Parents[0]]
		}
	}
	content, err := a.blobsByID(slices.Compact(slices.Sorted(maps.Values(own))))
	if err != nil {
		return nil, err
	}
	out := make([]*policy.Policy, len(commits))
	cache := map[[2]string]*policy.Policy{}
	for i, c := range commits {
		base := "" // a root commit has no base: its own policy judges it
		if len(c.Parents) > 0 {
			base = own[c.Parents[0]]
		}
		key := [2]string{base, own[c.ID]}
		if p, ok := cache[key]; ok {
			out[i] = p
			continue
		}
		p, _, err := policyInForce(content[base], func() (git.Blob, error) { return content[key[1]], nil })
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", shortID(c.ID), err)
		}
		cache[key], out[i] = p, p
	}
	return out, nil
}

// blobsByID reads blobs by id in one git process; "" reads as missing.
func (a *app) blobsByID(ids []string) (map[string]git.Blob, error) {
	content := map[string]git.Blob{"": {Missing: true}}
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == "" })
	if len(ids) == 0 {
		return content, nil
	}
	blobs, err := a.git.ReadBlobs(ids...)
	if err != nil {
		return nil, err
	}
	for i, b := range blobs {
		content[ids[i]] = b
	}
	return content, nil
}

// rangeCommits lists the commits of "A..B" (in B, not in A).
func (a *app) rangeCommits(r *repo, rng string) ([]git.Commit, error) {
	from, to, ok := strings.Cut(rng, "..")
	if !ok || from == "" || to == "" || strings.HasPrefix(to, ".") {
		return nil, fmt.Errorf("--range %q: want A..B, like origin/main..HEAD", rng)
	}
	fromID, err := a.git.ResolveCommit(r.dirs, from)
	if err != nil {
		return nil, err
	}
	toID, err := a.git.ResolveCommit(r.dirs, to)
	if err != nil {
		return nil, err
	}
	return a.git.Log(toID, "^"+fromID)
}

// oneCommit lists the commit rev names.
func (a *app) oneCommit(r *repo, rev string) ([]git.Commit, error) {
	id, err := a.git.ResolveCommit(r.dirs, rev)
	if err != nil {
		return nil, err
	}
	return a.git.Log("-n1", id)
}

// prePush judges every commit a push would send that the remote does not
// have, for every ref on stdin, each commit once, in one git process.
func (a *app) prePush(r *repo, remote, url string, stdin []byte) ([]policy.Violation, map[string][]string, []error, error) {
	refs, err := git.ParsePrePush(bytes.NewReader(stdin))
	if err != nil {
		return nil, nil, nil, err
	}
	// Commits on the remote's tracking refs were judged when they got there.
	// A push to a URL rather than a named remote (git passes the URL twice)
	// has no tracking refs of its own: all remotes' count.
	known := "--remotes=" + remote
	if remote == url {
		known = "--remotes"
	}
	var specs []string // each ref's remote id, its local id, and what that peels to
	for _, ref := range refs {
		specs = append(specs, ref.RemoteID, ref.LocalID, ref.LocalID+"^{}")
	}
	objs, err := a.git.Objects(specs)
	if err != nil {
		return nil, nil, nil, err
	}
	var refusals []error
	tips := map[string]string{} // commit -> a ref it is pushed as
	exclude := []string{"--not", known}
	for i, ref := range refs {
		if ref.Deletes() {
			continue
		}
		remoteObj, obj, peeled := objs[3*i], objs[3*i+1], objs[3*i+2]
		if obj.ID == "" {
			return nil, nil, nil, fmt.Errorf("%s: bad object %s (git has no such object here)", ref.LocalRef, ref.LocalID)
		}
		if err := refuseTarget(ref.RemoteRef, obj, peeled); err != nil {
			refusals = append(refusals, err) // the server refuses it too
			continue
		}
		tips[peeled.ID] = ref.LocalRef // a tag's commit
		if !ref.Creates() && remoteObj.ID != "" {
			exclude = append(exclude, ref.RemoteID) // missing locally: the tracking refs must do
		}
	}
	vs, refsOf, err := a.judgeNew(r, tips, exclude, "")
	return vs, refsOf, refusals, err
}

// judgeNew judges, in one pass, the commits reachable from the tips and not
// from exclude; refsOf (which refs carry each refused commit) is worked out
// only when something is refused, for the message.
func (a *app) judgeNew(r *repo, tips map[string]string, exclude []string, as string) ([]policy.Violation, map[string][]string, error) {
	if len(tips) == 0 {
		return nil, nil, nil
	}
	ids := slices.Sorted(maps.Keys(tips))
	commits, vs, err := a.judgeCommits(r, func() ([]git.Commit, error) {
		return a.git.LogFrom(ids, exclude...)
	}, as)
	if err != nil {
		return nil, nil, err
	}
	vs = append(vs, futureDated(commits, a.now(), r.policy.Budgets.ClockSkew)...)
	if len(vs) == 0 {
		return nil, nil, nil
	}
	return vs, refsReaching(commits, tips), nil
}

// futureDated refuses, at a gate that sees commits arrive (pre-push, the
// server), those dated later than its clock by more than skew. Such a
// commit is judged at a time yet to come, against leases that may still
// change: accepted under its author's lease, it would flip to refused in
// CI after a release, inside another domain's lease.
func futureDated(commits []git.Commit, now time.Time, skew time.Duration) []policy.Violation {
	var out []policy.Violation
	for _, c := range commits {
		if len(c.Paths) == 0 || !c.Time.After(now.Add(skew)) {
			continue
		}
		out = append(out, policy.Violation{
			Commit: c.ID, Subject: c.Subject, Path: c.Paths[0], Rule: policy.RuleFutureDate,
			Reason: fmt.Sprintf("committed at %s, more than clock_skew (%s) after this gate's clock (%s): it would be judged at a time yet to come, against leases that may still change",
				c.Time.UTC().Format(time.RFC3339), skew, now.UTC().Format(time.RFC3339)),
			Fix: "make it again at the real time (without GIT_COMMITTER_DATE): git commit --amend --no-edit (the last one) or git rebase --force-rebase BASE (several)",
		})
	}
	return out
}

// maxRefsNamed bounds the refs named for one refused commit: a push of
// thousands of branches from one base would otherwise name them all.
const maxRefsNamed = 3

// refsReaching names, for each commit, refs among tips (id -> ref) that
// reach it, at most maxRefsNamed, from the parents git log gave (commits
// come parents first): no git process per ref, however many a push has.
func refsReaching(commits []git.Commit, tips map[string]string) map[string][]string {
	out := map[string][]string{}
	for i := len(commits) - 1; i >= 0; i-- { // children before parents
		c := commits[i]
		if ref, ok := tips[c.ID]; ok && !slices.Contains(out[c.ID], ref) && len(out[c.ID]) < maxRefsNamed {
			out[c.ID] = append(out[c.ID], ref)
		}
		for _, p := range c.Parents {
			for _, ref := range out[c.ID] {
				if len(out[p]) < maxRefsNamed && !slices.Contains(out[p], ref) {
					out[p] = append(out[p], ref)
				}
			}
		}
	}
	return out
}

// pusher is who the hosting server says pushes, if it says: an address
// where it gives one, else a user name (which member globs may name too).
// REMOTE_USER is the user a web server authenticated for git http-backend
// (smart HTTP); git passes the CGI environment on to the hooks.
func pusher() string {
	for _, v := range []string{"GITEA_PUSHER_EMAIL", "GL_USERNAME", "GITEA_PUSHER_NAME", "GL_USER", "REMOTE_USER"} {
		if s := os.Getenv(v); s != "" {
			return s
		}
	}
	return ""
}

// preReceive is the server's gate. It judges every commit new to the
// repository on every pushed ref, as the pusher where the host names one,
// against the server's own state ref; and it lets the state ref itself move
// only by well-formed, fast-forward changes. Pushed objects sit in
// quarantine, which only the git binary sees: everything here goes through it.
func (a *app) preReceive(r *repo, stdin []byte) ([]policy.Violation, map[string][]string, []error, error) {
	ups, err := git.ParsePreReceive(bytes.NewReader(stdin))
	if err != nil {
		return nil, nil, nil, err
	}
	who := pusher()
	// Each new object, what it peels to and its policy, asked once however
	// many refs name it (a flood of refs may all name one commit).
	at := map[string]int{}
	var specs []string
	for _, up := range ups {
		if _, ok := at[up.New]; !ok {
			at[up.New] = len(specs)
			specs = append(specs, up.New, up.New+"^{}", up.New+":"+policy.FileName)
		}
	}
	objs, err := a.git.Objects(specs)
	if err != nil {
		return nil, nil, nil, err
	}
	var refusals []error
	tips := map[string]string{}     // commit -> a ref pushed to it
	policies := map[string]string{} // a pushed branch -> its policy blob
	for _, up := range ups {
		obj, peeled := objs[at[up.New]], objs[at[up.New]+1]
		if p := objs[at[up.New]+2]; p.Type == "blob" && strings.HasPrefix(up.Ref, "refs/heads/") {
			policies[up.Ref] = p.ID
		}
		switch {
		case up.Ref != r.policy.Store.Ref && strings.EqualFold(up.Ref, r.policy.Store.Ref):
			// Where the server's file system ignores case, it is the state
			// ref's own file, written or deleted past the verifier.
			refusals = append(refusals, fmt.Errorf("%s: another spelling of the state ref %s, which a file system that ignores case takes for it: push to %s itself", up.Ref, r.policy.Store.Ref, r.policy.Store.Ref))
		case git.IsZeroID(up.New) && up.Ref != r.policy.Store.Ref:
			// A deletion adds nothing to judge (deleting a replace ref is its fix).
		case up.Ref == r.policy.Store.Ref:
			v := store.Verifier{Git: a.git, Policy: r.policy, Pusher: who, Now: a.now()}
			if err := v.VerifyUpdate(up.Old, up.New); err != nil {
				refusals = append(refusals, fmt.Errorf("%s: %w", up.Ref, err))
			}
		case obj.ID == "":
			return nil, nil, nil, fmt.Errorf("%s: bad object %s (git has no such object here)", up.Ref, up.New)
		default:
			if err := refuseTarget(up.Ref, obj, peeled); err != nil {
				refusals = append(refusals, err)
				continue
			}
			tips[peeled.ID] = up.Ref // a tag's commit
		}
	}
	broken, err := a.unloadable(policies)
	if err != nil {
		return nil, nil, nil, err
	}
	refusals = append(refusals, broken...)
	vs, refsOf, err := a.judgeNew(r, tips, []string{"--not", "--all"}, who)
	return vs, refsOf, refusals, err
}

// unloadable refuses pushed branches (ref -> policy blob) whose policy does
// not load: every gate and act on such a branch stops, and the next commit
// would be judged by its own fix.
func (a *app) unloadable(policies map[string]string) ([]error, error) {
	content, err := a.blobsByID(slices.Compact(slices.Sorted(maps.Values(policies))))
	if err != nil {
		return nil, err
	}
	var out []error
	for _, ref := range slices.Sorted(maps.Keys(policies)) {
		if _, err := policy.Load(policy.FileName, content[policies[ref]].Data); err != nil {
			out = append(out, fmt.Errorf("%s: %w: the push would leave this branch's policy unloadable, which stops every gate and act on it; push the fix of %s with it", ref, err, policy.FileName))
		}
	}
	return out, nil
}

// refuseTarget says why a pushed ref may not point at obj (peeled: what it
// peels to), or nil. A replace ref makes git show its object in place of
// the one it names, so the commits judged would not be the commits kept;
// anything but a commit (or an annotated tag of one) carries content that
// no gate judges.
func refuseTarget(ref string, obj, peeled git.Object) error {
	const replace = "refs/replace/"
	switch {
	case len(ref) > len(replace) && strings.EqualFold(ref[:len(replace)], replace): // a file system that ignores case reads refs/REPLACE/ as refs/replace/
		name := ref[len(replace):]
		return fmt.Errorf("%s: replace refs are refused: git would show another object in place of %s, so the commits judged would not be the commits kept; leave it out of the push (git replace -d %s deletes it)", ref, name, name)
	case peeled.Type != "commit":
		return fmt.Errorf("%s: %s %s is a %s, not a commit (or an annotated tag of one): only commits are judged, so only commits may be pushed; leave it out of the push, or point it at a commit", ref, obj.Type, shortID(obj.ID), peeled.Type)
	}
	return nil
}

// readAll reads a hook's standard input whole, so that a chained hook can
// have it too. It has no cap: git holds every ref update in memory before
// it runs the hook, and judging a prefix would let the rest through unseen.
func readAll(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	return io.ReadAll(r)
}

package cli

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

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
	commits, err := list()
	if err != nil || len(commits) == 0 {
		return commits, nil, err
	}
	// The history, not the live records: those drop what finished long
	// ago, which still answers for the commits made before. It is read
	// from the newest checkpoint before the oldest commit, so a range costs
	// the events of its time span, not the store's age.
	oldest := commits[0].Time
	for _, c := range commits {
		if c.Time.Before(oldest) {
			oldest = c.Time
		}
	}
	st, err := r.store.HistoryState(oldest)
	if err != nil {
		return nil, nil, err
	}
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
			At: c.Time, Skew: p.Budgets.ClockSkew, Paths: c.Paths, Council: c.Council,
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
func (a *app) prePush(r *repo, remote, url string, stdin []byte) ([]policy.Violation, map[string][]string, error) {
	refs, err := git.ParsePrePush(bytes.NewReader(stdin))
	if err != nil {
		return nil, nil, err
	}
	// Commits on the remote's tracking refs were judged when they got there.
	// A push to a URL rather than a named remote (git passes the URL twice)
	// has no tracking refs of its own: all remotes' count.
	known := "--remotes=" + remote
	if remote == url {
		known = "--remotes"
	}
	var ids []string // each ref's remote id, then its local id
	for _, ref := range refs {
		ids = append(ids, ref.RemoteID, ref.LocalID)
	}
	present, err := a.git.ObjectIDs("", ids)
	if err != nil {
		return nil, nil, err
	}
	tips := map[string]string{} // local id -> a ref it is pushed as
	exclude := []string{"--not", known}
	for i, ref := range refs {
		if ref.Deletes() {
			continue
		}
		if present[2*i+1] == "" {
			return nil, nil, fmt.Errorf("%s: bad object %s (git has no such object here)", ref.LocalRef, ref.LocalID)
		}
		tips[ref.LocalID] = ref.LocalRef
		if !ref.Creates() && present[2*i] != "" {
			exclude = append(exclude, ref.RemoteID) // missing locally: the tracking refs must do
		}
	}
	return a.judgeNew(r, tips, exclude, "")
}

// judgeNew judges, in one pass, the commits reachable from the tips and not
// from exclude; refsOf (which refs carry each refused commit) is worked out
// only when something is refused, for the message.
func (a *app) judgeNew(r *repo, tips map[string]string, exclude []string, as string) ([]policy.Violation, map[string][]string, error) {
	if len(tips) == 0 {
		return nil, nil, nil
	}
	ids := slices.Sorted(maps.Keys(tips))
	_, vs, err := a.judgeCommits(r, func() ([]git.Commit, error) {
		return a.git.Log(append(slices.Clone(ids), exclude...)...)
	}, as)
	if err != nil || len(vs) == 0 {
		return vs, nil, err
	}
	refsOf := map[string][]string{}
	for _, id := range ids {
		cs, err := a.git.RevList(append([]string{id}, exclude...)...)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range cs {
			refsOf[c.ID] = append(refsOf[c.ID], tips[id])
		}
	}
	return vs, refsOf, nil
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
	var news []string
	for _, up := range ups {
		news = append(news, up.New)
	}
	present, err := a.git.ObjectIDs("", news)
	if err != nil {
		return nil, nil, nil, err
	}
	var refusals []error
	tips := map[string]string{}
	for i, up := range ups {
		switch {
		case up.Ref != r.policy.Store.Ref && !git.IsZeroID(up.New) && present[i] == "":
			return nil, nil, nil, fmt.Errorf("%s: bad object %s (git has no such object here)", up.Ref, up.New)
		case up.Ref == r.policy.Store.Ref:
			v := store.Verifier{Git: a.git, Policy: r.policy, Pusher: who, Now: a.now(), Ref: up.Ref}
			if err := v.VerifyUpdate(up.Old, up.New); err != nil {
				refusals = append(refusals, fmt.Errorf("%s: %w", up.Ref, err))
			}
		case !git.IsZeroID(up.New): // a deletion adds nothing to judge
			tips[up.New] = up.Ref
		}
	}
	vs, refsOf, err := a.judgeNew(r, tips, []string{"--not", "--all"}, who)
	return vs, refsOf, refusals, err
}

// readAll reads a hook's standard input whole, so that a chained hook can
// have it too.
func readAll(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	return io.ReadAll(io.LimitReader(r, 16<<20))
}

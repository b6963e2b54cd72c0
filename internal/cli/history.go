package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

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
func (a *app) judgeCommits(r *repo, commits []git.Commit, as string) ([]policy.Violation, error) {
	if len(commits) == 0 {
		return nil, nil
	}
	shallow, err := git.ShallowCommits(r.dirs)
	if err != nil {
		return nil, err
	}
	for _, c := range commits {
		if shallow[c.ID] {
			return nil, fmt.Errorf("commit %s: %w", shortID(c.ID), git.ErrShallow)
		}
	}
	if err := a.git.ChangedPaths(commits); err != nil {
		return nil, err
	}
	policies, err := a.commitPolicies(commits)
	if err != nil {
		return nil, err
	}
	history, err := r.store.History()
	if err != nil {
		return nil, err
	}
	// Capsules and signals keep their times and are never deleted: the
	// current records answer for the past too. Leases come from the history.
	st, err := r.store.Current()
	if err != nil {
		return nil, err
	}
	st.Leases = history
	var out []policy.Violation
	for i, c := range commits {
		p := policies[i]
		if as != "" {
			c.Committer = as
		}
		out = append(out, p.Judge(policy.ChangeSet{
			Commit: c.ID, Subject: c.Subject, Committer: c.Committer,
			At: c.Time, Skew: p.Budgets.ClockSkew, Paths: c.Paths, Council: c.Council,
		}, st)...)
	}
	return out, nil
}

// commitPolicies finds the policy in force for each commit: its first
// parent's resources.yaml, else its own (a root commit, or a repository
// adopting oxygen), else the built-in one. Two git processes in all; each
// distinct policy is parsed once.
func (a *app) commitPolicies(commits []git.Commit) ([]*policy.Policy, error) {
	specs := make([]string, 0, 2*len(commits))
	for _, c := range commits {
		base := c.ID
		if len(c.Parents) > 0 {
			base = c.Parents[0]
		}
		specs = append(specs, base+":"+policy.FileName, c.ID+":"+policy.FileName)
	}
	oids, err := a.git.ObjectIDs("blob", specs)
	if err != nil {
		return nil, err
	}
	var distinct []string
	seen := map[string]bool{}
	for _, o := range oids {
		if o != "" && !seen[o] {
			seen[o] = true
			distinct = append(distinct, o)
		}
	}
	content := map[string]git.Blob{"": {Missing: true}}
	if len(distinct) > 0 {
		blobs, err := a.git.ReadBlobs(distinct...)
		if err != nil {
			return nil, err
		}
		for i, b := range blobs {
			content[distinct[i]] = b
		}
	}
	out := make([]*policy.Policy, len(commits))
	cache := map[[2]string]*policy.Policy{}
	for i, c := range commits {
		base, own := oids[2*i], oids[2*i+1]
		if len(c.Parents) == 0 {
			base = "" // a root commit has no base: its own policy judges it
		}
		key := [2]string{base, own}
		if p, ok := cache[key]; ok {
			out[i] = p
			continue
		}
		p, _, err := policyInForce(content[base], content[own])
		if err != nil {
			return nil, fmt.Errorf("commit %s: %w", shortID(c.ID), err)
		}
		cache[key], out[i] = p, p
	}
	return out, nil
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
	return a.git.RevList(toID, "^"+fromID)
}

// oneCommit lists the commit rev names.
func (a *app) oneCommit(r *repo, rev string) ([]git.Commit, error) {
	id, err := a.git.ResolveCommit(r.dirs, rev)
	if err != nil {
		return nil, err
	}
	return a.git.RevList("--no-walk", id)
}

// prePush judges every commit a push would send that the remote does not
// have, for every ref on stdin, each commit once.
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
	var remoteIDs []string
	for _, ref := range refs {
		remoteIDs = append(remoteIDs, ref.RemoteID)
	}
	present, err := a.git.ObjectIDs("commit", remoteIDs)
	if err != nil {
		return nil, nil, err
	}
	var commits []git.Commit
	refsOf := map[string][]string{}
	for i, ref := range refs {
		if ref.Deletes() {
			continue
		}
		revs := []string{ref.LocalID, "--not", known}
		if !ref.Creates() && present[i] != "" {
			revs = append(revs, ref.RemoteID) // missing locally: the tracking refs must do
		}
		cs, err := a.git.RevList(revs...)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", ref.LocalRef, err)
		}
		for _, c := range cs {
			if _, dup := refsOf[c.ID]; !dup {
				commits = append(commits, c)
			}
			refsOf[c.ID] = append(refsOf[c.ID], ref.LocalRef)
		}
	}
	vs, err := a.judgeCommits(r, commits, "")
	return vs, refsOf, err
}

// pusher is who the hosting server says pushes, if it says: an address
// where it gives one, else a user name (which member globs may name too).
func pusher() string {
	for _, v := range []string{"GITEA_PUSHER_EMAIL", "GL_USERNAME", "GITEA_PUSHER_NAME", "GL_USER"} {
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
	var refusals []error
	var commits []git.Commit
	refsOf := map[string][]string{}
	for _, up := range ups {
		if up.Ref == r.policy.Store.Ref {
			v := store.Verifier{Git: a.git, Policy: r.policy, Pusher: who, Now: a.now()}
			if err := v.VerifyUpdate(up.Old, up.New); err != nil {
				refusals = append(refusals, fmt.Errorf("%s: %w", up.Ref, err))
			}
			continue
		}
		if git.IsZeroID(up.New) {
			continue // a deletion adds nothing to judge
		}
		cs, err := a.git.RevList(up.New, "--not", "--all")
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", up.Ref, err)
		}
		for _, c := range cs {
			if _, dup := refsOf[c.ID]; !dup {
				commits = append(commits, c)
			}
			refsOf[c.ID] = append(refsOf[c.ID], up.Ref)
		}
	}
	vs, err := a.judgeCommits(r, commits, who)
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

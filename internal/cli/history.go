package cli

import (
	"bytes"
	"fmt"
	"io"
	"maps"
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
// policy's clock_skew), under the policy in force on its line (see
// policy.InForce; fbs gives, when a commit's line has no policy, the
// fallbacks of the refs they go to), against the whole lease history: a
// lease released after a commit still covers it. It also refuses a tip
// (commit -> the ref it goes to, for the message) that leaves a policy
// that does not load. hint, if not zero, is a time before which the
// commits list gives are most likely not made: the history is read from
// there while git lists them (see readPast).
func (a *app) judgeCommits(r *repo, list func() ([]git.Commit, error), hint time.Time, as string, fbs func() ([]fallback, error), tips map[string]string) ([]git.Commit, []policy.Violation, error) {
	early := a.readPast(r, hint)
	commits, err := list()
	if err != nil || len(commits) == 0 && len(tips) == 0 {
		early.wait() // nothing to judge: neither its state nor its error counts
		return commits, nil, err
	}
	// The history, not the live records: those drop what finished long
	// ago, which still answers for the commits made before. It is read
	// from the newest checkpoint before the oldest commit, so a range costs
	// the events of its time span, not the store's age.
	oldest := a.now()
	for _, c := range commits {
		if c.Time.Before(oldest) {
			oldest = c.Time
		}
	}
	st, err := early.wait()
	if early == nil || oldest.Before(hint) {
		// No hint, or the range holds a commit made before it (a merge of
		// an old branch, a backdated commit): read from the oldest (a git
		// store fetches once a command).
		st, err = r.store.HistoryState(oldest)
	}
	if err != nil {
		return nil, nil, err
	}
	st.IndexHistory() // every commit is judged against it: each looks at the records near it
	shallow, err := git.ShallowCommits(r.dirs)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range commits {
		if shallow[c.ID] {
			return nil, nil, fmt.Errorf("commit %s: %w", shortID(c.ID), git.ErrShallow)
		}
	}
	policies, out, err := a.commitPolicies(r, commits, fbs, tips)
	if err != nil {
		return nil, nil, err
	}
	// Only merges that a policy judges need their paths worked out: history
	// before adoption can be long.
	if err := a.mergeOwnPaths(commits, func(i int) bool { return len(policies[i]) > 0 }); err != nil {
		return nil, nil, err
	}
	changes, err := a.policyChanges(commits)
	if err != nil {
		return nil, nil, err
	}
	for i, c := range commits {
		if as != "" {
			c.Committer = as
		}
		var vs []policy.Violation
		for _, p := range policies[i] { // none: history before adoption
			cs := policy.ChangeSet{
				Commit: c.ID, Subject: c.Subject, Committer: c.Committer,
				At: c.Time, Skew: p.Budgets.ClockSkew, Paths: c.Paths, Deleted: c.Deleted, Council: c.Council,
			}
			judged := p.Judge(cs, st)
			if next := changes[c.ID]; next != nil {
				judged = append(judged, p.JudgeBoundaries(next, cs, st)...)
			}
			for _, v := range judged {
				if !slices.ContainsFunc(vs, func(w policy.Violation) bool { return w.Path == v.Path && w.Rule == v.Rule && w.Resource == v.Resource }) {
					vs = append(vs, redated(p, c, st, v))
				}
			}
		}
		if len(policies[i]) > 0 {
			vs = append(vs, futureDated(c, a.now(), policies[i][0].Budgets.ClockSkew)...)
		}
		out = append(out, vs...)
	}
	return commits, out, nil
}

// pastRead is a read of the history under way (store.HistoryState).
type pastRead struct {
	done chan struct{}
	st   policy.State
	err  error
}

// readPast starts reading the history from since while git lists the
// commits (nil where since is zero: no hint). judgeCommits keeps the read
// only where no commit listed is older than since, and it then judges as
// the read from the oldest commit would. HistoryState(t) holds all that
// judging commits made at or after t needs (store.Store), and every commit
// listed is made at or after the oldest, itself at or after since. The two
// reads differ only in the checkpoint they start from, each at or before
// its own time, and both replay every event after it; a checkpoint leaves
// out only records that ended more than checkpointKeep (a day, more than
// any clock_skew) before its time. So the read from since holds all that
// the read from the oldest does, and at most more records that ended over
// a day before the oldest commit, which cover none of them, give or take
// the skew: a read from any checkpoint holds what matters from its time on
// exactly as the whole replay does (the store's
// TestHistoryStateFromCheckpoint and TestHistoryStateFromRefCheckpoints).
// It costs the events between the two checkpoints; a read thrown away
// costs its time on the other core (the git store's fetch is not made
// again).
func (a *app) readPast(r *repo, since time.Time) *pastRead {
	if since.IsZero() {
		return nil
	}
	p := &pastRead{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.st, p.err = r.store.HistoryState(since)
	}()
	return p
}

// wait waits for the read to end, so that none outlives the command.
func (p *pastRead) wait() (policy.State, error) {
	if p == nil {
		return policy.State{}, nil
	}
	<-p.done
	return p.st, p.err
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

// commitPolicies finds the policies that judge each commit (policy.InForce):
// its first parent's resources.yaml, else the last that loads on that line,
// else the fallback of each ref it goes to; none before adoption. A commit
// holds its first parent's resources.yaml unless its paths say it changes
// it, or it is a merge or a root; so only those, and the parents at the
// range's edge, are looked up: two small git processes whatever the range's
// length (more only to walk back from a policy that does not load), each
// distinct policy parsed once (HEAD's, which opening r loaded, not again:
// where the range keeps it, git reads no policy). Commits come parents
// first. It returns, too, the refusals of the tips that leave a policy
// that does not load.
func (a *app) commitPolicies(r *repo, commits []git.Commit, fallbacks func() ([]fallback, error), tips map[string]string) ([][]*policy.Policy, []policy.Violation, error) {
	own := make(map[string]string, len(commits)) // commit -> its resources.yaml blob ("" none)
	at := make(map[string]int, len(commits))     // commit -> its index
	for i, c := range commits {
		at[c.ID] = i
	}
	var lookup []string
	want := func(id string) {
		if _, ok := own[id]; !ok {
			own[id] = ""
			lookup = append(lookup, id)
		}
	}
	for _, c := range commits {
		if len(c.Parents) > 0 {
			if _, in := at[c.Parents[0]]; !in {
				want(c.Parents[0])
			}
		}
		if len(c.Parents) != 1 || slices.Contains(c.Paths, policy.FileName) {
			want(c.ID)
		}
	}
	for tip := range tips {
		if _, in := at[tip]; !in {
			want(tip) // a tip that is not new here
		}
	}
	specs := make([]string, len(lookup))
	for i, id := range lookup {
		specs[i] = id + ":" + policy.FileName
	}
	oids, err := a.git.ObjectIDs("blob", specs)
	if err != nil {
		return nil, nil, err
	}
	for i, id := range lookup {
		own[id] = oids[i]
	}
	for _, c := range commits {
		if _, ok := own[c.ID]; !ok {
			own[c.ID] = own[c.Parents[0]]
		}
	}
	pr := a.policyReader()
	if r.headID != "" {
		pr.byBlob[r.headID] = r.head
		if r.headErr != nil {
			pr.errs[r.headID] = r.headErr
		}
	}
	if err := pr.load(slices.Collect(maps.Values(own))); err != nil {
		return nil, nil, err
	}
	// lastLoading walks back first parents, through the range, then in git.
	memo := map[string]*policy.Policy{}
	var lastLoading func(id string) (*policy.Policy, error)
	lastLoading = func(id string) (*policy.Policy, error) {
		if p, ok := memo[id]; ok {
			return p, nil
		}
		var p *policy.Policy
		var err error
		v := pr.byBlob[own[id]]
		i, in := at[id]
		switch {
		case v.Policy != nil:
			p = v.Policy
		case !v.Present: // deleted, or never there: nothing older revives
		case !in:
			p, err = pr.lastLoading(id)
		case len(commits[i].Parents) > 0:
			p, err = lastLoading(commits[i].Parents[0])
		}
		memo[id] = p
		return p, err
	}
	out := make([][]*policy.Policy, len(commits))
	var fbs []fallback // read only if a commit's line has no policy
	for i, c := range commits {
		var l policy.Lineage
		if len(c.Parents) > 0 {
			l.Base = pr.byBlob[own[c.Parents[0]]]
			if l.NeedsLastLoading() {
				if l.LastLoading, err = lastLoading(c.Parents[0]); err != nil {
					return nil, nil, fmt.Errorf("commit %s: %w", shortID(c.ID), err)
				}
			}
		}
		if p, src := policy.InForce(l); src == policy.FromBase || src == policy.FromLastLoading {
			out[i] = []*policy.Policy{p}
			continue
		}
		// The line has none: every ref the commit goes to judges it.
		if fbs == nil {
			if fbs, err = fallbacks(); err != nil {
				return nil, nil, err
			}
		}
		for _, fb := range fbs {
			l.Ref, l.Default = fb.ref, fb.def
			if p, _ := policy.InForce(l); p != nil && !slices.Contains(out[i], p) {
				out[i] = append(out[i], p)
			}
		}
	}
	var broken []policy.Violation
	for _, tip := range slices.Sorted(maps.Keys(tips)) {
		if v := pr.byBlob[own[tip]]; v.Present && v.Policy == nil {
			broken = append(broken, brokenPolicy(tip, tips[tip], pr.errs[own[tip]]))
		}
	}
	return out, broken, nil
}

// mergeOwnPaths sets each judged merge's paths to those it answers for (see
// mergeOwn): three git processes for the range, whatever its merges (a
// merge-base process only where the window of the graph cannot tell).
func (a *app) mergeOwnPaths(commits []git.Commit, judged func(int) bool) error {
	var merges []int
	var pairs [][2]string
	for i, c := range commits {
		if len(c.Parents) > 1 && judged(i) {
			merges = append(merges, i)
			for _, p := range c.Parents {
				pairs = append(pairs, [2]string{p, c.ID})
			}
		}
	}
	if len(merges) == 0 {
		return nil
	}
	// Merge bases come from a window of the graph, read while git diffs
	// each merge against its parents; git is asked only where the window
	// cannot tell.
	var tips []string
	for _, i := range merges {
		tips = append(tips, commits[i].Parents...)
	}
	var graph map[string]git.Node
	var graphErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		graph, graphErr = a.git.Graph(4*len(commits)+1000, slices.Compact(slices.Sorted(slices.Values(tips)))...)
	}()
	diffs, err := a.git.TreeDiffs(pairs)
	<-read
	if err != nil {
		return err
	}
	if graphErr != nil {
		return graphErr
	}
	differ := make([][]map[string]bool, len(merges))
	for j, i := range merges {
		for range commits[i].Parents {
			differ[j] = append(differ[j], pathSet(diffs[0]))
			diffs = diffs[1:]
		}
	}
	sides := make([]mergeSides, len(merges))
	var wants []sideWant
	for j, i := range merges {
		if !slices.ContainsFunc(differ[j], func(d map[string]bool) bool { return len(d) > 0 }) {
			continue // the same tree as every parent
		}
		if sides[j], wants, err = a.mergeSides(graph, commits[i].Parents, j, wants); err != nil {
			return err
		}
	}
	pairs = pairs[:0]
	for _, w := range wants {
		pairs = append(pairs, [2]string{w.base, w.parent})
	}
	diffs, err = a.git.TreeDiffs(pairs)
	if err != nil {
		return err
	}
	for k, w := range wants {
		sides[w.merge][w.key] = append(sides[w.merge][w.key], pathSet(diffs[k]))
	}
	for j, i := range merges {
		commits[i].Paths = mergeOwn(differ[j], sides[j])
	}
	return nil
}

// mergeSides maps an ordered pair of a merge's parents {j, i} to what
// parent j changed since each merge base of the two: filled in from the
// sideWants it adds to wants.
type mergeSides map[[2]int][]map[string]bool

// sideWant is one diff mergeSides needs: from a merge base to a parent.
type sideWant struct {
	merge        int
	key          [2]int
	base, parent string
}

// mergeSides finds the merge bases of every pair of parents (none for
// unrelated history), in graph where it can tell, and asks for the diffs
// from each to both parents.
func (a *app) mergeSides(graph map[string]git.Node, parents []string, merge int, wants []sideWant) (mergeSides, []sideWant, error) {
	sides := mergeSides{}
	for i := range parents {
		for j := i + 1; j < len(parents); j++ {
			bases, ok := git.MergeBaseIn(graph, parents[i], parents[j])
			if !ok {
				var err error
				if bases, err = a.git.MergeBases(parents[i], parents[j]); err != nil {
					return nil, nil, err
				}
			}
			for _, b := range bases {
				wants = append(wants, sideWant{merge, [2]int{j, i}, b, parents[j]}, sideWant{merge, [2]int{i, j}, b, parents[i]})
			}
		}
	}
	return sides, wants, nil
}

// mergeOwn returns the paths a merge answers for itself: every path where
// it differs from a parent, unless it takes, there, the version of another
// parent whose own side made that change since their merge base (that
// change was judged on its side). A path taken back to an older version,
// from unrelated history (no merge base, such as the state ref's commits)
// or from a side that did not change it is the merger's own; so is a path
// it differs from every parent at. differ[i] holds the paths where the
// merge differs from parent i.
func mergeOwn(differ []map[string]bool, sides mergeSides) []string {
	seen := map[string]bool{}
	var own []string
	for _, d := range differ {
		for p := range d {
			if !seen[p] {
				seen[p] = true
				if !takenFromASide(p, differ, sides) {
					own = append(own, p)
				}
			}
		}
	}
	slices.Sort(own)
	return own
}

// takenFromASide: for every parent the merge differs from at p, another
// parent has the merge's version, and changed p since each of their merge
// bases.
func takenFromASide(p string, differ []map[string]bool, sides mergeSides) bool {
	for i := range differ {
		if !differ[i][p] {
			continue
		}
		taken := false
		for j := range differ {
			since := sides[[2]int{j, i}]
			if j != i && !differ[j][p] && len(since) > 0 && !slices.ContainsFunc(since, func(c map[string]bool) bool { return !c[p] }) {
				taken = true
				break
			}
		}
		if !taken {
			return false
		}
	}
	return true
}

func pathSet(d map[string]git.RawEntry) map[string]bool {
	out := make(map[string]bool, len(d))
	for p := range d {
		out[p] = true
	}
	return out
}

// redated explains a lease refusal that the commit's author time would
// pass: a rebase (git pull --rebase after oxygen release) gave the commit a
// new committer time, past the lease that covered it when it was written.
func redated(p *policy.Policy, c git.Commit, st policy.State, v policy.Violation) policy.Violation {
	if v.Rule != policy.RuleShadowEdit && v.Rule != policy.RuleHeldByOther || !c.Authored.Before(c.Time) {
		return v
	}
	then := p.Judge(policy.ChangeSet{Committer: c.Committer, At: c.Authored, Skew: p.Budgets.ClockSkew, Paths: []string{v.Path}}, st)
	if slices.ContainsFunc(then, func(w policy.Violation) bool { return w.Resource == v.Resource }) {
		return v
	}
	v.Reason += fmt.Sprintf(" at %s, the commit's committer time; it was written at %s, under a lease, and re-dated since (by a rebase, such as git pull --rebase after oxygen release)",
		c.Time.Format(time.RFC3339), c.Authored.Format(time.RFC3339))
	v.Fix = "date the commits back to when they were written: git rebase --committer-date-is-author-date @{upstream} (or claim again and make them again)"
	return v
}

// unpushedLimit bounds how many unpushed commits release looks at.
const unpushedLimit = 100

// unpushed lists the newest commits on HEAD that no remote has, for
// warnUnpushed: started beside the release, so that it costs no time.
func (a *app) unpushed(r *repo) func() []git.Commit {
	done := make(chan []git.Commit, 1)
	go func() {
		var cs []git.Commit
		if !r.dirs.Bare {
			cs, _ = a.git.Unpushed(unpushedLimit + 1) // only a warning: nothing to fail on
		}
		done <- cs
	}()
	return func() []git.Commit { return <-done }
}

// warnUnpushed warns, after the release of l, of the commits on HEAD made
// under it that change its resource and that no remote has yet: they are
// judged at their committer time, which a rebase (git pull --rebase) moves
// past the lease just ended.
func (a *app) warnUnpushed(r *repo, l *policy.Lease, cs []git.Commit) {
	since := l.CreatedAt.Add(-r.policy.Budgets.ClockSkew)
	var ids []string
	for _, c := range cs {
		if !c.Time.Before(since) {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) > unpushedLimit {
		fmt.Fprintf(a.stderr, "oxygen: warning: more than %d commits made under this lease are on no remote yet; push them before any rebase: a commit is judged at its committer time, and git pull --rebase re-dates it past the lease just released\n", unpushedLimit)
		return
	}
	if len(ids) == 0 {
		return
	}
	commits, err := a.git.Log(append(ids, "--no-walk")...)
	if err != nil {
		return // only a warning
	}
	var names []string
	for _, c := range slices.Backward(commits) {
		if slices.ContainsFunc(c.Paths, func(p string) bool {
			return slices.Contains(r.policy.Classifier().Classify(p).ResourceIDs(), l.Resource)
		}) {
			names = append(names, fmt.Sprintf("%s %q", shortID(c.ID), c.Subject))
		}
	}
	if len(names) == 0 {
		return
	}
	fmt.Fprintf(a.stderr, "oxygen: warning: not on any remote yet, and changing %s: %s\n"+
		"  push them before any rebase: a commit is judged at its committer time, and git pull --rebase re-dates it past the lease just released\n",
		l.Resource, strings.Join(names, ", "))
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

// checkRange judges the commits of a range, or the one commit, that
// checkEnds resolved, as CI does.
func (a *app) checkRange(r *repo, e rangeEnds) ([]git.Commit, []policy.Violation, error) {
	tips := map[string]string{e.tip: "the last commit judged"}
	return a.judgeCommits(r, func() ([]git.Commit, error) {
		if e.old == "" {
			return a.git.Log("-n1", e.tip)
		}
		return a.git.Log(e.tip, "^"+e.old)
	}, e.hint, "", func() ([]fallback, error) {
		return a.fallbacks([]string{e.old}, "refs/remotes/origin/HEAD")
	}, tips)
}

// rangeEnds are a range's ends: old is its start ("" for one commit) and
// tip its last commit. hint is old's committer time (the commit's, for
// one commit), from which the history is read while git lists the range.
// It holds where the range's commits were made after its start, as on a
// branch's own history (CI on a push: the old tip to the new); a pull
// request's commits from before the main line's newest (origin/main..HEAD
// once main moved on) are older, and then the read is made again from the
// oldest, the first costing only the other processor's time.
type rangeEnds struct {
	old, tip string
	hint     time.Time
}

// checkEnds resolves rng ("A..B": in B, not in A), or the one commit rev,
// in one git process.
func (a *app) checkEnds(rng, rev string) (rangeEnds, error) {
	revs := []string{rev}
	if rng != "" {
		from, to, ok := strings.Cut(rng, "..")
		if !ok || from == "" || to == "" || strings.HasPrefix(to, ".") {
			return rangeEnds{}, fmt.Errorf("--range %q: want A..B, like origin/main..HEAD", rng)
		}
		revs = []string{from, to}
	}
	ends, err := a.git.ResolveCommits(revs...)
	if err != nil {
		return rangeEnds{}, err
	}
	e := rangeEnds{tip: ends[len(ends)-1].ID, hint: ends[0].Time}
	if rng != "" {
		e.old = ends[0].ID
	}
	return e, nil
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
	var olds []string // each ref's old tip, where it is known here
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
		old := ""
		if !ref.Creates() && remoteObj.ID != "" {
			old = ref.RemoteID
			exclude = append(exclude, ref.RemoteID) // missing locally: the tracking refs must do
		}
		olds = append(olds, old)
	}
	def := "refs/remotes/" + remote + "/HEAD" // the remote's default branch, as last fetched
	if remote == url {
		def = ""
	}
	vs, refsOf, err := a.judgeNew(r, tips, olds, def, exclude, "")
	return vs, refsOf, refusals, err
}

// judgeNew judges, in one pass, the commits reachable from the tips and not
// from exclude, with the fallbacks of the refs' old tips (olds, "" for a new
// ref) and of the default branch def; and it refuses a tip that leaves a
// policy that does not load. refsOf (which refs carry each refused commit)
// is worked out only when something is refused, for the message.
func (a *app) judgeNew(r *repo, tips map[string]string, olds []string, def string, exclude []string, as string) ([]policy.Violation, map[string][]string, error) {
	if len(tips) == 0 {
		return nil, nil, nil
	}
	ids := slices.Sorted(maps.Keys(tips))
	commits, vs, err := a.judgeCommits(r, func() ([]git.Commit, error) {
		return a.git.LogFrom(ids, exclude...)
	}, time.Time{}, as, func() ([]fallback, error) { return a.fallbacks(olds, def) }, tips)
	if err != nil {
		return nil, nil, err
	}
	if len(vs) == 0 {
		return nil, nil, nil
	}
	return vs, refsReaching(commits, tips), nil
}

// futureDated refuses a commit dated later than the gate's clock by more
// than skew. Judged at a time yet to come, against leases that may still
// change, it could pass under its author's lease now and flip after a
// release, inside another domain's lease. Every history gate (pre-push,
// check, the server) applies it at its own time, so gates that judge a
// commit together agree.
func futureDated(c git.Commit, now time.Time, skew time.Duration) []policy.Violation {
	if len(c.Paths) == 0 || !c.Time.After(now.Add(skew)) {
		return nil
	}
	return []policy.Violation{{
		Commit: c.ID, Subject: c.Subject, Path: c.Paths[0], Rule: policy.RuleFutureDate,
		Reason: fmt.Sprintf("committed at %s, more than clock_skew (%s) after this gate's clock (%s): it would be judged at a time yet to come, against leases that may still change",
			c.Time.UTC().Format(time.RFC3339), skew, now.UTC().Format(time.RFC3339)),
		Fix: "make it again at the real time (without GIT_COMMITTER_DATE): git commit --amend --no-edit (the last one) or git rebase --force-rebase BASE (several)",
		Remedy: &policy.Fix{Argv: []string{"git", "commit", "--amend", "--no-edit"},
			Needs: "GIT_COMMITTER_DATE unset; for an older commit: git rebase --force-rebase BASE"},
	}}
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

// pusherVars are the variables by which git hosts name who pushes, one
// group a host, its most exact first: an address where the host gives one,
// else a user name (which member globs may name too). REMOTE_USER is the
// user a web server authenticated for git http-backend (smart HTTP); git
// passes the CGI environment on to the hooks.
var pusherVars = [][]string{
	{"GITEA_PUSHER_EMAIL", "GITEA_PUSHER_NAME"}, // Gitea, Forgejo
	{"GL_USERNAME"}, // GitLab
	{"GL_USER"},     // gitolite
	{"REMOTE_USER"}, // a web server in front of git http-backend
}

// pusher is who the hosting server says pushes, if it says. Where two
// hosts' variables name different people (gitolite behind smart HTTP names
// one user twice), one of them may be the client's own doing, through an
// sshd that accepts its environment: that is refused, not guessed.
func (a *app) pusher() (string, error) {
	who, by := "", ""
	for _, group := range pusherVars {
		for _, v := range group {
			s := a.getenv(v)
			if s == "" {
				continue
			}
			if who != "" && !strings.EqualFold(who, s) {
				return "", fmt.Errorf("the host names two pushers, %s (%s) and %s (%s): refused, as one of them may come from the client's environment", who, by, s, v)
			}
			if who == "" {
				who, by = s, v
			}
			break // the host's most exact word
		}
	}
	return who, nil
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
	who, err := a.pusher()
	if err != nil {
		return nil, nil, nil, err
	}
	if len(ups) > 0 && !slices.ContainsFunc(ups, func(up git.RefUpdate) bool { return !isAct(up.Ref) || git.IsZeroID(up.New) }) {
		// Acts alone, as oxygen's own acts are pushed: nothing to judge
		// or to read, on the way of every act of a sequenced store.
		why, err := actsRefused(a.git, r.dirs.Hooks)
		if err != nil || why == nil {
			return nil, nil, nil, err
		}
		return nil, nil, []error{fmt.Errorf("%s: %w", ups[0].Ref, why)}, nil
	}
	// Each new object and what it peels to, asked once however many refs
	// name it (a flood of refs may all name one commit).
	at := map[string]int{}
	var specs []string
	for _, up := range ups {
		if _, ok := at[up.New]; !ok {
			at[up.New] = len(specs)
			specs = append(specs, up.New, up.New+"^{}")
		}
	}
	// The state ref as found, asked in the same process: a push that lost
	// the race for it is refused at once.
	objs, err := a.git.Objects(append(specs, r.policy.Store.Ref+"^{commit}"))
	if err != nil {
		return nil, nil, nil, err
	}
	found := objs[len(specs)].ID
	var refusals []error
	var notActs *error          // why acts are not decided here (nil: they are), once asked
	tips := map[string]string{} // commit -> a ref pushed to it
	var olds []string
	for _, up := range ups {
		if up.Ref != r.policy.Store.Ref && !git.IsZeroID(up.New) {
			olds = append(olds, up.Old) // a new ref's is all zeros: none
		}
		obj, peeled := objs[at[up.New]], objs[at[up.New]+1]
		switch {
		case up.Ref != r.policy.Store.Ref && strings.EqualFold(up.Ref, r.policy.Store.Ref):
			// Where the server's file system ignores case, it is the state
			// ref's own file, written or deleted past the verifier.
			refusals = append(refusals, fmt.Errorf("%s: another spelling of the state ref %s, which a file system that ignores case takes for it: push to %s itself", up.Ref, r.policy.Store.Ref, r.policy.Store.Ref))
		case git.IsZeroID(up.New) && up.Ref != r.policy.Store.Ref:
			// A deletion adds nothing to judge (deleting a replace ref is its fix).
		case up.Ref != r.policy.Store.Ref && shadows(up.Ref) != "":
			name, harm := shadows(up.Ref), "the gates would read their policy or state from it (a server's HEAD naming a branch not made yet, a clone's refs/remotes/origin/HEAD)"
			if strings.EqualFold(name, r.policy.Store.Ref) {
				name, harm = "the state ref "+r.policy.Store.Ref, "state pushed by clients would land here, past the state's checks"
			}
			refusals = append(refusals, fmt.Errorf("%s: git takes this name for %s wherever that is missing (its lookup of a name tries refs/heads/NAME, refs/tags/NAME and the like), so %s: push it under another name (deleting it is allowed)", up.Ref, name, harm))
		case up.Ref == git.ActsRefs:
			// Not an act (proc-receive refuses it), but where the hook is
			// not in place a ref no push could delete once it is.
			refusals = append(refusals, fmt.Errorf("%s: acts go to %s/<kind>, and no ref is made of them", up.Ref, git.ActsRefs))
		case actsSpelling(up.Ref):
			// Where the server's file system ignores case, it would be a
			// ref in the acts' place, which proc-receive never makes: a
			// clone's act to it would be refused as not a fast-forward.
			refusals = append(refusals, fmt.Errorf("%s: another spelling of %s, which a file system that ignores case takes for it: acts go to %s/<kind> itself, and nothing else does", up.Ref, git.ActsRefs, git.ActsRefs))
		case isAct(up.Ref):
			// An act, for the proc-receive hook to decide; nothing to judge.
			if notActs == nil {
				why, err := actsRefused(a.git, r.dirs.Hooks)
				if err != nil {
					return nil, nil, nil, err
				}
				notActs = &why
			}
			if *notActs != nil {
				refusals = append(refusals, fmt.Errorf("%s: %w", up.Ref, *notActs))
			}
		case up.Ref == r.policy.Store.Ref:
			v := store.Verifier{Git: a.git, Policy: r.policy, Pusher: who, Now: a.now(), Found: &found}
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
	lost, err := a.policyLoss(ups, r.policy.Store.Ref)
	if err != nil {
		return nil, nil, nil, err
	}
	refusals = append(refusals, lost...)
	// Commits only the state ref has were never judged as code: a merge
	// that brings them in answers for them.
	vs, refsOf, err := a.judgeNew(r, tips, olds, "HEAD", []string{"--not", "--exclude=" + r.policy.Store.Ref, "--all"}, who)
	return vs, refsOf, refusals, err
}

// actsSpelling says whether ref is git.ActsRefs, or a ref below it, spelt
// in other case.
func actsSpelling(ref string) bool {
	n := len(git.ActsRefs)
	switch {
	case ref == git.ActsRefs || strings.HasPrefix(ref, git.ActsRefs+"/"):
		return false
	case len(ref) == n:
		return strings.EqualFold(ref, git.ActsRefs)
	}
	return len(ref) > n && strings.EqualFold(ref[:n+1], git.ActsRefs+"/")
}

// shadows returns the name that git's lookup would take ref for wherever
// that name is missing, if it is one the gates look up: HEAD (a server's
// HEAD that names a branch not made yet; a clone on an unborn branch), or
// a full ref name (refs/..., such as a clone's refs/remotes/origin/HEAD,
// its tracking ref of the state, or the branch a server's HEAD names). A
// clone fetches tags as they are named, and a branch HEAD as its
// refs/remotes/origin/HEAD. "" where ref shadows none. Case is ignored, as
// a file system that ignores case reads loose refs.
func shadows(ref string) string {
	for _, prefix := range []string{"refs/", "refs/tags/", "refs/heads/", "refs/remotes/"} {
		name, ok := strings.CutPrefix(strings.ToLower(ref), prefix)
		switch {
		case !ok:
		case name == "head" || prefix == "refs/remotes/" && name == "head/head":
			return "HEAD"
		case strings.HasPrefix(name, "refs/"):
			return ref[len(prefix):]
		}
	}
	return ""
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

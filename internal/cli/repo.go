package cli

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/internal/blobcache"
	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// repo is one repository as a command sees it.
type repo struct {
	dirs      git.Dirs
	policy    *policy.Policy // what commands work with: judging, else the staged or built-in one
	judging   *policy.Policy // what judges the next commit; nil before adoption: nothing is judged
	headErr   error          // why HEAD's policy does not load, if it does not
	headID    string         // the blob id of HEAD's resources.yaml ("" none)
	head      policy.Version // and that policy, loaded
	policySrc string         // where the policy came from, for messages
	email     string         // the committer's e-mail
	emailErr  error          // why there is none; only commands that need it fail
	store     store.Store
}

// openRepo gathers what a command needs from git. The git processes run at
// once: on the commit path their start-up costs add up otherwise. also runs
// beside them (the staged diff for a check).
func (a *app) openRepo(also func() error) (*repo, error) { return a.open(also, true) }

// open is openRepo; ident says whether to ask git who commits here (a
// server's gate judges as the pusher, and spares the process).
func (a *app) open(also func() error, ident bool) (*repo, error) {
	var (
		r                           repo
		wg                          sync.WaitGroup
		dirsErr, alsoErr, policyErr error
		src                         policy.Source
	)
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	// HEAD's policy blob id comes with the directories; its content from
	// the cache, or from git once per policy version. (The staged policy
	// costs a read of the whole index, and is wanted only where HEAD has
	// none or it does not load.) The policy is loaded and the store opened
	// here, while the staged diff, the longest, still runs.
	run(func() {
		var ids []string
		r.dirs, ids, dirsErr = a.git.DirsWith("HEAD:"+policy.FileName, stateSpec)
		if dirsErr != nil {
			return
		}
		var head git.Blob
		r.headID = ids[0]
		if head, dirsErr = a.headPolicy(r.dirs, ids[0]); dirsErr != nil {
			return
		}
		src, policyErr = a.openPolicy(&r, head, ids[1:])
	})
	if ident {
		run(func() { r.email, r.emailErr = a.git.CommitterEmail() })
	} else {
		r.emailErr = errors.New("a server's gate has no committer of its own")
	}
	if also != nil {
		// Started last, so it runs first (the scheduler runs the newest
		// goroutine next): on the commit path it is git's own work, the
		// longest, and git processes start one at a time.
		run(func() { alsoErr = also() })
	}
	wg.Wait()
	for _, e := range []error{dirsErr, alsoErr, policyErr} {
		if e != nil {
			return nil, e
		}
	}
	if src == policy.FromLastLoading {
		fmt.Fprintf(a.stderr, "oxygen: warning: HEAD's %v; %s judges until a fix is committed\n", r.headErr, r.policySrc)
	}
	return &r, nil
}

// openPolicy chooses the policy for r and opens its store. stateIDs is the
// main worktree's HEAD:.substrate, if git got to it.
func (a *app) openPolicy(r *repo, head git.Blob, stateIDs []string) (policy.Source, error) {
	src, err := a.choosePolicy(r, head)
	if err != nil {
		return src, err
	}
	r.store = openStore(a.git, r.dirs, r.policy.Store)
	if err := a.stateUntracked(r.dirs, stateIDs); err != nil {
		r.store = store.Untrusted(err)
	}
	return src, nil
}

// openState opens the repository and reads the store's current records:
// what every command that answers from the state starts with.
func (a *app) openState() (*repo, policy.State, error) {
	r, err := a.openRepo(nil)
	if err != nil {
		return nil, policy.State{}, err
	}
	st, err := r.store.Current()
	return r, st, err
}

// openRepoHere is openRepo, with where the current directory lies in the
// worktree ("dir/"), for commands that take paths relative to it.
func (a *app) openRepoHere() (r *repo, prefix string, err error) {
	r, err = a.openRepo(func() (err error) {
		prefix, err = a.git.Prefix()
		return err
	})
	return r, prefix, err
}

// openStore opens the kind of store the policy names.
func openStore(g git.Runner, d git.Dirs, cfg policy.StoreConfig) store.Store {
	if d.Bare {
		return store.OpenRef(g, cfg.Ref) // a server: its own state ref is the authority
	}
	if cfg.Kind == "git" {
		return store.OpenGit(g, d.CommonDir, storeRoot(d), cfg.Remote, cfg.Ref, cfg.Sequenced, d.ObjectFormat)
	}
	return store.OpenLocal(storeRoot(d))
}

// headPolicy reads HEAD's policy blob (id "": HEAD has none), from the
// blob cache when it holds it.
func (a *app) headPolicy(d git.Dirs, id string) (git.Blob, error) {
	if id == "" {
		return git.Blob{Missing: true}, nil
	}
	cache, cacheErr := store.OpenLocal(storeRoot(d)).CacheDir() // an error: no cache
	if cacheErr == nil {
		if data, ok := blobcache.Get(cache, id); ok {
			return git.Blob{Spec: id, Data: data}, nil
		}
	}
	blobs, err := a.git.ReadBlobs(id)
	if err != nil {
		return git.Blob{}, err
	}
	if !blobs[0].Missing && cacheErr == nil {
		_ = blobcache.Put(cache, id, blobs[0].Data) // only a cache: the next run reads git again
	}
	return blobs[0], nil
}

// choosePolicy picks the policy that judges the next commit, by
// policy.InForce with HEAD as the base: HEAD's committed resources.yaml, so
// that a staged edit never judges itself; where it does not load, the last
// one that loads on HEAD's line (so a repair needs its coordination lease);
// where HEAD has none, its upstream's, then origin's default branch's.
// Where there is none at all, nothing is judged, and commands work with the
// staged policy (a repository adopting oxygen), else the built-in one.
// openRepo warns about a policy that does not load once the other git
// questions are answered too.
func (a *app) choosePolicy(r *repo, head git.Blob) (policy.Source, error) {
	pr := a.policyReader()
	l := policy.Lineage{Base: pr.version("HEAD", head)}
	r.head, r.headErr = l.Base, pr.errs["HEAD"]
	var err error
	if l.NeedsLastLoading() {
		if l.LastLoading, err = pr.lastLoading("HEAD"); err != nil {
			return 0, err
		}
	}
	if _, src := policy.InForce(l); src == policy.Unadopted && !r.dirs.Bare {
		up, err := a.git.Upstream()
		if err != nil {
			return 0, err
		}
		ps, err := pr.atTipsOrNone([]string{up, "refs/remotes/origin/HEAD"})
		if err != nil {
			return 0, err
		}
		l.Ref, l.Default = ps[0], ps[1]
	}
	var src policy.Source
	r.judging, src = policy.InForce(l)
	r.policy = r.judging
	switch src {
	case policy.FromBase:
		r.policySrc = "HEAD's " + policy.FileName
	case policy.FromLastLoading:
		r.policySrc = "the last " + policy.FileName + " that loads on HEAD's line"
	case policy.FromRef:
		r.policySrc = "the upstream branch's " + policy.FileName + " (HEAD has none)"
	case policy.FromDefault:
		r.policySrc = "origin's default branch's " + policy.FileName + " (HEAD has none)"
	default:
		return src, a.unadoptedPolicy(r, head)
	}
	return src, nil
}

// unadoptedPolicy gives commands a policy to work with where none judges:
// the staged one (a repository adopting oxygen), else the built-in one.
func (a *app) unadoptedPolicy(r *repo, head git.Blob) error {
	staged, err := a.git.ReadBlobs(":" + policy.FileName)
	if err != nil {
		return err
	}
	if !staged[0].Missing && (r.headErr == nil || !bytes.Equal(staged[0].Data, head.Data)) {
		p, err := policy.Load(policy.FileName, staged[0].Data)
		switch {
		case err != nil && r.headErr != nil:
			return fmt.Errorf("%w (the policy committed in HEAD, and the staged one does not load either: %v)", r.headErr, err)
		case err != nil:
			return fmt.Errorf("%w (the staged policy)", err)
		}
		r.policy, r.policySrc = p, "the staged "+policy.FileName
		return nil
	}
	// A server keeps taking pushes (the fix among them) where a policy
	// that never loaded was pushed before its hook was installed.
	if r.headErr != nil && !r.dirs.Bare {
		return fmt.Errorf("%w (the policy committed in HEAD; fix it, stage the fix and commit it)", r.headErr)
	}
	r.policy, err = policy.Load("built-in "+policy.FileName, oxygen.ReferencePolicy)
	r.policySrc = "the built-in reference policy"
	return err
}

// storeRoot is the directory whose .substrate/state holds the clone's
// store: the main worktree's, so that every worktree shares it.
func storeRoot(d git.Dirs) string {
	if filepath.Base(d.CommonDir) == ".git" {
		return filepath.Dir(d.CommonDir)
	}
	return d.CommonDir // a bare repository or a separate git dir
}

// domains returns the committer's domains, or a refusal that says how to
// join one.
func (r *repo) domains() ([]string, error) {
	if r.emailErr != nil {
		return nil, r.emailErr
	}
	ds := r.policy.DomainsOf(r.email)
	if len(ds) == 0 {
		return nil, policy.Refuse(policy.CodeNotMember, nil, "%s is a member of no domain in %s: commit as a member (git config user.email ...) or add it to a domain's members", r.email, r.policySrc)
	}
	return ds, nil
}

// actingDomain picks the one domain a command acts for: --domain, then
// OXYGEN_DOMAIN, then the committer's only domain.
func (a *app) actingDomain(r *repo, flag string) (string, error) {
	ds, err := r.domains()
	if err != nil {
		return "", err
	}
	want := flag
	if want == "" {
		want = a.getenv("OXYGEN_DOMAIN")
	}
	if want == "" {
		if len(ds) > 1 {
			return "", fmt.Errorf("%s is a member of %s: pick one with --domain", r.email, strings.Join(ds, " and "))
		}
		return ds[0], nil
	}
	if _, ok := r.policy.Domain(want); !ok {
		return "", fmt.Errorf("unknown domain %q (the policy has %s)", want, strings.Join(domainNames(r.policy), ", "))
	}
	for _, d := range ds {
		if d == want {
			return want, nil
		}
	}
	return "", policy.Refuse(policy.CodeNotMember, nil, "%s is not a member of %s (its domains: %s)", r.email, want, strings.Join(ds, ", "))
}

func domainNames(p *policy.Policy) []string {
	out := make([]string, len(p.Domains))
	for i, d := range p.Domains {
		out[i] = d.Name
	}
	return out
}

// resource checks that id names a resource of the policy.
func (r *repo) resource(id string) error {
	if _, ok := r.policy.Resource(id); ok {
		return nil
	}
	ids := make([]string, len(r.policy.Resources))
	for i, res := range r.policy.Resources {
		ids[i] = res.ID
	}
	return fmt.Errorf("unknown resource %q (the policy has %s)", id, strings.Join(ids, ", "))
}

// act decides and records one act as the committer, at the app's time.
// what names it in an error ("claim schema").
func (a *app) act(r *repo, act policy.Act, what string) (policy.Decision, error) {
	if r.emailErr != nil {
		return policy.Decision{}, r.emailErr
	}
	act.By = r.email
	d, err := r.store.Act(r.policy, act, a.now)
	if g, ok := r.store.(*store.Git); ok && g.Undecided() != "" {
		fmt.Fprintf(a.stderr, "oxygen: warning: %s; decided in this clone instead\n", g.Undecided())
	}
	if err != nil {
		return d, fmt.Errorf("%s: %w", what, err)
	}
	a.carryDeadEnds(r)
	return d, nil
}

// carryDeadEnds takes the refusals the hooks recorded in this clone to the
// git store's shared state, after an act that reached the remote anyway.
// It cannot change the act's outcome: what it could not carry waits for
// the next act or oxygen sync.
func (a *app) carryDeadEnds(r *repo) {
	if g, ok := r.store.(*store.Git); ok && r.emailErr == nil {
		if _, err := g.CarryDeadEnds(r.policy, r.email, a.now); err != nil {
			fmt.Fprintf(a.stderr, "oxygen: warning: the dead ends recorded here wait for the next act or oxygen sync: %v\n", err)
		}
	}
}

// onRecord reports whether the store holds a lease record for resource.
func (r *repo) onRecord(resource string) bool {
	st, err := r.store.Current()
	if err != nil || !policy.ValidName(resource) {
		return false
	}
	for _, l := range st.Leases {
		if l.Resource == resource {
			return true
		}
	}
	return false
}

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/install"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

func (a *app) checkCommand() *cobra.Command {
	var staged, asJSON bool
	var rng, commit, format string
	c := &cobra.Command{
		Use:   "check",
		Short: "Judge a change set against the policy and the leases",
		Long: `Judge a change set against the policy in force and the leases, and list
every violation with the command that fixes it. Exit 1 if any.

--staged (the default) judges what the next commit would contain, now, as
the pre-commit hook does. --range and --commit judge commits that exist:
each as its committer, at its committer time, under its first parent's
policy, against the lease history (a lease released since still counts).`,
		Example: "  oxygen check --range origin/main..HEAD\n  oxygen check --commit HEAD --json",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if asJSON {
				format = "json"
			}
			if !slices.Contains([]string{"text", "json", "gitlab", "sarif"}, format) {
				return fmt.Errorf("--format %q: want text, json, gitlab or sarif", format)
			}
			switch {
			case c.Flags().Changed("range") && rng == "":
				return errors.New(`--range "": want A..B, like origin/main..HEAD (is a CI variable unset?)`)
			case c.Flags().Changed("commit") && commit == "":
				return errors.New(`--commit "": want a revision (is a CI variable unset?)`)
			}
			if rng == "" && commit == "" {
				r, paths, err := a.openStaged()
				if err != nil {
					return err
				}
				vs, err := a.judgeStaged(r, paths, "")
				if err != nil {
					return err
				}
				if r.judging == nil && format == "text" {
					fmt.Fprintf(a.stdout, "oxygen: not judged: no %s is committed here, upstream or on origin's default branch (oxygen is not adopted yet)\n", policy.FileName)
				}
				return a.report(vs, format, "", nil)
			}
			// The ends are resolved while the repository is opened: what
			// comes after waits for both.
			var ends rangeEnds
			r, err := a.openRepo(func() (err error) {
				ends, err = a.checkEnds(rng, commit)
				return err
			})
			if err != nil {
				return err
			}
			commits, vs, err := a.checkRange(r, ends)
			if err != nil {
				return err
			}
			if format == "text" && len(vs) == 0 {
				fmt.Fprintf(a.stdout, "oxygen: %s judged, no violations\n", count(len(commits), "commit"))
			}
			return a.report(vs, format, recommitAdvice, nil)
		},
	}
	c.Flags().BoolVar(&staged, "staged", false, "judge the staged changes as the next commit (the default)")
	c.Flags().StringVar(&rng, "range", "", "judge the commits of A..B (in B, not in A), like origin/main..HEAD")
	c.Flags().StringVar(&commit, "commit", "", "judge one commit")
	c.Flags().BoolVar(&asJSON, "json", false, "print the violations as a JSON list (as --format json)")
	c.Flags().StringVar(&format, "format", "text", "text, json, gitlab (a GitLab Code Quality report on stdout) or sarif (SARIF 2.1.0 for GitHub code scanning, on stdout)")
	c.MarkFlagsMutuallyExclusive("staged", "range", "commit")
	c.MarkFlagsMutuallyExclusive("json", "format")
	return c
}

// openStaged opens the repository and reads the staged paths beside it.
func (a *app) openStaged() (*repo, []string, error) {
	var paths []string
	r, err := a.openRepo(func() (err error) {
		paths, err = a.stagedPaths()
		return err
	})
	if err == nil && !a.indexOf(r.dirs) {
		paths, err = a.git.StagedPaths("")
	}
	return r, paths, err
}

// stagedPaths lists the staged paths from the index file itself where it
// knows which that is (git.StagedPathsOf): where git named it in
// GIT_INDEX_FILE, as it does for the commit hooks, or at the top of a
// clone's main worktree, .git/index. It runs beside the git process that
// finds the repository, so it cannot ask git first: the caller checks
// indexOf once it knows the repository.
func (a *app) stagedPaths() ([]string, error) {
	if index := a.indexFile(); index != "" {
		return a.git.StagedPathsOf(index)
	}
	return a.git.StagedPaths("")
}

// indexFile is the index file stagedPaths reads ("" where it lets git
// find it): GIT_INDEX_FILE; else .git/index where the command runs at the
// top of a main worktree, and nothing in the environment moves the
// repository.
func (a *app) indexFile() string {
	if index := a.getenv("GIT_INDEX_FILE"); index != "" {
		return index
	}
	for _, v := range []string{"GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY"} {
		if a.getenv(v) != "" {
			return ""
		}
	}
	if fi, err := os.Lstat(filepath.Join(a.git.Dir, ".git")); err != nil || !fi.IsDir() {
		return ""
	}
	return filepath.Join(".git", "index")
}

// indexOf says whether the index that stagedPaths read is the one git
// means in the repository d. git takes a relative GIT_INDEX_FILE from the
// top of the worktree, where it runs hooks (git commit names .git/index),
// so a relative one counts only if it lies in d's git dir; so does the
// one stagedPaths found itself.
func (a *app) indexOf(d git.Dirs) bool {
	index := a.indexFile()
	if index == "" || filepath.IsAbs(index) {
		return true
	}
	dir, err := os.Stat(filepath.Dir(filepath.Join(a.git.Dir, index))) // as git.StagedPathsOf reads it
	gitDir, err2 := os.Stat(d.GitDir)
	return err == nil && err2 == nil && os.SameFile(dir, gitDir)
}

// judgeStaged judges the staged paths as the next commit, made now. hook
// is the git hook running, or "".
func (a *app) judgeStaged(r *repo, paths []string, hook string) ([]policy.Violation, error) {
	if r.dirs.Bare {
		return nil, errors.New("a bare repository has no staged changes: judge commits with --range A..B or --commit REV")
	}
	if r.judging == nil {
		return nil, nil // history before adoption, and the commit that adopts
	}
	// The commit may not leave a policy that does not load (the server
	// refuses to take one): checked where it changes or HEAD's is broken,
	// as reading the staged policy costs a read of the whole index.
	// The staged policy is also what a change of it brings in: it may not
	// redraw another domain's boundaries alone (JudgeBoundaries).
	var broken []policy.Violation
	var next *policy.Policy
	if r.headErr != nil || slices.Contains(paths, policy.FileName) {
		staged, err := a.git.ReadBlobs(":" + policy.FileName)
		if err != nil {
			return nil, err
		}
		if _, err := policy.Load(policy.FileName, staged[0].Data); !staged[0].Missing && err != nil {
			broken = append(broken, brokenPolicy("", "the staged change", err))
		}
		if slices.Contains(paths, policy.FileName) {
			next = broughtIn(staged[0])
		}
	}
	paths, err := a.mergeFilter(r, paths, hook)
	if err != nil || len(paths) == 0 {
		return broken, err
	}
	if r.emailErr != nil {
		return nil, r.emailErr
	}
	st, err := r.store.Current()
	if err != nil {
		return nil, err
	}
	// The next commit's message is not written yet: OXYGEN_COUNCIL stands
	// for the Council: trailer it will carry.
	council := git.SplitList(a.getenv("OXYGEN_COUNCIL"))
	deleted, err := a.stagedStateDeletions(paths)
	if err != nil {
		return nil, err
	}
	cs := policy.ChangeSet{Committer: r.email, At: a.now(), Paths: paths, Deleted: deleted, Council: council}
	judge := func(st policy.State) []policy.Violation {
		vs := append(r.judging.Judge(cs, st), broken...)
		if next != nil {
			vs = append(vs, r.judging.JudgeBoundaries(next, cs, st)...)
		}
		return vs
	}
	return a.rejudgeFresh(r, judge(st), judge)
}

// stagedStateDeletions returns the staged paths in the state folder that
// the index no longer has: deleting a tracked state file is its fix. Only
// those paths are looked up, so the common commit asks git nothing more.
func (a *app) stagedStateDeletions(paths []string) ([]string, error) {
	var specs []string
	for _, p := range paths {
		if policy.IsStatePath(p) {
			specs = append(specs, ":"+p) // the index's entry
		}
	}
	ids, err := a.git.ObjectIDs("", specs)
	if err != nil {
		return nil, err
	}
	var deleted []string
	for i, id := range ids {
		if id == "" {
			deleted = append(deleted, specs[i][1:])
		}
	}
	return deleted, nil
}

// mergeFilter gives, during a merge, the paths the merge answers for
// itself, by the rule pre-push applies to the merge commit (mergeOwn), with
// the index as the merge: paths holds where it differs from HEAD.
func (a *app) mergeFilter(r *repo, paths []string, hook string) ([]string, error) {
	heads, err := git.MergeHeads(r.dirs)
	if err != nil {
		return nil, err
	}
	if len(heads) == 0 && hook == "pre-merge-commit" {
		var known bool
		heads, known, err = a.git.PendingMergeHeads(r.dirs, a.getenv("GIT_REFLOG_ACTION"))
		if err != nil {
			return nil, err
		}
		if !known {
			fmt.Fprintln(a.stderr, "oxygen: cannot tell which commits this merge brings in, so the merge is not judged here; pre-push judges the merge commit")
			return nil, nil
		}
	}
	if len(heads) == 0 {
		return paths, nil
	}
	head, err := a.git.ResolveCommit("HEAD")
	if err != nil {
		return nil, err
	}
	parents := append([]string{head}, heads...)
	differ := []map[string]bool{pathSet(nil)} // where the index differs from each parent
	for _, p := range paths {
		differ[0][p] = true
	}
	for _, h := range heads {
		list, err := a.git.StagedPaths(h)
		if err != nil {
			return nil, err
		}
		d := make(map[string]bool, len(list))
		for _, p := range list {
			d[p] = true
		}
		differ = append(differ, d)
	}
	sides, wants, err := a.mergeSides(nil, parents, 0, nil)
	if err != nil {
		return nil, err
	}
	pairs := make([][2]string, len(wants))
	for i, w := range wants {
		pairs[i] = [2]string{w.base, w.parent}
	}
	diffs, err := a.git.TreeDiffs(pairs)
	if err != nil {
		return nil, err
	}
	for i, w := range wants {
		sides[w.key] = append(sides[w.key], pathSet(diffs[i]))
	}
	return mergeOwn(differ, sides), nil
}

// report prints violations in the format asked for (text goes to stderr;
// json and gitlab to stdout) and turns them into the exit code. footer
// follows a text report; refsOf names, for a push, the refs of each commit.
func (a *app) report(vs []policy.Violation, format, footer string, refsOf map[string][]string) error {
	var err error
	switch {
	case format == "json":
		if vs == nil {
			vs = []policy.Violation{}
		}
		err = writeJSON(a.stdout, vs)
	case format == "gitlab":
		err = writeJSON(a.stdout, codeQuality(vs))
	case format == "sarif":
		err = writeJSON(a.stdout, sarif(vs))
	case len(vs) > 0:
		printViolations(a.stderr, vs, a.colorOn(a.stderr), refsOf)
		if footer != "" {
			fmt.Fprintf(a.stderr, "\n%s\n", footer)
		}
	}
	if err != nil {
		return err
	}
	if a.getenv("GITHUB_ACTIONS") == "true" && format == "text" { // never into a report on stdout
		printAnnotations(a.stdout, vs)
	}
	if len(vs) > 0 {
		return &silentError{code: exitRefused}
	}
	return nil
}

// hookResult is what one hook decided.
type hookResult struct {
	violations []policy.Violation
	refsOf     map[string][]string // for pushes: the refs each commit is on
	refusals   []error             // refusals that are not about one commit's paths
	footer     string              // said after a refusal: the way forward
}

// hookCommand runs oxygen as the git hook git names.
func (a *app) hookCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "hook NAME [ARGS...]",
		Short: "Run as a git hook (git calls this through the shims oxygen install writes)",
		Long: `Run as a git hook. The shims that oxygen install writes call this with
git's own arguments and standard input. A hook that was in place before
oxygen's (kept as NAME.oxygen-chained) runs first.

Set OXYGEN=0 to skip oxygen's hooks in a clone for one command; the server's
pre-receive gate has no such switch.`,
		Args:      cobra.MinimumNArgs(1),
		ValidArgs: allHookNames(),
		RunE: func(c *cobra.Command, args []string) error {
			h, known := hookNamed(args[0])
			if !known {
				return fmt.Errorf("unknown hook %q (oxygen runs as %s)", args[0], strings.Join(allHookNames(), ", "))
			}
			in := hookInput{hook: h, args: args[1:]}
			hint := ""
			if h.skip != "" {
				hint = " (skip once with " + h.skip + ")"
			}
			// A hook manager may run oxygen itself: the skip switch holds here
			// too, and a hook that oxygen chained and that calls oxygen again
			// finds the judging already under way. Neither holds on the
			// server, whose gate a pusher's environment can reach.
			if !h.bare && (a.getenv(git.SkipEnv) == "0" || a.getenv(chainedEnv) == h.name) {
				return nil
			}
			if h.serve != nil {
				r, err := a.open(nil, false)
				if err == nil {
					err = h.serve(a, r)
				}
				if err != nil {
					return fmt.Errorf("%s hook: %w", h.name, err)
				}
				return nil
			}
			r, err := a.open(func() (err error) {
				if h.refs {
					in.stdin, err = readAll(a.stdin)
				} else {
					in.paths, err = a.stagedPaths()
				}
				return err
			}, !h.bare)
			if err == nil && !h.refs && !a.indexOf(r.dirs) {
				in.paths, err = a.git.StagedPaths("")
			}
			if err == nil {
				err = a.runChained(r.dirs, h.name, in.args, bytes.NewReader(in.stdin))
			}
			var chained *chainedHookError
			if errors.As(err, &chained) {
				return err
			}
			var res hookResult
			if err == nil {
				res, err = h.judge(a, r, in)
			}
			if err != nil {
				return fmt.Errorf("%s hook: %w; refused until this is fixed%s", h.name, err, hint)
			}
			for _, e := range res.refusals {
				fmt.Fprintf(a.stderr, "oxygen: refused: %v\n", e)
			}
			if len(res.violations)+len(res.refusals) > 0 {
				a.recordDeadEnd(r, h.name, res)
			}
			err = a.report(res.violations, "text", res.footer, res.refsOf)
			if err == nil && len(res.refusals) > 0 {
				err = &silentError{code: exitRefused}
			}
			return err
		},
	}
	c.DisableFlagParsing = true // git's arguments pass through untouched
	return c
}

// recordDeadEnd keeps the refusal as the protocol's dead_end artifact. It
// cannot change the outcome: a failure to write it is only reported.
func (a *app) recordDeadEnd(r *repo, hook string, res hookResult) {
	d := store.DeadEnd{Hook: hook, Who: r.email, At: a.now()}
	if hook == "pre-receive" {
		// The one refused is the pusher, where the host names one. The
		// server asks git for no committer of its own (it would be the
		// server's, not the pusher's): with no name, none (whoRefused).
		d.Who, _ = a.pusher()
	}
	add := func(list []string, v string) []string {
		v = policy.OneLine(v) // a path may hold a line break; a refusal, several lines
		if v == "" || slices.Contains(list, v) {
			return list
		}
		return append(list, v)
	}
	for _, v := range res.violations {
		d.Commits, d.Paths, d.Resources = add(d.Commits, v.Commit), add(d.Paths, v.Path), add(d.Resources, v.Resource)
		d.Why, d.Fix = add(d.Why, v.Reason), add(d.Fix, v.Fix)
	}
	for _, e := range res.refusals {
		d.Why = add(d.Why, e.Error())
	}
	if err := store.OpenLocal(storeRoot(r.dirs)).RecordDeadEnd(d); err != nil {
		fmt.Fprintf(a.stderr, "oxygen: warning: could not record the dead end: %v\n", err)
	}
}

// whoRefused names who a dead end refused, for people to read: where the
// record names nobody (a server whose host names no pusher, a clone with no
// git identity), it says so rather than leave a blank.
func whoRefused(d store.DeadEnd) string {
	switch {
	case d.Who != "":
		return d.Who
	case d.Hook == "pre-receive":
		return "an unnamed pusher"
	}
	return "an unnamed committer"
}

// chainedEnv is set for a chained hook: if it runs `oxygen hook` for the
// same hook (a hook manager configured to run oxygen), that inner run does
// nothing, rather than chain again without end.
const chainedEnv = "OXYGEN_CHAINED"

// chainedHookError is a pre-existing hook that refused.
type chainedHookError struct {
	file string
	code int
}

func (e *chainedHookError) Error() string {
	return fmt.Sprintf("the hook that was here before oxygen (%s) refused with exit %d", e.file, e.code)
}

// runChained runs the hook oxygen's shim replaced, if any, with the same
// arguments and standard input.
func (a *app) runChained(dirs git.Dirs, name string, args []string, stdin io.Reader) error {
	file := filepath.Join(dirs.Hooks, name+install.ChainedSuffix)
	fi, err := os.Stat(file)
	if err != nil || fi.Mode()&0o111 == 0 {
		return nil // none, or not executable: git would not run it either
	}
	if stdin == nil {
		stdin = bytes.NewReader(nil)
	}
	in, err := io.ReadAll(stdin)
	if err != nil {
		return err
	}
	run := func(argv ...string) error {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), chainedEnv+"="+name)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), a.stdout, a.stderr
		return cmd.Run()
	}
	err = run(append([]string{file}, args...)...)
	if errors.Is(err, syscall.ENOEXEC) {
		err = run(append([]string{"/bin/sh", file}, args...)...) // a script without #!, as git runs it
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return &chainedHookError{file: file, code: exit.ExitCode()}
		}
		return fmt.Errorf("run %s: %w", file, err)
	}
	return nil
}

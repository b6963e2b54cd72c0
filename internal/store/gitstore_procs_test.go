package store_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

const trackingRef = "refs/oxygen/remotes/origin/oxygen/state"

// countedStore is g's clone's git store, with its git processes recorded
// by subcommand.
func countedStore(g *gitState, calls *[]string) *store.Git {
	r := gitcli.Runner{Dir: g.clone, Exec: func(cmd *exec.Cmd) error {
		args := cmd.Args[1:]
		for len(args) > 2 && args[0] == "-c" {
			args = args[2:]
		}
		*calls = append(*calls, args[0])
		return cmd.Run()
	}}
	return store.OpenGit(r, filepath.Join(g.clone, ".git"), g.clone, "origin", stateRef, false, "")
}

// tracked is where the clone's tracking ref of the state ref points.
func (g *gitState) tracked(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "-C", g.clone, "for-each-ref", "--format=%(objectname)", trackingRef).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// processes is an act's git processes, without the gc --auto that one act
// in 16 runs after it.
func processes(calls []string) string {
	return strings.TrimSuffix(strings.Join(calls, " "), " gc")
}

// An act through the git store runs six git processes: fetch; ls-tree and
// cat-file, which read the state and name its commit (no rev-parse);
// fast-import; push; and update-ref of the tracking ref, which ends at the
// remote's state ref. On a busy remote every process counts: the fleet's
// acts are bound by the machine's processors.
func TestGitStoreActProcesses(t *testing.T) {
	g := newGitState(t)
	g.do(t, "the first claim", gclaim([]string{"schema"}, "builder", ""))
	var calls []string
	s := countedStore(g, &calls)
	if _, err := s.Act(g.policy, gclaim([]string{"storage"}, "builder", ""), time.Now); err != nil {
		t.Fatal(err)
	}
	if got, want := processes(calls), "fetch ls-tree cat-file fast-import push update-ref"; got != want {
		t.Errorf("an act ran git %s, want %s", got, want)
	}
	if got, want := g.tracked(t), g.tip(t); got != want {
		t.Errorf("tracking ref at %s, want the state ref's %s", got, want)
	}
}

// The server checks a push of state commits with two git processes, however
// many commits it carries: rev-list of the commits, and one cat-file that
// walks the trees of both ends and reads every record (pre-receive adds
// two: rev-parse for the repository, and cat-file for the pushed objects
// and the state ref as found).
func TestVerifierProcesses(t *testing.T) {
	g := newGitState(t)
	g.do(t, "the first claim", gclaim([]string{"schema"}, "builder", ""))
	old := g.tip(t)
	g.do(t, "a second claim", gclaim([]string{"storage"}, "builder", ""))
	var calls []string
	r := g.remote
	r.Exec = func(cmd *exec.Cmd) error {
		calls = append(calls, cmd.Args[1])
		return cmd.Run()
	}
	found := old
	v := store.Verifier{Git: r, Policy: g.policy, Now: time.Now(), Found: &found}
	if err := v.VerifyUpdate(old, g.tip(t)); err != nil {
		t.Fatal(err)
	}
	slices.Sort(calls)
	if got, want := strings.Join(calls, " "), "cat-file rev-list"; got != want {
		t.Errorf("the check ran git %s, want %s", got, want)
	}
}

// A command's history reads fetch once: a second read (a range check's
// whose first started too late) replays what the first fetched; an act
// moves the state, and the next read fetches again.
func TestGitStoreHistoryFetchesOnce(t *testing.T) {
	g := newGitState(t)
	g.do(t, "the first claim", gclaim([]string{"schema"}, "builder", ""))
	var calls []string
	s := countedStore(g, &calls)
	fetches := func() int { return strings.Count(strings.Join(calls, " "), "fetch") }
	for range 2 {
		if _, err := s.HistoryState(time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches(); n != 1 {
		t.Errorf("two history reads fetched %d times, want once", n)
	}
	if _, err := s.Act(g.policy, gclaim([]string{"storage"}, "builder", ""), time.Now); err != nil {
		t.Fatal(err)
	}
	st, err := s.HistoryState(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n := fetches(); n != 3 {
		t.Errorf("a read after an act: %d fetches in all, want 3 (the act's, and the read's own)", n)
	}
	if !slices.ContainsFunc(st.Leases, func(l policy.Lease) bool { return l.Resource == "storage" }) {
		t.Errorf("the read after the act holds no lease of storage: %+v", st.Leases)
	}
}

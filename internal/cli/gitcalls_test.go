package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// gitRecorder counts the git processes an app starts, by subcommand, and
// can stand in for some of them.
type gitRecorder struct {
	mu    sync.Mutex
	calls []string        // each process's subcommand, as it started
	fake  func(*exec.Cmd) // may turn cmd into a stand-in
}

func (g *gitRecorder) exec(cmd *exec.Cmd) error {
	g.mu.Lock()
	args := cmd.Args[1:]
	for len(args) > 2 && args[0] == "-c" {
		args = args[2:]
	}
	g.calls = append(g.calls, args[0])
	g.mu.Unlock()
	if g.fake != nil {
		g.fake(cmd)
	}
	return cmd.Run()
}

// testRepo is a clone at dir that has adopted the reference policy, with
// a private HOME and identity, as the current directory.
func testRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"HOME": dir, "XDG_CONFIG_HOME": dir, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_COMMITTER_EMAIL": "", "EMAIL": "", "OXYGEN": "",
	} {
		t.Setenv(k, v) // restored after the test
		if v == "" {
			os.Unsetenv(k)
		}
	}
	t.Chdir(dir)
	gitHere(t, "init", "-q", "-b", "main")
	gitHere(t, "config", "user.name", "Ada")
	gitHere(t, "config", "user.email", "ada@builder.example")
	if code, out := runApp(t, newApp(nil, nil, nil), "init", "--reference"); code != 0 {
		t.Fatalf("oxygen init: exit %d: %s", code, out)
	}
	gitHere(t, "add", "-A")
	gitHere(t, "commit", "-q", "--no-verify", "-m", "adopt oxygen")
	return dir
}

func gitHere(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// runApp runs oxygen's command line on a, at a fixed time, and returns
// its exit code and what it printed.
func runApp(t *testing.T, a *app, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	a.stdin, a.stdout, a.stderr = bytes.NewReader(nil), &out, &out
	a.now = func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) }
	return a.execute(context.Background(), args), out.String()
}

// TestPreCommitGitProcesses is a speed guard: every commit pays for each
// git process the pre-commit hook starts, so a new one must be a choice.
func TestPreCommitGitProcesses(t *testing.T) {
	dir := testRepo(t)
	if code, out := runApp(t, newApp(nil, nil, nil), "claim", "storage"); code != 0 {
		t.Fatalf("oxygen claim: exit %d: %s", code, out)
	}
	for _, f := range []string{"main.go", "store/blobs/model.bin"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte("v1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitHere(t, "add", "-A")
	// The first run reads the policy blob into the cache, as in any clone
	// once.
	if code, out := runApp(t, newApp(nil, nil, nil), "hook", "pre-commit"); code != 0 {
		t.Fatalf("oxygen hook pre-commit: exit %d: %s", code, out)
	}
	var rec gitRecorder
	a := newApp(nil, nil, nil)
	a.git.Exec = rec.exec
	if code, out := runApp(t, a, "hook", "pre-commit"); code != 0 {
		t.Fatalf("oxygen hook pre-commit: exit %d: %s", code, out)
	}
	// Run by hand at the top of the worktree, the hook reads .git/index in
	// place (git commit's own run diffs two trees instead: TestHookIndexShortcut).
	slices.Sort(rec.calls)
	if want := []string{"cat-file", "rev-parse", "var"}; !slices.Equal(rec.calls, want) {
		t.Errorf("the hook ran git %q, want %q", rec.calls, want)
	}
	// Where the committer comes from GIT_COMMITTER_EMAIL, as a fleet's
	// agents set it, git var is not asked (git.CommitterEmail).
	t.Setenv("GIT_COMMITTER_EMAIL", "ada@builder.example")
	rec = gitRecorder{}
	a = newApp(nil, nil, nil)
	a.git.Exec = rec.exec
	if code, out := runApp(t, a, "hook", "pre-commit"); code != 0 {
		t.Fatalf("oxygen hook pre-commit: exit %d: %s", code, out)
	}
	slices.Sort(rec.calls)
	if want := []string{"cat-file", "rev-parse"}; !slices.Equal(rec.calls, want) {
		t.Errorf("with GIT_COMMITTER_EMAIL set, the hook ran git %q, want %q", rec.calls, want)
	}
}

// TestPreCommitGitFails: where git cannot list the staged changes, the hook
// refuses the commit (fails closed), says why in one line, and exits 2.
func TestPreCommitGitFails(t *testing.T) {
	testRepo(t)
	rec := gitRecorder{fake: func(cmd *exec.Cmd) {
		if cmd.Args[1] == "diff" || cmd.Args[1] == "cat-file" {
			cmd.Path = "/bin/sh"
			cmd.Args = []string{"sh", "-c", "echo 'fatal: index file corrupt' >&2; exit 128"}
		}
	}}
	a := newApp(nil, nil, nil)
	a.git.Exec = rec.exec
	code, out := runApp(t, a, "hook", "pre-commit")
	want := "oxygen: pre-commit hook: git cat-file: index file corrupt; refused until this is fixed (skip once with git commit --no-verify)\n"
	if code != exitError || out != want {
		t.Errorf("exit %d, printed %q; want exit 2, %q", code, out, want)
	}
}

// TestHookSkipSwitch: OXYGEN=0, as the app's environment says it, makes the
// clone's pre-commit hook do nothing, not even start git.
func TestHookSkipSwitch(t *testing.T) {
	testRepo(t)
	var rec gitRecorder
	a := newApp(nil, nil, nil)
	a.git.Exec = rec.exec
	a.lookupEnv = func(name string) (string, bool) {
		if name == "OXYGEN" {
			return "0", true
		}
		return "", false
	}
	if code, out := runApp(t, a, "hook", "pre-commit"); code != 0 || out != "" || len(rec.calls) != 0 {
		t.Errorf("exit %d, printed %q, ran git %q; want exit 0, nothing, no git", code, out, rec.calls)
	}
}

// TestHookIndexShortcut: where git names the index (GIT_INDEX_FILE, as for
// the commit hooks) and its cache tree is whole, the hook's one diff is of
// two trees; a relative name that is not
// in the repository's git dir (run from a folder holding a .git/index of
// its own) is not taken, and the staged change is judged all the same.
func TestHookIndexShortcut(t *testing.T) {
	dir := testRepo(t)
	gitHere(t, "write-tree") // the committed state, with a whole cache tree
	decoy := filepath.Join(dir, "sub", ".git", "index")
	if err := os.MkdirAll(filepath.Dir(decoy), 0o755); err != nil {
		t.Fatal(err)
	}
	index, err := os.ReadFile(filepath.Join(dir, ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(decoy, index, 0o644); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "store", "blobs", "model.bin") // storage, which nobody holds
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte("v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitHere(t, "add", "store")
	gitHere(t, "write-tree")                               // as git commit does before pre-commit
	runApp(t, newApp(nil, nil, nil), "hook", "pre-commit") // caches the policy, as any clone once
	for _, where := range []string{".", "sub"} {
		t.Chdir(filepath.Join(dir, where))
		var rec gitRecorder
		var diffs [][]string
		rec.fake = func(cmd *exec.Cmd) {
			if cmd.Args[1] == "diff" {
				diffs = append(diffs, cmd.Args)
			}
		}
		a := newApp(nil, nil, nil)
		a.git.Exec = rec.exec
		a.lookupEnv = func(name string) (string, bool) {
			if name == "GIT_INDEX_FILE" {
				return ".git/index", true
			}
			return os.LookupEnv(name)
		}
		code, out := runApp(t, a, "hook", "pre-commit")
		if code != exitRefused || !strings.Contains(out, "store/blobs/model.bin") {
			t.Errorf("from %s: exit %d: %s; want store/blobs/model.bin refused", where, code, out)
		}
		if where == "." && (len(diffs) != 1 || slices.Contains(diffs[0], "--cached")) {
			t.Errorf("from the top: diff %q; want one diff, of two trees", diffs)
		}
		if where == "sub" && (len(diffs) != 2 || !slices.Contains(diffs[1], "--cached")) {
			t.Errorf("from sub: diff %q; want the decoy's trees, then diff --cached", diffs)
		}
	}
}

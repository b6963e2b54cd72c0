package git

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackAuto: the loose objects state commits leave are packed once there
// are a few hundred, even where the user turned automatic gc off.
func TestPackAuto(t *testing.T) {
	dir := t.TempDir()
	git := gitIn(t, dir)
	git("init", "-q")
	git("config", "gc.auto", "0")
	git("config", "gc.autoDetach", "false") // so that the test sees the result
	// Reachable objects, as state commits are; fixed contents, so the
	// same ids, and the same sample gc --auto counts, on every run.
	for i := range 1000 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("o%d", i)), []byte(fmt.Sprintf("object %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", ".")
	git("-c", "user.name=a", "-c", "user.email=a@b.example", "commit", "-q", "-m", "objects")
	if out := git("count-objects"); !strings.HasPrefix(out, "1002 objects") {
		t.Fatalf("count-objects before: %s", out)
	}
	if err := (Runner{Dir: dir}).PackAuto(); err != nil {
		t.Fatal(err)
	}
	if out := git("count-objects", "-v"); !strings.HasPrefix(out, "count: 0\n") || !strings.Contains(out, "\nin-pack: 1002\n") {
		t.Errorf("count-objects after: %s", out)
	}
}

// TestPushCASMovedMeanwhile: oxygen's pre-receive refusing an update whose
// ref moved while the push was on its way is a lost race, which the
// pusher retries; any other refusal by the hook is not.
func TestPushCASMovedMeanwhile(t *testing.T) {
	dir := t.TempDir()
	git := gitIn(t, dir)
	git("init", "-q", "--bare", "remote.git")
	git("init", "-q", "clone")
	commit := git("-C", "clone", "-c", "user.name=a", "-c", "user.email=a@b.example", "commit-tree", "-m", "state", git("-C", "clone", "hash-object", "-t", "tree", "-w", "/dev/null"))
	hook := filepath.Join(dir, "remote.git", "hooks", "pre-receive")
	r := Runner{Dir: filepath.Join(dir, "clone"), Env: []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}}
	for _, c := range []struct {
		says string
		race bool
	}{
		{"oxygen: refused: refs/oxygen/state: " + MovedMeanwhile, true},
		{"oxygen: refused: refs/oxygen/state: the state files do not match what the events decide", false},
	} {
		says := filepath.Join(dir, "says")
		if err := os.WriteFile(says, []byte(c.says+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(hook, []byte("#!/bin/sh\ncat '"+says+"' >&2\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		err := r.PushCAS(filepath.Join(dir, "remote.git"), "refs/oxygen/state", "", commit)
		if err == nil || errors.Is(err, ErrLostRace) != c.race {
			t.Errorf("hook says %q: %v, want a lost race: %v", c.says, err, c.race)
		}
	}
}

// gitIn runs git in dir, with no system or user configuration, and returns
// its output trimmed; a failure ends the test.
func gitIn(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
}

// newRepo is an empty repository in a temporary directory, with an
// identity for commit-tree, and gitIn for it.
func newRepo(t *testing.T) (string, func(args ...string) string) {
	t.Helper()
	dir := t.TempDir()
	git := gitIn(t, dir)
	git("init", "-q")
	git("config", "user.email", "a@b.example")
	git("config", "user.name", "a")
	return dir, git
}

// hashObject writes a blob of s in the repository in dir.
func hashObject(t *testing.T, dir, s string) string {
	t.Helper()
	cmd := exec.Command("git", "hash-object", "-w", "--stdin")
	cmd.Dir, cmd.Stdin = dir, strings.NewReader(s)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// mkTree writes a tree of entries, as git ls-tree lists them, in the
// repository in dir; git mktree takes no name twice (writeRawTree does).
func mkTree(t *testing.T, dir string, entries ...string) string {
	t.Helper()
	var in strings.Builder
	for _, e := range entries {
		in.WriteString(e + "\n")
	}
	cmd := exec.Command("git", "mktree", "--missing")
	cmd.Dir, cmd.Stdin = dir, strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// counted is r, counting the git processes it starts by subcommand.
func counted(r Runner, calls *[]string) Runner {
	r.Exec = func(cmd *exec.Cmd) error {
		args := cmd.Args[1:]
		for len(args) > 2 && args[0] == "-c" {
			args = args[2:]
		}
		*calls = append(*calls, args[0])
		return cmd.Run()
	}
	return r
}

// TestReadRefTree: a ref's tree and commit id read in two processes are
// what RefID and ReadTreeSkip read in three, refusals and all (which cost
// a rev-parse to name the commit, where nothing is read).
func TestReadRefTree(t *testing.T) {
	dir := t.TempDir()
	git := gitIn(t, dir)
	git("init", "-q")
	blob := func(s string) string { return hashObject(t, dir, s) }
	mktree := func(entries ...string) string { return mkTree(t, dir, entries...) }
	a, b := blob("a\n"), blob("bb\n")
	leases := mktree("100644 blob "+b+"\tx.yaml", "100644 blob "+a+"\ty.yaml")
	for name, tree := range map[string]string{
		"state":        mktree("100644 blob "+a+"\tevents.jsonl", "040000 tree "+leases+"\tleases", "100644 blob "+b+"\tsealed"),
		"empty state":  mktree(),
		"twice":        mktree("100644 blob "+a+"\tevents.jsonl", "100644 blob "+b+"\tevents.jsonl"),
		"empty folder": mktree("100644 blob "+a+"\tevents.jsonl", "040000 tree "+mktree()+"\tsmuggled"),
		"not a file":   mktree("160000 commit " + strings.Repeat("1", 40) + "\tsub"),
	} {
		ref := "refs/oxygen/remotes/origin/" + strings.ReplaceAll(name, " ", "-")
		commit := git("-c", "user.name=a", "-c", "user.email=a@b.example", "commit-tree", "-m", name, tree)
		git("update-ref", ref, commit)
		var calls []string
		r := Runner{Dir: dir, Env: []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}}
		skip := func(p string) bool { return p == "sealed" }
		tip, files, entries, err := counted(r, &calls).ReadRefTree(ref, skip)
		id, rerr := r.RefID(ref)
		if rerr != nil {
			t.Fatal(rerr)
		}
		wantFiles, wantEntries, wantErr := r.ReadTreeSkip(id, skip)
		if tip != id || fmt.Sprint(files, entries) != fmt.Sprint(wantFiles, wantEntries) || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("%s: ReadRefTree: %s, %q, %v, %v; RefID and ReadTreeSkip: %s, %q, %v, %v", name, tip, files, entries, err, id, wantFiles, wantEntries, wantErr)
		}
		if (wantErr != nil) != (name == "twice" || name == "empty folder" || name == "not a file") || wantErr != nil && !strings.HasPrefix(wantErr.Error(), id[:12]+": ") {
			t.Errorf("%s: ReadTreeSkip: %v", name, wantErr)
		}
		want := "ls-tree cat-file"
		if wantErr != nil {
			want = "ls-tree rev-parse" // a refusal names the commit
		}
		if got := strings.Join(calls, " "); got != want {
			t.Errorf("%s: ran git %s, want %s", name, got, want)
		}
	}
}

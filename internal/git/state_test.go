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

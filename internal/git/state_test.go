package git

import (
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
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
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

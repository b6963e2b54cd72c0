package git

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBufferedOutput: the git commands whose output is read whole (log,
// rev-list, diff-tree) run with GIT_FLUSH=0, whatever the caller's
// environment says, so that they write whole buffers rather than a write
// per commit; cat-file, which may be asked one object at a time, keeps
// the caller's.
func TestBufferedOutput(t *testing.T) {
	dir, g := indexRepo(t)
	g("commit", "-q", "--allow-empty", "-m", "two")
	one, two := g("rev-parse", "HEAD~1"), g("rev-parse", "HEAD")
	t.Setenv("GIT_FLUSH", "1")
	var ran []string // each git process's GIT_FLUSH, the last one set
	r := Runner{Dir: dir, Exec: func(cmd *exec.Cmd) error {
		flush := "unset"
		for _, kv := range cmd.Env {
			if v, ok := strings.CutPrefix(kv, "GIT_FLUSH="); ok {
				flush = v
			}
		}
		ran = append(ran, flush)
		return cmd.Run()
	}}
	for _, step := range []struct {
		name, want string
		run        func() error
	}{
		{"Log", "0", func() error { _, err := r.Log("HEAD"); return err }},
		{"RevList", "0", func() error { _, err := r.RevList("HEAD"); return err }},
		{"Graph", "0", func() error { _, err := r.Graph(10, "HEAD"); return err }},
		{"TreeDiffs", "0", func() error { _, err := r.TreeDiffs([][2]string{{one, two}}); return err }},
		{"FirstParentVersions", "0", func() error { _, err := r.FirstParentVersions("HEAD", "d.txt"); return err }},
		{"Unpushed", "0", func() error { _, err := r.Unpushed(10); return err }},
		{"ReadBlobs", "1", func() error { _, err := r.ReadBlobs("HEAD:d.txt"); return err }},
	} {
		ran = nil
		if err := step.run(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if len(ran) != 1 || ran[0] != step.want {
			t.Errorf("%s ran git with GIT_FLUSH %q, want one git process with %s", step.name, ran, step.want)
		}
	}
}

package git

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStagedFromIndexOps: random index-only histories (update-index
// --index-info of files, executables, symlinks and gitlinks, folders
// swapped with files, whole folders removed, read-tree of older commits,
// index versions switched), compared with git diff --cached.
func TestStagedFromIndexOps(t *testing.T) {
	rounds := 3
	if os.Getenv("OXYGEN_SOAK") != "" {
		rounds = 60
	}
	for seed := range rounds {
		for _, format := range []string{"sha1", "sha256"} {
			t.Run(fmt.Sprint(seed, format), func(t *testing.T) { stagedOpsRound(t, uint64(seed), format) })
		}
	}
}

func stagedOpsRound(t *testing.T, seed uint64, format string) {
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(seed, 11))
	env := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@b.example", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@b.example", "GIT_NO_REPLACE_OBJECTS=1")
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env, cmd.Stdin = dir, env, strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	git := func(stdin string, args ...string) string {
		t.Helper()
		out, err := run(stdin, args...)
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(out)
	}
	git("", "init", "-q", "--object-format="+format)
	blobs := []string{}
	for i := range 4 {
		blobs = append(blobs, git(fmt.Sprint(i), "hash-object", "-w", "--stdin"))
	}
	names := []string{"a", "a-b", "a.b", "a0", "a/b", "a/c", "a/b/c", "b", "b/x/y", "b/x/z", "b/w", "b.x", "c d/\xc3\xa9", "c d/q", "z/z/z/z", "z/z/y", "z-", "\x01"}
	git("", "commit", "-q", "--allow-empty", "-m", "root")
	r := Runner{Dir: dir, Env: []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}}
	for step := range 40 {
		for range 1 + rnd.IntN(4) {
			n := names[rnd.IntN(len(names))]
			switch rnd.IntN(9) {
			case 0, 1, 2:
				mode := []string{"100644", "100755", "120000", "100644"}[rnd.IntN(4)]
				git(fmt.Sprintf("%s %s\t%s\n", mode, blobs[rnd.IntN(len(blobs))], n), "update-index", "--add", "--replace", "--index-info")
			case 3:
				head, _ := run("", "rev-parse", "HEAD")
				git(fmt.Sprintf("160000 %s\t%s\n", strings.TrimSpace(head), n), "update-index", "--add", "--replace", "--index-info")
			case 4:
				run("", "rm", "-rq", "--cached", "--", n)
			case 5:
				run("", "rm", "-rq", "--cached", "--", strings.Split(n, "/")[0])
			case 6:
				git("", "write-tree")
			case 7:
				git("", "update-index", "--index-version", fmt.Sprint(2+rnd.IntN(3)))
			case 8:
				if rnd.IntN(3) == 0 {
					run("", "read-tree", fmt.Sprintf("HEAD~%d", rnd.IntN(3)))
				}
			}
		}
		switch rnd.IntN(6) {
		case 0:
			git("", "commit", "-q", "--allow-empty", "-m", fmt.Sprint(step))
		case 1:
			git("", "write-tree")
		case 2:
			git("", "commit", "-q", "--allow-empty", "-m", fmt.Sprint(step))
			run("", "reset", "-q", "--soft", "HEAD~1")
		case 3:
			run("", "reset", "-q", "--soft", fmt.Sprintf("HEAD~%d", rnd.IntN(3)))
		}
		idx := filepath.Join(dir, ".git", "index")
		out := git("", "diff", "--cached", "-z", "--name-only", "--no-renames", "--ignore-submodules=none")
		want := SplitNUL([]byte(out))
		slices.Sort(want)
		got, ok, err := r.StagedFromIndex(idx)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if !ok {
			t.Logf("NOTOK step %d", step)
		}
		if ok && !slices.Equal(got, want) {
			t.Fatalf("step %d: read %q, git diff --cached says %q\n%s", step, got, want, git("", "ls-files", "-s"))
		}
	}
}

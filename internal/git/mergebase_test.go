package git_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/oxygen-protocol/oxygen/internal/git"
)

// TestMergeBaseInAgreesWithGit builds random commit graphs with real git
// (merges, criss-crosses, unrelated roots, committer times out of order)
// and requires MergeBaseIn to give git's answer wherever it gives one.
func TestMergeBaseInAgreesWithGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	env := append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@b", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@b")
	run := func(stdin string, args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env, cmd.Stdin = dir, env, strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	run("", "init", "-q")
	tree := run("", "mktree")
	rng := rand.New(rand.NewPCG(1, 2))
	var ids []string
	for i := range 120 {
		args := []string{"commit-tree", tree, "-m", fmt.Sprint(i)}
		if len(ids) > 0 && rng.IntN(10) > 0 { // now and then a new root
			for _, p := range []int{rng.IntN(len(ids)), max(0, len(ids)-1-rng.IntN(4))}[:1+rng.IntN(2)] {
				args = append(args, "-p", ids[p])
			}
		}
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		at := 1700000000 + i*10 + rng.IntN(200) - 100 // clocks that disagree
		cmd.Env = append(env, fmt.Sprintf("GIT_COMMITTER_DATE=%d +0000", at))
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, strings.TrimSpace(string(out)))
	}
	g, err := git.Runner{Dir: dir, Env: env}.Graph(1000, ids...)
	if err != nil {
		t.Fatal(err)
	}
	asked, answered := 0, 0
	for range 300 {
		a, b := ids[rng.IntN(len(ids))], ids[rng.IntN(len(ids))]
		got, ok := git.MergeBaseIn(g, a, b)
		asked++
		if !ok {
			continue
		}
		answered++
		want, err := git.Runner{Dir: dir, Env: env}.MergeBases(a, b)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("MergeBaseIn(%s, %s) = %v, git says %v", a[:7], b[:7], got, want)
		}
	}
	t.Logf("answered %d of %d in the window", answered, asked)
	if answered < asked/2 {
		t.Errorf("answered %d of %d: the window should answer most", answered, asked)
	}
}

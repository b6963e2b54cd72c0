package git

import (
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestStagedFromIndexLargeTree: a folder of HEAD whose tree is larger than
// cat-file is read for (maxObject) is git's to answer, not an error.
func TestStagedFromIndexLargeTree(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 68 MB tree")
	}
	dir := t.TempDir()
	git := gitIn(t, dir)
	git("init", "-q")
	git("config", "user.email", "a@b.example")
	git("config", "user.name", "a")
	blob := hashObject(t, dir, "x")
	raw, err := hex.DecodeString(blob)
	if err != nil {
		t.Fatal(err)
	}
	var tree []byte
	long := strings.Repeat("n", 4000)
	for i := 0; len(tree) <= maxObject; i++ {
		tree = append(tree, fmt.Sprintf("100644 %s%08d\x00", long, i)...)
		tree = append(tree, raw...)
	}
	cmd := exec.Command("git", "hash-object", "-t", "tree", "-w", "--stdin")
	cmd.Dir, cmd.Stdin = dir, strings.NewReader(string(tree))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	big := strings.TrimSpace(string(out))
	cmd = exec.Command("git", "mktree")
	cmd.Dir, cmd.Stdin = dir, strings.NewReader(fmt.Sprintf("040000 tree %s\tbig\n100644 blob %s\ta\n", big, blob))
	out, err = cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	commit := git("commit-tree", "-m", "big", strings.TrimSpace(string(out)))
	git("update-ref", "HEAD", commit)
	// An index of a alone, its cache out of date at the top.
	git("update-index", "--add", "--cacheinfo", "100644,"+blob+",a")
	git("write-tree")
	git("update-index", "--add", "--cacheinfo", "100644,"+blob+",b")
	r := Runner{Dir: dir, Env: []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}}
	paths, ok, err := r.StagedFromIndex(filepath.Join(dir, ".git", "index"))
	if err != nil {
		t.Fatalf("StagedFromIndex: %v; git diff --cached answers", err)
	}
	if ok {
		t.Fatalf("read %d paths under a tree it cannot read", len(paths))
	}
}

// TestStagedFromIndexOddTree: a tree of HEAD that git mktree makes but
// that names an entry "." or ".." (which parseTree refuses) is git diff
// --cached's to answer, not an error.
func TestStagedFromIndexOddTree(t *testing.T) {
	for _, name := range []string{".", "..", ""} {
		dir := t.TempDir()
		git := gitIn(t, dir)
		git("init", "-q")
		git("config", "user.email", "a@b.example")
		git("config", "user.name", "a")
		blob := hashObject(t, dir, "x")
		cmd := exec.Command("git", "mktree")
		cmd.Dir, cmd.Stdin = dir, strings.NewReader(fmt.Sprintf("100644 blob %s\t%s\n100644 blob %s\tb\n", blob, name, blob))
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		git("update-ref", "HEAD", git("commit-tree", "-m", "odd", strings.TrimSpace(string(out))))
		git("update-index", "--add", "--cacheinfo", "100644,"+blob+",a")
		git("write-tree")
		r := Runner{Dir: dir, Env: []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}}
		if _, ok, err := r.StagedFromIndex(filepath.Join(dir, ".git", "index")); ok || err != nil {
			t.Errorf("an entry named %q in HEAD's tree: ok %v, %v; want git diff --cached to answer", name, ok, err)
		}
	}
}

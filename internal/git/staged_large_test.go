package git

import (
	"fmt"
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
	dir, git := newRepo(t)
	blob := hashObject(t, dir, "x")
	var entries [][3]string
	long := strings.Repeat("n", 4000)
	for size := 0; size <= maxObject; size += len(entries[len(entries)-1][1]) + 28 {
		entries = append(entries, [3]string{"100644", fmt.Sprintf("%s%08d", long, len(entries)), blob})
	}
	big := writeRawTree(t, dir, entries...)
	top := mkTree(t, dir, "040000 tree "+big+"\tbig", "100644 blob "+blob+"\ta")
	commit := git("commit-tree", "-m", "big", top)
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
		dir, git := newRepo(t)
		blob := hashObject(t, dir, "x")
		odd := mkTree(t, dir, "100644 blob "+blob+"\t"+name, "100644 blob "+blob+"\tb")
		git("update-ref", "HEAD", git("commit-tree", "-m", "odd", odd))
		git("update-index", "--add", "--cacheinfo", "100644,"+blob+",a")
		git("write-tree")
		r := Runner{Dir: dir, Env: []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}}
		if _, ok, err := r.StagedFromIndex(filepath.Join(dir, ".git", "index")); ok || err != nil {
			t.Errorf("an entry named %q in HEAD's tree: ok %v, %v; want git diff --cached to answer", name, ok, err)
		}
	}
}

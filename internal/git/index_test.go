package git

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// indexRepo makes a repository at a temporary dir with a committed tree
// (a/b/c.txt, d.txt) and returns it, with git to run in it.
func indexRepo(t *testing.T, initArgs ...string) (string, func(args ...string) string) {
	t.Helper()
	dir := t.TempDir()
	g := gitIn(t, dir)
	g(append([]string{"init", "-q"}, initArgs...)...)
	g("config", "user.email", "ada@example.com")
	g("config", "user.name", "Ada")
	for _, f := range []string{"a/b/c.txt", "d.txt"} {
		writeFile(t, filepath.Join(dir, f), f)
	}
	g("add", "-A")
	g("commit", "-q", "-m", "one")
	return dir, g
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestIndexTree: the tree of an index whose cache tree git brought up to
// date (git write-tree, as git commit does before pre-commit), in each
// index version and object format; nothing where the cache is out of date
// or the index is split.
func TestIndexTree(t *testing.T) {
	cases := []struct {
		name  string
		init  []string
		setup func(g func(...string) string, dir string)
		whole bool // the cache tree is up to date: IndexTree is git write-tree
	}{
		{"version 2", nil, func(g func(...string) string, dir string) {
			writeFile(t, filepath.Join(dir, "a/b/e.txt"), "new")
			g("add", "a/b/e.txt")
		}, true},
		{"version 3: an entry with extended flags", nil, func(g func(...string) string, dir string) {
			g("update-index", "--skip-worktree", "d.txt")
		}, true},
		{"version 4: paths prefix-compressed", nil, func(g func(...string) string, dir string) {
			g("rm", "-q", "--cached", "d.txt")
			g("update-index", "--index-version", "4")
		}, true},
		{"a path of 4,096 bytes", nil, func(g func(...string) string, dir string) {
			blob := g("hash-object", "-w", "d.txt")
			g("update-index", "--add", "--cacheinfo", "100644,"+blob+","+strings.Repeat("p/", 2047)+"zz")
		}, true},
		{"SHA-256", []string{"--object-format=sha256"}, func(g func(...string) string, dir string) {
			writeFile(t, filepath.Join(dir, "d.txt"), "changed")
			g("add", "d.txt")
		}, true},
		{"out of date", nil, func(g func(...string) string, dir string) {
			g("write-tree")
			writeFile(t, filepath.Join(dir, "a/b/c.txt"), "changed")
			g("add", "a/b/c.txt") // after write-tree: the cache of a/b, a and the root is dropped
		}, false},
		{"an intent-to-add entry, which no tree holds", nil, func(g func(...string) string, dir string) {
			writeFile(t, filepath.Join(dir, "f.txt"), "later")
			g("add", "-N", "f.txt")
		}, false},
		{"a split index", nil, func(g func(...string) string, dir string) {
			g("update-index", "--split-index")
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, g := indexRepo(t, c.init...)
			c.setup(g, dir)
			want := ""
			if c.whole {
				want = g("write-tree")
			}
			if got := ReadIndexTree(filepath.Join(dir, ".git/index")); got != want {
				t.Errorf("ReadIndexTree = %q, want %q", got, want)
			}
		})
	}
}

// TestIndexTreeNotAnIndex: bytes that are not a whole index give nothing.
func TestIndexTreeNotAnIndex(t *testing.T) {
	dir, g := indexRepo(t)
	g("write-tree")
	data, err := os.ReadFile(filepath.Join(dir, ".git/index"))
	if err != nil {
		t.Fatal(err)
	}
	if IndexTree(data) == "" {
		t.Fatal("IndexTree of the whole index is empty")
	}
	for n := range len(data) - 20 { // the index without its checksum, cut anywhere
		if got := IndexTree(data[:n]); got != "" {
			t.Fatalf("IndexTree of the first %d of %d bytes = %q, want nothing", n, len(data), got)
		}
	}
	if got := ReadIndexTree(filepath.Join(dir, "no-such-index")); got != "" {
		t.Errorf("ReadIndexTree of no file = %q", got)
	}
}

// TestStagedPathsOf: the staged paths read through the index's cache tree
// are git diff --cached's: by one git diff of two trees where the cache is
// whole; by the index read in place and one cat-file where it is not; by
// git diff --cached where HEAD is unborn.
func TestStagedPathsOf(t *testing.T) {
	cases := []struct {
		name     string
		unborn   bool
		writeOut bool   // git write-tree first, as git commit does before pre-commit
		answer   string // the git command that answered
	}{
		{"a whole cache tree", false, true, "diff"},
		{"an out-of-date cache tree", false, false, "cat-file"},
		{"an unborn branch", true, true, "--cached"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, g := indexRepo(t)
			if c.unborn {
				g("checkout", "-q", "--orphan", "next")
			}
			writeFile(t, filepath.Join(dir, "a/b/c.txt"), "changed")
			writeFile(t, filepath.Join(dir, "a/new.txt"), "new")
			g("add", "a")
			g("rm", "-q", "--cached", "d.txt")
			if c.writeOut {
				g("write-tree")
			}
			var calls [][]string
			r := Runner{Dir: dir, Env: []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}, Exec: func(cmd *exec.Cmd) error {
				calls = append(calls, cmd.Args[1:])
				return cmd.Run()
			}}
			got, err := r.StagedPathsOf(filepath.Join(dir, ".git/index"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := r.StagedPaths("")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("StagedPathsOf = %q, want %q", got, want)
			}
			// calls ends with StagedPaths's own; the one before answered.
			answered := calls[len(calls)-2]
			if !slices.Contains(answered, c.answer) || c.answer == "diff" && slices.Contains(answered, "--cached") {
				t.Errorf("git %q answered, want %s", answered, c.answer)
			}
		})
	}
}

// FuzzIndexTree: any bytes give nothing or a whole object id, never a panic.
func FuzzIndexTree(f *testing.F) {
	dir := f.TempDir()
	for _, v := range []string{"2", "4"} {
		cmd := exec.Command("sh", "-c", "git init -q r"+v+" && cd r"+v+" && echo a >a && mkdir -p b/c && echo d >b/c/d && git add -A && git update-index --index-version "+v+" && git write-tree")
		cmd.Dir, cmd.Env = dir, append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			f.Fatalf("%v: %s", err, out)
		}
		data, err := os.ReadFile(filepath.Join(dir, "r"+v, ".git/index"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		id := IndexTree(data)
		if id != "" && !IsObjectID(id) {
			t.Errorf("IndexTree = %q, not an object id", id)
		}
	})
}

package git

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStagedFromIndex: the index read in place names exactly the paths git
// diff --cached names, over random histories of staged changes (files
// changed, added, removed, made executable or symlinks, files and folders
// swapped; the cache of trees brought up to date, or left newer than HEAD)
// in every index version, or steps aside (an intent to add, a split index)
// for git to answer.
func TestStagedFromIndex(t *testing.T) {
	rounds := 12
	if os.Getenv("OXYGEN_SOAK") != "" {
		rounds = 200
	}
	if testing.Short() {
		rounds = 4
	}
	for seed := range rounds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { stagedRound(t, uint64(seed)) })
	}
}

func stagedRound(t *testing.T, seed uint64) {
	dir, git := newRepo(t)
	rnd := rand.New(rand.NewPCG(seed, 7))
	git("config", "index.version", fmt.Sprint(2+seed%3))
	names := []string{"a", "a.txt", "a-b", "b", "c/d", "c/e/f", "c.d", "z", "dir/sub/x", "dir/y"}
	write := func(p, content string) {
		full := filepath.Join(dir, p)
		os.RemoveAll(full)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			// a file where the folder goes: replace it
			for d := filepath.Dir(full); d != dir; d = filepath.Dir(d) {
				if fi, err := os.Lstat(d); err == nil && !fi.IsDir() {
					os.Remove(d)
				}
			}
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		write(fmt.Sprintf("base/%d/%d.txt", i%7, i), fmt.Sprint(i))
	}
	for _, n := range names {
		if !strings.Contains(n, "/") || !slices.Contains(names, strings.Split(n, "/")[0]) {
			write(n, n)
		}
	}
	git("add", "-A")
	git("commit", "-q", "-m", "base")
	r := Runner{Dir: dir, Env: []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}}
	for step := range 25 {
		// A few random changes, staged.
		for range 1 + rnd.IntN(3) {
			n := names[rnd.IntN(len(names))]
			if rnd.IntN(4) == 0 {
				n = fmt.Sprintf("base/%d/%d.txt", rnd.IntN(8), rnd.IntN(45))
			}
			full := filepath.Join(dir, n)
			switch rnd.IntN(6) {
			case 0, 1:
				write(n, fmt.Sprint(step, rnd.Int()))
			case 2:
				os.RemoveAll(full)
			case 3:
				if fi, err := os.Lstat(full); err == nil && fi.Mode().IsRegular() {
					os.Chmod(full, 0o755)
				}
			case 4:
				os.RemoveAll(full)
				os.MkdirAll(filepath.Dir(full), 0o755)
				os.Symlink("target", full)
			case 5: // a folder where the file was, or the other way round
				if fi, err := os.Lstat(full); err == nil && fi.IsDir() {
					os.RemoveAll(full)
					write(n, "now a file")
				} else {
					write(n+"/inner", "now a folder")
				}
			}
		}
		git("add", "-A")
		switch rnd.IntN(5) {
		case 0:
			git("commit", "-q", "--allow-empty", "-m", fmt.Sprint(step))
		case 1: // the cache brought up to date with what HEAD is not
			git("write-tree")
		case 2: // HEAD back under a cache of the newer tree
			git("commit", "-q", "--allow-empty", "-m", fmt.Sprint(step))
			if step > 0 {
				git("reset", "-q", "--soft", "HEAD~1")
			}
		}
		want := SplitNUL([]byte(git("diff", "--cached", "-z", "--name-only", "--no-renames")))
		slices.Sort(want)
		got, ok, err := r.StagedFromIndex(filepath.Join(dir, ".git", "index"))
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if !ok {
			t.Fatalf("step %d: the index was not read (version %d)", step, 2+seed%3)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("step %d: read %q, git diff --cached says %q", step, got, want)
		}
	}
	// What it does not take, git answers.
	write("new.txt", "n")
	git("add", "-N", "new.txt")
	if _, ok, err := r.StagedFromIndex(filepath.Join(dir, ".git", "index")); ok || err != nil {
		t.Errorf("an intent to add: ok %v, %v; want git to answer", ok, err)
	}
	git("rm", "-q", "--cached", "new.txt")
	git("update-index", "--split-index")
	if _, ok, err := r.StagedFromIndex(filepath.Join(dir, ".git", "index")); ok || err != nil {
		t.Errorf("a split index: ok %v, %v; want git to answer", ok, err)
	}
}

// FuzzParseStagedIndex: whatever an index file holds, the reader takes it
// or refuses it; it never panics or reads past it.
func FuzzParseStagedIndex(f *testing.F) {
	f.Add([]byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x00TREE\x00\x00\x00\x06\x000 0\n" + strings.Repeat("\x00", 20)))
	f.Add([]byte("DIRC\x00\x00\x00\x04\x00\x00\x00\x01" + strings.Repeat("\x00", 62) + "\x00a\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, size := range []int{20, 32} {
			ix, err := parseStagedIndex(data, size)
			if err == nil && ix.root == nil {
				t.Fatal("took an index without a cache of its trees")
			}
		}
	})
}

// BenchmarkStagedFromIndex reads STAGED_INDEX_REPO's index (a bench
// repository with a few paths staged).
func BenchmarkStagedFromIndex(b *testing.B) {
	dir := os.Getenv("STAGED_INDEX_REPO")
	if dir == "" {
		b.Skip("STAGED_INDEX_REPO names no repository")
	}
	r := Runner{Dir: dir}
	for b.Loop() {
		if _, ok, err := r.StagedFromIndex(filepath.Join(dir, ".git", "index")); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

package git

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestReadTrees: the one-process walk reads what ls-tree and cat-file read,
// and refuses what they refuse, with the same words, for every shape of
// tree the server's check has met (but the sizes of blobs it skips, which
// it does not read: -1).
func TestReadTrees(t *testing.T) {
	dir := t.TempDir()
	git := gitIn(t, dir)
	git("init", "-q")
	mktree := func(entries ...string) string { return mkTree(t, dir, entries...) }
	a, b := hashObject(t, dir, "a\n"), hashObject(t, dir, "bb\n")
	leases := mktree("100644 blob "+b+"\tx.yaml", "100644 blob "+a+"\ty.yaml")
	deep := mktree("040000 tree " + leases + "\tinner")
	shapes := map[string]string{
		"state":             mktree("100644 blob "+a+"\tevents.jsonl", "040000 tree "+leases+"\tleases", "100644 blob "+b+"\tsealed", "100755 blob "+a+"\trun", "120000 blob "+b+"\tlink"),
		"one blob twice":    mktree("100644 blob "+a+"\tevents.jsonl", "100644 blob "+a+"\tsealed", "040000 tree "+leases+"\tleases"),
		"deep":              mktree("040000 tree " + deep + "\tdeep"),
		"empty state":       mktree(),
		"twice":             mktree("100644 blob "+a+"\tevents.jsonl", "100644 blob "+b+"\tevents.jsonl"),
		"a file and folder": mktree("040000 tree "+leases+"\tleases", "100644 blob "+a+"\tleases"),
		"empty folder":      mktree("100644 blob "+a+"\tevents.jsonl", "040000 tree "+mktree()+"\tsmuggled"),
		"not a file":        mktree("160000 commit " + strings.Repeat("1", 40) + "\tsub"),
		// Modes git reads as others (canon_mode): ls-tree lists them so.
		"odd permissions": writeRawTree(t, dir, [3]string{"100664", "events.jsonl", a}, [3]string{"100750", "sealed", b}),
		"an unknown mode": writeRawTree(t, dir, [3]string{"60000", "sub", strings.Repeat("1", 40)}),
	}
	skip := func(p string) bool { return p == "sealed" }
	for _, name := range slices.Sorted(maps.Keys(shapes)) {
		commit := git("-c", "user.name=a", "-c", "user.email=a@b.example", "commit-tree", "-m", name, shapes[name])
		r := Runner{Dir: dir}
		files, entries, wantErr := r.ReadTreeSkip(commit, skip)
		var calls []string
		trees, err := counted(r, &calls).ReadTrees([]string{commit, commit}, skip)
		if got := strings.Join(calls, " "); got != "cat-file" {
			t.Errorf("%s: ran git %s, want one cat-file", name, got)
		}
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("%s: ReadTrees refused with %v, ReadTreeSkip with %v", name, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		for path, e := range entries {
			if skip(path) {
				entries[path] = TreeEntry{Mode: e.Mode, OID: e.OID, Size: -1}
			}
		}
		for _, tr := range trees {
			if !maps.EqualFunc(tr.Files, files, bytes.Equal) || !maps.Equal(tr.Entries, entries) {
				t.Errorf("%s: ReadTrees read %q %v, ReadTreeSkip %q %v", name, tr.Files, tr.Entries, files, entries)
			}
		}
	}
}

// TestParseTree: names git never writes are refused, whatever git's own
// tools would make of them.
func TestParseTree(t *testing.T) {
	id := bytes.Repeat([]byte{0xab}, 20)
	entry := func(mode, name string) []byte { return append([]byte(mode+" "+name+"\x00"), id...) }
	for _, tc := range []struct {
		name string
		data []byte
		want string // the items, or the refusal
	}{
		{"a file", entry("100644", "a"), "[{100644 blob a " + hex.EncodeToString(id) + "}]"},
		{"a folder, zero-padded or not", append(entry("40000", "d"), entry("040000", "e")...), "[{040000 tree d " + hex.EncodeToString(id) + "} {040000 tree e " + hex.EncodeToString(id) + "}]"},
		{"a submodule", entry("160000", "s"), "[{160000 commit s " + hex.EncodeToString(id) + "}]"},
		{"a file's odd permissions, as git reads them", append(entry("100664", "f"), entry("100750", "x")...), "[{100644 blob f " + hex.EncodeToString(id) + "} {100755 blob x " + hex.EncodeToString(id) + "}]"},
		{"a mode git does not know: a submodule's", entry("60000", "s"), "[{160000 commit s " + hex.EncodeToString(id) + "}]"},
		{"a link's", entry("120777", "l"), "[{120000 blob l " + hex.EncodeToString(id) + "}]"},
		{"a slash", entry("100644", "leases/x.yaml"), `a tree entry is named "leases/x.yaml"`},
		{"dot dot", entry("40000", ".."), `a tree entry is named ".."`},
		{"no name", entry("100644", ""), `a tree entry is named ""`},
		{"no mode", entry("", "a"), "a tree object is malformed"},
		{"a mode not octal", entry("10064x", "a"), `a tree entry has mode "10064x"`},
		{"an id cut short", entry("100644", "a")[:10], "a tree object is malformed"},
	} {
		items, err := parseTree(tc.data, 20)
		got := fmt.Sprint(items)
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// FuzzParseTree: any bytes give entries or an error, never a panic, and
// every entry is one a walk can take: a name with no slash, an id in hex of
// the length asked, a type its mode says.
func FuzzParseTree(f *testing.F) {
	f.Add([]byte("100644 a\x00"+strings.Repeat("\xab", 20)+"40000 d\x00"+strings.Repeat("\x01", 20)), 20)
	f.Add([]byte("160000 s\x00"+strings.Repeat("\x02", 32)), 32)
	f.Add([]byte("100644 \x00"), 20)
	f.Fuzz(func(t *testing.T, data []byte, idLen int) {
		if idLen != 20 && idLen != 32 {
			return
		}
		items, err := parseTree(data, idLen)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Name == "" || strings.Contains(it.Name, "/") || strings.ContainsRune(it.Name, 0) || len(it.OID) != 2*idLen || len(it.Mode) < 6 {
				t.Fatalf("entry %+v from %q", it, data)
			}
			if want := map[bool]string{true: "tree"}[strings.HasPrefix(it.Mode, "04")]; want != "" && it.Type != want {
				t.Fatalf("entry %+v: a folder's mode, type %s", it, it.Type)
			}
		}
	})
}

// writeRawTree writes a tree object of raw entries (mode, name, hex id),
// as git would never write it if it must.
func writeRawTree(t *testing.T, dir string, entries ...[3]string) string {
	t.Helper()
	var data []byte
	for _, e := range entries {
		id, err := hex.DecodeString(e[2])
		if err != nil {
			t.Fatal(err)
		}
		data = append(append(data, e[0]+" "+e[1]+"\x00"...), id...)
	}
	cmd := exec.Command("git", "hash-object", "-t", "tree", "--literally", "-w", "--stdin")
	cmd.Dir, cmd.Stdin = dir, bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// TestReadTreesOversizedBlob: a file larger than cat-file answers are read
// is refused, not waited on: git, blocked writing the rest of it into a
// pipe no one reads, would never end, and neither would the server's check.
func TestReadTreesOversizedBlob(t *testing.T) {
	dir := t.TempDir()
	git := gitIn(t, dir)
	git("init", "-q")
	big := hashObject(t, dir, string(make([]byte, 1<<26+1)))
	tree := writeRawTree(t, dir, [3]string{"100644", "big", big})
	commit := git("-c", "user.name=a", "-c", "user.email=a@b.example", "commit-tree", "-m", "big", tree)
	done := make(chan error, 1)
	go func() {
		_, err := Runner{Dir: dir}.ReadTrees([]string{commit}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || err.Error() != fmt.Sprintf("git cat-file --batch: %s is 67108865 bytes, more than the 67108864 oxygen reads of one object", big) {
			t.Fatalf("ReadTrees: %v, want the object refused for its size, and nothing of the git cut short for it", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ReadTrees still waits on git after 30s")
	}
}

// TestReadTreesShared: a tree whose folders hold one subtree twice, over
// and over, names 2^n paths in n small objects. Each tree is asked of git
// once, however many paths hold it, and the paths are counted: past the
// bound, refused, at once, not after 2^n questions or a listing of 2^n
// lines. A path nested past any real one is refused too: the paths of a
// deep chain of small trees add up to the square of its depth.
func TestReadTreesShared(t *testing.T) {
	dir := t.TempDir()
	git := gitIn(t, dir)
	git("init", "-q")
	tree := writeRawTree(t, dir, [3]string{"100644", "f", hashObject(t, dir, "a\n")})
	deep := tree
	for range 40 {
		tree = writeRawTree(t, dir, [3]string{"40000", "a", tree}, [3]string{"40000", "b", tree})
	}
	for range 2100 {
		deep = writeRawTree(t, dir, [3]string{"40000", "d", deep})
	}
	for name, tc := range map[string]struct {
		tree, want string
		most       int // questions asked of cat-file
	}{
		"shared": {tree, "more than", 45},     // each of the 42 trees once, not 2^20 paths
		"deep":   {deep, "longer than", 2060}, // 2048 folders deep, a path is 4096 bytes
	} {
		commit := git("-c", "user.name=a", "-c", "user.email=a@b.example", "commit-tree", "-m", name, tc.tree)
		var asked lineCounter
		r := Runner{Dir: dir, Exec: func(cmd *exec.Cmd) error {
			asked.r = cmd.Stdin
			cmd.Stdin = &asked
			return cmd.Run()
		}}
		_, err := r.ReadTrees([]string{commit}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ReadTrees: %v, want %q", name, err, tc.want)
		}
		if asked.n > tc.most {
			t.Errorf("%s: %d questions asked of cat-file, want at most %d", name, asked.n, tc.most)
		}
	}
}

// lineCounter counts the lines read through it.
type lineCounter struct {
	r io.Reader
	n int
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += bytes.Count(p[:n], []byte("\n"))
	return n, err
}

// TestReadTreesGitGone: a cat-file that ends on its own in the middle of the
// walk (killed, or out of memory) ends the walk at once, with its own words,
// where the walk would wait for its next answer for ever.
func TestReadTreesGitGone(t *testing.T) {
	for name, script := range map[string]string{
		"after the first question": "read l; echo 'fatal: gone' >&2; exit 128",
		"before any":               "echo 'fatal: gone' >&2; exit 128",
	} {
		r := Runner{Exec: func(cmd *exec.Cmd) error {
			cmd.Path, cmd.Args = "/bin/sh", []string{"sh", "-c", script}
			return cmd.Run()
		}}
		done := make(chan error, 1)
		go func() {
			_, err := r.ReadTrees([]string{strings.Repeat("1", 40)}, nil)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || err.Error() != "git cat-file: gone" {
				t.Errorf("%s: ReadTrees: %v, want git's own words", name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: ReadTrees still waits on a git that is gone, after 10s", name)
		}
	}
}

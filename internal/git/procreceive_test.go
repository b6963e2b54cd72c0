package git

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pkts is pkt-lines as receive-pack writes them; "" is a flush packet.
func pkts(lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		if l == "" {
			b.WriteString("0000")
			continue
		}
		fmt.Fprintf(&b, "%04x%s\n", len(l)+5, l)
	}
	return b.String()
}

func TestReadProcReceive(t *testing.T) {
	zero, a := strings.Repeat("0", 40), strings.Repeat("a", 40)
	for _, c := range []struct {
		name, in string
		ups      []ProcReceiveUpdate
		opts     []string
		atomic   bool
		err      string
	}{
		{
			name: "with push options",
			in:   pkts("version=1\x00push-options", "", zero+" "+a+" refs/oxygen/acts/claim", "", "oxygen-act={}", ""),
			ups:  []ProcReceiveUpdate{{zero, a, "refs/oxygen/acts/claim"}},
			opts: []string{"oxygen-act={}"},
		},
		{
			name:   "an atomic push",
			in:     pkts("version=1\x00push-options atomic", "", zero+" "+a+" refs/oxygen/acts/claim", "", "oxygen-act={}", ""),
			ups:    []ProcReceiveUpdate{{zero, a, "refs/oxygen/acts/claim"}},
			opts:   []string{"oxygen-act={}"},
			atomic: true,
		},
		{
			name: "options offered, none sent",
			in:   pkts("version=1\x00push-options", "", zero+" "+a+" refs/oxygen/acts/claim", "", ""),
			ups:  []ProcReceiveUpdate{{zero, a, "refs/oxygen/acts/claim"}},
		},
		{
			// receive.advertisePushOptions off: no section follows, and
			// waiting for one would wait for ever.
			name: "options not offered",
			in:   pkts("version=1", "", zero+" "+a+" refs/oxygen/acts/claim", ""),
			ups:  []ProcReceiveUpdate{{zero, a, "refs/oxygen/acts/claim"}},
		},
		{name: "another version", in: pkts("version=2", ""), err: `receive-pack asks for "version=2"`},
		{name: "a bad update", in: pkts("version=1", "", zero+" "+a, ""), err: `want "<old> <new> <ref>"`},
		{name: "a bad id", in: pkts("version=1", "", zero+" xyz refs/x", ""), err: `want "<old> <new> <ref>"`},
		{name: "cut short", in: pkts("version=1", "", zero+" "+a+" refs/x"), err: "unexpected EOF"},
		{name: "bad length", in: "00zz", err: `bad pkt-line length "00zz"`},
		{name: "length under 4", in: "0003", err: `bad pkt-line length "0003"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			pr, err := ReadProcReceive(bufio.NewReader(strings.NewReader(c.in)), &out)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pr.Updates, c.ups) || !slices.Equal(pr.Options, c.opts) || pr.Atomic != c.atomic {
				t.Errorf("got %+v, want %v %q atomic %v", pr, c.ups, c.opts, c.atomic)
			}
			if want := pkts("version=1\x00push-options", ""); out.String() != want {
				t.Errorf("hook said %q, want %q", out.String(), want)
			}
		})
	}
}

func TestWriteProcReceive(t *testing.T) {
	var out bytes.Buffer
	err := WriteProcReceive(&out, []ProcReceiveAnswer{
		{Ref: "refs/oxygen/acts/claim", Moved: "refs/oxygen/state", Old: "o", New: "n"},
		{Ref: "refs/oxygen/acts/release", Refused: "schema is leased\nby builder"},
		{Ref: "refs/oxygen/acts/x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := pkts("ok refs/oxygen/acts/claim", "option refname refs/oxygen/state", "option old-oid o", "option new-oid n",
		"ng refs/oxygen/acts/release schema is leased by builder", "ok refs/oxygen/acts/x", "")
	if out.String() != want {
		t.Errorf("wrote %q, want %q", out.String(), want)
	}
}

// FuzzReadProcReceive: whatever receive-pack (or anything in its place)
// writes, the reader ends with an answer or a one-line error, and never
// takes an update it could not name.
func FuzzReadProcReceive(f *testing.F) {
	zero, a := strings.Repeat("0", 40), strings.Repeat("a", 40)
	f.Add(pkts("version=1\x00push-options atomic", "", zero+" "+a+" refs/oxygen/acts/claim", "", "oxygen-act={}", ""))
	f.Add(pkts("version=1", "", zero+" "+a+" refs/x", ""))
	f.Add("0000")
	f.Add("ffff" + strings.Repeat("x", 100))
	f.Fuzz(func(t *testing.T, in string) {
		pr, err := ReadProcReceive(bufio.NewReader(strings.NewReader(in)), new(bytes.Buffer))
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		for _, up := range pr.Updates {
			if !IsObjectID(up.Old) || !IsObjectID(up.New) || up.Ref == "" || strings.Contains(up.Ref, " ") {
				t.Fatalf("took %+v", up)
			}
		}
	})
}

// TestReadTip: the ref's commit and its tree, read by one cat-file; a ref
// that does not exist is none.
func TestReadTip(t *testing.T) {
	dir := t.TempDir()
	git := gitIn(t, dir)
	git("init", "-q", "--bare", "r.git")
	repo := filepath.Join(dir, "r.git")
	r := Runner{Dir: repo, Env: []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}}
	tip, tree, err := r.ReadTip("refs/oxygen/state", nil)
	if err != nil || tip != "" || tree.Files != nil {
		t.Fatalf("no ref: %q %v %v", tip, tree, err)
	}
	commit, err := r.WriteCommit(repo, StateCommit{Ref: "refs/oxygen/state", Put: map[string][]byte{"events.jsonl": []byte("e\n"), "leases/a.yaml": []byte("a\n")}, By: "a@b.example", Message: "m"})
	if err != nil {
		t.Fatal(err)
	}
	tip, tree, err = r.ReadTip("refs/oxygen/state", func(p string) bool { return strings.HasPrefix(p, "leases/") })
	if err != nil || tip != commit {
		t.Fatalf("ReadTip = %q, %v; want %s", tip, err, commit)
	}
	if string(tree.Files["events.jsonl"]) != "e\n" || tree.Files["leases/a.yaml"] != nil || tree.Entries["leases/a.yaml"].Size != -1 {
		t.Errorf("tree = %+v", tree)
	}
}

// TestWriteCommitOntoRef: a commit written onto a ref moves it only as a
// fast-forward of what it holds; another's commit there meanwhile stops it.
func TestWriteCommitOntoRef(t *testing.T) {
	dir := t.TempDir()
	gitIn(t, dir)("init", "-q", "--bare", "r.git")
	repo := filepath.Join(dir, "r.git")
	r := Runner{Dir: repo, Env: []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}}
	put := map[string][]byte{"events.jsonl": []byte("1\n")}
	first, err := r.WriteCommit(repo, StateCommit{Ref: "refs/oxygen/state", Put: put, By: "a@b.example", Message: "1"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.WriteCommit(repo, StateCommit{Ref: "refs/oxygen/state", Parent: first, Put: put, By: "a@b.example", Message: "2"})
	if err != nil {
		t.Fatal(err)
	}
	// Written on first, as a writer that read the ref before second came.
	if _, err := r.WriteCommit(repo, StateCommit{Ref: "refs/oxygen/state", Parent: first, Put: put, By: "a@b.example", Message: "3"}); err == nil {
		t.Error("a commit that does not hold the ref's moved it")
	}
	if tip, err := r.RefID("refs/oxygen/state"); err != nil || tip != second {
		t.Errorf("the ref is %q (%v), want %s", tip, err, second)
	}
	if entries, _ := os.ReadDir(filepath.Join(repo, "refs", "oxygen")); len(entries) != 1 {
		t.Errorf("refs/oxygen holds %d refs, want the state ref alone (no scratch ref)", len(entries))
	}
}

// TestEmptyTree: the ids are git's own, in either object format.
func TestEmptyTree(t *testing.T) {
	dir := t.TempDir()
	git := gitIn(t, dir)
	for _, format := range []string{"sha1", "sha256"} {
		git("init", "-q", "--object-format="+format, format)
		if got := git("-C", format, "hash-object", "-t", "tree", "/dev/null"); got != EmptyTree(format) {
			t.Errorf("%s: git says %s, EmptyTree %s", format, got, EmptyTree(format))
		}
		d, err := (Runner{Dir: filepath.Join(dir, format), Env: []string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}}).Dirs()
		if err != nil || d.ObjectFormat != format {
			t.Errorf("%s: Dirs says %q (%v)", format, d.ObjectFormat, err)
		}
	}
}

package git_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/oxygen-protocol/oxygen/internal/git"
)

var splitNULTests = []struct {
	in   string
	want []string
}{
	{"", nil},
	{"\x00", []string{""}},
	{"a", []string{"a"}},
	{"a\x00", []string{"a"}},
	{"a\x00b", []string{"a", "b"}},
	{"a\x00b\x00", []string{"a", "b"}},
	{"a\x00\x00b\x00", []string{"a", "", "b"}},
	{"with space\x00new\nline\x00tab\there\x00", []string{"with space", "new\nline", "tab\there"}},
	{"\xff\xfe bytes\x00é\x00", []string{"\xff\xfe bytes", "é"}},
	{"docs/a b/c.md\x00\"quoted\"\x00", []string{"docs/a b/c.md", `"quoted"`}},
}

func TestSplitNUL(t *testing.T) {
	for _, tt := range splitNULTests {
		if got := git.SplitNUL([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitNUL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

const (
	oid1 = "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"
	oid2 = "8ab686eafeb1f44702738c8b0f24f2567c36da6d"
)

func obj(oid, typ, content string) string {
	return fmt.Sprintf("%s %s %d\n%s\n", oid, typ, len(content), content)
}

// parseBatchTests are `git cat-file --batch` outputs: want is one entry per
// spec, "missing" or the content; err a substring of the error.
var parseBatchTests = []struct {
	name  string
	specs []string
	out   string
	want  []string
	err   string
}{
	{"nothing asked", nil, "", nil, ""},
	{"present", []string{"HEAD:resources.yaml"}, obj(oid1, "blob", "version: 1\n"), []string{"version: 1\n"}, ""},
	{"empty blob", []string{":a"}, obj(oid1, "blob", ""), []string{""}, ""},
	{"binary content", []string{":a"}, obj(oid1, "blob", "a\x00b\nc\r\n\xff"), []string{"a\x00b\nc\r\n\xff"}, ""},
	{"content that looks like a header", []string{":a", ":b"}, obj(oid1, "blob", oid2+" blob 3\nabc") + obj(oid2, "blob", "x"), []string{oid2 + " blob 3\nabc", "x"}, ""},
	{"missing", []string{"HEAD:resources.yaml"}, "HEAD:resources.yaml missing\n", []string{"missing"}, ""},
	{"ambiguous", []string{"abc"}, "abc ambiguous\n", []string{"missing"}, ""},
	{"in order", []string{"HEAD:a", "HEAD:b", ":c"}, obj(oid1, "blob", "one") + "HEAD:b missing\n" + obj(oid2, "blob", "three"), []string{"one", "missing", "three"}, ""},
	{"sha-256 ids", []string{":a"}, obj(strings.Repeat("ab", 32), "blob", "x"), []string{"x"}, ""},
	{"tree", []string{"HEAD:docs", ":a"}, obj(oid1, "tree", "100644 a\x00"+strings.Repeat("\x01", 20)) + obj(oid2, "blob", "after"), []string{"missing", "after"}, ""},
	{"commit", []string{"HEAD"}, obj(oid1, "commit", "tree "+oid2+"\n\nmsg\n"), []string{"missing"}, ""},
	{"no output", []string{"HEAD:a"}, "", nil, "truncated output for HEAD:a"},
	{"output for fewer specs", []string{"HEAD:a", "HEAD:b"}, obj(oid1, "blob", "one"), nil, "truncated output for HEAD:b"},
	{"header without newline", []string{"HEAD:a"}, oid1 + " blob 3", nil, "truncated output for HEAD:a"},
	{"truncated content", []string{"HEAD:a"}, oid1 + " blob 10\nabc", nil, "truncated object HEAD:a"},
	{"content without its newline", []string{"HEAD:a"}, oid1 + " blob 3\nabc", nil, "truncated object HEAD:a"},
	{"size too small", []string{"HEAD:a"}, oid1 + " blob 3\nabcdef\n", nil, "HEAD:a"},
	{"size too large", []string{"HEAD:a", "HEAD:b"}, oid1 + " blob 4\nabc\n" + obj(oid2, "blob", "x"), nil, "HEAD:"},
	{"bad header", []string{"HEAD:a"}, "garbage\n", nil, `bad header "garbage" for HEAD:a`},
	{"empty header", []string{"HEAD:a"}, "\n", nil, "bad header"},
	{"size not a number", []string{"HEAD:a"}, oid1 + " blob x\n", nil, "bad header"},
	{"negative size", []string{"HEAD:a"}, oid1 + " blob -1\n", nil, "bad header"},
	{"signed size", []string{"HEAD:a"}, oid1 + " blob +3\nabc\n", nil, "bad header"},
	{"hex size", []string{"HEAD:a"}, oid1 + " blob 0x3\nabc\n", nil, "bad header"},
	{"size with trailing junk", []string{"HEAD:a"}, oid1 + " blob 3x\nabc\n", nil, "bad header"},
	{"extra field", []string{"HEAD:a"}, oid1 + " blob 3 more\nabc\n", nil, "bad header"},
	{"huge size", []string{"HEAD:a"}, oid1 + " blob 67108865\n", nil, "more than the 67108864 oxygen reads"},
	{"size beyond int64", []string{"HEAD:a"}, oid1 + " blob 99999999999999999999\n", nil, "bad header"},
}

func TestParseBatch(t *testing.T) {
	for _, tt := range parseBatchTests {
		t.Run(tt.name, func(t *testing.T) {
			blobs, err := git.ParseBatch(strings.NewReader(tt.out), tt.specs)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseBatch = %+v, %v; want an error containing %q", blobs, err, tt.err)
				}
				if !strings.HasPrefix(err.Error(), "git cat-file --batch: ") {
					t.Errorf("error %q does not say which command", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(blobs) != len(tt.want) {
				t.Fatalf("got %d blobs, want %d", len(blobs), len(tt.want))
			}
			for i, b := range blobs {
				if b.Spec != tt.specs[i] {
					t.Errorf("blob %d: Spec = %q, want %q", i, b.Spec, tt.specs[i])
				}
				switch {
				case tt.want[i] == "missing" && (!b.Missing || b.Data != nil):
					t.Errorf("%s: %+v, want Missing and no data", b.Spec, b)
				case tt.want[i] != "missing" && (b.Missing || string(b.Data) != tt.want[i]):
					t.Errorf("%s: Missing %v, Data %q; want %q", b.Spec, b.Missing, b.Data, tt.want[i])
				}
			}
		})
	}
}

func TestParseBatchLarge(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	out := fmt.Sprintf("%s blob %d\n%s\n", oid1, len(content), content)
	blobs, err := git.ParseBatch(strings.NewReader(out), []string{":big"})
	if err != nil || len(blobs) != 1 || !bytes.Equal(blobs[0].Data, content) {
		t.Fatalf("ParseBatch of a 1 MiB blob: %v (%d blobs)", err, len(blobs))
	}
}

var parseMergeHeadsTests = []struct {
	name string
	in   string
	want []string
	err  string
}{
	{"empty", "", nil, ""},
	{"one", oid1 + "\n", []string{oid1}, ""},
	{"no final newline", oid1, []string{oid1}, ""},
	{"octopus", oid1 + "\n" + oid2 + "\n", []string{oid1, oid2}, ""},
	{"sha-256", strings.Repeat("0123456789abcdef", 4) + "\n", []string{strings.Repeat("0123456789abcdef", 4)}, ""},
	{"blank lines and spaces", "\n  " + oid1 + "  \n\n\t" + oid2 + "\r\n\n", []string{oid1, oid2}, ""},
	{"only blank lines", "\n\n \n", nil, ""},
	{"garbage", "not an id\n", nil, `MERGE_HEAD: "not an id" is not an object id`},
	{"garbage after a good line", oid1 + "\nxyz\n", nil, `"xyz" is not an object id`},
	{"upper case", strings.ToUpper(oid1) + "\n", nil, "is not an object id"},
	{"39 digits", oid1[:39] + "\n", nil, "is not an object id"},
	{"41 digits", oid1 + "0\n", nil, "is not an object id"},
	{"FETCH_HEAD line", oid1 + "\t\tbranch 'main' of ../remote\n", nil, "is not an object id"},
	{"two on a line", oid1 + " " + oid2 + "\n", nil, "is not an object id"},
}

func TestParseMergeHeads(t *testing.T) {
	for _, tt := range parseMergeHeadsTests {
		got, err := git.ParseMergeHeads([]byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || got != nil {
				t.Errorf("%s: ParseMergeHeads = %q, %v; want an error containing %q", tt.name, got, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ParseMergeHeads = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestIsObjectID(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{oid1, true}, {strings.Repeat("0", 40), true}, {strings.Repeat("f", 64), true},
		{"", false}, {oid1[:39], false}, {oid1 + "a", false}, {strings.Repeat("f", 63), false},
		{strings.ToUpper(oid1), false}, {strings.Repeat("g", 40), false}, {"HEAD", false},
	}
	for _, tt := range tests {
		if got := git.IsObjectID(tt.s); got != tt.want {
			t.Errorf("IsObjectID(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestParseIdentEmail(t *testing.T) {
	tests := []struct {
		ident string
		want  string
		ok    bool
	}{
		{"A U Thor <author@example.com> 1700000000 +0000\n", "author@example.com", true},
		{"A U Thor <author@example.com> 1700000000 +0000", "author@example.com", true},
		{"<a@b.example> 1 -0700", "a@b.example", true},
		{"Ada Lovelace <Ada@Builder.Example> 1700000000 +0100", "Ada@Builder.Example", true},
		{"No Mail <> 1700000000 +0000", "", true},
		{"Name <with space@example.com> 1 +0000", "with space@example.com", true},
		{"Zoë <zoë@exämple.com> 1 +0000", "zoë@exämple.com", true},
		{"", "", false},
		{"Name only", "", false},
		{"Name a@b.example 1 +0000", "", false},
		{"Name <a@b.example 1 +0000", "", false},
		{"Name a@b.example> 1 +0000", "", false},
		{"Name > <a@b.example", "", false},
	}
	for _, tt := range tests {
		got, ok := git.ParseIdentEmail(tt.ident)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseIdentEmail(%q) = %q, %v; want %q, %v", tt.ident, got, ok, tt.want, tt.ok)
		}
	}
}

// TestDirsWithStops: git stops at the first spec it cannot resolve, so
// DirsWith answers for the specs up to that one and no further.
func TestDirsWithStops(t *testing.T) {
	dir := t.TempDir()
	r := git.Runner{Dir: dir}
	for _, args := range [][]string{
		{"init", "-q"},
		{"-c", "user.email=a@b.example", "-c", "user.name=A", "commit", "-q", "--allow-empty", "-m", "a"},
	} {
		if _, err := r.Run(nil, args...); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		specs []string
		want  []string // "id": an object id
	}{
		{[]string{"HEAD"}, []string{"id"}},
		{[]string{"HEAD", "HEAD^{tree}"}, []string{"id", "id"}},
		{[]string{"HEAD:nope", "HEAD"}, []string{""}},
		{[]string{"HEAD", "HEAD:nope", "HEAD"}, []string{"id", ""}},
	}
	for _, tt := range tests {
		d, ids, err := r.DirsWith(tt.specs...)
		if err != nil || d.GitDir == "" {
			t.Fatalf("DirsWith(%q): %v, %+v", tt.specs, err, d)
		}
		if len(ids) != len(tt.want) {
			t.Fatalf("DirsWith(%q) = %q, want %q", tt.specs, ids, tt.want)
		}
		for i, id := range ids {
			if (tt.want[i] == "id") != git.IsObjectID(id) {
				t.Errorf("DirsWith(%q) = %q, want %q", tt.specs, ids, tt.want)
			}
		}
	}
}

// TestPinnedConfig: every git command runs with replace refs off, as a
// command-line setting after any the caller made, which still hold.
func TestPinnedConfig(t *testing.T) {
	r := git.Runner{Dir: t.TempDir(), Env: []string{
		"GIT_CONFIG_PARAMETERS='oxygen.test'='kept' 'core.usereplacerefs'='true'", // as git -c passes them on
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=core.useReplaceRefs", "GIT_CONFIG_VALUE_0=true",
	}}
	if _, err := r.Run(nil, "init", "-q"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(nil, "config", "core.useReplaceRefs", "true"); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"core.useReplaceRefs": "false", "oxygen.test": "kept"} {
		out, err := r.Run(nil, "config", "--get", key)
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("git config %s = %q, %v; want %q", key, out, err, want)
		}
	}
}

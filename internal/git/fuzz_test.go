package git_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/oxygen-protocol/oxygen/internal/git"
)

// FuzzParseBatch: ParseBatch never panics, answers every spec in order or
// errs; and what git would print for the fuzzed contents reads back exactly.
func FuzzParseBatch(f *testing.F) {
	for _, tt := range parseBatchTests {
		f.Add([]byte(tt.out), uint8(len(tt.specs)))
	}
	f.Fuzz(func(t *testing.T, out []byte, n uint8) {
		specs := make([]string, n%8)
		for i := range specs {
			specs[i] = fmt.Sprintf("HEAD:f%d", i)
		}
		blobs, err := git.ParseBatch(bytes.NewReader(out), specs)
		if err == nil {
			if len(blobs) != len(specs) {
				t.Fatalf("%d blobs for %d specs", len(blobs), len(specs))
			}
			total := 0
			for i, b := range blobs {
				if b.Spec != specs[i] || b.Missing && b.Data != nil {
					t.Fatalf("blob %d = %+v", i, b)
				}
				total += len(b.Data)
			}
			if total > len(out) {
				t.Fatalf("%d bytes of content from %d bytes of output", total, len(out))
			}
		} else if blobs != nil {
			t.Fatalf("blobs %+v with error %v", blobs, err)
		}

		// Round trip: the fuzzed bytes, split at NULs, as git prints them,
		// with a missing object between each.
		contents := bytes.Split(out, []byte{0})
		var buf bytes.Buffer
		var rtSpecs []string
		for i, c := range contents {
			fmt.Fprintf(&buf, "%040x blob %d\n%s\n", i, len(c), c)
			fmt.Fprintf(&buf, "HEAD:gone%d missing\n", i)
			rtSpecs = append(rtSpecs, fmt.Sprintf(":c%d", i), fmt.Sprintf("HEAD:gone%d", i))
		}
		blobs, err = git.ParseBatch(&buf, rtSpecs)
		if err != nil {
			t.Fatalf("well-formed output: %v", err)
		}
		for i, c := range contents {
			if b := blobs[2*i]; b.Missing || !bytes.Equal(b.Data, c) {
				t.Fatalf("object %d = %+v, want %q", i, b, c)
			}
			if !blobs[2*i+1].Missing {
				t.Fatalf("missing object %d came back %+v", i, blobs[2*i+1])
			}
		}
	})
}

// FuzzParseMergeHeads: never panics; returns only object ids, one for each
// line that is not blank, or an error.
func FuzzParseMergeHeads(f *testing.F) {
	for _, tt := range parseMergeHeadsTests {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := git.ParseMergeHeads(data)
		if err != nil {
			if ids != nil {
				t.Fatalf("ids %q with error %v", ids, err)
			}
			return
		}
		lines := 0
		for _, l := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(l) != "" {
				lines++
			}
		}
		if len(ids) != lines {
			t.Fatalf("%d ids from %d non-blank lines", len(ids), lines)
		}
		for _, id := range ids {
			if !git.IsObjectID(id) {
				t.Fatalf("%q is not an object id", id)
			}
		}
	})
}

// FuzzSplitNUL: joining the records back gives the input, less a final NUL.
func FuzzSplitNUL(f *testing.F) {
	for _, tt := range splitNULTests {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		recs := git.SplitNUL(b)
		joined := strings.Join(recs, "\x00")
		want := strings.TrimSuffix(string(b), "\x00")
		if len(recs) == 0 {
			want = string(b)
		}
		if joined != want {
			t.Fatalf("SplitNUL(%q) = %q", b, recs)
		}
	})
}

// FuzzEachTrackedFile: however git's output arrives in pieces, every
// NUL-terminated path comes out once, in order, and nothing else does.
func FuzzEachTrackedFile(f *testing.F) {
	f.Add([]byte("a\x00b/c\x00"), uint8(0))
	f.Add([]byte("dir/x\x00\x00y"), uint8(2))
	f.Add([]byte(strings.Repeat("p", 70000)+"\x00q\x00"), uint8(6))
	f.Fuzz(func(t *testing.T, out []byte, piece uint8) {
		size := int(piece)%7 + 1
		r := git.Runner{Exec: func(cmd *exec.Cmd) error {
			for b := out; len(b) > 0; b = b[min(size, len(b)):] {
				if _, err := cmd.Stdout.Write(b[:min(size, len(b))]); err != nil {
					return err
				}
			}
			return nil
		}}
		var got []string
		if err := r.EachTrackedFile(func(p string) { got = append(got, p) }); err != nil {
			t.Fatal(err)
		}
		recs := strings.Split(string(out), "\x00")
		want := slices.DeleteFunc(recs[:len(recs)-1], func(s string) bool { return s == "" })
		if !slices.Equal(got, want) {
			t.Fatalf("%d-byte pieces of %q: got %q, want %q", size, out, got, want)
		}
	})
}

package git

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestResolveCommits: the ends of a range resolved in one git process are
// what ResolveCommit gives them one at a time, in two: the same ids, the
// same error for the first that does not resolve (revisions that look like
// options, trees, names git cannot take on a line, HEAD@{99}, on which git
// cat-file dies), and each commit's committer time as git log's %ct.
func TestResolveCommits(t *testing.T) {
	dir, g := indexRepo(t)
	g("-c", "user.email=bob@example.com", "commit", "-q", "--allow-empty", "--date=2020-01-02T03:04:05Z", "-m", "two")
	g("tag", "-a", "-m", "a tag", "v1", "HEAD~1")
	r := Runner{Dir: dir}
	one := func(rev string) (string, error) { return r.ResolveCommit(rev) }
	revs := []string{"HEAD", "HEAD~1", "v1", "main", "nope", "-rf", "--all", "HEAD^{tree}", "HEAD@{99}", "HEAD\nHEAD", "1111111111111111111111111111111111111111", "HEAD HEAD"}
	for _, a := range revs {
		for _, b := range []string{"HEAD", "v1", "nope"} {
			var calls []string
			got, err := counted(r, &calls).ResolveCommits(a, b)
			var want []string
			var werr error
			for _, rev := range []string{a, b} {
				id, err := one(rev)
				if err != nil {
					werr = err
					break
				}
				want = append(want, id)
			}
			label := fmt.Sprintf("%q..%q", a, b)
			switch {
			case werr != nil:
				if err == nil || err.Error() != werr.Error() {
					t.Errorf("%s: %v, want %v", label, err, werr)
				}
			case err != nil:
				t.Errorf("%s: %v, want %q", label, err, want)
			case got[0].ID != want[0] || got[1].ID != want[1]:
				t.Errorf("%s: %+v, want %q", label, got, want)
			default:
				for _, c := range got {
					ct, err := strconv.ParseInt(g("log", "-1", "--format=%ct", c.ID), 10, 64)
					if err != nil || !c.Time.Equal(time.Unix(ct, 0)) {
						t.Errorf("%s: %s's time %v, want %d (%v)", label, c.ID, c.Time, ct, err)
					}
				}
				if !slices.Equal(calls, []string{"cat-file"}) {
					t.Errorf("%s: git %q, want one cat-file", label, calls)
				}
			}
		}
	}

	// A shallow clone that lacks the revision says so.
	shallow := t.TempDir()
	gitIn(t, shallow)("clone", "-q", "--depth", "1", "file://"+dir, "c")
	r = Runner{Dir: shallow + "/c"}
	if _, err := r.ResolveCommits("HEAD~1", "HEAD"); !errors.Is(err, ErrShallow) {
		t.Errorf("HEAD~1 in a shallow clone: %v, want ErrShallow", err)
	}
}

// TestCommitterTime: the committer time is the number after the last '>'
// of the header's committer line; none, or none that parses, is zero.
func TestCommitterTime(t *testing.T) {
	for _, c := range []struct {
		obj  string
		want int64
	}{
		{"tree 4b82\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 1700000000 +0100\n\nmsg\ncommitter X <x> 5 +0000\n", 1700000000},
		{"tree 4b82\ncommitter C <c> <odd> 42 -0700\n", 42},
		{"tree 4b82\nauthor A <a@x> 1 +0000\n\ncommitter C <c@x> 7 +0000\n", 0},
		{"committer C <c@x>\n", 0},
		{"committer C <c@x> soon +0000", 0},
		{"", 0},
	} {
		got := CommitterTime([]byte(c.obj))
		if want := time.Unix(c.want, 0); c.want == 0 && !got.IsZero() || c.want != 0 && !got.Equal(want) {
			t.Errorf("CommitterTime(%q) = %v, want %d", c.obj, got, c.want)
		}
	}
}

package cli

import (
	"slices"
	"testing"

	"github.com/oxygen-protocol/oxygen/internal/git"
)

// TestRefsReaching: each commit is named by the pushed refs whose tips
// reach it through parents, at most maxRefsNamed of them.
func TestRefsReaching(t *testing.T) {
	//  a <- b <- c (refs/heads/c)
	//        \<- d (refs/heads/d) <- m (refs/tags/m, merging c)
	//  e <- f (refs/heads/f...f5: more refs than are named)
	commits := []git.Commit{
		{ID: "a"}, {ID: "b", Parents: []string{"a"}}, {ID: "c", Parents: []string{"b"}},
		{ID: "d", Parents: []string{"b"}}, {ID: "m", Parents: []string{"d", "c"}},
		{ID: "e"}, {ID: "f", Parents: []string{"e"}}, {ID: "f2", Parents: []string{"e"}},
		{ID: "f3", Parents: []string{"e"}}, {ID: "f4", Parents: []string{"e"}},
	}
	tips := map[string]string{"c": "refs/heads/c", "d": "refs/heads/d", "m": "refs/tags/m",
		"f": "refs/heads/f", "f2": "refs/heads/f2", "f3": "refs/heads/f3", "f4": "refs/heads/f4"}
	got := refsReaching(commits, tips)
	want := map[string][]string{
		"a": {"refs/tags/m", "refs/heads/d", "refs/heads/c"},
		"b": {"refs/tags/m", "refs/heads/d", "refs/heads/c"},
		"c": {"refs/tags/m", "refs/heads/c"},
		"d": {"refs/tags/m", "refs/heads/d"},
		"m": {"refs/tags/m"},
		"f": {"refs/heads/f"},
	}
	for id, refs := range want {
		g := slices.Sorted(slices.Values(got[id]))
		w := slices.Sorted(slices.Values(refs))
		if !slices.Equal(g, w) {
			t.Errorf("refs reaching %s = %q, want %q", id, got[id], refs)
		}
	}
	if n := len(got["e"]); n != maxRefsNamed {
		t.Errorf("refs reaching e: %q, want %d of the 4", got["e"], maxRefsNamed)
	}
}

// TestShadows: the names git's lookup of HEAD, or of a full ref name,
// tries in its place, in any case; nothing else.
func TestShadows(t *testing.T) {
	for ref, want := range map[string]string{
		"refs/heads/HEAD":                     "HEAD",
		"refs/tags/HEAD":                      "HEAD",
		"refs/HEAD":                           "HEAD",
		"refs/remotes/HEAD":                   "HEAD",
		"refs/remotes/HEAD/HEAD":              "HEAD",
		"refs/heads/head":                     "HEAD",
		"refs/heads/refs/heads/main":          "refs/heads/main",
		"refs/tags/refs/remotes/origin/HEAD":  "refs/remotes/origin/HEAD",
		"refs/refs/heads/main":                "refs/heads/main",
		"refs/remotes/refs/heads/main/HEAD":   "refs/heads/main/HEAD",
		"refs/heads/Refs/oxygen/remotes/x":    "Refs/oxygen/remotes/x",
		"refs/heads/refs/oxygen/state":        "refs/oxygen/state",
		"refs/heads/REFS/Oxygen/State":        "REFS/Oxygen/State",
		"refs/heads/main":                     "",
		"refs/heads/HEADS":                    "",
		"refs/heads/x/HEAD":                   "",
		"refs/remotes/origin/HEAD":            "",
		"refs/heads/x/refs/heads/main":        "",
		"refs/tags/v1":                        "",
		"refs/heads/refsx/heads/main":         "",
		"refs/oxygen/state":                   "",
		"refs/remotes/origin/refs/heads/main": "",
	} {
		if got := shadows(ref); got != want {
			t.Errorf("shadows(%s) = %q, want %q", ref, got, want)
		}
	}
}

// TestActsSpelling: the acts' refs in other case are told from the acts'
// refs themselves and from refs that only begin alike.
func TestActsSpelling(t *testing.T) {
	for ref, want := range map[string]bool{
		"refs/oxygen/acts":           false,
		"refs/oxygen/acts/claim":     false,
		"refs/oxygen/acts/CLAIM":     false,
		"refs/oxygen/actsx":          false,
		"refs/oxygen/state":          false,
		"refs/heads/acts":            false,
		"refs/oxygen/Acts":           true,
		"refs/Oxygen/acts/claim":     true,
		"refs/oxygen/ACTS/claim":     true,
		"refs/oxygen/aCts/x/y":       true,
		"refs/oxygen/ACTSX/claim":    false,
		"refs/oxygen/acts-old/claim": false,
	} {
		if got := actsSpelling(ref); got != want {
			t.Errorf("actsSpelling(%q) = %v, want %v", ref, got, want)
		}
	}
}

package git

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestParentsFirst: every commit comes after its parents among the list,
// whatever order git log gave (a parent dated after its child comes first
// in git's date order); a linear history comes out oldest first.
func TestParentsFirst(t *testing.T) {
	c := func(id string, parents ...string) Commit { return Commit{ID: id, Parents: parents} }
	tests := []struct {
		name string
		in   []Commit // as git log lists them
		want []string
	}{
		{"empty", nil, []string{}},
		{"linear", []Commit{c("c", "b"), c("b", "a"), c("a", "root")}, []string{"a", "b", "c"}},
		{"a parent listed before its child", []Commit{c("m", "x", "y"), c("y", "x"), c("x", "base")}, []string{"x", "y", "m"}},
		{"skewed dates", []Commit{c("p"), c("m", "p", "q"), c("q", "p")}, []string{"p", "q", "m"}},
		{"two roots", []Commit{c("m", "r1", "r2"), c("r2"), c("r1")}, []string{"r1", "r2", "m"}},
		{"parents outside the range", []Commit{c("b", "out1"), c("a", "out2")}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range ParentsFirst(tt.in) {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestLogParentsFirst: on a real history of merges and commits dated out
// of order, Log lists every commit of the range once, each after its
// parents in the range, and the same linear history as git log --reverse
// --topo-order.
func TestLogParentsFirst(t *testing.T) {
	dir := t.TempDir()
	g := gitIn(t, dir)
	g("init", "-q", "-b", "main")
	g("config", "user.email", "a@b.c")
	g("config", "user.name", "A")
	commit := func(msg string, at int) {
		g("commit", "-q", "--allow-empty", "-m", msg, "--date", fmt.Sprintf("@%d +0000", at))
	}
	t.Setenv("GIT_COMMITTER_DATE", "")
	for i := range 5 {
		t.Setenv("GIT_COMMITTER_DATE", fmt.Sprintf("@%d +0000", 1700000000+i*10))
		commit(fmt.Sprintf("line %d", i), 1700000000+i*10)
	}
	g("checkout", "-q", "-b", "side", "HEAD~3")
	for i := range 4 { // dated after main's, then before
		t.Setenv("GIT_COMMITTER_DATE", fmt.Sprintf("@%d +0000", 1700000100-i*40))
		commit(fmt.Sprintf("side %d", i), 1700000100-i*40)
	}
	g("checkout", "-q", "main")
	t.Setenv("GIT_COMMITTER_DATE", "@1700000500 +0000")
	g("merge", "-q", "--no-ff", "-m", "merge side", "side")
	r := Runner{Dir: dir, Env: []string{"GIT_CONFIG_NOSYSTEM=1", "HOME=" + dir}}
	commits, err := r.Log("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Fields(g("rev-list", "HEAD"))
	if len(commits) != len(all) {
		t.Fatalf("%d commits, want %d", len(commits), len(all))
	}
	placed := map[string]bool{}
	for _, c := range commits {
		for _, p := range c.Parents {
			if !placed[p] {
				t.Fatalf("%s (%s) comes before its parent %s", c.ID[:7], c.Subject, p[:7])
			}
		}
		placed[c.ID] = true
	}
	linear, err := r.Log("HEAD~5")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range linear {
		got = append(got, c.ID)
	}
	if want := strings.Fields(g("rev-list", "--reverse", "--topo-order", "HEAD~5")); !slices.Equal(got, want) {
		t.Errorf("linear history: %v, want %v", got, want)
	}
}

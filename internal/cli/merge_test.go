package cli

import (
	"slices"
	"testing"
)

func TestMergeOwn(t *testing.T) {
	set := func(ps ...string) map[string]bool {
		m := map[string]bool{}
		for _, p := range ps {
			m[p] = true
		}
		return m
	}
	tests := []struct {
		name   string
		differ []map[string]bool
		sides  mergeSides
		want   []string
	}{
		{"each side's own change", []map[string]bool{set("f"), set("m")},
			mergeSides{{1, 0}: {set("f")}, {0, 1}: {set("m")}}, nil},
		{"a merge from git pull: the local side first", []map[string]bool{set("r"), set("l")},
			mergeSides{{1, 0}: {set("r")}, {0, 1}: {set("l")}}, nil},
		{"an old tree taken back, the branch first", []map[string]bool{set("a"), set()},
			mergeSides{{1, 0}: {set()}, {0, 1}: {set()}}, []string{"a"}},
		{"an old tree fast-forwarded in as the first parent", []map[string]bool{set(), set("a")},
			mergeSides{{1, 0}: {set()}, {0, 1}: {set()}}, []string{"a"}},
		{"unrelated history: no merge base", []map[string]bool{set("x", "y"), set("z")}, mergeSides{}, []string{"x", "y", "z"}},
		{"a conflict resolved: differs from both", []map[string]bool{set("c", "f"), set("c")},
			mergeSides{{1, 0}: {set("c", "f")}, {0, 1}: {set("c")}}, []string{"c"}},
		{"the other side's change dropped (-s ours)", []map[string]bool{set(), set("f")},
			mergeSides{{1, 0}: {set("f")}, {0, 1}: {set()}}, []string{"f"}},
		{"criss-cross: changed since one merge base only", []map[string]bool{set("f"), set()},
			mergeSides{{1, 0}: {set("f"), set()}, {0, 1}: {set(), set()}}, []string{"f"}},
		{"octopus: taken from the third parent's side", []map[string]bool{set("t"), set("t"), set()},
			mergeSides{{2, 0}: {set("t")}, {2, 1}: {set("t")}}, nil},
		{"octopus: justified against the first parent only", []map[string]bool{set("t"), set("t"), set()},
			mergeSides{{2, 0}: {set("t")}, {2, 1}: {set()}}, []string{"t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mergeOwn(tt.differ, tt.sides); !slices.Equal(got, tt.want) {
				t.Errorf("mergeOwn = %q, want %q", got, tt.want)
			}
		})
	}
}

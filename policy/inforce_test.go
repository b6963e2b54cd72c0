package policy_test

import (
	"testing"

	"github.com/oxygen-protocol/oxygen/policy"
)

func TestInForce(t *testing.T) {
	base, last, ref, def := load(t, "version: 1\n"), load(t, "version: 1\n"), load(t, "version: 1\n"), load(t, "version: 1\n")
	names := map[*policy.Policy]string{nil: "none", base: "base", last: "last", ref: "ref", def: "default"}
	loads := policy.Version{Present: true, Policy: base}
	broken := policy.Version{Present: true}
	none := policy.Version{}
	tests := []struct {
		name     string
		in       policy.Lineage
		want     *policy.Policy
		from     policy.Source
		needLast bool
	}{
		{"the base's judges", policy.Lineage{Base: loads, LastLoading: last, Ref: ref, Default: def}, base, policy.FromBase, false},
		{"the base's judges even where the ref has another", policy.Lineage{Base: loads, Ref: ref}, base, policy.FromBase, false},
		{"a broken base: the last that loads on its line", policy.Lineage{Base: broken, LastLoading: last, Ref: ref, Default: def}, last, policy.FromLastLoading, true},
		{"a broken base, none loading before it: the ref's", policy.Lineage{Base: broken, Ref: ref, Default: def}, ref, policy.FromRef, true},
		{"a broken base, nothing anywhere: unadopted", policy.Lineage{Base: broken}, nil, policy.Unadopted, true},
		{"no base policy: the updated ref's", policy.Lineage{Ref: ref, Default: def}, ref, policy.FromRef, false},
		{"no base policy, a new ref: the default branch's", policy.Lineage{Default: def}, def, policy.FromDefault, false},
		{"no base policy and a last loading one (a deleted policy) is not revived", policy.Lineage{Base: none, LastLoading: last}, nil, policy.Unadopted, false},
		{"a root commit of an adopted repository: the ref's", policy.Lineage{Ref: ref}, ref, policy.FromRef, false},
		{"nothing anywhere: unadopted, the bootstrap passes", policy.Lineage{}, nil, policy.Unadopted, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, from := policy.InForce(tt.in)
			if got != tt.want || from != tt.from {
				t.Errorf("InForce = %s, %d; want %s, %d", names[got], from, names[tt.want], tt.from)
			}
			if n := tt.in.NeedsLastLoading(); n != tt.needLast {
				t.Errorf("NeedsLastLoading = %v, want %v", n, tt.needLast)
			}
		})
	}
}

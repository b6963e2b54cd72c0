package policy_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/policy"
	"gopkg.in/yaml.v3"
)

// FuzzLoad: Load never panics; it returns a positioned *Error or a policy
// whose classifier agrees with brute force and whose judge runs.
func FuzzLoad(f *testing.F) {
	f.Add(oxygen.ReferencePolicy)
	f.Add([]byte(smallPolicy))
	f.Add([]byte(judgePolicy))
	f.Add([]byte(actPolicy + "council:\n  domains: [guardian, scribe]\n  quorum: 2\n"))
	for _, tt := range loadErrorTests {
		f.Add([]byte(tt.src))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := policy.Load("f.yaml", data)
		if err != nil {
			var perr *policy.Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %v is a %T, want *policy.Error", err, err)
			}
			if perr.File != "f.yaml" || perr.Line < 1 || perr.Column < 0 || perr.Msg == "" {
				t.Fatalf("error without a position or a message: %#v", perr)
			}
			if p != nil {
				t.Fatal("a policy came back with an error")
			}
			return
		}
		if p.Version != 1 {
			t.Fatalf("Version = %d", p.Version)
		}
		b := p.Budgets
		if b.DefaultTTL > b.MaxTTL || b.DefaultTTL < policy.MinTTL || b.MaxTTL > policy.LongestTTL || b.ClockSkew < 0 ||
			b.LeasesPerDomain < 1 || b.InProgressPerDomain < 1 || b.RiskPathsPerCommit < 1 {
			t.Fatalf("budgets out of range: %+v", b)
		}
		if p.Store.Kind != "local" && p.Store.Kind != "git" {
			t.Fatalf("store kind %q", p.Store.Kind)
		}
		paths := []string{"", "docs/x", "a/b/c.sql", "deploy", "resources.yaml"}
		for _, r := range p.Resources {
			if got, ok := p.Resource(r.ID); !ok || got != r || !policy.ValidName(r.ID) {
				t.Fatalf("resource %q: lookup %v %v", r.ID, got, ok)
			}
			paths = append(paths, r.Paths...)
		}
		for _, d := range p.Domains {
			if got, ok := p.Domain(d.Name); !ok || got != d || !policy.ValidName(d.Name) {
				t.Fatalf("domain %q: lookup %v %v", d.Name, got, ok)
			}
			paths = append(paths, d.Core...)
			for _, m := range d.Members {
				if !doublestar.ValidatePattern(m) {
					t.Fatalf("member glob %q is invalid", m)
				}
			}
		}
		c := p.Classifier()
		for _, path := range paths {
			checkAgainstBruteForce(t, c, path)
		}
		cs := policy.ChangeSet{Committer: "x@y.example", At: time.Unix(1e9, 0), Paths: paths}
		for _, v := range p.Judge(cs, policy.State{}) {
			if v.Rule == "" || v.Reason == "" || v.Fix == "" {
				t.Fatalf("violation without a rule, reason or fix: %+v", v)
			}
			if err := runnable(v.Remedy); err != nil {
				t.Fatalf("%+v: %v", v, err)
			}
		}
	})
}

// FuzzClassify: the indexed Match returns exactly what trying every glob
// returns, for the reference policy and for a policy with a fuzzed glob.
func FuzzClassify(f *testing.F) {
	seeds := []string{"", "/", "docs/x", "tools/plan-registry/schema.yaml", "store/blobs/a/b", "a//b", "deploy/install",
		"escaped/f", "a/b/x", "x\\y/z", "weird/*star", "lit[1]/a.txt", "\xff/\xfe", "new\nline/x"}
	for i, p := range seeds {
		f.Add(p, extraGlobs[i%len(extraGlobs)])
	}
	for _, g := range extraGlobs {
		f.Add(g, g)
	}
	ref := reference(f).Classifier()
	f.Fuzz(func(t *testing.T, path, glob string) {
		checkAgainstBruteForce(t, ref, path)
		if glob == "" || len(glob) > 200 {
			return
		}
		src, err := yaml.Marshal(map[string]any{
			"version":   1,
			"resources": map[string]any{"extra": map[string]any{"paths": append([]string{glob}, extraGlobs...)}},
			"domains":   map[string]any{"fuzz": map[string]any{"core": []string{glob}}},
		})
		if err != nil {
			return
		}
		p, err := policy.Load("f.yaml", src)
		if err != nil {
			return // not a glob the policy takes
		}
		checkAgainstBruteForce(t, p.Classifier(), path)
		checkAgainstBruteForce(t, p.Classifier(), glob)
	})
}

// FuzzFoldPath: folding never panics, is stable (a fold folds to itself),
// keeps the path's directories, and leaves a lower-case ASCII path whose
// names end in neither a dot nor a space alone.
func FuzzFoldPath(f *testing.F) {
	for _, s := range []string{"", "store/x", "STORE/x", "caf\u00e9", "cafe\u0301", "\u017f", "\u212a", ".sub\u200cstrate", "\xff/\xfe", "\u0130", "\u1e9e", "\u01c5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		fold := policy.FoldPath(path)
		if again := policy.FoldPath(fold); again != fold {
			t.Fatalf("FoldPath(%q) = %q, which folds again to %q", path, fold, again)
		}
		if strings.Count(fold, "/") != strings.Count(path, "/") {
			t.Fatalf("FoldPath(%q) = %q: the directories changed", path, fold)
		}
		plain := !strings.HasSuffix(path, ".") && !strings.HasSuffix(path, " ") && !strings.Contains(path, "./") && !strings.Contains(path, " /")
		if strings.ToLower(path) == path && isASCIIString(path) && plain && fold != path {
			t.Fatalf("FoldPath(%q) = %q, want it unchanged", path, fold)
		}
	})
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

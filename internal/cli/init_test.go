package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/oxygen-protocol/oxygen/policy"
)

// TestStarterLoads: the starter policy for a tree loads, has the eight
// types, and lists exactly the globs that match something there.
func TestStarterLoads(t *testing.T) {
	trees := []struct {
		name  string
		paths []string
		want  map[string][]string // type -> globs; a type left out must be empty
	}{
		{name: "empty repository", want: map[string][]string{"coordination": {"resources.yaml"}}},
		{
			name:  "a Go service",
			paths: []string{"go.mod", "cmd/api/main.go", "api/v1/user.proto", "db/migrations/001_init.sql", "Dockerfile", ".github/workflows/ci.yml", "deploy/k8s/app.yaml", "CODEOWNERS", "SECURITY.md", "CONTRIBUTING.md"},
			want: map[string][]string{
				"schema":       {"**/*.proto"},
				"index":        {"**/migrations/**", "**/*.sql"},
				"deployment":   {"deploy/**", "**/Dockerfile", ".github/workflows/**"},
				"identity":     {"**/CODEOWNERS"},
				"policy":       {"SECURITY.md"},
				"coordination": {"resources.yaml", "CONTRIBUTING.md"},
			},
		},
		{
			name:  "the protocol's seed layout",
			paths: []string{"store/blobs/a", "backups/x.tar", "services/indexer/run", "cron/nightly", "ops/x.timer", "secrets/policy/README", "access/users/ada", "docs/agents/classes.md", "schema.graphql"},
			want: map[string][]string{
				"schema":       {"**/*.graphql", "**/schema.*"},
				"storage":      {"store/**", "backups/**"},
				"execution":    {"**/*.timer", "**/cron/**", "services/**"},
				"identity":     {"access/**"},
				"policy":       {"secrets/**"},
				"coordination": {"resources.yaml", "docs/agents/**"},
			},
		},
		{
			name:  "odd names",
			paths: []string{"a\nb/c.sql", "weird \"dir\"/x.proto", "tab\there/Dockerfile", "\u2028/x", "\xff/y", "#/z", "x: y/deploy"},
			want: map[string][]string{
				"schema":       {"**/*.proto"},
				"index":        {"**/*.sql"},
				"deployment":   {"**/Dockerfile"},
				"coordination": {"resources.yaml"},
			},
		},
	}
	for _, tt := range trees {
		t.Run(tt.name, func(t *testing.T) {
			s := newStarter()
			for _, p := range tt.paths {
				s.add(p)
			}
			src := s.render("ada@builder.example")
			p, err := policy.Load(policy.FileName, src)
			if err != nil {
				t.Fatalf("the starter does not load: %v\n%s", err, src)
			}
			if len(p.Domains) != 0 {
				t.Errorf("domains %v, want none until filled in", p.Domains)
			}
			var ids []string
			for _, r := range p.Resources {
				ids = append(ids, r.ID)
				if want := tt.want[r.ID]; !slices.Equal(r.Paths, want) {
					t.Errorf("%s: paths %q, want %q", r.ID, r.Paths, want)
				}
			}
			if !slices.Equal(ids, policy.ProtocolTypes) {
				t.Errorf("types %q, want the eight", ids)
			}
			if !strings.Contains(string(src), `members: ["*@builder.example"]`) {
				t.Error("the example domain does not use the committer's address")
			}
		})
	}
}

// FuzzStarter: whatever the tracked paths, the starter policy loads.
func FuzzStarter(f *testing.F) {
	f.Add("api/a.proto\x00db/x.sql\x00Dockerfile", "ada@builder.example")
	f.Add("a\nb/c.sql\x00\u2028/x", "x@\"evil\n")
	f.Fuzz(func(t *testing.T, paths, email string) {
		s := newStarter()
		for _, p := range strings.Split(paths, "\x00") {
			if p != "" {
				s.add(p)
			}
		}
		if _, err := policy.Load(policy.FileName, s.render(email)); err != nil {
			t.Fatalf("the starter does not load: %v", err)
		}
	})
}

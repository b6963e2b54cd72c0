package policy_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

func TestBoundaryChanges(t *testing.T) {
	base := load(t, judgePolicy)
	tests := []struct {
		name string
		edit func(string) string
		want []string
	}{
		{"same file", func(s string) string { return s }, nil},
		{"core globs reordered and repeated", func(s string) string {
			return strings.Replace(s, `core: ["deploy/**", "scripts/**"]`, `core: ["scripts/**", "deploy/**", "scripts/**"]`, 1)
		}, nil},
		{"resources only", func(s string) string { return strings.Replace(s, `"store/**"`, `"store/**", "backups/**"`, 1) }, nil},
		{"a core glob added", func(s string) string {
			return strings.Replace(s, `core: ["docs/**"]`, `core: ["docs/**", "notes/**"]`, 1)
		}, []string{"scribe"}},
		{"files moved from one core to another", func(s string) string {
			s = strings.Replace(s, `core: ["docs/ui/**", "ui/**"]`, `core: ["ui/**"]`, 1)
			return strings.Replace(s, `core: ["docs/**"]`, `core: ["docs/**", "docs/ui/**"]`, 1)
		}, []string{"gems", "scribe"}},
		{"a member added", func(s string) string {
			return strings.Replace(s, `"*@gems.example"]`, `"*@gems.example", "eve@evil.example"]`, 1)
		}, []string{"gems"}},
		{"a domain removed", func(s string) string {
			return strings.Replace(s, "  gems:\n    members: [\"*@gems.example\"]\n    core: [\"docs/ui/**\", \"ui/**\"]\n", "", 1)
		}, []string{"gems"}},
		{"the state ref moved", func(s string) string {
			return s + "store:\n  kind: git\n  ref: refs/heads/shadow\n"
		}, []string{"builder", "gems", "scribe"}},
		{"the store's kind changed", func(s string) string { return s + "store:\n  kind: git\n" }, []string{"builder", "gems", "scribe"}},
		{"the store as it was, spelt out", func(s string) string {
			return s + "store:\n  kind: local\n  ref: refs/oxygen/state\n"
		}, nil},
		{"a domain added", func(s string) string {
			return strings.Replace(s, "resources:", "  ops:\n    members: [\"*@ops.example\"]\n    core: [\"ops/**\"]\nresources:", 1)
		}, []string{"ops"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := load(t, tt.edit(judgePolicy))
			if got := policy.BoundaryChanges(base, next); !slices.Equal(got, tt.want) {
				t.Errorf("BoundaryChanges = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJudgeBoundaries(t *testing.T) {
	base := load(t, judgePolicy)
	// builder takes docs/ui/** from gems into its own core.
	next := load(t, strings.Replace(strings.Replace(judgePolicy,
		`core: ["docs/ui/**", "ui/**"]`, `core: ["ui/**"]`, 1),
		`core: ["deploy/**", "scripts/**"]`, `core: ["deploy/**", "scripts/**", "docs/ui/**"]`, 1))
	gemsOnly := load(t, strings.Replace(judgePolicy, `core: ["docs/ui/**", "ui/**"]`, `core: ["ui/**"]`, 1))
	withOps := load(t, strings.Replace(judgePolicy, "resources:", "  ops:\n    members: [\"*@ops.example\"]\n    core: [\"ops/**\"]\nresources:", 1))
	rs := []string{policy.FileName}
	tests := []struct {
		name      string
		next      *policy.Policy
		committer string
		signals   []policy.Signal
		want      []want
	}{
		{
			name: "builder redraws gems alone", next: next, committer: "bob@builder.example",
			want: []want{{path: policy.FileName, rule: policy.RuleCoreBoundary, domain: "gems", resource: "-",
				reason: []string{"redraws the boundaries of gems", "from builder needs gems's handshake"},
				fix:    []string{"oxygen signal missive --to gems --file resources.yaml --subject WHY, then ask gems to acknowledge it"}}},
		},
		{
			name: "with gems's handshake", next: next, committer: "bob@builder.example",
			signals: []policy.Signal{missive("m-1", "builder", "gems", 0, rs, ack("gems", time.Minute))},
		},
		{
			name: "the missive waits for gems", next: next, committer: "bob@builder.example",
			signals: []policy.Signal{missive("m-1", "builder", "gems", 0, rs)},
			want:    []want{{rule: policy.RuleCoreBoundary, domain: "gems", fix: []string{"ask a member of gems to run: oxygen signal ack m-1"}}},
		},
		{
			name: "a handshake on another file does not count", next: next, committer: "bob@builder.example",
			signals: []policy.Signal{missive("m-1", "builder", "gems", 0, []string{"ui/a"}, ack("gems", time.Minute))},
			want:    []want{{rule: policy.RuleCoreBoundary, domain: "gems"}},
		},
		{
			name: "an acknowledgement after the commit does not count", next: next, committer: "bob@builder.example",
			signals: []policy.Signal{missive("m-1", "builder", "gems", 0, rs, ack("gems", 3*time.Hour))},
			want:    []want{{rule: policy.RuleCoreBoundary, domain: "gems"}},
		},
		{name: "a member of gems redraws gems", next: gemsOnly, committer: "gil@gems.example"},
		{
			name: "a member of gems redraws builder too", next: next, committer: "gil@gems.example",
			want: []want{{rule: policy.RuleCoreBoundary, domain: "builder"}},
		},
		{
			name: "a member of no domain", next: next, committer: "eve@nowhere.example",
			want: []want{
				{rule: policy.RuleCoreBoundary, domain: "builder", reason: []string{"member of no domain"}},
				{rule: policy.RuleCoreBoundary, domain: "gems", reason: []string{"member of no domain"}, fix: []string{"commit as a member of gems"}},
			},
		},
		{name: "a new domain by one of its own members", next: withOps, committer: "olga@ops.example"},
		{name: "a new domain by someone else: nobody in force to consent", next: withOps, committer: "bob@builder.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := policy.ChangeSet{Commit: "c0ffee", Subject: "a change", Committer: tt.committer, At: t0.Add(time.Hour), Paths: rs}
			got := base.JudgeBoundaries(tt.next, cs, policy.State{Signals: tt.signals})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d violations, want %d:\n%s", len(got), len(tt.want), dump(got))
			}
			for i, w := range tt.want {
				checkViolation(t, got[i], w)
				if got[i].Path != policy.FileName {
					t.Errorf("Path = %q", got[i].Path)
				}
			}
		})
	}
}

func TestDiffer(t *testing.T) {
	old := load(t, judgePolicy)
	next := load(t, strings.Replace(strings.Replace(judgePolicy,
		`core: ["docs/ui/**", "ui/**"]`, `core: ["ui/**"]`, 1),
		`"store/**"`, `"store/**", "db/**"`, 1))
	d := policy.NewDiffer(old, next)
	tests := []struct {
		path                string
		moved, owners       bool
		resBefore, resAfter string
		ownBefore, ownAfter string
	}{
		{path: "src/main.go"},
		{path: "ui/a.tsx"},
		{path: "docs/ui/a.md", moved: true, owners: true, ownBefore: "gems,scribe", ownAfter: "scribe"},
		{path: "db/schema.sql", moved: true, resBefore: "schema", resAfter: "schema,storage"},
		{path: "db/x/y.sql", moved: true, resBefore: "schema", resAfter: "schema,storage"},
		{path: "store/a", resBefore: "storage", resAfter: "storage"},
	}
	for _, tt := range tests {
		m, moved := d.Move(tt.path)
		if moved != tt.moved || m.OwnersChanged() != tt.owners {
			t.Errorf("%s: moved %v owners %v, want %v %v", tt.path, moved, m.OwnersChanged(), tt.moved, tt.owners)
		}
		if !moved {
			continue
		}
		for _, c := range []struct {
			got  []string
			want string
		}{
			{m.ResourcesBefore, tt.resBefore}, {m.ResourcesAfter, tt.resAfter}, {m.DomainsBefore, tt.ownBefore}, {m.DomainsAfter, tt.ownAfter},
		} {
			if got := strings.Join(c.got, ","); got != c.want || c.got == nil {
				t.Errorf("%s: %q, want %q (never nil)", tt.path, c.got, c.want)
			}
		}
	}
}

func TestLint(t *testing.T) {
	p := load(t, judgePolicy)
	got := policy.Lint(p, []string{"docs/ui/a.md", "deploy/run.sh", "scripts/x", "store/a", "db/schema.sql", "db/x/y.sql", "docs/b.md", "ui/c"})
	var kinds []string
	for _, f := range got {
		kinds = append(kinds, f.Kind+" "+f.Subject)
	}
	want := []string{"ambiguous docs/ui/a.md", "eight-types resources.yaml"}
	if !slices.Equal(kinds, want) {
		t.Errorf("findings %q, want %q", kinds, want)
	}
	if got[0].Detail != "in the core surface of scribe and gems" {
		t.Errorf("detail %q", got[0].Detail)
	}
	if !strings.Contains(got[1].Detail, "missing: index, execution, deployment, identity, policy, coordination; extra: none") {
		t.Errorf("detail %q", got[1].Detail)
	}
	if got := policy.Lint(p, nil); len(got) != 9 { // eight globs unmatched, and the eight types
		t.Errorf("over no files: %d findings, want 9", len(got))
	}
}

// TestBoundaryChangesSequenced: who decides a git store's acts (the
// clones, or the remote) moves no handshake: the state is where it was.
func TestBoundaryChangesSequenced(t *testing.T) {
	git := load(t, judgePolicy+"store:\n  kind: git\n")
	sequenced := load(t, judgePolicy+"store:\n  kind: git\n  sequenced: true\n")
	if got := policy.BoundaryChanges(git, sequenced); got != nil {
		t.Errorf("turning sequenced on redraws %q, want nothing", got)
	}
	if got := policy.BoundaryChanges(sequenced, load(t, judgePolicy+"store:\n  kind: git\n  ref: refs/heads/shadow\n  sequenced: true\n")); len(got) != 3 {
		t.Errorf("moving a sequenced store's ref redraws %q, want every domain", got)
	}
}

package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

const judgePolicy = `version: 1
domains:
  builder:
    members: ["*@builder.example", "ada@both.example"]
    core: ["deploy/**", "scripts/**"]
  scribe:
    members: ["*@scribe.example", "ada@both.example"]
    core: ["docs/**"]
  gems:
    members: ["*@gems.example"]
    core: ["docs/ui/**", "ui/**"]
resources:
  schema:
    paths: ["db/schema.sql", "db/**/*.sql"]
  storage:
    paths: ["store/**"]
`

var t0 = time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)

// lease is a two-hour lease of resource by domain, taken at t0.
func lease(resource, domain string) policy.Lease {
	return policy.Lease{
		Resource: resource, Owner: "someone@" + domain + ".example", Domain: domain, TTL: 7200,
		CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour),
	}
}

func released(l policy.Lease, at time.Time) policy.Lease { l.ReleasedAt = at; return l }

// want is one expected violation. Empty fields are not checked, "-" must be
// empty; Holder must be nil when holder is "".
type want struct {
	path, resource, rule, domain, glob, holder string
	reason, fix                                []string // substrings
}

func TestJudge(t *testing.T) {
	p := load(t, judgePolicy)
	const (
		builder = "bob@builder.example"
		both    = "ada@both.example"
	)
	broken := policy.BrokenLease{Resource: "storage", File: ".substrate/state/leases/storage.yaml", Cause: "not valid YAML"}
	tests := []struct {
		name      string
		committer string
		at        time.Duration // after t0
		skew      time.Duration
		paths     []string
		leases    []policy.Lease
		broken    []policy.BrokenLease
		want      []want
	}{
		{name: "unclassified paths", committer: builder, paths: []string{"src/main.go", "README.md", "deployx/a"}},
		{name: "unclassified, committer in no domain", committer: "eve@nowhere.example", paths: []string{"src/main.go"}},
		{name: "own core surface", committer: builder, paths: []string{"deploy/run.sh", "scripts/x"}},
		{name: "no paths", committer: builder},
		{
			name: "shadow edit", committer: builder, paths: []string{"store/blobs/a"},
			want: []want{{path: "store/blobs/a", resource: "storage", rule: policy.RuleShadowEdit, domain: "builder", glob: "store/**",
				reason: []string{"no live lease on storage for builder"}, fix: []string{"oxygen claim storage"}}},
		},
		{
			name: "covered by a live lease of the committer's domain", committer: builder, at: time.Hour,
			paths: []string{"store/blobs/a", "store/b"}, leases: []policy.Lease{lease("storage", "builder")},
		},
		{
			name: "a lease on another resource does not cover", committer: builder, at: time.Hour,
			paths: []string{"db/schema.sql"}, leases: []policy.Lease{lease("storage", "builder")},
			want: []want{{path: "db/schema.sql", resource: "schema", rule: policy.RuleShadowEdit, fix: []string{"oxygen claim schema"}}},
		},
		{
			name: "held by another domain", committer: builder, at: time.Hour,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "scribe")},
			want: []want{{path: "store/x", resource: "storage", rule: policy.RuleHeldByOther, domain: "builder", holder: "scribe",
				reason: []string{"storage is leased by scribe (someone@scribe.example) until 2026-11-28T17:00:00Z"},
				fix:    []string{"ask someone@scribe.example to run `oxygen release storage`", "after 2026-11-28T17:00:00Z run: oxygen claim storage"}}},
		},
		{
			name: "held by another, own lease lapsed", committer: builder, at: 3 * time.Hour,
			paths: []string{"store/x"},
			leases: []policy.Lease{lease("storage", "builder"), func() policy.Lease {
				l := lease("storage", "scribe")
				l.CreatedAt, l.ExpiresAt = t0.Add(2*time.Hour), t0.Add(4*time.Hour)
				return l
			}()},
			want: []want{{path: "store/x", rule: policy.RuleHeldByOther, holder: "scribe", reason: []string{"until 2026-11-28T19:00:00Z"}}},
		},
		{
			name: "held by another, released early: until names the release", committer: builder, at: time.Hour,
			paths:  []string{"store/x"},
			leases: []policy.Lease{released(lease("storage", "scribe"), t0.Add(90*time.Minute))},
			want:   []want{{path: "store/x", rule: policy.RuleHeldByOther, holder: "scribe", reason: []string{"until 2026-11-28T16:30:00Z"}}},
		},
		{
			name: "lease expired", committer: builder, at: 3 * time.Hour,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")},
			want: []want{{path: "store/x", rule: policy.RuleShadowEdit, fix: []string{"oxygen claim storage"}}},
		},
		{
			name: "expired lease of another domain is no holder", committer: builder, at: 3 * time.Hour,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "scribe")},
			want: []want{{path: "store/x", rule: policy.RuleShadowEdit}},
		},
		{name: "at created_at: live", committer: builder, at: 0, paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")}},
		{
			name: "a second before created_at", committer: builder, at: -time.Second,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")},
			want: []want{{path: "store/x", rule: policy.RuleShadowEdit}},
		},
		{name: "a second before expires_at: live", committer: builder, at: 2*time.Hour - time.Second, paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")}},
		{name: "a nanosecond before expires_at: live", committer: builder, at: 2*time.Hour - 1, paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")}},
		{
			name: "at expires_at: over", committer: builder, at: 2 * time.Hour,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")},
			want: []want{{path: "store/x", rule: policy.RuleShadowEdit}},
		},
		{name: "skew: created_at - skew is live", committer: builder, at: -30 * time.Second, skew: 30 * time.Second, paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")}},
		{
			name: "skew: before created_at - skew", committer: builder, at: -31 * time.Second, skew: 30 * time.Second,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")},
			want: []want{{path: "store/x", rule: policy.RuleShadowEdit}},
		},
		{name: "skew: just before expires_at + skew is live", committer: builder, at: 2*time.Hour + 29*time.Second, skew: 30 * time.Second, paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")}},
		{
			name: "skew: at expires_at + skew", committer: builder, at: 2*time.Hour + 30*time.Second, skew: 30 * time.Second,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")},
			want: []want{{path: "store/x", rule: policy.RuleShadowEdit}},
		},
		{
			name: "skew widens another's lease too", committer: builder, at: 2*time.Hour + 10*time.Second, skew: 30 * time.Second,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "scribe")},
			want: []want{{path: "store/x", rule: policy.RuleHeldByOther, holder: "scribe"}},
		},
		{
			name: "released lease covered before its release", committer: builder, at: 20 * time.Minute,
			paths: []string{"store/x"}, leases: []policy.Lease{released(lease("storage", "builder"), t0.Add(30*time.Minute))},
		},
		{
			name: "released lease: at the release", committer: builder, at: 30 * time.Minute,
			paths: []string{"store/x"}, leases: []policy.Lease{released(lease("storage", "builder"), t0.Add(30*time.Minute))},
			want: []want{{path: "store/x", rule: policy.RuleShadowEdit}},
		},
		{
			name: "released lease: after the release", committer: builder, at: 40 * time.Minute,
			paths: []string{"store/x"}, leases: []policy.Lease{released(lease("storage", "builder"), t0.Add(30*time.Minute))},
			want: []want{{path: "store/x", rule: policy.RuleShadowEdit}},
		},
		{
			name: "released after it lapsed: expires_at still ends it", committer: builder, at: 2*time.Hour + time.Minute,
			paths: []string{"store/x"}, leases: []policy.Lease{released(lease("storage", "builder"), t0.Add(3*time.Hour))},
			want: []want{{path: "store/x", rule: policy.RuleShadowEdit}},
		},
		{
			name: "broken lease", committer: builder, at: time.Hour,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")}, broken: []policy.BrokenLease{broken},
			want: []want{{path: "store/x", resource: "storage", rule: policy.RuleBrokenLease, glob: "store/**",
				reason: []string{".substrate/state/leases/storage.yaml", "not valid YAML", "nobody holds storage"},
				fix:    []string{"look at .substrate/state/leases/storage.yaml", "oxygen claim storage"}}},
		},
		{
			name: "broken lease of another resource is no matter", committer: builder, at: time.Hour,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")},
			broken: []policy.BrokenLease{{Resource: "schema", File: "schema.yaml", Cause: "x"}},
		},
		{
			name: "committer in no domain", committer: "eve@nowhere.example", at: time.Hour,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")},
			want: []want{{path: "store/x", resource: "storage", rule: policy.RuleNoDomain, domain: "-",
				reason: []string{"eve@nowhere.example is a member of no domain", "storage"}, fix: []string{"eve@nowhere.example", "resources.yaml"}}},
		},
		{
			name: "committer with no e-mail", committer: "",
			paths: []string{"store/x"},
			want:  []want{{path: "store/x", rule: policy.RuleNoDomain, reason: []string{"the committer (no e-mail)"}}},
		},
		{
			name: "committer in no domain, resource held by another", committer: "eve@nowhere.example", at: time.Hour,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "scribe")},
			want: []want{{path: "store/x", rule: policy.RuleNoDomain}},
		},
		{
			name: "two domains, covered by the first's lease", committer: both, at: time.Hour,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "builder")},
		},
		{
			name: "two domains, covered by the second's lease", committer: both, at: time.Hour,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "scribe")},
		},
		{
			name: "two domains, no lease: the fix names a domain", committer: both,
			paths: []string{"store/x"},
			want: []want{{path: "store/x", rule: policy.RuleShadowEdit, domain: "builder",
				reason: []string{"for builder or scribe"}, fix: []string{"oxygen claim storage --domain builder"}}},
		},
		{
			name: "two domains, held by a third", committer: both, at: time.Hour,
			paths: []string{"store/x"}, leases: []policy.Lease{lease("storage", "gems")},
			want: []want{{path: "store/x", rule: policy.RuleHeldByOther, holder: "gems", fix: []string{"oxygen claim storage --domain builder"}}},
		},
		{
			name: "ambiguous ownership", committer: builder,
			paths: []string{"docs/ui/button.md"},
			want: []want{{path: "docs/ui/button.md", rule: policy.RuleAmbiguousOwn, domain: "scribe", glob: "docs/**",
				reason: []string{"scribe (docs/**) and gems (docs/ui/**)"}, fix: []string{"resources.yaml"}}},
		},
		{name: "one owner is not ambiguous", committer: builder, paths: []string{"docs/guide.md", "ui/x"}},
		{
			name: "two globs of one resource: one violation", committer: builder,
			paths: []string{"db/schema.sql"},
			want:  []want{{path: "db/schema.sql", resource: "schema", rule: policy.RuleShadowEdit, glob: "db/schema.sql"}},
		},
		{
			name: "violations in path order", committer: builder, at: time.Hour,
			paths:  []string{"db/x/y.sql", "src/ok.go", "store/x", "docs/ui/a", "db/schema.sql"},
			leases: []policy.Lease{lease("storage", "scribe")},
			want: []want{
				{path: "db/x/y.sql", resource: "schema", rule: policy.RuleShadowEdit, glob: "db/**/*.sql"},
				{path: "store/x", resource: "storage", rule: policy.RuleHeldByOther, holder: "scribe"},
				{path: "docs/ui/a", rule: policy.RuleAmbiguousOwn},
				{path: "db/schema.sql", resource: "schema", rule: policy.RuleShadowEdit},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := policy.ChangeSet{Commit: "c0ffee", Subject: "a change", Committer: tt.committer, At: t0.Add(tt.at), Skew: tt.skew, Paths: tt.paths}
			got := p.Judge(cs, policy.State{Leases: tt.leases, Broken: tt.broken})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d violations, want %d:\n%s", len(got), len(tt.want), dump(got))
			}
			for i, w := range tt.want {
				checkViolation(t, got[i], w)
			}
		})
	}
}

func checkViolation(t *testing.T, v policy.Violation, w want) {
	t.Helper()
	if v.Commit != "c0ffee" || v.Subject != "a change" {
		t.Errorf("%s: commit %q subject %q, want the change set's", v.Path, v.Commit, v.Subject)
	}
	check := func(field, got, want string) {
		switch want {
		case "": // not checked
			return
		case "-": // must be empty
			want = ""
		}
		if got != want {
			t.Errorf("%s: %s = %q, want %q", v.Path, field, got, want)
		}
	}
	check("path", v.Path, w.path)
	check("resource", v.Resource, w.resource)
	check("rule", v.Rule, w.rule)
	check("domain", v.Domain, w.domain)
	check("glob", v.Glob, w.glob)
	switch {
	case w.holder == "" && v.Holder != nil:
		t.Errorf("%s: Holder = %+v, want none", v.Path, *v.Holder)
	case w.holder != "" && v.Holder == nil:
		t.Errorf("%s: no Holder, want %s's lease", v.Path, w.holder)
	case w.holder != "" && (v.Holder.Domain != w.holder || !strings.Contains(v.Reason, w.holder)):
		t.Errorf("%s: Holder %+v, reason %q; want %s's lease, named in the reason", v.Path, *v.Holder, v.Reason, w.holder)
	}
	for _, s := range w.reason {
		if !strings.Contains(v.Reason, s) {
			t.Errorf("%s: reason %q does not contain %q", v.Path, v.Reason, s)
		}
	}
	for _, s := range w.fix {
		if !strings.Contains(v.Fix, s) {
			t.Errorf("%s: fix %q does not contain %q", v.Path, v.Fix, s)
		}
	}
	if v.Reason == "" || v.Fix == "" || strings.Contains(v.Reason+v.Fix, "\n") {
		t.Errorf("%s: reason %q, fix %q: want one line of each", v.Path, v.Reason, v.Fix)
	}
}

func dump(vs []policy.Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("  " + v.Path + " " + v.Resource + " " + v.Rule + ": " + v.Reason + " | " + v.Fix + "\n")
	}
	return b.String()
}

func TestShadowEditFixIsExact(t *testing.T) {
	p := reference(t)
	vs := p.Judge(policy.ChangeSet{Committer: "ada@builder.example", At: t0, Paths: []string{"tools/plan-registry/schema.yaml"}}, policy.State{})
	if len(vs) != 1 {
		t.Fatalf("got %d violations, want 1:\n%s", len(vs), dump(vs))
	}
	if vs[0].Fix != "oxygen claim schema" || vs[0].Rule != policy.RuleShadowEdit || vs[0].Resource != "schema" {
		t.Errorf("got %+v, want a shadow edit of schema fixed by `oxygen claim schema`", vs[0])
	}
}

func TestClaimCommand(t *testing.T) {
	tests := []struct {
		domains []string
		want    string
	}{
		{nil, "oxygen claim schema"},
		{[]string{"builder"}, "oxygen claim schema"},
		{[]string{"builder", "scribe"}, "oxygen claim schema --domain builder"},
	}
	for _, tt := range tests {
		if got := policy.ClaimCommand("schema", tt.domains); got != tt.want {
			t.Errorf("ClaimCommand(schema, %q) = %q, want %q", tt.domains, got, tt.want)
		}
	}
}

func TestLeaseEndAndLiveAt(t *testing.T) {
	l := lease("storage", "builder")
	tests := []struct {
		name string
		l    policy.Lease
		at   time.Duration
		skew time.Duration
		live bool
		end  time.Time
	}{
		{"at created", l, 0, 0, true, t0.Add(2 * time.Hour)},
		{"before created", l, -1, 0, false, t0.Add(2 * time.Hour)},
		{"before created within skew", l, -time.Second, time.Second, true, t0.Add(2 * time.Hour)},
		{"at expires", l, 2 * time.Hour, 0, false, t0.Add(2 * time.Hour)},
		{"at expires within skew", l, 2 * time.Hour, time.Second, true, t0.Add(2 * time.Hour)},
		{"released early", released(l, t0.Add(time.Hour)), time.Hour - 1, 0, true, t0.Add(time.Hour)},
		{"at release", released(l, t0.Add(time.Hour)), time.Hour, 0, false, t0.Add(time.Hour)},
		{"released late", released(l, t0.Add(5*time.Hour)), 2 * time.Hour, 0, false, t0.Add(2 * time.Hour)},
	}
	for _, tt := range tests {
		if got := tt.l.LiveAt(t0.Add(tt.at), tt.skew); got != tt.live {
			t.Errorf("%s: LiveAt = %v, want %v", tt.name, got, tt.live)
		}
		if got := tt.l.End(); !got.Equal(tt.end) {
			t.Errorf("%s: End = %v, want %v", tt.name, got, tt.end)
		}
	}
}

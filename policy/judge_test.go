package policy_test

import (
	"fmt"
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

func startAt(l policy.Lease, at time.Time) policy.Lease {
	l.CreatedAt, l.ExpiresAt = at, at.Add(2*time.Hour)
	return l
}

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
			name: "skew: a released lease's allowance ends where another domain's lease begins", committer: builder, at: 30*time.Minute + 10*time.Second, skew: 30 * time.Second,
			paths: []string{"store/x"}, leases: []policy.Lease{
				released(lease("storage", "builder"), t0.Add(30*time.Minute)),
				func() policy.Lease {
					l := lease("storage", "scribe")
					l.CreatedAt = t0.Add(30*time.Minute + 5*time.Second)
					return l
				}(),
			},
			want: []want{{path: "store/x", rule: policy.RuleHeldByOther, holder: "scribe"}},
		},
		{
			name: "skew: another domain's lease that begins within the commit's second does not end the allowance", committer: builder, at: 30*time.Minute + 10*time.Second, skew: 30 * time.Second,
			paths: []string{"store/x"}, leases: []policy.Lease{
				released(lease("storage", "builder"), t0.Add(30*time.Minute)),
				func() policy.Lease {
					l := lease("storage", "scribe")
					l.CreatedAt = t0.Add(30*time.Minute + 10*time.Second + 500*time.Millisecond)
					return l
				}(),
			},
		},
		{
			name: "skew: a released lease's allowance holds until another domain's lease begins", committer: builder, at: 30*time.Minute + 10*time.Second, skew: 30 * time.Second,
			paths: []string{"store/x"}, leases: []policy.Lease{
				released(lease("storage", "builder"), t0.Add(30*time.Minute)),
				func() policy.Lease {
					l := lease("storage", "scribe")
					l.CreatedAt = t0.Add(30*time.Minute + 20*time.Second)
					return l
				}(),
			},
		},
		{
			// git keeps whole seconds: released and claimed within the second a commit was made.
			name: "skew: claimed in the commit's second, after another's release", committer: builder, at: 30 * time.Minute, skew: 30 * time.Second,
			paths: []string{"store/x"}, leases: []policy.Lease{
				released(startAt(lease("storage", "scribe"), t0), t0.Add(30*time.Minute+200*time.Millisecond)),
				startAt(lease("storage", "builder"), t0.Add(30*time.Minute+700*time.Millisecond)),
			},
		},
		{
			name: "skew: before created_at, another domain's lease not ended", committer: builder, at: -10 * time.Second, skew: 30 * time.Second,
			paths: []string{"store/x"}, leases: []policy.Lease{
				lease("storage", "builder"),
				released(startAt(lease("storage", "scribe"), t0.Add(-time.Hour)), t0.Add(-5*time.Second)),
			},
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
		{
			// One owner each: no ambiguity. From builder they are another
			// domain's core, which needs a handshake, and nothing more.
			name: "one owner is not ambiguous", committer: builder, paths: []string{"docs/guide.md", "ui/x"},
			want: []want{
				{path: "docs/guide.md", resource: "-", rule: policy.RuleNoHandshake, domain: "scribe", glob: "docs/**"},
				{path: "ui/x", resource: "-", rule: policy.RuleNoHandshake, domain: "gems", glob: "ui/**"},
			},
		},
		{name: "one owner is not ambiguous: its own member", committer: "cy@scribe.example", paths: []string{"docs/guide.md", "docs/ui.md"}},
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
	if err := runnable(v.Remedy); err != nil {
		t.Errorf("%s [%s]: %v", v.Path, v.Rule, err)
	}
}

// runnable says why a fix's argv could not run as written, if it could not.
func runnable(f *policy.Fix) error {
	if f == nil || len(f.Argv) == 0 {
		return fmt.Errorf("fix %+v has no argv", f)
	}
	for _, w := range f.Argv {
		if w == "" || strings.Trim(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == "" || strings.HasSuffix(w, "...") {
			return fmt.Errorf("argv %q holds a placeholder %q", f.Argv, w)
		}
	}
	return nil
}

func dump(vs []policy.Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("  " + v.Path + " " + v.Resource + " " + v.Rule + ": " + v.Reason + " | " + v.Fix + "\n")
	}
	return b.String()
}

// TestShadowEditFixIsExact: in the reference policy the schema file is also
// in scribe's core, so builder is told both exact fixes, the claim first.
func TestShadowEditFixIsExact(t *testing.T) {
	p := reference(t)
	vs := p.Judge(policy.ChangeSet{Committer: "ada@builder.example", At: t0, Paths: []string{"tools/plan-registry/schema.yaml"}}, policy.State{})
	if len(vs) != 2 {
		t.Fatalf("got %d violations, want 2:\n%s", len(vs), dump(vs))
	}
	if vs[0].Fix != "oxygen claim schema" || vs[0].Rule != policy.RuleShadowEdit || vs[0].Resource != "schema" {
		t.Errorf("got %+v, want a shadow edit of schema fixed by `oxygen claim schema`", vs[0])
	}
	const fix = "oxygen signal missive --to scribe --file tools/plan-registry/schema.yaml --subject WHY, then ask scribe to acknowledge it"
	if vs[1].Fix != fix || vs[1].Rule != policy.RuleNoHandshake || vs[1].Domain != "scribe" || vs[1].Resource != "" {
		t.Errorf("got %+v, want a missing handshake with scribe fixed by `%s`", vs[1], fix)
	}

	// A member of scribe needs no handshake: the claim alone is the fix.
	vs = p.Judge(policy.ChangeSet{Committer: "ada@scribe.example", At: t0, Paths: []string{"tools/plan-registry/schema.yaml"}}, policy.State{})
	if len(vs) != 1 {
		t.Fatalf("scribe: got %d violations, want 1:\n%s", len(vs), dump(vs))
	}
	if vs[0].Fix != "oxygen claim schema" || vs[0].Rule != policy.RuleShadowEdit || vs[0].Resource != "schema" || vs[0].Domain != "scribe" {
		t.Errorf("scribe: got %+v, want a shadow edit of schema for scribe fixed by `oxygen claim schema`", vs[0])
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

// missive is a missive sent at t0+sent from domain from to domain to, naming files.
func missive(id, from, to string, sent time.Duration, files []string, acks ...policy.Ack) policy.Signal {
	return policy.Signal{
		ID: id, Kind: policy.SignalMissive, From: from, By: "someone@" + from + ".example", To: []string{to},
		Files: files, Subject: "why", CreatedAt: t0.Add(sent), Acks: acks,
	}
}

// ack is domain's acknowledgement at t0+at.
func ack(domain string, at time.Duration) policy.Ack {
	return policy.Ack{Domain: domain, By: "someone@" + domain + ".example", At: t0.Add(at)}
}

// TestJudgeCoreSurface: a path in another domain's core surface needs a
// handshake, a missive from one of the committer's domains to the owner that
// names exactly that path and that the owner acknowledged by the change's time.
func TestJudgeCoreSurface(t *testing.T) {
	p := load(t, judgePolicy)
	const (
		builder = "bob@builder.example"
		both    = "ada@both.example" // builder and scribe
		guide   = "docs/guide.md"
	)
	needs := want{path: guide, resource: "-", rule: policy.RuleNoHandshake, domain: "scribe", glob: "docs/**",
		reason: []string{"in the core surface of scribe: changing it from builder needs a handshake"},
		fix:    []string{"oxygen signal missive --to scribe --file docs/guide.md --subject WHY, then ask scribe to acknowledge it"}}
	waits := func(id string) want {
		return want{path: guide, resource: "-", rule: policy.RuleNoHandshake, domain: "scribe", glob: "docs/**",
			reason: []string{"in the core surface of scribe: missive " + id + " waits for scribe to acknowledge it"},
			fix:    []string{"oxygen signal ack " + id}}
	}
	tests := []struct {
		name      string
		committer string
		at        time.Duration // after t0
		skew      time.Duration
		paths     []string
		signals   []policy.Signal
		want      []want
	}{
		{name: "no handshake", committer: builder, at: time.Hour, paths: []string{guide}, want: []want{needs}},
		{
			name: "an acknowledged missive naming exactly the path", committer: builder, at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{missive("M-1", "builder", "scribe", 0, []string{guide}, ack("scribe", 10*time.Minute))},
		},
		{
			name: "one missive naming two paths covers both", committer: builder, at: time.Hour, paths: []string{"docs/a.md", guide},
			signals: []policy.Signal{missive("M-1", "builder", "scribe", 0, []string{"docs/a.md", guide}, ack("scribe", 10*time.Minute))},
		},
		{
			name: "a missive naming another path", committer: builder, at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{missive("M-1", "builder", "scribe", 0, []string{"docs/other.md"}, ack("scribe", 10*time.Minute))},
			want:    []want{needs},
		},
		{
			name: "a missive naming the folder or a glob is not the exact path", committer: builder, at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{missive("M-1", "builder", "scribe", 0, []string{"docs", "docs/", "docs/**", "docs/*.md"}, ack("scribe", 10*time.Minute))},
			want:    []want{needs},
		},
		{
			name: "covers only the path it names", committer: builder, at: time.Hour, paths: []string{"docs/a.md", guide},
			signals: []policy.Signal{missive("M-1", "builder", "scribe", 0, []string{guide}, ack("scribe", 10*time.Minute))},
			want: []want{{path: "docs/a.md", rule: policy.RuleNoHandshake, domain: "scribe",
				fix: []string{"oxygen signal missive --to scribe --file docs/a.md --subject WHY"}}},
		},
		{
			name: "unacknowledged: waits for the owner's ack", committer: builder, at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{missive("M-7", "builder", "scribe", 0, []string{guide})},
			want:    []want{waits("M-7")},
		},
		{
			name: "acknowledged by a domain that is not the owner", committer: builder, at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{missive("M-7", "builder", "scribe", 0, []string{guide}, ack("gems", 10*time.Minute), ack("builder", 10*time.Minute))},
			want:    []want{waits("M-7")},
		},
		{
			name: "acknowledged after the change's time", committer: builder, at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{missive("M-7", "builder", "scribe", 0, []string{guide}, ack("scribe", 2*time.Hour))},
			want:    []want{waits("M-7")},
		},
		{
			name: "acknowledged at the change's time", committer: builder, at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{missive("M-1", "builder", "scribe", 0, []string{guide}, ack("scribe", time.Hour))},
		},
		{
			name: "skew: acknowledged within skew after the change", committer: builder, at: time.Hour, skew: 30 * time.Second, paths: []string{guide},
			signals: []policy.Signal{missive("M-1", "builder", "scribe", 0, []string{guide}, ack("scribe", time.Hour+30*time.Second))},
		},
		{
			name: "skew: acknowledged beyond skew after the change", committer: builder, at: time.Hour, skew: 30 * time.Second, paths: []string{guide},
			signals: []policy.Signal{missive("M-7", "builder", "scribe", 0, []string{guide}, ack("scribe", time.Hour+31*time.Second))},
			want:    []want{waits("M-7")},
		},
		{
			name: "sent after the change: no handshake for it", committer: builder, at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{missive("M-1", "builder", "scribe", 2*time.Hour, []string{guide}, ack("scribe", 3*time.Hour))},
			want:    []want{needs},
		},
		{
			name: "a missive from another domain", committer: builder, at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{missive("M-1", "gems", "scribe", 0, []string{guide}, ack("scribe", 10*time.Minute))},
			want:    []want{needs},
		},
		{
			name: "a missive to another domain", committer: builder, at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{missive("M-1", "builder", "gems", 0, []string{guide}, ack("gems", 10*time.Minute), ack("scribe", 10*time.Minute))},
			want:    []want{needs},
		},
		{
			name: "a council call is not a missive", committer: builder, at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{func() policy.Signal {
				s := missive("C-1", "builder", "scribe", 0, []string{guide}, ack("scribe", 10*time.Minute))
				s.Kind = policy.SignalCouncilCall
				return s
			}()},
			want: []want{needs},
		},
		{name: "a member of the owning domain needs none", committer: "cy@scribe.example", at: time.Hour, paths: []string{guide}},
		{name: "a member of the owner and another domain needs none", committer: both, at: time.Hour, paths: []string{guide}},
		{name: "own core surface needs none", committer: builder, at: time.Hour, paths: []string{"deploy/run.sh"}},
		{
			name: "two domains: the reason names both, the fix the owner", committer: both, at: time.Hour, paths: []string{"ui/x"},
			want: []want{{path: "ui/x", resource: "-", rule: policy.RuleNoHandshake, domain: "gems", glob: "ui/**",
				reason: []string{"in the core surface of gems: changing it from builder or scribe needs a handshake"},
				fix:    []string{"oxygen signal missive --to gems --file ui/x --subject WHY, then ask gems to acknowledge it"}}},
		},
		{
			name: "two domains: a missive from the second counts", committer: both, at: time.Hour, paths: []string{"ui/x"},
			signals: []policy.Signal{missive("M-1", "scribe", "gems", 0, []string{"ui/x"}, ack("gems", 10*time.Minute))},
		},
		{
			name: "committer in no domain", committer: "eve@nowhere.example", at: time.Hour, paths: []string{guide},
			signals: []policy.Signal{missive("M-1", "builder", "scribe", 0, []string{guide}, ack("scribe", 10*time.Minute))},
			want: []want{{path: guide, resource: "-", rule: policy.RuleNoHandshake, domain: "scribe",
				reason: []string{"in the core surface of scribe", "eve@nowhere.example is a member of no domain"},
				fix:    []string{"eve@nowhere.example", "resources.yaml"}}},
		},
		{
			name: "a path that needs quoting is quoted in the fix", committer: builder, at: time.Hour, paths: []string{"docs/a b.md"},
			want: []want{{path: "docs/a b.md", rule: policy.RuleNoHandshake, fix: []string{"--file 'docs/a b.md' --subject WHY"}}},
		},
		{
			name: "ambiguous ownership is not also a missing handshake", committer: builder, at: time.Hour, paths: []string{"docs/ui/a"},
			want: []want{{path: "docs/ui/a", rule: policy.RuleAmbiguousOwn}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := policy.ChangeSet{Commit: "c0ffee", Subject: "a change", Committer: tt.committer, At: t0.Add(tt.at), Skew: tt.skew, Paths: tt.paths}
			got := p.Judge(cs, policy.State{Signals: tt.signals})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d violations, want %d:\n%s", len(got), len(tt.want), dump(got))
			}
			for i, w := range tt.want {
				checkViolation(t, got[i], w)
			}
		})
	}
}

// TestHandshakeAndLease: a resource in another domain's core needs both its
// lease and the handshake; neither stands in for the other.
func TestHandshakeAndLease(t *testing.T) {
	p := reference(t)
	const path = "tools/plan-registry/schema.yaml"
	shake := missive("M-1", "builder", "scribe", 0, []string{path}, ack("scribe", time.Minute))
	cs := policy.ChangeSet{Commit: "c0ffee", Subject: "a change", Committer: "ada@builder.example", At: t0.Add(time.Hour), Paths: []string{path}}
	tests := []struct {
		name string
		st   policy.State
		want []want
	}{
		{name: "lease and handshake", st: policy.State{Leases: []policy.Lease{lease("schema", "builder")}, Signals: []policy.Signal{shake}}},
		{
			name: "lease only", st: policy.State{Leases: []policy.Lease{lease("schema", "builder")}},
			want: []want{{path: path, resource: "-", rule: policy.RuleNoHandshake, domain: "scribe", glob: "tools/plan-registry/**"}},
		},
		{
			name: "handshake only", st: policy.State{Signals: []policy.Signal{shake}},
			want: []want{{path: path, resource: "schema", rule: policy.RuleShadowEdit, domain: "builder", fix: []string{"oxygen claim schema"}}},
		},
		{
			name: "handshake, but the owner holds the lease", st: policy.State{Leases: []policy.Lease{lease("schema", "scribe")}, Signals: []policy.Signal{shake}},
			want: []want{{path: path, resource: "schema", rule: policy.RuleHeldByOther, holder: "scribe"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Judge(cs, tt.st)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d violations, want %d:\n%s", len(got), len(tt.want), dump(got))
			}
			for i, w := range tt.want {
				checkViolation(t, got[i], w)
			}
		})
	}
}

// TestJudgeScope: while the committer owns an in-progress capsule with a
// scope, every path of the change must fall inside one of its globs.
func TestJudgeScope(t *testing.T) {
	p := load(t, judgePolicy)
	const builder = "bob@builder.example"
	capsule := func(id, owner string, created time.Duration, scope ...string) policy.Capsule {
		return policy.Capsule{ID: id, Owner: owner, Domain: "builder", Status: policy.CapsuleInProgress, Scope: scope, CreatedAt: t0.Add(created), By: "lead@builder.example"}
	}
	closed := func(c policy.Capsule, at time.Duration) policy.Capsule {
		c.Status, c.ClosedAt = policy.CapsuleDone, t0.Add(at)
		return c
	}
	tests := []struct {
		name     string
		at       time.Duration
		skew     time.Duration
		paths    []string
		capsules []policy.Capsule
		want     []want
	}{
		{name: "no capsule: anywhere", at: time.Hour, paths: []string{"src/a.go", "README.md"}},
		{name: "inside the scope", at: time.Hour, paths: []string{"src/a.go", "src/x/b.go"}, capsules: []policy.Capsule{capsule("C-1", builder, 0, "src/**")}},
		{
			name: "outside the scope", at: time.Hour, paths: []string{"src/a.go", "README.md"},
			capsules: []policy.Capsule{capsule("C-1", builder, 0, "src/**")},
			want: []want{{path: "README.md", resource: "-", domain: "-", rule: policy.RuleOutOfScope,
				reason: []string{"outside the scope of your in-progress capsule C-1 (src/**)"},
				fix:    []string{"leave it out of this commit", "oxygen done C-1"}}},
		},
		{
			name: "two capsules: inside either", at: time.Hour, paths: []string{"src/a.go", "lib/b.go"},
			capsules: []policy.Capsule{capsule("C-1", builder, 0, "src/**"), capsule("C-2", builder, 0, "lib/**")},
		},
		{
			name: "two capsules: outside both", at: time.Hour, paths: []string{"README.md"},
			capsules: []policy.Capsule{capsule("C-1", builder, 0, "src/**"), capsule("C-2", builder, 0, "lib/**", "test/**")},
			want:     []want{{path: "README.md", rule: policy.RuleOutOfScope, reason: []string{"C-1, C-2", "src/**, lib/**, test/**"}}},
		},
		{name: "a capsule without a scope bounds nothing", at: time.Hour, paths: []string{"README.md"}, capsules: []policy.Capsule{capsule("C-1", builder, 0, "src/**"), capsule("C-2", builder, 0)}},
		{name: "another owner's capsule", at: time.Hour, paths: []string{"README.md"}, capsules: []policy.Capsule{capsule("C-1", "cy@builder.example", 0, "src/**")}},
		{name: "closed before the change", at: time.Hour, paths: []string{"README.md"}, capsules: []policy.Capsule{closed(capsule("C-1", builder, 0, "src/**"), 30*time.Minute)}},
		{
			name: "closed after the change: it was in progress", at: time.Hour, paths: []string{"README.md"},
			capsules: []policy.Capsule{closed(capsule("C-1", builder, 0, "src/**"), 2*time.Hour)},
			want:     []want{{path: "README.md", rule: policy.RuleOutOfScope}},
		},
		{name: "assigned after the change", at: time.Hour, paths: []string{"README.md"}, capsules: []policy.Capsule{capsule("C-1", builder, 2*time.Hour, "src/**")}},
		{name: "assigned within the skew after the change: binds from its creation", at: time.Hour, skew: 30 * time.Second, paths: []string{"README.md"}, capsules: []policy.Capsule{capsule("C-1", builder, time.Hour+20*time.Second, "src/**")}},
		{
			name: "closed within the skew after the change: it was in progress", at: time.Hour, skew: 30 * time.Second, paths: []string{"README.md"},
			capsules: []policy.Capsule{closed(capsule("C-1", builder, 0, "src/**"), time.Hour+20*time.Second)},
			want:     []want{{path: "README.md", rule: policy.RuleOutOfScope}},
		},
		{
			name: "out of scope and a shadow edit: both", at: time.Hour, paths: []string{"store/x"},
			capsules: []policy.Capsule{capsule("C-1", builder, 0, "src/**")},
			want: []want{
				{path: "store/x", resource: "storage", rule: policy.RuleShadowEdit},
				{path: "store/x", rule: policy.RuleOutOfScope},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := policy.ChangeSet{Commit: "c0ffee", Subject: "a change", Committer: builder, At: t0.Add(tt.at), Skew: tt.skew, Paths: tt.paths}
			got := p.Judge(cs, policy.State{Capsules: tt.capsules})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d violations, want %d:\n%s", len(got), len(tt.want), dump(got))
			}
			for i, w := range tt.want {
				checkViolation(t, got[i], w)
			}
		})
	}
}

// TestJudgeRiskBudget: one change may touch at most risk_paths_per_commit
// shared-resource paths unless it cites a council call granted by its time.
func TestJudgeRiskBudget(t *testing.T) {
	p := load(t, `version: 1
domains:
  builder:
    members: ["*@builder.example"]
  scribe:
    members: ["*@scribe.example"]
    core: ["docs/**"]
resources:
  storage:
    paths: ["store/**"]
budgets:
  risk_paths_per_commit: 2
`)
	council := func(id string, acks ...policy.Ack) policy.Signal {
		return policy.Signal{ID: id, Kind: policy.SignalCouncilCall, From: "builder", By: "bob@builder.example",
			To: []string{"builder", "scribe"}, Subject: "big move", CreatedAt: t0, Acks: acks}
	}
	granted := council("CC-1", ack("builder", time.Minute), ack("scribe", 2*time.Minute))
	three := []string{"store/a", "store/b", "store/c"}
	over := want{path: "store/c", resource: "-", domain: "-", rule: policy.RuleRiskBudget,
		reason: []string{"risk budget spent: this change touches 3 shared-resource paths, and one change may touch 2"},
		fix:    []string{"split it into smaller commits", "Council: ID"}}
	tests := []struct {
		name    string
		paths   []string
		cite    []string
		signals []policy.Signal
		want    []want
	}{
		{name: "at the budget", paths: []string{"store/a", "store/b"}},
		{name: "paths that are no resource do not count", paths: []string{"store/a", "src/x", "store/b", "src/y", "README.md"}},
		{name: "over the budget", paths: three, want: []want{over}},
		{name: "over, citing a granted council call", paths: three, cite: []string{"CC-1"}, signals: []policy.Signal{granted}},
		{name: "over, citing an unknown call and a granted one", paths: three, cite: []string{"CC-9", "CC-1"}, signals: []policy.Signal{granted}},
		{name: "over, a granted call not cited", paths: three, signals: []policy.Signal{granted}, want: []want{over}},
		{name: "over, citing a call not yet granted by all", paths: three, cite: []string{"CC-2"}, signals: []policy.Signal{council("CC-2", ack("builder", time.Minute))}, want: []want{over}},
		{name: "over, citing a call granted after the change", paths: three, cite: []string{"CC-3"}, signals: []policy.Signal{council("CC-3", ack("builder", time.Minute), ack("scribe", 2*time.Hour))}, want: []want{over}},
		{
			name: "over, citing an acknowledged missive", paths: three, cite: []string{"M-1"},
			signals: []policy.Signal{missive("M-1", "builder", "scribe", 0, three, ack("scribe", time.Minute))}, want: []want{over},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leases := []policy.Lease{lease("storage", "builder")} // the budget, not the lease, is at stake
			cs := policy.ChangeSet{Commit: "c0ffee", Subject: "a change", Committer: "bob@builder.example", At: t0.Add(time.Hour), Paths: tt.paths, Council: tt.cite}
			got := p.Judge(cs, policy.State{Leases: leases, Signals: tt.signals})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d violations, want %d:\n%s", len(got), len(tt.want), dump(got))
			}
			for i, w := range tt.want {
				checkViolation(t, got[i], w)
			}
		})
	}
}

// TestJudgeTrackedState: a change may not add or modify a file in the
// state folder at the root, in any case spelling; deleting one is allowed.
func TestJudgeTrackedState(t *testing.T) {
	p := load(t, judgePolicy)
	tests := []struct {
		paths, deleted []string
		want           []string // paths refused [tracked-state]
	}{
		{paths: []string{".substrate/state/events.jsonl"}, want: []string{".substrate/state/events.jsonl"}},
		{paths: []string{".substrate"}, want: []string{".substrate"}}, // a file or symlink in its place
		{paths: []string{".SUBSTRATE/state/x", ".Substrate/y"}, want: []string{".SUBSTRATE/state/x", ".Substrate/y"}},
		{paths: []string{".\u017fubstrate/x"}, want: []string{".\u017fubstrate/x"}},                           // ſ folds to s
		{paths: []string{".substrate./x", ".substrate /x"}, want: []string{".substrate./x", ".substrate /x"}}, // Windows drops the dot, the space
		{paths: []string{".substrate/state/events.jsonl"}, deleted: []string{".substrate/state/events.jsonl"}},
		{paths: []string{".substrate/a", ".substrate/b"}, deleted: []string{".substrate/a"}, want: []string{".substrate/b"}},
		{paths: []string{"sub/.substrate/state/x", ".substrates/x", ".substrat/x", "x/.substrate"}}, // not the store's folder
	}
	for _, tt := range tests {
		vs := p.Judge(policy.ChangeSet{Committer: "bob@builder.example", At: t0, Paths: tt.paths, Deleted: tt.deleted}, policy.State{})
		var got []string
		for _, v := range vs {
			if v.Rule != policy.RuleTrackedState {
				t.Errorf("%q: unexpected %s on %s", tt.paths, v.Rule, v.Path)
				continue
			}
			// The folder as the path spells it: git rm matches case and bytes.
			dir, _, _ := strings.Cut(v.Path, "/")
			if !strings.Contains(v.Fix, "git rm -r --cached "+policy.ShellQuote(dir)+" ") || strings.Join(v.Remedy.Argv, " ") != "git rm -r --cached "+dir {
				t.Errorf("%q: fix %q, %q", tt.paths, v.Fix, v.Remedy.Argv)
			}
			got = append(got, v.Path)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%q deleting %q: refused %q, want %q", tt.paths, tt.deleted, got, tt.want)
		}
	}
}

// TestSkewNeverTightens: clock_skew widens a permission, never narrows
// one, and never stretches a restriction: a capsule opened just after a
// change does not bound it, and a handshake does not end early (so no
// record made after a change flips its verdict).
func TestSkewNeverTightens(t *testing.T) {
	p := load(t, judgePolicy)
	const builder = "bob@builder.example"
	skew := 30 * time.Second
	at := t0.Add(time.Hour)
	capsule := policy.Capsule{ID: "C-1", Owner: builder, Domain: "builder", Status: policy.CapsuleInProgress, Scope: []string{"src/**"}, By: "lead@builder.example"}
	for _, tt := range []struct {
		name    string
		created time.Duration // after the change
		bounded bool
	}{
		{"opened 20s after the change", 20 * time.Second, false},
		{"opened 20s before the change", -20 * time.Second, true},
	} {
		c := capsule
		c.CreatedAt = at.Add(tt.created)
		cs := policy.ChangeSet{Committer: builder, At: at, Skew: skew, Paths: []string{"README.md"}}
		if got := len(p.Judge(cs, policy.State{Capsules: []policy.Capsule{c}})) > 0; got != tt.bounded {
			t.Errorf("capsule %s: bounded %v, want %v", tt.name, got, tt.bounded)
		}
	}
	const path = "docs/guide.md" // scribe's core
	shake := missive("M-1", "builder", "scribe", 0, []string{path}, ack("scribe", time.Minute))
	shake.ExpiresAt = at.Add(-10 * time.Second)
	for _, tt := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"10s after its end", at, true},
		{"40s after its end", at.Add(30 * time.Second), false},
	} {
		cs := policy.ChangeSet{Committer: builder, At: tt.at, Skew: skew, Paths: []string{path}}
		if got := len(p.Judge(cs, policy.State{Signals: []policy.Signal{shake}})) == 0; got != tt.ok {
			t.Errorf("handshake %s: allowed %v, want %v", tt.name, got, tt.ok)
		}
	}
}

// TestHandshakeEndsWithItsOwnCapsule: the history keeps a pruned capsule
// beside a later one that took its id; the missive tied to the first ends
// when the first is done, whichever order the records come in.
func TestHandshakeEndsWithItsOwnCapsule(t *testing.T) {
	old := policy.Capsule{ID: "T-1", Domain: "builder", Status: policy.CapsuleDone, CreatedAt: t0, ClosedAt: t0.Add(5 * time.Minute)}
	again := policy.Capsule{ID: "T-1", Domain: "builder", Status: policy.CapsuleInProgress, CreatedAt: t0.Add(70 * time.Minute)}
	m := policy.Signal{ID: "m-1", Kind: policy.SignalMissive, From: "builder", To: []string{"scribe"}, Files: []string{"docs/a.md"}, Capsule: "T-1",
		CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(25 * time.Hour), Acks: []policy.Ack{{Domain: "scribe", At: t0.Add(2 * time.Minute)}}}
	for _, caps := range [][]policy.Capsule{{again, old}, {old, again}, {old}} {
		for _, indexed := range []bool{false, true} {
			st := policy.State{Capsules: caps, Signals: []policy.Signal{m}}
			if indexed {
				st.Index()
			}
			if done, _ := st.Handshake([]string{"builder"}, "scribe", "docs/a.md", t0.Add(3*time.Minute), 0); done == nil {
				t.Errorf("%d capsules, indexed %v: no handshake while T-1 was in progress", len(caps), indexed)
			}
			if done, _ := st.Handshake([]string{"builder"}, "scribe", "docs/a.md", t0.Add(80*time.Minute), 0); done != nil {
				t.Errorf("%d capsules, indexed %v: the handshake outlives its capsule once the id is used again", len(caps), indexed)
			}
		}
	}
}

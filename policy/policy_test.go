package policy_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/policy"
)

// load loads src or fails the test.
func load(t testing.TB, src string) *policy.Policy {
	t.Helper()
	p, err := policy.Load("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Load: %v\n%s", err, src)
	}
	return p
}

func reference(t testing.TB) *policy.Policy {
	t.Helper()
	p, err := policy.Load(policy.FileName, oxygen.ReferencePolicy)
	if err != nil {
		t.Fatalf("the reference policy does not load: %v", err)
	}
	return p
}

func TestLoadReference(t *testing.T) {
	p := reference(t)
	if p.Version != 1 {
		t.Errorf("Version = %d, want 1", p.Version)
	}
	var domains, resources []string
	for _, d := range p.Domains {
		domains = append(domains, d.Name)
	}
	for _, r := range p.Resources {
		resources = append(resources, r.ID)
	}
	wantDomains := []string{"watcher", "builder", "guardian", "scribe", "gems"}
	wantResources := []string{"schema", "storage", "index", "execution", "deployment", "identity", "policy", "coordination"}
	if !reflect.DeepEqual(domains, wantDomains) {
		t.Errorf("domains = %q, want %q", domains, wantDomains)
	}
	if !reflect.DeepEqual(resources, wantResources) {
		t.Errorf("resources = %q, want %q", resources, wantResources)
	}
	for _, name := range wantDomains {
		d, ok := p.Domain(name)
		if !ok || d.Name != name || len(d.Members) == 0 || len(d.Core) == 0 {
			t.Errorf("Domain(%q) = %+v, %v; want it with members and core globs", name, d, ok)
		}
	}
	for _, id := range wantResources {
		r, ok := p.Resource(id)
		if !ok || r.ID != id || len(r.Paths) == 0 || r.Description == "" {
			t.Errorf("Resource(%q) = %+v, %v; want it with paths and a description", id, r, ok)
		}
	}
	if _, ok := p.Resource("nope"); ok {
		t.Error(`Resource("nope") found something`)
	}
	if _, ok := p.Domain("nope"); ok {
		t.Error(`Domain("nope") found something`)
	}
	schema, _ := p.Resource("schema")
	wantSchema := []string{"tools/plan-registry/schema.yaml", ".bridges/protocols/signal-format.yaml", "docs/conventions/units.md"}
	if !reflect.DeepEqual(schema.Paths, wantSchema) {
		t.Errorf("schema paths = %q, want %q", schema.Paths, wantSchema)
	}
	builder, _ := p.Domain("builder")
	if want := []string{"*@builder.example"}; !reflect.DeepEqual(builder.Members, want) {
		t.Errorf("builder members = %q, want %q", builder.Members, want)
	}
	if want := []string{"runtime/**", "deploy/**", "ops/**", "scripts/**"}; !reflect.DeepEqual(builder.Core, want) {
		t.Errorf("builder core = %q, want %q", builder.Core, want)
	}
	wantBudgets := policy.Budgets{LeasesPerDomain: 2, InProgressPerDomain: 2, RiskPathsPerCommit: 20,
		DefaultTTL: 2 * time.Hour, MaxTTL: 24 * time.Hour, ClockSkew: 30 * time.Second, HandshakeTTL: 24 * time.Hour}
	if p.Budgets != wantBudgets {
		t.Errorf("Budgets = %+v, want %+v", p.Budgets, wantBudgets)
	}
	if want := (policy.StoreConfig{Kind: "local", Remote: "origin", Ref: "refs/oxygen/state"}); p.Store != want {
		t.Errorf("Store = %+v, want %+v", p.Store, want)
	}
	if p.Classifier() == nil {
		t.Fatal("Classifier() = nil")
	}
	cl := p.Classifier().Classify("tools/plan-registry/schema.yaml")
	if got := cl.ResourceIDs(); !reflect.DeepEqual(got, []string{"schema"}) {
		t.Errorf("tools/plan-registry/schema.yaml resources = %q, want [schema]", got)
	}
	if got := cl.Owners(); !reflect.DeepEqual(got, []string{"scribe"}) {
		t.Errorf("tools/plan-registry/schema.yaml owners = %q, want [scribe]", got)
	}
}

func TestLoadDefaults(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		want  policy.Budgets
		store policy.StoreConfig
	}{
		{
			name:  "version only",
			src:   "version: 1\n",
			want:  policy.Budgets{LeasesPerDomain: 2, InProgressPerDomain: 2, RiskPathsPerCommit: 20, DefaultTTL: 2 * time.Hour, MaxTTL: 24 * time.Hour, ClockSkew: 30 * time.Second, HandshakeTTL: 24 * time.Hour},
			store: policy.StoreConfig{Kind: "local", Remote: "origin", Ref: "refs/oxygen/state"},
		},
		{
			name:  "some budgets set",
			src:   "version: 1\nbudgets:\n  leases_per_domain: 5\n  max_ttl: 48h\n",
			want:  policy.Budgets{LeasesPerDomain: 5, InProgressPerDomain: 2, RiskPathsPerCommit: 20, DefaultTTL: 2 * time.Hour, MaxTTL: 48 * time.Hour, ClockSkew: 30 * time.Second, HandshakeTTL: 24 * time.Hour},
			store: policy.StoreConfig{Kind: "local", Remote: "origin", Ref: "refs/oxygen/state"},
		},
		{
			name:  "the longest max_ttl",
			src:   "version: 1\nbudgets:\n  max_ttl: 8784h\n",
			want:  policy.Budgets{LeasesPerDomain: 2, InProgressPerDomain: 2, RiskPathsPerCommit: 20, DefaultTTL: 2 * time.Hour, MaxTTL: policy.LongestTTL, ClockSkew: 30 * time.Second, HandshakeTTL: 24 * time.Hour},
			store: policy.StoreConfig{Kind: "local", Remote: "origin", Ref: "refs/oxygen/state"},
		},
		{
			name: "every budget and the git store set",
			src: "version: 1\nbudgets:\n  leases_per_domain: 3\n  in_progress_per_domain: 4\n  risk_paths_per_commit: 50\n" +
				"  default_ttl: 30m\n  max_ttl: 1h\n  clock_skew: 0s\n  handshake_ttl: 2h\nstore:\n  kind: git\n  remote: upstream\n  ref: refs/coord/leases\n  sequenced: true\n",
			want:  policy.Budgets{LeasesPerDomain: 3, InProgressPerDomain: 4, RiskPathsPerCommit: 50, DefaultTTL: 30 * time.Minute, MaxTTL: time.Hour, ClockSkew: 0, HandshakeTTL: 2 * time.Hour},
			store: policy.StoreConfig{Kind: "git", Remote: "upstream", Ref: "refs/coord/leases", Sequenced: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, tt.src)
			if p.Budgets != tt.want {
				t.Errorf("Budgets = %+v, want %+v", p.Budgets, tt.want)
			}
			if p.Store != tt.store {
				t.Errorf("Store = %+v, want %+v", p.Store, tt.store)
			}
			if len(p.Domains) != 0 || len(p.Resources) != 0 || len(p.Classifier().Rules()) != 0 {
				t.Errorf("got domains %v, resources %v, rules %v; want none", p.Domains, p.Resources, p.Classifier().Rules())
			}
		})
	}
}

// A policy file wraps a fragment: a valid prefix, then what is tested.
const pre = "version: 1\n"

// billionLaughs is the classic alias bomb, nine levels of nine.
func billionLaughs(prefix string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(`a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	prev := "a"
	for _, c := range "bcdefghi" {
		fmt.Fprintf(&b, "%c: &%c [", c, c)
		for i := 0; i < 9; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = string(c)
	}
	return b.String()
}

func indent(s, by string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "")
}

// loadErrorTests are policies Load must refuse, with where and why. They
// also seed FuzzLoad.
var loadErrorTests = []struct {
	name      string
	src       string
	line, col int
	msg       string // substrings of the message, separated by |
}{
	{"empty file", "", 1, 1, "empty"},
	{"blank lines", "\n\n\n", 1, 1, "empty"},
	{"only a comment", "# nothing here\n", 1, 1, "empty"},
	{"yaml syntax", pre + "domains: [\n", 2, 0, "invalid YAML|did not find expected node content"},
	// yaml.v3 gives no line for an undefined alias; Load says line 1.
	{"undefined alias", pre + "store:\n  kind: *k\n", 1, 0, "invalid YAML|unknown anchor 'k'"},
	{"tab indentation", pre + "domains:\n\tbuilder: {}\n", 3, 0, "invalid YAML|cannot start any token"},
	{"non-mapping root: list", "- a\n- b\n", 1, 1, "policy must be a mapping"},
	{"non-mapping root: scalar", "hello\n", 1, 1, "policy must be a mapping"},
	{"unknown top-level key", pre + "foo: 1\n", 2, 1, `unknown key "foo"|want version, domains, resources, budgets, council, store`},
	{"unknown key in a domain", pre + "domains:\n  builder:\n    members: [\"*@b.example\"]\n    owners: []\n", 5, 5, `unknown key "owners" in domain "builder"`},
	{"unknown key in a resource", pre + "resources:\n  schema:\n    path: [a]\n", 4, 5, `unknown key "path" in resource "schema"`},
	{"unknown key in budgets", pre + "budgets:\n  leases: 3\n", 3, 3, `unknown key "leases" in budgets`},
	{"unknown key in store", pre + "store:\n  url: x\n", 3, 3, `unknown key "url" in store`},
	{"duplicate top-level key", pre + "version: 1\n", 2, 1, `duplicate key "version"|first at line 1`},
	{"duplicate domain id", pre + "domains:\n  builder:\n    core: [\"a/**\"]\n  builder:\n    core: [\"b/**\"]\n", 5, 3, `duplicate key "builder" in domains (first at line 3)`},
	{"duplicate resource id", pre + "resources:\n  schema:\n    paths: [a]\n  schema:\n    paths: [b]\n", 5, 3, `duplicate key "schema" in resources (first at line 3)`},
	{"duplicate key in a resource", pre + "resources:\n  schema:\n    paths: [a]\n    paths: [b]\n", 5, 5, `duplicate key "paths" in resource schema`},
	{"domains not a mapping", pre + "domains: [builder]\n", 2, 10, "domains must be a mapping"},
	{"domain not a mapping", pre + "domains:\n  builder: yes\n", 3, 12, "domain builder must be a mapping"},
	{"domain id upper case", pre + "domains:\n  Builder:\n    core: [\"a/**\"]\n", 3, 3, `domain "Builder" is not a plain name`},
	{"members not a list", pre + "domains:\n  builder:\n    members: \"*@b.example\"\n", 4, 14, "want a list of globs"},
	{"glob not a string", pre + "resources:\n  schema:\n    paths: [{a: b}]\n", 4, 13, "want a string"},
	{"invalid glob", pre + "resources:\n  schema:\n    paths: [\"ok/**\", \"[abc\"]\n", 4, 22, `invalid glob "[abc"`},
	{"invalid member glob", pre + "domains:\n  builder:\n    members: [\"[x@b.example\"]\n", 4, 15, `invalid glob "[x@b.example"`},
	{"empty glob", pre + "resources:\n  schema:\n    paths: [\"\"]\n", 4, 13, `invalid glob ""`},
	{"glob with leading /", pre + "resources:\n  schema:\n    paths: [\"ok/**\", \"/abs/**\"]\n", 4, 22, `glob "/abs/**" must be a path relative to the repository root`},
	{"glob with leading ./", pre + "resources:\n  schema:\n    paths: [\"ok/**\", \"./docs/**\"]\n", 4, 22, `glob "./docs/**" must be a path relative`},
	{"glob with .. segment", pre + "resources:\n  schema:\n    paths: [\"ok/**\", \"docs/../x\"]\n", 4, 22, `glob "docs/../x" has an empty, . or .. segment`},
	{"glob that is ..", pre + "domains:\n  builder:\n    core: [\"..\"]\n", 4, 12, `glob ".." has an empty, . or .. segment`},
	{"glob with . segment", pre + "resources:\n  schema:\n    paths: [\"a/./b\"]\n", 4, 13, `glob "a/./b" has an empty, . or .. segment`},
	{"glob with empty segment", pre + "resources:\n  schema:\n    paths: [\"a//b\"]\n", 4, 13, `glob "a//b" has an empty, . or .. segment`},
	{"glob with trailing /", pre + "resources:\n  schema:\n    paths: [\"ok/**\", \"docs/\"]\n", 4, 22, `glob "docs/" must be a path relative`},
	{"core glob with trailing /", pre + "domains:\n  scribe:\n    core: [\"docs/\"]\n", 4, 12, `glob "docs/" must be a path relative`},
	{"resource id with /", pre + "resources:\n  a/b:\n    paths: [a]\n", 3, 3, `resource id "a/b" is not a plain name`},
	{"resource id ..", pre + "resources:\n  ..:\n    paths: [a]\n", 3, 3, `resource id ".." is not a plain name`},
	{"resource id with ..", pre + "resources:\n  a..b:\n    paths: [a]\n", 3, 3, `resource id "a..b" is not a plain name`},
	{"resource id upper case", pre + "resources:\n  Schema:\n    paths: [a]\n", 3, 3, `resource id "Schema" is not a plain name`},
	{"resource id too long", pre + "resources:\n  " + strings.Repeat("a", 65) + ":\n    paths: [a]\n", 3, 3, "is not a plain name"},
	{"version 2", "version: 2\n", 1, 10, "unknown policy version 2|reads version 1"},
	{"version 0", "version: 0\n", 1, 10, "unknown policy version 0"},
	{"missing version", "domains: {}\n", 1, 1, "missing `version: 1`"},
	{"missing version below blank lines", "\n\nresources: {}\n", 3, 1, "missing `version: 1`"},
	{"version as a string", "version: \"1\"\n", 1, 10, "want a whole number"},
	{"version as a float", "version: 1.0\n", 1, 10, "want a whole number"},
	{"version too big", "version: 99999999999999999999999\n", 1, 10, "want a whole number"},
	{"anchor", "version: &v 1\n", 1, 10, "anchors are not allowed"},
	{"anchor and alias", pre + "domains:\n  builder: &b\n    core: [\"a/**\"]\n  scribe: *b\n", 3, 12, "anchors are not allowed"},
	{"anchor on a key", pre + "&k domains: {}\n", 2, 1, "anchors are not allowed"},
	{"anchored glob", pre + "resources:\n  schema:\n    paths: [&g \"a/**\"]\n", 4, 13, "anchors are not allowed"},
	{"merge key", pre + "<<: {a: 1}\n", 2, 1, "merge keys are not allowed"},
	{"alias bomb", billionLaughs(pre), 2, 4, "anchors are not allowed"},
	{"alias bomb in a resource", pre + "resources:\n  schema:\n    description: x\n" + indent(billionLaughs(""), "    "), 5, 8, "anchors are not allowed"},
	{"ttl not a duration", pre + "budgets:\n  default_ttl: soon\n", 3, 16, `"soon" is not a duration`},
	{"ttl a bare number", pre + "budgets:\n  max_ttl: 3600\n", 3, 12, `"3600" is not a duration`},
	{"ttl below a second", pre + "budgets:\n  default_ttl: 500ms\n", 3, 16, "shorter than the smallest allowed, 1s"},
	{"max_ttl over a year", pre + "budgets:\n  max_ttl: 9000h\n", 3, 12, "9000h0m0s is longer than the longest lease allowed, 8784h0m0s"},
	{"default_ttl over a year", pre + "budgets:\n  default_ttl: 9000h\n", 3, 16, "default_ttl 9000h0m0s is longer than max_ttl 24h0m0s"},
	{"negative clock skew", pre + "budgets:\n  clock_skew: -5s\n", 3, 15, "shorter than the smallest allowed"},
	{"a clock skew past the bound", pre + "budgets:\n  clock_skew: 16m\n", 3, 15, "longer than the largest clock skew allowed, 15m0s"},
	{"a handshake past the bound", pre + "budgets:\n  handshake_ttl: 721h\n", 3, 18, "longer than the longest handshake allowed, 720h0m0s"},
	{"default_ttl > max_ttl", pre + "budgets:\n  default_ttl: 48h\n  max_ttl: 24h\n", 4, 12, "default_ttl 48h0m0s is longer than max_ttl 24h0m0s"},
	{"default_ttl > default max_ttl", pre + "budgets:\n  default_ttl: 48h\n", 3, 16, "default_ttl 48h0m0s is longer than max_ttl 24h0m0s"},
	{"budget 0", pre + "budgets:\n  leases_per_domain: 0\n", 3, 22, "from 1 to 1000000, not 0"},
	{"budget negative", pre + "budgets:\n  in_progress_per_domain: -3\n", 3, 27, "from 1 to 1000000, not -3"},
	{"budget too big", pre + "budgets:\n  risk_paths_per_commit: 1000001\n", 3, 26, "from 1 to 1000000, not 1000001"},
	{"budget a string", pre + "budgets:\n  risk_paths_per_commit: many\n", 3, 26, "want a whole number"},
	{"budgets not a mapping", pre + "budgets: 2\n", 2, 10, "budgets must be a mapping"},
	{"store kind s3", pre + "store:\n  kind: s3\n", 3, 9, `store kind "s3": want local or git`},
	{"store ref not under refs/", pre + "store:\n  kind: git\n  ref: heads/main\n", 4, 8, `store ref "heads/main": want a full ref name`},
	{"store ref with ..", pre + "store:\n  ref: refs/a..b\n", 3, 8, `store ref "refs/a..b"`},
	{"store ref with a space", pre + "store:\n  ref: refs/a b\n", 3, 8, `store ref "refs/a b"`},
	{"store remote an option", pre + "store:\n  remote: --upload-pack=x\n", 3, 11, "is not a remote name"},
	{"store value a list", pre + "store:\n  kind: [local]\n", 3, 9, "want a string"},
	{"store sequenced a string", pre + "store:\n  sequenced: \"yes\"\n", 3, 14, "want true or false"},
	{"store sequenced, local", pre + "store:\n  sequenced: true\n", 3, 3, "a remote decides the acts of a git store only"},
}

func TestLoadErrors(t *testing.T) {
	for _, tt := range loadErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var p *policy.Policy
			var err error
			go func() {
				defer close(done)
				p, err = policy.Load("bad.yaml", []byte(tt.src))
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
				t.Fatalf("Load did not return in 10s on\n%s", tt.src)
			}
			if err == nil {
				t.Fatalf("Load succeeded (%d domains, %d resources), want an error on\n%s", len(p.Domains), len(p.Resources), tt.src)
			}
			if p != nil {
				t.Errorf("Load returned a policy with its error")
			}
			var perr *policy.Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %v is a %T, want *policy.Error", err, err)
			}
			if perr.File != "bad.yaml" || perr.Line != tt.line || perr.Column != tt.col {
				t.Errorf("error at %s:%d:%d, want bad.yaml:%d:%d (%v)", perr.File, perr.Line, perr.Column, tt.line, tt.col, err)
			}
			for _, want := range strings.Split(tt.msg, "|") {
				if !strings.Contains(perr.Msg, want) {
					t.Errorf("message %q does not contain %q", perr.Msg, want)
				}
			}
			if !strings.HasPrefix(err.Error(), "bad.yaml:") || strings.Contains(err.Error(), "\n") {
				t.Errorf("Error() = %q, want one line starting with the file name", err.Error())
			}
		})
	}
}

func TestLoadTooBig(t *testing.T) {
	src := pre + "# " + strings.Repeat("x", policy.MaxSize) + "\n"
	_, err := policy.Load("big.yaml", []byte(src))
	var perr *policy.Error
	if !errors.As(err, &perr) || perr.Line != 1 || !strings.Contains(perr.Msg, "more than the") {
		t.Fatalf("Load of %d bytes = %v, want a size error at line 1", len(src), err)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  policy.Error
		want string
	}{
		{policy.Error{File: "r.yaml", Line: 3, Column: 7, Msg: "bad"}, "r.yaml:3:7: bad"},
		{policy.Error{File: "r.yaml", Line: 3, Msg: "bad"}, "r.yaml:3: bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"schema", true}, {"a", true}, {"plan-registry_2", true}, {strings.Repeat("a", 64), true},
		{"", false}, {"Schema", false}, {"2schema", false}, {"-a", false}, {"a/b", false}, {"..", false},
		{"a.b", false}, {"a b", false}, {strings.Repeat("a", 65), false}, {"schéma", false},
	}
	for _, tt := range tests {
		if got := policy.ValidName(tt.s); got != tt.want {
			t.Errorf("ValidName(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestDomainsOf(t *testing.T) {
	ref := reference(t)
	multi := load(t, pre+`domains:
  builder:
    members: ["*@builder.example", "Ada@Example.com"]
  scribe:
    members: ["ada@example.com", "*@scribe.example"]
  gems:
    members: ["*@gems.example"]
`)
	tests := []struct {
		p     *policy.Policy
		email string
		want  []string
	}{
		{ref, "ada@builder.example", []string{"builder"}},
		{ref, "Ada@Builder.EXAMPLE", []string{"builder"}},
		{ref, "x@watcher.example", []string{"watcher"}},
		{ref, "x@gems.example", []string{"gems"}},
		{ref, "ada@example.com", nil},
		{ref, "", nil},
		{ref, "builder.example", nil},
		{ref, "a@sub.builder.example", nil},
		{multi, "ada@example.com", []string{"builder", "scribe"}},
		{multi, "ADA@EXAMPLE.COM", []string{"builder", "scribe"}},
		{multi, "bob@scribe.example", []string{"scribe"}},
		{multi, "bob@example.com", nil},
	}
	for _, tt := range tests {
		if got := tt.p.DomainsOf(tt.email); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("DomainsOf(%q) = %q, want %q", tt.email, got, tt.want)
		}
	}
}

// TestActsFor: which recorded actor a push may carry, as the host names the
// pusher by address or by user name.
func TestActsFor(t *testing.T) {
	p, err := policy.Load("resources.yaml", []byte(`version: 1
domains:
  builder:
    members: ["*@builder.example", "ada", "amy"]
  scribe:
    members: ["*@scribe.example", "sam"]
  both:
    members: ["ada", "lee@both.example"]
resources:
  storage:
    paths: ["store/**"]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pusher, by string
		want       bool
	}{
		{"ada@builder.example", "ada@builder.example", true},
		{"Ada@Builder.example", "ada@builder.example", true},
		{"bob@builder.example", "ada@builder.example", false}, // an address vouches for itself alone
		{"ada", "ada@builder.example", true},                  // builder, and ada is in builder
		{"amy", "ada@builder.example", true},                  // the same domain: nothing gained
		{"sam", "ada@builder.example", false},                 // scribe may not act as builder
		{"amy", "lee@both.example", false},                    // amy is not in both
		{"ada", "lee@both.example", true},                     // ada is in both
		{"ada", "nobody@else.example", false},                 // an address in no domain
		{"nobody", "nobody@else.example", false},
		{"ada", "ada", true},
	} {
		if got := p.ActsFor(c.pusher, c.by); got != c.want {
			t.Errorf("ActsFor(%q, %q) = %v, want %v", c.pusher, c.by, got, c.want)
		}
	}
}

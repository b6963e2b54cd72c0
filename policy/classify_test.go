package policy_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/policy"
)

// smallPolicy has one glob of each shape the classifier files differently.
const smallPolicy = `version: 1
domains:
  alpha:
    members: ["*@alpha.example"]
    core: ["docs/**", "{web,ui}/app/**"]
  beta:
    members: ["*@beta.example"]
    core: ["docs/beta/**", "Makefile"]
resources:
  schema:
    paths: ["db/schema.sql", "**/*.sql"]
  deploy:
    paths: ["deploy/**", "{a,b}/x", "ci/*.yml"]
  odd:
    paths: ["weird/\\*star", "lit\\[1\\]/*.txt", "esc\\aped/*", "sp ace/**"]
`

func ruleNames(rules []*policy.Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = fmt.Sprintf("%s:%s:%s", r.Kind, r.Name, r.Glob)
	}
	sort.Strings(out)
	return out
}

func TestMatch(t *testing.T) {
	c := load(t, smallPolicy).Classifier()
	tests := []struct {
		path string
		want []string
	}{
		{"README.md", nil},
		{"", nil},
		{"db/schema.sql", []string{"resource:schema:db/schema.sql", "resource:schema:**/*.sql"}},
		{"db/other.sql", []string{"resource:schema:**/*.sql"}},
		{"schema.sql", []string{"resource:schema:**/*.sql"}},
		{"a/b/c/d.sql", []string{"resource:schema:**/*.sql"}},
		{"db/schema.sqlx", nil},
		{"DB/schema.sql", []string{"resource:schema:**/*.sql", "resource:schema:db/schema.sql"}}, // one file on macOS and Windows
		{"db/SCHEMA.SQL", []string{"resource:schema:**/*.sql", "resource:schema:db/schema.sql"}},
		{"DEPLOY/run.sh", []string{"resource:deploy:deploy/**"}},
		{"makefile", []string{"core:beta:Makefile"}},
		{"Docs/Beta/X.md", []string{"core:alpha:docs/**", "core:beta:docs/beta/**"}},
		{"deploy", []string{"resource:deploy:deploy/**"}},
		{"deploy/run.sh", []string{"resource:deploy:deploy/**"}},
		{"deploy/a/b/c", []string{"resource:deploy:deploy/**"}},
		{"deployment/x", nil},
		{"deplo", nil},
		{"a/x", []string{"resource:deploy:{a,b}/x"}},
		{"b/x", []string{"resource:deploy:{a,b}/x"}},
		{"c/x", nil},
		{"a/x/y", nil},
		{"ci/build.yml", []string{"resource:deploy:ci/*.yml"}},
		{"ci/sub/build.yml", nil},
		{"docs", []string{"core:alpha:docs/**"}},
		{"docs/index.md", []string{"core:alpha:docs/**"}},
		{"docs/beta/x.md", []string{"core:alpha:docs/**", "core:beta:docs/beta/**"}},
		{"docs/q.sql", []string{"core:alpha:docs/**", "resource:schema:**/*.sql"}},
		{"web/app/main.js", []string{"core:alpha:{web,ui}/app/**"}},
		{"ui/app", []string{"core:alpha:{web,ui}/app/**"}},
		{"ux/app/main.js", nil},
		{"Makefile", []string{"core:beta:Makefile"}},
		{"Makefile/x", nil},
		{"sub/Makefile", nil},
		{"weird/*star", []string{`resource:odd:weird/\*star`}},
		{"weird/xstar", nil},
		{"lit[1]/a.txt", []string{`resource:odd:lit\[1\]/*.txt`}},
		{"lit1/a.txt", nil},
		{"escaped/f", []string{`resource:odd:esc\aped/*`}},
		{"sp ace/a b/c", []string{"resource:odd:sp ace/**"}},
		{"deploy/new\nline", []string{"resource:deploy:deploy/**"}},
		{"deploy/\xff\xfe", []string{"resource:deploy:deploy/**"}},
	}
	for _, tt := range tests {
		got := ruleNames(c.Match(nil, tt.path))
		want := append([]string{}, tt.want...)
		sort.Strings(want)
		if len(got) != 0 || len(want) != 0 {
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Match(%q) = %q, want %q", tt.path, got, want)
			}
		}
	}
}

func TestMatchReusesDst(t *testing.T) {
	c := load(t, smallPolicy).Classifier()
	buf := make([]*policy.Rule, 0, 8)
	buf = c.Match(buf, "deploy/x")
	buf = c.Match(buf, "db/schema.sql")
	if got := ruleNames(buf); len(got) != 3 {
		t.Fatalf("two Match calls appended %q, want 3 rules", got)
	}
	// doublestar allocates for brace globs, which the reference policy has none of.
	ref := reference(t).Classifier()
	for _, path := range []string{"tools/plan-registry/schema.yaml", "docs/agents/x.md", "src/a/b/c.go", "store/blobs/ab/cd"} {
		allocs := testing.AllocsPerRun(100, func() { buf = ref.Match(buf[:0], path) })
		if allocs != 0 {
			t.Errorf("Match(%q) into a reused buffer allocates %v times, want 0", path, allocs)
		}
	}
}

func TestClassify(t *testing.T) {
	c := load(t, smallPolicy).Classifier()
	tests := []struct {
		path      string
		resources []string
		owners    []string
		nRes      int // rules, not distinct ids
	}{
		{"src/main.go", nil, nil, 0},
		{"db/schema.sql", []string{"schema"}, nil, 2},
		{"docs/beta/q.sql", []string{"schema"}, []string{"alpha", "beta"}, 1},
		{"deploy/x", []string{"deploy"}, nil, 1},
		{"docs/a", nil, []string{"alpha"}, 0},
	}
	for _, tt := range tests {
		cl := c.Classify(tt.path)
		if got := cl.ResourceIDs(); !reflect.DeepEqual(got, tt.resources) {
			t.Errorf("Classify(%q).ResourceIDs() = %q, want %q", tt.path, got, tt.resources)
		}
		owners := cl.Owners()
		sort.Strings(owners)
		if !reflect.DeepEqual(owners, tt.owners) {
			t.Errorf("Classify(%q).Owners() = %q, want %q", tt.path, owners, tt.owners)
		}
		if len(cl.Resources) != tt.nRes {
			t.Errorf("Classify(%q) has %d resource rules, want %d", tt.path, len(cl.Resources), tt.nRes)
		}
		for _, r := range cl.Resources {
			if r.Kind != policy.ResourceRule {
				t.Errorf("Classify(%q).Resources holds a %s rule", tt.path, r.Kind)
			}
		}
		for _, r := range cl.Core {
			if r.Kind != policy.CoreRule {
				t.Errorf("Classify(%q).Core holds a %s rule", tt.path, r.Kind)
			}
		}
	}
}

func TestRules(t *testing.T) {
	rules := load(t, smallPolicy).Classifier().Rules()
	var got []string
	for _, r := range rules {
		got = append(got, fmt.Sprintf("%s:%s:%s", r.Kind, r.Name, r.Glob))
	}
	want := []string{
		"resource:schema:db/schema.sql", "resource:schema:**/*.sql",
		"resource:deploy:deploy/**", "resource:deploy:{a,b}/x", "resource:deploy:ci/*.yml",
		`resource:odd:weird/\*star`, `resource:odd:lit\[1\]/*.txt`, `resource:odd:esc\aped/*`, "resource:odd:sp ace/**",
		"core:alpha:docs/**", "core:alpha:{web,ui}/app/**", "core:beta:docs/beta/**", "core:beta:Makefile",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Rules() =\n%q\nwant\n%q", got, want)
	}
}

// extraGlobs are added to the reference policy for the property test: root
// globs, braces, character classes, escapes, exact names, globs in the
// middle of a path.
var extraGlobs = []string{
	"**/*.sql", "*.md", "**", "{docs,web}/x/**", "{a,b}/x", "a/{b,c}/d/*",
	"docs/**/*.md", "docs/*/index.md", "db/schema.sql", "db/[a-c]*.sql", "db/?.sql",
	`weird/\*star`, `lit\[1\]/*.txt`, `esc\aped/*`, `a\/b/*`, `x\\y/*`, "deploy/install/**/run",
	"tools/**/schema.yaml", "Makefile", "a/b/c", "a/**/c", "{deploy,docs}", "sp ace/**", "é/**",
}

func extendedReference(t testing.TB) *policy.Policy {
	t.Helper()
	var b strings.Builder
	b.WriteString("  extra:\n    paths:\n")
	for _, g := range extraGlobs {
		fmt.Fprintf(&b, "      - %q\n", g)
	}
	src := strings.Replace(string(oxygen.ReferencePolicy), "\nbudgets:", "\n"+b.String()+"\nbudgets:", 1)
	p := load(t, src)
	if len(p.Resources) != 9 {
		t.Fatalf("extended reference has %d resources, want 9", len(p.Resources))
	}
	return p
}

// bruteForce returns the indexes of every rule whose glob matches path.
func bruteForce(t testing.TB, c *policy.Classifier, path string) []int {
	var out []int
	for i, r := range c.Rules() {
		ok, err := doublestar.Match(policy.FoldGlob(r.Glob), policy.FoldPath(path))
		if err != nil {
			t.Fatalf("glob %q of a loaded policy is invalid: %v", r.Glob, err)
		}
		if ok {
			out = append(out, i)
		}
	}
	return out
}

// indexed returns the indexes of the rules Match returns, sorted, keeping
// duplicates so that a rule returned twice is caught.
func indexed(t testing.TB, c *policy.Classifier, path string) []int {
	rules := c.Rules()
	var out []int
	for _, r := range c.Match(nil, path) {
		i := -1
		for j := range rules {
			if &rules[j] == r {
				i = j
			}
		}
		if i < 0 {
			t.Fatalf("Match(%q) returned %+v, which is not one of Rules()", path, *r)
		}
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

func describe(c *policy.Classifier, idx []int) []string {
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = c.Rules()[j].Glob
	}
	return out
}

// checkAgainstBruteForce fails if the indexed Match and the brute force
// disagree on path.
func checkAgainstBruteForce(t testing.TB, c *policy.Classifier, path string) {
	t.Helper()
	want := bruteForce(t, c, path)
	got := indexed(t, c, path)
	if !slices.Equal(got, want) {
		t.Errorf("Match(%q) = %q, brute force over every rule = %q", path, describe(c, got), describe(c, want))
	}
}

var vocabulary = []string{
	"src", "main.go", "x", "a", "b", "c", "d", "y", "schema.sql", "index.md", "run", "README.md",
	"Makefile", "*star", "lit[1]", "escaped", `a\`, `x\y`, "sp ace", "é", ".", "..", "deploy", "docs",
	"x.sql", "y.txt", "q.md", "\xff", "store", "blobs", "derived", "tools", "plan-registry", "schema.yaml",
	"access", "users", "install", ".bridges", "protocols", "index", "autofile.sqlite", "migrations",
	"web", "ui", "app", "resources.yaml", "new\nline", "ABC", "**", "{a,b}",
}

// instantiate makes a path that a glob may well match: metas replaced by
// random text, escapes undone.
func instantiate(r *rand.Rand, g string) string {
	var b strings.Builder
	word := func() string { return vocabulary[r.IntN(len(vocabulary))] }
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '\\':
			if i+1 < len(g) {
				i++
				b.WriteByte(g[i])
			}
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				i++
				n := r.IntN(3)
				for k := 0; k < n; k++ {
					if k > 0 {
						b.WriteByte('/')
					}
					b.WriteString(word())
				}
				if n == 0 && i+1 < len(g) && g[i+1] == '/' {
					i++
				}
			} else if r.IntN(4) > 0 {
				b.WriteString(word())
			}
		case '?':
			b.WriteByte(byte('a' + r.IntN(26)))
		case '[':
			for i < len(g) && g[i] != ']' {
				i++
			}
			b.WriteByte(byte('a' + r.IntN(4)))
		case '{':
			end := strings.IndexByte(g[i:], '}')
			if end < 0 {
				b.WriteString(g[i:])
				i = len(g)
				break
			}
			alts := strings.Split(g[i+1:i+end], ",")
			b.WriteString(alts[r.IntN(len(alts))])
			i += end
		default:
			b.WriteByte(c)
		}
	}
	switch r.IntN(8) {
	case 0:
		b.WriteString("/" + word())
	case 1:
		b.WriteString(word())
	}
	return b.String()
}

// randomPath makes a path from the vocabulary, sometimes with the odd shapes
// git never prints (leading or trailing /, empty segments, empty path).
func randomPath(r *rand.Rand) string {
	n := 1 + r.IntN(6)
	segs := make([]string, n)
	for i := range segs {
		segs[i] = vocabulary[r.IntN(len(vocabulary))]
	}
	p := strings.Join(segs, "/")
	switch r.IntN(20) {
	case 0:
		p = "/" + p
	case 1:
		p += "/"
	case 2:
		p = strings.Replace(p, "/", "//", 1)
	case 3:
		p = ""
	}
	return p
}

// TestMatchEqualsBruteForce is the classifier's property: filing globs by
// their literal directory never changes what matches.
func TestMatchEqualsBruteForce(t *testing.T) {
	c := extendedReference(t).Classifier()
	r := rand.New(rand.NewPCG(1, 2))
	rules := c.Rules()
	n := 0
	for range 40_000 {
		var path string
		if r.IntN(2) == 0 {
			path = instantiate(r, rules[r.IntN(len(rules))].Glob)
		} else {
			path = randomPath(r)
		}
		if len(bruteForce(t, c, path)) > 0 {
			n++
		}
		checkAgainstBruteForce(t, c, path)
		if t.Failed() {
			break
		}
	}
	// The generator must reach the rules, or the property says nothing.
	if n < 10_000 {
		t.Errorf("only %d of 40000 generated paths matched any rule", n)
	}
	for _, path := range []string{"", "/", "//", "/docs/x", "docs/", "a//b", "deploy//x", "é/x", "x\\y/z", "a\\/b/c"} {
		checkAgainstBruteForce(t, c, path)
	}
}

// realisticPaths is a repository's worth of paths: mostly ordinary source,
// some under the reference policy's shared resources and core surfaces.
func realisticPaths(n int) []string {
	r := rand.New(rand.NewPCG(7, 7))
	governed := []string{
		"docs/guide/%d.md", "docs/agents/%d.md", "deploy/install/step%d.sh", "deploy/k8s/svc%d.yaml",
		"store/blobs/%02x/obj", "store/derived/%d.json", "backups/%d.tar", "index/migrations/%04d.sql",
		"tools/plan-registry/semantics/%d.md", "access/users/u%d.yaml", "daemons/d%d/main.go",
		"ui/components/c%d.tsx", "web/pages/p%d.tsx", "monitoring/dash%d.json", "scripts/s%d.sh",
	}
	plain := []string{
		"src/pkg%d/file.go", "internal/mod%d/impl.go", "internal/mod%d/impl_test.go",
		"vendor/github.com/org/lib%d/lib.go", "cmd/tool%d/main.go", "test/fixtures/%d/input.txt",
		"lib/a/b/c/d/e%d.c", "README%d.md", "assets/img/%d.png", "pkg/x/y/z%d.rs",
	}
	exact := []string{"resources.yaml", "tools/plan-registry/schema.yaml", "index/autofile.sqlite", "scripts/orchestrate", "go.mod", "Makefile"}
	out := make([]string, n)
	for i := range out {
		switch k := r.IntN(10); {
		case k < 6:
			out[i] = fmt.Sprintf(plain[r.IntN(len(plain))], r.IntN(500))
		case k < 9:
			out[i] = fmt.Sprintf(governed[r.IntN(len(governed))], r.IntN(500))
		default:
			out[i] = exact[r.IntN(len(exact))]
		}
	}
	return out
}

func TestRealisticPathsAgainstBruteForce(t *testing.T) {
	c := reference(t).Classifier()
	matched := 0
	for _, p := range realisticPaths(2000) {
		checkAgainstBruteForce(t, c, p)
		if len(c.Match(nil, p)) > 0 {
			matched++
		}
	}
	if matched < 500 || matched > 1500 {
		t.Errorf("%d of 2000 realistic paths matched a rule; the mix should be about a third", matched)
	}
}

func BenchmarkClassify(b *testing.B) {
	c := reference(b).Classifier()
	paths := realisticPaths(10_000)
	buf := make([]*policy.Rule, 0, 16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = c.Match(buf[:0], paths[i%len(paths)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "paths/s")
}

func BenchmarkJudge(b *testing.B) {
	p := reference(b)
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	var st policy.State
	ids := []string{"schema", "storage", "index", "execution", "deployment", "identity", "policy", "coordination"}
	for i := 0; i < 10; i++ {
		dom := []string{"builder", "scribe", "watcher"}[i%3]
		st.Leases = append(st.Leases, policy.Lease{
			Resource: ids[i%len(ids)], Owner: "x@" + dom + ".example", Domain: dom, TTL: 7200,
			CreatedAt: now.Add(-time.Duration(i) * time.Hour), ExpiresAt: now.Add(-time.Duration(i)*time.Hour + 2*time.Hour),
		})
	}
	paths := realisticPaths(20)
	paths[0], paths[1], paths[2] = "tools/plan-registry/schema.yaml", "store/blobs/ab/obj", "docs/agents/x.md"
	cs := policy.ChangeSet{Committer: "ada@builder.example", At: now, Skew: 30 * time.Second, Paths: paths}
	if len(p.Judge(cs, st)) == 0 {
		b.Fatal("the benchmark's change set has no violations; it should exercise the rejecting paths too")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Judge(cs, st)
	}
}

// TestFoldPath: the spellings that macOS and Windows store as one file fold
// to one path; others do not.
func TestFoldPath(t *testing.T) {
	same := [][]string{
		{"store/blobs/x", "STORE/blobs/x", "Store/Blobs/X"},
		{"docs/caf\u00e9.md", "docs/cafe\u0301.md", "DOCS/CAF\u00c9.md", "docs/CAFE\u0301.md"}, // NFC, NFD
		{"store/x", "\u017ftore/x"},                                                            // long s
		{"kit/x", "\u212ait/x"},                                                                // Kelvin sign
		{".substrate/x", ".sub\u200cstrate/x", "\ufeff.substrate/x", ".substra\u200dte/x"},     // HFS+ ignorables
		{"a/\xff", "A/\xff"},
		{"store/x", "store./x", "store /x", "Store. ./X.", "store/x . "}, // Windows drops a name's trailing dots and spaces
		{"caf\u00e9/x", "CAF\u00c9./x"},
	}
	for _, group := range same {
		want := policy.FoldPath(group[0])
		for _, p := range group[1:] {
			if got := policy.FoldPath(p); got != want {
				t.Errorf("FoldPath(%q) = %q, want %q as for %q", p, got, want, group[0])
			}
		}
	}
	differ := [][2]string{{"store/x", "store/y"}, {"stra\u00dfe", "strasse"}, {"a/\xff", "a/\xfe"}, {"caf\u00e9", "cafe"}}
	for _, d := range differ {
		if policy.FoldPath(d[0]) == policy.FoldPath(d[1]) {
			t.Errorf("FoldPath(%q) = FoldPath(%q)", d[0], d[1])
		}
	}
	if p := "src/main.go"; policy.FoldPath(p) != p {
		t.Errorf("FoldPath(%q) changed it", p)
	}
}

// TestClassifyCollisions: a path that is the shared file on macOS or
// Windows is classified as that file's resource, and judged so.
func TestClassifyCollisions(t *testing.T) {
	p := load(t, "version: 1\nresources:\n  storage:\n    paths: [\"store/**\", \"caf\u00e9/menu.txt\"]\n")
	for _, path := range []string{"STORE/blobs/x", "Store/x", "\u017ftore/x", "cafe\u0301/menu.txt", "CAF\u00c9/MENU.TXT", "caf\u200c\u00e9/menu.txt"} {
		if got := p.Classifier().Classify(path).ResourceIDs(); !slices.Equal(got, []string{"storage"}) {
			t.Errorf("Classify(%q) = %q, want storage", path, got)
		}
		vs := p.Judge(policy.ChangeSet{Committer: "x@y.example", At: t0, Paths: []string{path}}, policy.State{})
		if len(vs) != 1 || vs[0].Resource != "storage" || vs[0].Path != path {
			t.Errorf("Judge(%q) = %+v, want one storage violation naming the path as written", path, vs)
		}
	}
	if got := p.Classifier().Classify("cafe/menu.txt").ResourceIDs(); len(got) != 0 {
		t.Errorf("Classify(cafe/menu.txt) = %q: not the same file", got)
	}
}

// BenchmarkClassifyUpperCase: paths with upper case (README.md, src/Foo.java)
// are folded on the stack, without allocations.
func BenchmarkClassifyUpperCase(b *testing.B) {
	c := reference(b).Classifier()
	paths := realisticPaths(10_000)
	for i := range paths {
		paths[i] = strings.ToUpper(paths[i])
	}
	buf := make([]*policy.Rule, 0, 16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = c.Match(buf[:0], paths[i%len(paths)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "paths/s")
}

// TestFoldGlob: a glob folds as the paths it matches do, and stays a glob.
func TestFoldGlob(t *testing.T) {
	for glob, want := range map[string]string{
		"Store/**":          "store/**",
		`x/a\ `:             "x/a",
		`x/a\\ `:            `x/a\\`,
		`Docs./*.MD.`:       "docs/*.md",
		"caf\u00e9/**":      "caf\u00e9/**",
		"CAFE\u0301/[A-Z]*": "caf\u00e9/[a-z]*",
	} {
		got := policy.FoldGlob(glob)
		if got != want {
			t.Errorf("FoldGlob(%q) = %q, want %q", glob, got, want)
		}
		if !doublestar.ValidatePattern(got) {
			t.Errorf("FoldGlob(%q) = %q is no glob", glob, got)
		}
	}
}

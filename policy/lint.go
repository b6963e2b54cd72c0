package policy

import (
	"fmt"
	"slices"
	"strings"
)

// ProtocolTypes are the protocol's eight shared-resource types.
var ProtocolTypes = []string{"schema", "storage", "index", "execution", "deployment", "identity", "policy", "coordination"}

// Finding is one thing a lint found wrong with a policy.
type Finding struct {
	Kind    string `json:"kind"` // ambiguous, unmatched-glob, no-domains, empty-resource, eight-types
	Subject string `json:"subject"`
	Detail  string `json:"detail"`
	Fix     string `json:"fix,omitempty"`
}

// Linter finds what is wrong with a policy over a tree, one path at a time,
// so that the caller can stream the tree rather than hold it.
type Linter struct {
	p     *Policy
	hit   map[*Rule]bool
	buf   []*Rule
	out   []Finding
	Files int // paths seen
}

// NewLinter starts a lint of p.
func NewLinter(p *Policy) *Linter {
	return &Linter{p: p, hit: map[*Rule]bool{}, out: []Finding{}}
}

// Lint lints p over paths.
func Lint(p *Policy, paths []string) []Finding {
	l := NewLinter(p)
	for _, f := range paths {
		l.Add(f)
	}
	return l.Findings()
}

// Add looks at one path of the tree.
func (l *Linter) Add(f string) {
	l.Files++
	l.buf = l.p.classifier.Match(l.buf[:0], f)
	var owners []string
	for _, r := range l.buf {
		l.hit[r] = true
		if r.Kind == CoreRule && !slices.Contains(owners, r.Name) {
			owners = append(owners, r.Name)
		}
	}
	if len(owners) > 1 {
		l.out = append(l.out, Finding{Kind: "ambiguous", Subject: f, Detail: "in the core surface of " + strings.Join(owners, " and "),
			Fix: "edit the domains' core globs so that one domain owns it"})
	}
}

// Findings says what the paths seen leave wrong: ambiguous paths, globs that
// matched none, resources without paths, and the eight-types rule.
func (l *Linter) Findings() []Finding {
	out := l.out
	rules := l.p.classifier.Rules()
	for i := range rules {
		if !l.hit[&rules[i]] {
			r := rules[i]
			out = append(out, Finding{Kind: "unmatched-glob", Subject: r.Glob, Detail: fmt.Sprintf("%s %s's glob matches no tracked file", r.Kind, r.Name)})
		}
	}
	if len(l.p.Domains) == 0 {
		out = append(out, Finding{Kind: "no-domains", Subject: FileName, Detail: "no domains: nobody is a member of one, so nobody can claim a lease",
			Fix: "add the owning teams or agents under domains:, each with members and core globs"})
	}
	var ids []string
	for _, res := range l.p.Resources {
		ids = append(ids, res.ID)
		if len(res.Paths) == 0 {
			out = append(out, Finding{Kind: "empty-resource", Subject: res.ID, Detail: "has no paths, so nothing ever needs its lease"})
		}
	}
	var missing, extra []string
	for _, t := range ProtocolTypes {
		if !slices.Contains(ids, t) {
			missing = append(missing, t)
		}
	}
	for _, id := range ids {
		if !slices.Contains(ProtocolTypes, id) {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(extra) > 0 {
		out = append(out, Finding{Kind: "eight-types", Subject: FileName,
			Detail: fmt.Sprintf("the protocol keeps eight resource types on purpose; missing: %s; extra: %s", orNone(missing), orNone(extra))})
	}
	return out
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// Move is how a policy change reclassifies one path: its resource types and
// its core owners before and after. Lists are sorted and never nil.
type Move struct {
	Path             string   `json:"path"`
	ResourcesBefore  []string `json:"resources_before"`
	ResourcesAfter   []string `json:"resources_after"`
	DomainsBefore    []string `json:"domains_before"` // owners of the core surface that holds it
	DomainsAfter     []string `json:"domains_after"`
	ownersChanged    bool
	resourcesChanged bool
}

// OwnersChanged reports whether the path enters or leaves a core surface.
func (m Move) OwnersChanged() bool { return m.ownersChanged }

// Differ classifies paths under two policies and says which ones a change
// from the old to the new moves. It reuses its buffers across paths.
type Differ struct {
	old, new *Policy
	buf      []*Rule
}

// NewDiffer compares old (the policy in force) with new (the change).
func NewDiffer(old, new *Policy) *Differ { return &Differ{old: old, new: new} }

// Move says how the change reclassifies path; ok is false when it does not.
func (d *Differ) Move(path string) (m Move, ok bool) {
	m.Path = path
	m.ResourcesBefore, m.DomainsBefore = d.classify(d.old, path)
	m.ResourcesAfter, m.DomainsAfter = d.classify(d.new, path)
	m.resourcesChanged = !slices.Equal(m.ResourcesBefore, m.ResourcesAfter)
	m.ownersChanged = !slices.Equal(m.DomainsBefore, m.DomainsAfter)
	return m, m.resourcesChanged || m.ownersChanged
}

func (d *Differ) classify(p *Policy, path string) (resources, owners []string) {
	resources, owners = []string{}, []string{}
	d.buf = p.classifier.Match(d.buf[:0], path)
	for _, r := range d.buf {
		if r.Kind == CoreRule {
			owners = append(owners, r.Name)
		} else {
			resources = append(resources, r.Name)
		}
	}
	slices.Sort(resources)
	slices.Sort(owners)
	return slices.Compact(resources), slices.Compact(owners)
}

// BoundaryChanges lists, sorted, the domains whose boundaries differ between
// the old policy and the new: their core globs or their member globs (as
// sets), or the domain itself, added or removed; every domain's, where the
// store changes: the state it names holds the handshakes that open each
// core surface, so moving it (to a ref the server never verified, which
// any member may have filled with forged acknowledgements) redraws them
// all (who decides the acts there, store.sequenced, moves nothing).
// Redrawing a domain's boundaries is that domain's to consent to.
func BoundaryChanges(old, new *Policy) []string {
	var out []string
	same := func(a, b []string) bool {
		a, b = slices.Clone(a), slices.Clone(b)
		slices.Sort(a)
		slices.Sort(b)
		return slices.Equal(slices.Compact(a), slices.Compact(b))
	}
	for _, d := range old.Domains {
		n, ok := new.Domain(d.Name)
		if !ok || !same(d.Core, n.Core) || !same(d.Members, n.Members) || old.Store.where() != new.Store.where() {
			out = append(out, d.Name)
		}
	}
	for _, d := range new.Domains {
		if _, ok := old.Domain(d.Name); !ok {
			out = append(out, d.Name)
		}
	}
	slices.Sort(out)
	return out
}

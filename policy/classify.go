package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/bmatcuk/doublestar/v4"
	"golang.org/x/text/unicode/norm"
)

// RuleKind says what a glob in the policy stands for.
type RuleKind uint8

const (
	// ResourceRule is a path glob of a shared-resource type.
	ResourceRule RuleKind = iota
	// CoreRule is a path glob of a domain's core surface.
	CoreRule
)

func (k RuleKind) String() string {
	if k == CoreRule {
		return "core"
	}
	return "resource"
}

// Rule is one glob of the policy and what it maps a path to.
type Rule struct {
	Kind RuleKind
	Name string // the resource id or the domain name
	Glob string
	fold string // Glob as FoldPath spells it: what paths are matched against
}

// Classifier maps paths to the rules whose globs match them. Each glob is
// filed under its literal directory prefix (docs/** under "docs"), so a path
// is tried only against the rules filed under one of its own directories:
// a handful instead of every glob of the policy.
//
// Paths and globs are compared as FoldPath spells them: on macOS and
// Windows, STORE/x or an NFD spelling of an NFC name is the same file as
// the shared one, so it is classified as that resource.
type Classifier struct {
	rules  []Rule
	exact  map[string][]int // globs without meta characters, by the path they name
	prefix map[string][]int // the rest, by their literal directory ("" for the root)
}

func newClassifier(p *Policy) *Classifier {
	c := &Classifier{exact: map[string][]int{}, prefix: map[string][]int{}}
	add := func(r Rule) {
		i := len(c.rules)
		r.fold = FoldGlob(r.Glob)
		c.rules = append(c.rules, r)
		if !hasMeta(r.fold) {
			c.exact[r.fold] = append(c.exact[r.fold], i)
		} else {
			dir := literalDir(r.fold)
			c.prefix[dir] = append(c.prefix[dir], i)
		}
	}
	for _, r := range p.Resources {
		for _, g := range r.Paths {
			add(Rule{Kind: ResourceRule, Name: r.ID, Glob: g})
		}
	}
	for _, d := range p.Domains {
		for _, g := range d.Core {
			add(Rule{Kind: CoreRule, Name: d.Name, Glob: g})
		}
	}
	return c
}

func hasMeta(g string) bool { return strings.ContainsAny(g, `*?[{\`) }

// literalDir returns the directory a glob's literal prefix names, with its
// escapes undone ("docs" for docs/**, "a b" for a\ b/*, "" for **/*.sql): every
// path the glob matches is that directory or lies below it. An escaped "/"
// ends the prefix there; filing a glob under a shorter prefix is always safe.
// (doublestar.SplitPattern unescapes only meta characters, so it gives
// esc\aped for esc\aped/*, which matches escaped/f.)
func literalDir(g string) string {
	var b strings.Builder
	dir := 0
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch c {
		case '*', '?', '[', '{':
			return b.String()[:dir]
		case '/':
			dir = b.Len()
		case '\\':
			if i+1 == len(g) || g[i+1] == '/' {
				return b.String()[:dir]
			}
			i++
			c = g[i]
		}
		b.WriteByte(c)
	}
	return b.String()[:dir]
}

// Rules returns every rule of the policy, resources first, in file order.
func (c *Classifier) Rules() []Rule { return c.rules }

// Match appends to dst the rules whose globs match path and returns it.
// Reusing dst across calls keeps classification free of allocations.
func (c *Classifier) Match(dst []*Rule, path string) []*Rule {
	var buf [256]byte // the fold of a short path with upper case, on the stack
	path = foldPath(buf[:0], path)
	try := func(ids []int) {
		for _, i := range ids {
			if doublestar.MatchUnvalidated(c.rules[i].fold, path) {
				dst = append(dst, &c.rules[i])
			}
		}
	}
	for _, i := range c.exact[path] {
		dst = append(dst, &c.rules[i])
	}
	try(c.prefix[""])
	// Every directory of the path, and the path itself (a glob like deploy/**
	// also matches a submodule or file named deploy). The root's rules were
	// tried above: not again for a leading "/" or an empty path.
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			try(c.prefix[path[:i]])
		}
	}
	if path != "" {
		try(c.prefix[path])
	}
	return dst
}

// StateDir is the folder at a repository's root where oxygen keeps the
// clone's own coordination state; no commit may carry a file there.
const StateDir = ".substrate"

// IsStatePath reports whether path is StateDir or lies in it, as a
// checkout on macOS or Windows would write it (.SUBSTRATE/x lands in
// .substrate there, and Windows drops a name's trailing dots and spaces).
func IsStatePath(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	first = strings.TrimRight(first, ". ")
	if isASCII(first) {
		return strings.EqualFold(first, StateDir)
	}
	return FoldPath(first) == StateDir
}

// FoldPath spells path as file systems that ignore case and Unicode
// normalisation (macOS, Windows) see it: without the code points HFS+
// ignores, in NFC, each letter in one case, and without the dots and
// spaces that Windows drops from the end of a name. Two paths with one
// fold are one file there. An ASCII path without upper case or such an
// ending is its own fold.
func FoldPath(path string) string { return foldPath(nil, path) }

// foldPath is FoldPath, writing an ASCII fold into buf's space where it
// fits: the caller's array on its stack keeps the common path free of
// allocations.
func foldPath(buf []byte, s string) string {
	changes := len(s) > 0 && dropped(s[len(s)-1])
	for i := 0; i < len(s) && !changes; i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			return foldUnicode(s, false)
		case 'A' <= c && c <= 'Z', c == '/' && i > 0 && dropped(s[i-1]):
			changes = true
		}
	}
	if !changes {
		return s
	}
	if !isASCII(s) {
		return foldUnicode(s, false)
	}
	buf = buf[:0]
	for rest := s; ; {
		name, after, more := strings.Cut(rest, "/")
		for _, c := range []byte(trimName(name, false)) {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf = append(buf, c)
		}
		if !more {
			break
		}
		buf, rest = append(buf, '/'), after
	}
	return unsafe.String(unsafe.SliceData(buf), len(buf)) // buf is never written again
}

// dropped: Windows drops dots and spaces from the end of a name.
func dropped(c byte) bool { return c == '.' || c == ' ' }

// trimName drops the dots and spaces at the end of a name; in a glob, with
// the backslash that escapes one, so that the glob stays valid.
func trimName(name string, glob bool) string {
	for len(name) > 0 && dropped(name[len(name)-1]) {
		name = name[:len(name)-1]
		n := 0
		for glob && n < len(name) && name[len(name)-1-n] == '\\' {
			n++
		}
		if n%2 == 1 {
			name = name[:len(name)-1]
		}
	}
	return name
}

// FoldGlob is FoldPath for a glob of the policy: what it matches, folded,
// is what the glob folded matches.
func FoldGlob(glob string) string { return foldUnicode(glob, true) }

// foldUnicode is the whole fold, for any text (glob: s is a glob).
func foldUnicode(s string, glob bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !hfsIgnorable(r) {
			b.WriteString(s[i : i+n]) // an invalid byte stays as it is
		}
		i += n
	}
	s = norm.NFC.String(b.String())
	b.Reset()
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(s[i])
		} else {
			// Upper, then lower: ſ and s, K (Kelvin) and k become one.
			b.WriteRune(unicode.ToLower(unicode.ToUpper(r)))
		}
		i += n
	}
	names := strings.Split(b.String(), "/")
	for i, name := range names {
		names[i] = trimName(name, glob)
	}
	return strings.Join(names, "/")
}

// hfsIgnorable: the code points HFS+ leaves out of a name (as git's own
// check for .git spellings lists them).
func hfsIgnorable(r rune) bool {
	return r >= 0x200c && r <= 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x206a && r <= 0x206f || r == 0xfeff
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Class is what one path falls under.
type Class struct {
	Resources []*Rule // one per matching resource glob
	Core      []*Rule // one per matching core glob
}

// Classify sorts the rules that match path into resources and core surfaces.
func (c *Classifier) Classify(path string) Class {
	var cl Class
	for _, r := range c.Match(nil, path) {
		if r.Kind == CoreRule {
			cl.Core = append(cl.Core, r)
		} else {
			cl.Resources = append(cl.Resources, r)
		}
	}
	return cl
}

// Owners returns the distinct domains whose core surface holds the path.
func (cl Class) Owners() []string { return distinct(cl.Core) }

// ResourceIDs returns the distinct resource types the path belongs to.
func (cl Class) ResourceIDs() []string { return distinct(cl.Resources) }

func distinct(rules []*Rule) []string {
	var out []string
	for _, r := range rules {
		if len(out) == 0 || !contains(out, r.Name) {
			out = append(out, r.Name)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

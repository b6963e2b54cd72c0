// Package policy loads resources.yaml, classifies paths against it and judges
// change sets. It is pure: no files, no processes, no clock of its own.
package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"gopkg.in/yaml.v3"
)

// FileName is where a governed repository keeps its policy.
const FileName = "resources.yaml"

// MaxSize bounds a policy file; a larger one is refused rather than parsed.
const MaxSize = 8 << 20

// Policy is a loaded resources.yaml.
type Policy struct {
	Version   int
	Domains   []*Domain   // in file order
	Resources []*Resource // in file order
	Budgets   Budgets
	Council   Council
	Store     StoreConfig

	domains    map[string]*Domain
	resources  map[string]*Resource
	classifier *Classifier
}

// Domain is an owning team.
type Domain struct {
	Name    string
	Members []string // committer e-mail globs
	Core    []string // core-surface path globs
}

// Resource is a shared-resource type.
type Resource struct {
	ID          string
	Description string
	Paths       []string
}

// Budgets are the balance law's limits.
type Budgets struct {
	LeasesPerDomain     int
	InProgressPerDomain int
	RiskPathsPerCommit  int
	DefaultTTL          time.Duration
	MaxTTL              time.Duration
	ClockSkew           time.Duration
	HandshakeTTL        time.Duration // how long an acknowledged missive covers its files
}

// Council says who may grant a council call: Quorum acknowledgements from
// Domains (every domain when empty), none of them the caller's own. A call
// must also be acknowledged by every domain it addresses.
type Council struct {
	Domains []string
	Quorum  int
}

// MaxClockSkew bounds budgets.clock_skew. The skew widens every handshake
// and lease a commit is judged by and lets commits and state events be
// dated that far from a gate's clock, and budgets are any coordination
// lease holder's to edit: unbounded, one edit would stretch another
// domain's ended handshake over its core surface. It stays below the hour
// a finished record is kept live (store.Retention) and the slack of the
// history's checkpoints, which assume no commit is judged by a record that
// finished longer ago than that.
const MaxClockSkew = 15 * time.Minute

// DefaultHandshakeTTL is how long a handshake lasts where the policy does
// not say (budgets.handshake_ttl).
const DefaultHandshakeTTL = 24 * time.Hour

// MaxHandshakeTTL bounds budgets.handshake_ttl: a policy edit (one
// coordination lease) must not make every future handshake last for a year,
// which its owner would hardly notice when acknowledging one.
const MaxHandshakeTTL = 30 * 24 * time.Hour

// StoreConfig says where the coordination state lives.
type StoreConfig struct {
	Kind   string // "local" or "git"
	Remote string
	Ref    string
	// Sequenced (git only): the remote runs oxygen's server hooks, which
	// take each act whole and decide it in turn, so clones send acts, not
	// state, and no act waits out another clone's push.
	Sequenced bool
}

// where is the state's place: the store but for who decides its acts.
func (s StoreConfig) where() StoreConfig {
	s.Sequenced = false
	return s
}

// MinTTL is the shortest lease the protocol allows.
const MinTTL = time.Second

// LongestTTL is the longest: a lease file claiming more is not read, so no
// max_ttl may allow one.
const LongestTTL = 366 * 24 * time.Hour

// ValidName reports whether s may be a resource or domain id, like
// ^[a-z][a-z0-9_-]*$ (64 bytes at most): it becomes a file name in the
// store, so it can hold no separator and no "..". Checked by hand: a
// regular expression compiled at start-up costs every hook run.
func ValidName(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Error is a problem in a policy file at a position. Line and Column are
// 1-based; Column is 0 where the YAML parser reports only a line.
type Error struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *Error) Error() string {
	if e.Column == 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// Domain returns the named domain.
func (p *Policy) Domain(name string) (*Domain, bool) { d, ok := p.domains[name]; return d, ok }

// Resource returns the resource type with the given id.
func (p *Policy) Resource(id string) (*Resource, bool) { r, ok := p.resources[id]; return r, ok }

// Classifier returns the policy's path classifier.
func (p *Policy) Classifier() *Classifier { return p.classifier }

// ActsFor reports whether a push by pusher, as the git host names them,
// may carry an act recorded as by's. A host that names pushers by address
// (Gitea) vouches for that address alone. One that names them by user name
// (gitolite, GitLab, smart HTTP) cannot tie the name to an address, so the
// act may stand for an address only when every domain the address is in is
// a domain the pusher is in too: the act then grants nothing the pusher's
// own membership would not.
func (p *Policy) ActsFor(pusher, by string) bool {
	if strings.EqualFold(pusher, by) {
		return true
	}
	if strings.Contains(pusher, "@") {
		return false
	}
	theirs, own := p.DomainsOf(by), p.DomainsOf(pusher)
	return len(theirs) > 0 && !slices.ContainsFunc(theirs, func(d string) bool { return !slices.Contains(own, d) })
}

// DomainsOf returns the names of the domains whose member globs match the
// e-mail address, in file order. Addresses compare case-insensitively.
func (p *Policy) DomainsOf(email string) []string {
	email = strings.ToLower(email)
	var out []string
	for _, d := range p.Domains {
		for _, m := range d.Members {
			if doublestar.MatchUnvalidated(strings.ToLower(m), email) {
				out = append(out, d.Name)
				break
			}
		}
	}
	return out
}

// Load decodes a policy strictly. name is used in error positions.
func Load(name string, data []byte) (*Policy, error) {
	if len(data) > MaxSize {
		return nil, &Error{File: name, Line: 1, Column: 1, Msg: fmt.Sprintf("policy is %d bytes, more than the %d allowed", len(data), MaxSize)}
	}
	var doc, more yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	if err := dec.Decode(&more); err == nil {
		return nil, &Error{File: name, Line: more.Line, Column: more.Column, Msg: "a second YAML document: a policy is one document (remove the ---)"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{File: name, Line: 1, Column: 1, Msg: "policy is empty: it needs at least `version: 1`"}
	}
	d := decoder{file: name}
	p := &Policy{
		Budgets: Budgets{
			LeasesPerDomain:     2,
			InProgressPerDomain: 2,
			RiskPathsPerCommit:  20,
			DefaultTTL:          2 * time.Hour,
			MaxTTL:              24 * time.Hour,
			ClockSkew:           30 * time.Second,
			HandshakeTTL:        DefaultHandshakeTTL,
		},
		Council:   Council{Quorum: 1},
		Store:     StoreConfig{Kind: "local", Remote: "origin", Ref: "refs/oxygen/state"},
		domains:   map[string]*Domain{},
		resources: map[string]*Resource{},
	}
	root := doc.Content[0]
	var versionSeen bool
	var councilNode *yaml.Node
	err := d.mapping(root, "policy", func(key string, k, v *yaml.Node) error {
		switch key {
		case "version":
			versionSeen = true
			n, err := d.int(v)
			if err != nil {
				return err
			}
			if n != 1 {
				return d.errorf(v, "unknown policy version %d: this oxygen reads version 1", n)
			}
			p.Version = n
		case "domains":
			return d.mapping(v, "domains", func(name string, k, v *yaml.Node) error {
				if !ValidName(name) {
					return d.errorf(k, "domain %q is not a plain name (lower-case letters, digits, - and _)", name)
				}
				dom := &Domain{Name: name}
				err := d.mapping(v, "domain "+name, func(key string, k, v *yaml.Node) error {
					var err error
					switch key {
					case "members":
						dom.Members, err = d.globs(v, false)
					case "core":
						dom.Core, err = d.globs(v, true)
					default:
						return d.errorf(k, "unknown key %q in domain %q (want members, core)", key, name)
					}
					return err
				})
				if err != nil {
					return err
				}
				p.Domains = append(p.Domains, dom)
				p.domains[name] = dom
				return nil
			})
		case "resources":
			return d.mapping(v, "resources", func(id string, k, v *yaml.Node) error {
				if !ValidName(id) {
					return d.errorf(k, "resource id %q is not a plain name (lower-case letters, digits, - and _)", id)
				}
				res := &Resource{ID: id}
				err := d.mapping(v, "resource "+id, func(key string, k, v *yaml.Node) error {
					var err error
					switch key {
					case "description":
						res.Description, err = d.str(v)
					case "paths":
						res.Paths, err = d.globs(v, true)
					default:
						return d.errorf(k, "unknown key %q in resource %q (want description, paths)", key, id)
					}
					return err
				})
				if err != nil {
					return err
				}
				p.Resources = append(p.Resources, res)
				p.resources[id] = res
				return nil
			})
		case "budgets":
			return d.budgets(v, &p.Budgets)
		case "council":
			councilNode = v
			return d.council(v, &p.Council)
		case "store":
			return d.store(v, &p.Store)
		default:
			return d.errorf(k, "unknown key %q (want version, domains, resources, budgets, council, store)", key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !versionSeen {
		return nil, &Error{File: name, Line: root.Line, Column: root.Column, Msg: "missing `version: 1`"}
	}
	if err := d.checkCouncil(councilNode, p); err != nil {
		return nil, err
	}
	p.classifier = newClassifier(p)
	return p, nil
}

type decoder struct{ file string }

func (d decoder) errorf(n *yaml.Node, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// yamlError turns the parser's "yaml: line N: msg" into a positioned Error.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if _, scanErr := fmt.Sscanf(rest[:i], "%d", &line); scanErr == nil {
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + msg}
}

// mapping walks a mapping node in order, refusing aliases and duplicate keys.
func (d decoder) mapping(n *yaml.Node, what string, each func(key string, k, v *yaml.Node) error) error {
	if err := d.plain(n); err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, "%s must be a mapping", what)
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key, err := d.str(k)
		if err != nil {
			return err
		}
		if prev, dup := seen[key]; dup {
			return d.errorf(k, "duplicate key %q in %s (first at line %d)", key, what, prev.Line)
		}
		seen[key] = k
		if err := d.plain(v); err != nil {
			return err
		}
		if err := each(key, k, v); err != nil {
			return err
		}
	}
	return nil
}

// plain refuses aliases, anchors and merge keys: a policy is small and
// literal, and aliases are how YAML bombs expand.
func (d decoder) plain(n *yaml.Node) error {
	switch {
	case n.Kind == yaml.AliasNode:
		return d.errorf(n, "YAML aliases are not allowed in a policy")
	case n.Anchor != "":
		return d.errorf(n, "YAML anchors are not allowed in a policy")
	case n.Tag == "!!merge":
		return d.errorf(n, "YAML merge keys are not allowed in a policy")
	}
	return nil
}

func (d decoder) str(n *yaml.Node) (string, error) {
	if err := d.plain(n); err != nil {
		return "", err
	}
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float" && n.Tag != "!!bool") {
		return "", d.errorf(n, "want a string here")
	}
	return n.Value, nil
}

func (d decoder) int(n *yaml.Node) (int, error) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, d.errorf(n, "want a whole number here")
	}
	var v int
	if err := n.Decode(&v); err != nil {
		return 0, d.errorf(n, "want a whole number here")
	}
	return v, nil
}

func (d decoder) bool(n *yaml.Node) (bool, error) {
	if err := d.plain(n); err != nil {
		return false, err
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, d.errorf(n, "want true or false here")
	}
	return n.Value == "true", nil
}

func (d decoder) duration(n *yaml.Node, min time.Duration) (time.Duration, error) {
	s, err := d.str(n)
	if err != nil {
		return 0, err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, d.errorf(n, "%q is not a duration (write it like 90s, 30m or 2h)", s)
	}
	if v < min {
		return 0, d.errorf(n, "%s is shorter than the smallest allowed, %s", v, min)
	}
	return v, nil
}

// globs reads a list of globs. Path globs must be relative and clean, as git
// names paths; member globs match e-mail addresses.
func (d decoder) globs(n *yaml.Node, paths bool) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, d.errorf(n, "want a list of globs here")
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		g, err := d.str(item)
		if err != nil {
			return nil, err
		}
		if g == "" || !doublestar.ValidatePattern(g) {
			return nil, d.errorf(item, "invalid glob %q", g)
		}
		if paths {
			if strings.HasPrefix(g, "/") || strings.HasPrefix(g, "./") || strings.HasSuffix(g, "/") {
				return nil, d.errorf(item, "glob %q must be a path relative to the repository root, like docs/** (no leading / or ./, no trailing /)", g)
			}
			for _, seg := range strings.Split(g, "/") {
				if seg == ".." || seg == "." || seg == "" {
					return nil, d.errorf(item, "glob %q has an empty, . or .. segment", g)
				}
			}
		}
		out = append(out, g)
	}
	return out, nil
}

func (d decoder) budgets(n *yaml.Node, b *Budgets) error {
	ttlNode := n
	err := d.mapping(n, "budgets", func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "leases_per_domain":
			b.LeasesPerDomain, err = d.count(v)
		case "in_progress_per_domain":
			b.InProgressPerDomain, err = d.count(v)
		case "risk_paths_per_commit":
			b.RiskPathsPerCommit, err = d.count(v)
		case "default_ttl":
			b.DefaultTTL, err = d.duration(v, MinTTL)
			ttlNode = v
		case "max_ttl":
			b.MaxTTL, err = d.duration(v, MinTTL)
			if err == nil && b.MaxTTL > LongestTTL {
				err = d.errorf(v, "%s is longer than the longest lease allowed, %s", b.MaxTTL, LongestTTL)
			}
			ttlNode = v
		case "clock_skew":
			b.ClockSkew, err = d.duration(v, 0)
			if err == nil && b.ClockSkew > MaxClockSkew {
				err = d.errorf(v, "%s is longer than the largest clock skew allowed, %s", b.ClockSkew, MaxClockSkew)
			}
		case "handshake_ttl":
			b.HandshakeTTL, err = d.duration(v, MinTTL)
			if err == nil && b.HandshakeTTL > MaxHandshakeTTL {
				err = d.errorf(v, "%s is longer than the longest handshake allowed, %s", b.HandshakeTTL, MaxHandshakeTTL)
			}
		default:
			return d.errorf(k, "unknown key %q in budgets", key)
		}
		return err
	})
	if err == nil && b.DefaultTTL > b.MaxTTL {
		err = d.errorf(ttlNode, "default_ttl %s is longer than max_ttl %s", b.DefaultTTL, b.MaxTTL)
	}
	return err
}

func (d decoder) council(n *yaml.Node, c *Council) error {
	return d.mapping(n, "council", func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "domains":
			if v.Kind != yaml.SequenceNode {
				return d.errorf(v, "want a list of domain names here")
			}
			for _, item := range v.Content {
				name, err := d.str(item)
				if err != nil {
					return err
				}
				c.Domains = append(c.Domains, name)
			}
		case "quorum":
			c.Quorum, err = d.count(v)
		default:
			return d.errorf(k, "unknown key %q in council (want domains, quorum)", key)
		}
		return err
	})
}

// checkCouncil checks the council against the domains, known only once the
// whole file is read: every seat a domain, and a quorum the seats can reach
// (a caller's own domains never count, so where quorum equals the seats,
// only domains outside the council can be granted a call).
func (d decoder) checkCouncil(n *yaml.Node, p *Policy) error {
	if n == nil {
		return nil
	}
	for _, name := range p.Council.Domains {
		if _, ok := p.domains[name]; !ok {
			return d.errorf(n, "council domain %q is not a domain of this policy", name)
		}
	}
	seats := len(p.Council.Domains)
	if seats == 0 {
		seats = len(p.Domains)
	}
	if p.Council.Quorum > seats {
		return d.errorf(n, "council quorum %d cannot be reached: the council has %d seats", p.Council.Quorum, seats)
	}
	return nil
}

func (d decoder) count(n *yaml.Node) (int, error) {
	v, err := d.int(n)
	if err == nil && (v < 1 || v > 1_000_000) {
		err = d.errorf(n, "want a whole number from 1 to 1000000, not %d", v)
	}
	return v, err
}

func (d decoder) store(n *yaml.Node, s *StoreConfig) error {
	err := d.mapping(n, "store", func(key string, k, v *yaml.Node) error {
		if key == "sequenced" {
			var err error
			s.Sequenced, err = d.bool(v)
			return err
		}
		val, err := d.str(v)
		if err != nil {
			return err
		}
		switch key {
		case "kind":
			if val != "local" && val != "git" {
				return d.errorf(v, "store kind %q: want local or git", val)
			}
			s.Kind = val
		case "remote":
			if val == "" || strings.HasPrefix(val, "-") {
				return d.errorf(v, "store remote %q is not a remote name", val)
			}
			s.Remote = val
		case "ref":
			if !strings.HasPrefix(val, "refs/") || strings.ContainsAny(val, " ~^:?*[\\") || strings.Contains(val, "..") {
				return d.errorf(v, "store ref %q: want a full ref name like refs/oxygen/state", val)
			}
			s.Ref = val
		default:
			return d.errorf(k, "unknown key %q in store (want kind, remote, ref, sequenced)", key)
		}
		return nil
	})
	if err == nil && s.Sequenced && s.Kind != "git" {
		err = d.errorf(n, "store sequenced: a remote decides the acts of a git store only (kind: git)")
	}
	return err
}

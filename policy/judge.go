package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// Lease is a time-limited claim on one resource by one domain.
type Lease struct {
	Resource  string    `json:"resource"`
	Owner     string    `json:"owner"`
	Domain    string    `json:"domain"`
	TTL       int64     `json:"ttl"` // seconds, as in the lease file
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// ReleasedAt is set on a lease from the history that was released early.
	ReleasedAt time.Time `json:"released_at,omitzero"`
	Reason     string    `json:"reason,omitempty"`
	Capsule    string    `json:"capsule,omitempty"`
}

// End is when the lease stopped or stops covering its resource.
func (l Lease) End() time.Time {
	if !l.ReleasedAt.IsZero() && l.ReleasedAt.Before(l.ExpiresAt) {
		return l.ReleasedAt
	}
	return l.ExpiresAt
}

// LiveAt reports whether the lease covers time t, give or take skew at both ends.
func (l Lease) LiveAt(t time.Time, skew time.Duration) bool {
	return !t.Before(l.CreatedAt.Add(-skew)) && t.Before(l.End().Add(skew))
}

// BrokenLease is a lease record that could not be read. It covers its
// resource for nobody: a change to that resource is refused until the file
// is mended or removed.
type BrokenLease struct {
	Resource string `json:"resource"`
	Record   string `json:"record"` // the state path: leases/<resource>.yaml, capsules/<id>.yaml, ...
	File     string `json:"file"`
	Cause    string `json:"cause"`
}

// State is what the coordination store knows, as the judge needs it.
type State struct {
	Leases   []Lease // current leases, or the whole history of them
	Broken   []BrokenLease
	Capsules []Capsule
	Signals  []Signal
	Waiters  []Waiter  // the resources' wait queues, live or lapsed
	DeadEnds []DeadEnd // refusals carried to the shared state (git store)

	ids  *recordIndex  // where each capsule and signal sits, once Index built it
	hist *historyIndex // the leases by resource and time, and the capsules by owner, once IndexHistory built it
}

// With returns a copy of the state in which l is the lease of its resource.
func (st State) With(l Lease) State {
	leases := make([]Lease, 0, len(st.Leases)+1)
	for _, cur := range st.Leases {
		if cur.Resource != l.Resource {
			leases = append(leases, cur)
		}
	}
	st.Leases = append(leases, l)
	return st
}

// ChangeSet is one set of changed paths made by one committer at one time.
type ChangeSet struct {
	Commit    string // empty for the staged index
	Subject   string
	Committer string // e-mail address
	At        time.Time
	Skew      time.Duration // how far At may be off the store's clock
	Paths     []string
	Deleted   []string // those of Paths that the change deletes (needed only for state paths)
	Council   []string // council calls the change cites (Council: trailers)
}

// Rule names, as printed and as in --json.
const (
	RuleNoDomain     = "no-domain"
	RuleShadowEdit   = "shadow-edit"
	RuleHeldByOther  = "held-by-other"
	RuleBrokenLease  = "broken-lease"
	RuleAmbiguousOwn = "ambiguous-ownership"
	RuleNoHandshake  = "no-handshake"
	RuleOutOfScope   = "out-of-scope"
	RuleRiskBudget   = "risk-budget"
	RuleCoreBoundary = "core-boundary"
	RuleTrackedState = "tracked-state"
	RuleBrokenPolicy = "broken-policy" // a change that leaves resources.yaml unloadable
	RuleFutureDate   = "future-date"   // a commit dated after the judging gate's clock, past clock_skew
)

// Violation is one reason a change set is refused.
type Violation struct {
	Commit   string `json:"commit"`
	Subject  string `json:"subject,omitempty"`
	Path     string `json:"path"`
	Resource string `json:"resource"`
	Domain   string `json:"domain"`         // the committer's domain, or the owner for core rules
	Glob     string `json:"glob,omitempty"` // the policy glob that matched
	Rule     string `json:"rule"`
	Reason   string `json:"reason"`
	Fix      string `json:"fix_text"`         // the fix, for people
	Remedy   *Fix   `json:"fix"`              // the fix, for programs: Remedy.Argv runs as written
	Holder   *Lease `json:"holder,omitempty"` // the conflicting lease, if any
}

// Judge applies the rule to a change set and returns every violation, in
// path order as given. An empty result means the change is allowed.
func (p *Policy) Judge(cs ChangeSet, st State) []Violation {
	domains := p.DomainsOf(cs.Committer)
	// A capsule's scope binds from its creation, without the skew (which
	// may only loosen a restriction): a capsule opened after the change
	// does not change its verdict. A commit's time is known to the second,
	// so that second is what counts, at every gate alike.
	scopes := st.InProgress(cs.Committer, "", cs.At.Truncate(time.Second).Add(time.Second-1))
	var out []Violation
	var buf, owners []*Rule
	var seen []string // resources already judged for this path
	var shared []string
	for _, path := range cs.Paths {
		buf = p.classifier.Match(buf[:0], path)
		owners, seen = owners[:0], seen[:0]
		for _, r := range buf {
			if r.Kind == CoreRule {
				if !containsRule(owners, r.Name) {
					owners = append(owners, r)
				}
				continue
			}
			if contains(seen, r.Name) {
				continue
			}
			seen = append(seen, r.Name)
			if v, bad := p.judgeResource(cs, st, domains, path, r); bad {
				out = append(out, v)
			}
		}
		if len(seen) > 0 {
			shared = append(shared, path)
		}
		switch {
		case len(owners) > 1:
			out = append(out, Violation{
				Path: path, Domain: owners[0].Name, Glob: owners[0].Glob, Rule: RuleAmbiguousOwn,
				Reason: "ambiguous ownership: in the core surface of " + describeOwners(owners),
				Fix:    "edit the domains' core globs in resources.yaml so that one domain owns this path (the protocol's classes-and-lexicon step), and commit that first",
				Remedy: &Fix{Argv: []string{"oxygen", "policy", "lint"}, Needs: "an edit of the domains' core globs in " + FileName + " so that one domain owns this path; lint checks it"},
			})
		case len(owners) == 1 && !contains(domains, owners[0].Name):
			if v, bad := judgeSovereignty(cs, st, domains, path, owners[0]); bad {
				out = append(out, v)
			}
		}
		if v, bad := judgeScope(scopes, path); bad {
			out = append(out, v)
		}
		if IsStatePath(path) && !contains(cs.Deleted, path) {
			dir, _, _ := strings.Cut(path, "/") // as spelt: .SUBSTRATE is the state folder where case is ignored
			out = append(out, Violation{
				Path: path, Rule: RuleTrackedState,
				Reason: StateDir + "/ holds each clone's own coordination state: a commit that carries a file there overwrites the state of every clone that pulls it",
				Fix:    "git rm -r --cached " + ShellQuote(dir) + " (the files stay on disk), then commit again",
				Remedy: &Fix{Argv: []string{"git", "rm", "-r", "--cached", dir}, Needs: "then commit again (the files stay on disk)"},
			})
		}
	}
	if v, bad := p.judgeRisk(cs, st, shared); bad {
		out = append(out, v)
	}
	for i := range out {
		out[i].Commit, out[i].Subject = cs.Commit, cs.Subject
	}
	return out
}

// judgeSovereignty: a path in another domain's core surface needs a
// handshake, a missive naming it that the owner acknowledged.
func judgeSovereignty(cs ChangeSet, st State, domains []string, path string, owner *Rule) (Violation, bool) {
	v := Violation{Path: path, Domain: owner.Name, Glob: owner.Glob, Rule: RuleNoHandshake}
	if len(domains) == 0 {
		v.Reason = fmt.Sprintf("in the core surface of %s, and %s is a member of no domain that could send it a missive", owner.Name, orUnknown(cs.Committer))
		v.Fix = fmt.Sprintf("commit as a member of a domain, or add %s to a domain's members in %s", orUnknown(cs.Committer), FileName)
		v.Remedy = noDomainFix(cs.Committer)
		return v, true
	}
	done, waiting := st.Handshake(domains, owner.Name, path, cs.At, cs.Skew)
	switch {
	case done != nil:
		return v, false
	case waiting != nil:
		v.Reason = fmt.Sprintf("in the core surface of %s: missive %s waits for %s to acknowledge it", owner.Name, waiting.ID, owner.Name)
		v.Fix, v.Remedy = ackFix(owner.Name, waiting.ID)
	default:
		v.Reason = fmt.Sprintf("in the core surface of %s: changing it from %s needs a handshake", owner.Name, strings.Join(domains, " or "))
		v.Fix, v.Remedy = missiveFix(owner.Name, path)
	}
	return v, true
}

// missiveFix asks owner for a handshake on path, for people and as a fix.
func missiveFix(owner, path string) (string, *Fix) {
	return fmt.Sprintf("oxygen signal missive --to %s --file %s --subject WHY, then ask %s to acknowledge it", owner, ShellQuote(path), owner),
		&Fix{
			Argv:   []string{"oxygen", "signal", "missive", "--to", owner, "--file", path, "--subject", "change " + path},
			Choose: map[string]string{"--subject": "why the change is needed, for " + owner + " to read"},
			Needs:  "an acknowledgement by a member of " + owner + " (oxygen signal ack ID)",
		}
}

// ackFix: owner's acknowledgement of missive id is what the change waits for.
func ackFix(owner, id string) (string, *Fix) {
	return fmt.Sprintf("ask a member of %s to run: oxygen signal ack %s", owner, id),
		&Fix{Argv: []string{"oxygen", "signal", "ack", id}, Needs: "a member of " + owner + " runs it"}
}

// judgeScope: while the committer owns in-progress capsules that name a
// scope, every path must fall inside one of them.
func judgeScope(capsules []Capsule, path string) (Violation, bool) {
	var ids, globs []string
	for _, c := range capsules {
		if len(c.Scope) == 0 {
			return Violation{}, false // a capsule without a scope bounds nothing
		}
		for _, g := range c.Scope {
			if doublestar.MatchUnvalidated(g, path) {
				return Violation{}, false
			}
		}
		ids, globs = append(ids, c.ID), append(globs, c.Scope...)
	}
	if len(ids) == 0 {
		return Violation{}, false
	}
	return Violation{
		Path: path, Rule: RuleOutOfScope,
		Reason: fmt.Sprintf("outside the scope of your in-progress capsule %s (%s)", strings.Join(ids, ", "), strings.Join(globs, ", ")),
		Fix:    fmt.Sprintf("leave it out of this commit, or close the capsule (oxygen done %s) and assign one whose --scope covers it", ids[0]),
		Remedy: &Fix{Argv: []string{"oxygen", "done", ids[0]}, Needs: "then a capsule whose --scope covers " + path + " (oxygen assign), or leave the path out of this commit"},
	}, true
}

// judgeRisk: one change may touch at most risk_paths_per_commit shared
// paths, unless it cites a granted council call.
func (p *Policy) judgeRisk(cs ChangeSet, st State, shared []string) (Violation, bool) {
	limit := p.Budgets.RiskPathsPerCommit
	if len(shared) <= limit {
		return Violation{}, false
	}
	for _, id := range cs.Council {
		// A call spent on another act (a claim, an assignment) lifts nothing
		// made after that; what it lifted before stays lifted.
		// Only the domain that raised it: the committer may have granted it.
		if s := p.Granted(st, id, cs.At.Add(cs.Skew)); s != nil && p.Member(cs.Committer, s.From) && (s.UsedAt.IsZero() || cs.At.Before(s.UsedAt)) {
			return Violation{}, false
		}
	}
	return Violation{
		Path: shared[limit], Rule: RuleRiskBudget,
		Reason: fmt.Sprintf("risk budget spent: this change touches %d shared-resource paths, and one change may touch %d", len(shared), limit),
		Fix:    "split it into smaller commits, or raise a council call (oxygen signal council-call --to DOMAIN... --subject WHY) and, once granted, cite it with a `Council: ID` trailer (OXYGEN_COUNCIL=ID for the pre-commit hook)",
		Remedy: p.councilFix(cs.Committer, fmt.Sprintf("lift the risk budget for one change of %d shared-resource paths", len(shared)),
			"an acknowledgement by every addressed domain, then a `Council: ID` trailer on the commit (OXYGEN_COUNCIL=ID for the pre-commit hook)"),
	}, true
}

// ShellQuote quotes a path for a command line when it needs it.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (p *Policy) judgeResource(cs ChangeSet, st State, domains []string, path string, r *Rule) (Violation, bool) {
	v := Violation{Path: path, Resource: r.Name, Glob: r.Glob}
	for _, b := range st.Broken {
		if b.Resource == r.Name {
			v.Rule = RuleBrokenLease
			v.Reason = fmt.Sprintf("the lease file of %s cannot be read (%s: %s), so nobody holds %s", r.Name, b.File, b.Cause, r.Name)
			v.Fix = fmt.Sprintf("look at %s, then remove it and run: oxygen claim %s", b.File, r.Name)
			v.Remedy = &Fix{Argv: ClaimArgv(r.Name, domains), Needs: "look at " + b.File + ", then remove it"}
			return v, true
		}
	}
	// The clock skew allowance covers a change only where no other
	// domain's lease is live at its time: two domains never both hold one
	// resource at a moment, and a lease taken after the change cannot undo
	// its verdict. A commit's time is known to the second: another's lease
	// ends the allowance where it is live for all of that second.
	sec := cs.At.Truncate(time.Second)
	var other *Lease
	skewed, otherWhole := false, false
	for l := range st.leasesNear(r.Name, cs.At, cs.Skew) {
		if l.Resource != r.Name || !l.LiveAt(cs.At, cs.Skew) {
			continue
		}
		whole := l.LiveAt(sec, 0) && l.LiveAt(sec.Add(time.Second-1), 0)
		switch {
		case contains(domains, l.Domain) && l.LiveAt(cs.At, 0):
			return v, false
		case contains(domains, l.Domain):
			skewed = true
		case whole || !otherWhole:
			other, otherWhole = l, whole
		}
	}
	if skewed && !otherWhole {
		return v, false
	}
	switch {
	case len(domains) == 0:
		v.Rule = RuleNoDomain
		v.Reason = fmt.Sprintf("%s is a member of no domain, so it may not change the shared resource %s", orUnknown(cs.Committer), r.Name)
		v.Fix = fmt.Sprintf("commit as a member of a domain (git config user.email ...), or add %s to a domain's members in %s", orUnknown(cs.Committer), FileName)
		v.Remedy = noDomainFix(cs.Committer)
	case other != nil:
		v.Rule, v.Domain, v.Holder = RuleHeldByOther, domains[0], other
		v.Reason = fmt.Sprintf("%s is leased by %s (%s) until %s", r.Name, other.Domain, other.Owner, other.End().UTC().Format(time.RFC3339))
		v.Fix = fmt.Sprintf("ask %s to run `oxygen release %s`, or after %s run: %s", other.Owner, r.Name, other.End().UTC().Format(time.RFC3339), ClaimCommand(r.Name, domains))
		v.Remedy = &Fix{Argv: append(ClaimArgv(r.Name, domains), "--wait"), RetryAfter: other.End().UTC(), Needs: other.Owner + " releases it, or it ends"}
	default:
		v.Rule, v.Domain = RuleShadowEdit, domains[0]
		v.Reason = fmt.Sprintf("no live lease on %s for %s", r.Name, strings.Join(domains, " or "))
		v.Fix = ClaimCommand(r.Name, domains)
		v.Remedy = &Fix{Argv: ClaimArgv(r.Name, domains)}
	}
	return v, true
}

// ClaimCommand is the command that claims resource for a committer in domains.
func ClaimCommand(resource string, domains []string) string {
	return strings.Join(ClaimArgv(resource, domains), " ")
}

// ClaimArgv is ClaimCommand as an argv.
func ClaimArgv(resource string, domains []string) []string {
	if len(domains) > 1 {
		return []string{"oxygen", "claim", resource, "--domain", domains[0]}
	}
	return []string{"oxygen", "claim", resource}
}

// ClaimWaitArgv claims resources for domain, waiting in their queues
// while another domain holds one.
func ClaimWaitArgv(resources []string, domain string) []string {
	return append(append([]string{"oxygen", "claim"}, resources...), "--domain", domain, "--wait")
}

// noDomainFix: only the policy's authors can make a committer a member.
func noDomainFix(committer string) *Fix {
	return &Fix{
		Argv:   []string{"git", "config", "user.email"},
		Choose: map[string]string{"user.email": "the e-mail of a member of a domain, as the value; or have " + orUnknown(committer) + " added to a domain's members in " + FileName},
		Needs:  "an identity that is a member of a domain",
	}
}

func describeOwners(owners []*Rule) string {
	parts := make([]string, len(owners))
	for i, o := range owners {
		parts[i] = fmt.Sprintf("%s (%s)", o.Name, o.Glob)
	}
	return strings.Join(parts, " and ")
}

func containsRule(rules []*Rule, name string) bool {
	for _, r := range rules {
		if r.Name == name {
			return true
		}
	}
	return false
}

func orUnknown(email string) string {
	if email == "" {
		return "the committer (no e-mail)"
	}
	return email
}

package policy

import (
	"fmt"
	"slices"
	"strings"
)

// JudgeBoundaries judges a change of the policy itself: p is the policy in
// force, next the one the change brings in. For every domain whose
// boundaries it redraws (BoundaryChanges), a committer who is not a member
// needs that domain's handshake on resources.yaml: one coordination lease
// must not let a domain move files into or out of another's core surface,
// or add members to it, alone. A domain the change adds needs no consent:
// it has no members in force to give it, and it takes nothing from another
// domain silently (a path in two core surfaces is ambiguous ownership,
// which lint reports and every commit touching that path is refused for).
func (p *Policy) JudgeBoundaries(next *Policy, cs ChangeSet, st State) []Violation {
	domains := p.DomainsOf(cs.Committer)
	var out []Violation
	for _, d := range BoundaryChanges(p, next) {
		if _, known := p.Domain(d); !known || slices.Contains(domains, d) {
			continue
		}
		v := Violation{Commit: cs.Commit, Subject: cs.Subject, Path: FileName, Domain: d, Rule: RuleCoreBoundary}
		what := fmt.Sprintf("redraws the boundaries of %s (its core surface, its members, or the store of its handshakes)", d)
		if len(domains) == 0 {
			v.Reason = fmt.Sprintf("%s, and %s is a member of no domain that could ask %s for a handshake", what, orUnknown(cs.Committer), d)
			v.Fix = fmt.Sprintf("commit as a member of %s, or of a domain that sends %s a missive naming %s", d, d, FileName)
			v.Remedy = noDomainFix(cs.Committer)
			out = append(out, v)
			continue
		}
		done, waiting := st.Handshake(domains, d, FileName, cs.At, cs.Skew)
		switch {
		case done != nil:
			continue
		case waiting != nil:
			v.Reason = fmt.Sprintf("%s: missive %s waits for %s to acknowledge it", what, waiting.ID, d)
			v.Fix, v.Remedy = ackFix(d, waiting.ID)
		default:
			v.Reason = fmt.Sprintf("%s: changing them from %s needs %s's handshake", what, strings.Join(domains, " or "), d)
			v.Fix, v.Remedy = missiveFix(d, FileName)
		}
		out = append(out, v)
	}
	return out
}

package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// finding is one line of an audit or a lint (their --json shape).
type finding struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Detail  string `json:"detail"`
	Fix     string `json:"fix,omitempty"`
}

// protocolTypes are the protocol's eight shared-resource types.
var protocolTypes = []string{"schema", "storage", "index", "execution", "deployment", "identity", "policy", "coordination"}

func (a *app) lintCommand() *cobra.Command {
	var asJSON bool
	lint := &cobra.Command{
		Use:   "lint",
		Short: "Check the policy against the tracked files: ambiguity, dead globs, the eight types",
		Long: `Check the policy in force against every tracked file: a path in the core
surfaces of two domains (ambiguous ownership), a glob that matches no
tracked file, a resource without paths, and the protocol's rule of eight
resource types. Exit 1 with findings.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			l := newLinter(r.policy)
			if err := a.git.EachTrackedFile(l.add); err != nil {
				return err
			}
			out := l.findings()
			if asJSON {
				if err := writeJSON(a.stdout, out); err != nil {
					return err
				}
			} else {
				for _, f := range out {
					fmt.Fprintf(a.stdout, "%s %s: %s\n", f.Kind, displayPath(f.Subject), f.Detail)
					if f.Fix != "" {
						fmt.Fprintf(a.stdout, "  fix: %s\n", f.Fix)
					}
				}
				if len(out) == 0 {
					fmt.Fprintf(a.stdout, "%s: no findings over %s\n", r.policySrc, count(l.files, "tracked file"))
				}
			}
			if len(out) > 0 {
				return &silentError{code: exitRefused}
			}
			return nil
		},
	}
	lint.Flags().BoolVar(&asJSON, "json", false, "print the findings as a JSON list")
	c := &cobra.Command{Use: "policy", Short: "Work with the policy (resources.yaml)"}
	c.AddCommand(lint)
	return c
}

// linter finds what is wrong with a policy over the tracked files, one
// path at a time.
type linter struct {
	p     *policy.Policy
	hit   map[*policy.Rule]bool
	buf   []*policy.Rule
	out   []finding
	files int
}

func newLinter(p *policy.Policy) *linter {
	return &linter{p: p, hit: map[*policy.Rule]bool{}, out: []finding{}}
}

// add looks at one tracked file.
func (l *linter) add(f string) {
	l.files++
	l.buf = l.p.Classifier().Match(l.buf[:0], f)
	var owners []string
	for _, r := range l.buf {
		l.hit[r] = true
		if r.Kind == policy.CoreRule && !slices.Contains(owners, r.Name) {
			owners = append(owners, r.Name)
		}
	}
	if len(owners) > 1 {
		l.out = append(l.out, finding{Kind: "ambiguous", Subject: f, Detail: "in the core surface of " + strings.Join(owners, " and "),
			Fix: "edit the domains' core globs so that one domain owns it"})
	}
}

// findings says what the files seen leave wrong: globs that matched none,
// resources without paths, and the eight-types rule.
func (l *linter) findings() []finding {
	out := l.out
	rules := l.p.Classifier().Rules()
	for i := range rules {
		if !l.hit[&rules[i]] {
			r := rules[i]
			out = append(out, finding{Kind: "unmatched-glob", Subject: r.Glob, Detail: fmt.Sprintf("%s %s's glob matches no tracked file", r.Kind, r.Name)})
		}
	}
	var ids []string
	for _, res := range l.p.Resources {
		ids = append(ids, res.ID)
		if len(res.Paths) == 0 {
			out = append(out, finding{Kind: "empty-resource", Subject: res.ID, Detail: "has no paths, so nothing ever needs its lease"})
		}
	}
	var missing, extra []string
	for _, t := range protocolTypes {
		if !slices.Contains(ids, t) {
			missing = append(missing, t)
		}
	}
	for _, id := range ids {
		if !slices.Contains(protocolTypes, id) {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(extra) > 0 {
		out = append(out, finding{Kind: "eight-types", Subject: policy.FileName,
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

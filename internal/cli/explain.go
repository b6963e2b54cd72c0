package cli

import (
	"fmt"
	"path"
	"strings"

	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// explained is what explain says of one path (its --json shape).
type explained struct {
	Path       string             `json:"path"`
	Resources  []explainedRule    `json:"resources"`
	Core       []explainedRule    `json:"core"`
	Allowed    bool               `json:"allowed"` // may the committer commit a change to it now
	Violations []policy.Violation `json:"violations"`
}

type explainedRule struct {
	Resource string        `json:"resource,omitempty"`
	Domain   string        `json:"domain,omitempty"`
	Glob     string        `json:"glob"`
	Lease    *policy.Lease `json:"lease,omitempty"` // the live lease on the resource, if any
}

func (a *app) explainCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "explain PATH...",
		Short: "Say which resource and which domain's core each path falls under, and whether you may change it now",
		Long: `Say, for each path, which resource types and which domain's core surface it
falls under and by which glob, who holds a lease on it, and whether you
(the committer git would record) may commit a change to it now, with the
command to run first if not. Paths are relative to the current directory.`,
		Example: "  oxygen explain tools/plan-registry/schema.yaml docs/index.md",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, prefix, err := a.openRepoHere()
			if err != nil {
				return err
			}
			st, err := r.store.Current()
			if err != nil {
				return err
			}
			now := a.now()
			var out []explained
			for _, arg := range args {
				p, err := repoPath(prefix, arg)
				if err != nil {
					return err
				}
				e := explained{Path: p, Resources: []explainedRule{}, Core: []explainedRule{}, Violations: []policy.Violation{}}
				for _, rule := range r.policy.Classifier().Match(nil, p) {
					if rule.Kind == policy.CoreRule {
						e.Core = append(e.Core, explainedRule{Domain: rule.Name, Glob: rule.Glob})
						continue
					}
					er := explainedRule{Resource: rule.Name, Glob: rule.Glob}
					for _, l := range st.Leases {
						if l.Resource == rule.Name && l.LiveAt(now, 0) {
							er.Lease = &l
						}
					}
					e.Resources = append(e.Resources, er)
				}
				if r.emailErr == nil {
					e.Violations = append(e.Violations, r.policy.Judge(policy.ChangeSet{Committer: r.email, At: now, Paths: []string{p}}, st)...)
				}
				e.Allowed = r.emailErr == nil && len(e.Violations) == 0
				out = append(out, e)
			}
			if asJSON {
				return writeJSON(a.stdout, out)
			}
			a.sayFreshness(r)
			for i, e := range out {
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				a.printExplained(e, r)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

func (a *app) printExplained(e explained, r *repo) {
	w := a.stdout
	fmt.Fprintln(w, displayPath(e.Path))
	if len(e.Resources) == 0 && len(e.Core) == 0 {
		fmt.Fprintln(w, "  no shared resource and no domain's core surface")
	}
	for _, res := range e.Resources {
		state := "free"
		if l := res.Lease; l != nil {
			state = fmt.Sprintf("leased by %s (%s) until %s", l.Domain, l.Owner, stamp(l.ExpiresAt))
		}
		fmt.Fprintf(w, "  resource %s (glob %s): %s\n", res.Resource, res.Glob, state)
	}
	for _, c := range e.Core {
		fmt.Fprintf(w, "  core surface of %s (glob %s)\n", c.Domain, c.Glob)
	}
	switch {
	case r.emailErr != nil:
		fmt.Fprintf(w, "  you: unknown (%v)\n", r.emailErr)
	case e.Allowed:
		fmt.Fprintf(w, "  you (%s): may commit a change to it now\n", r.email)
	default:
		fmt.Fprintf(w, "  you (%s): not yet\n", r.email)
		for _, v := range e.Violations {
			fmt.Fprintf(w, "    %s [%s]\n    fix: %s\n", v.Reason, v.Rule, v.Fix)
		}
	}
}

// repoPath turns a path given on the command line, relative to the current
// directory (prefix within the repository), into a repository path.
func repoPath(prefix, arg string) (string, error) {
	p := path.Join(prefix, arg)
	if path.IsAbs(arg) || p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("%s: outside the repository (give a path inside it)", arg)
	}
	return p, nil
}

package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// lintCommand is `oxygen policy`: lint and diff.
func (a *app) lintCommand() *cobra.Command {
	c := &cobra.Command{Use: "policy", Short: "Work with the policy (resources.yaml): lint it, see what a change to it moves"}
	c.AddCommand(a.policyLintCommand(), a.policyDiffCommand())
	return c
}

func (a *app) policyLintCommand() *cobra.Command {
	var asJSON, staged bool
	c := &cobra.Command{
		Use:   "lint [FILE]",
		Short: "Check a policy against the tracked files: ambiguity, dead globs, the eight types",
		Long: `Check a policy against every tracked file: a path in the core surfaces of
two domains (ambiguous ownership), a glob that matches no tracked file, a
resource without paths, and the protocol's rule of eight resource types.

The policy judged is the one in force (HEAD's resources.yaml) unless
--staged names the staged one or FILE names a file, so that a policy edit
can be checked before it is committed. Exit 1 with findings, 2 when the
policy does not load.`,
		Example: "  oxygen policy lint\n  oxygen policy lint --staged\n  oxygen policy lint resources.yaml",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if staged && len(args) > 0 {
				return errors.New("--staged and FILE: pick one")
			}
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			p, src := r.policy, r.policySrc
			switch {
			case staged:
				if p, src, err = a.gitPolicy(":"+policy.FileName, "the staged "+policy.FileName, false); err != nil {
					return err
				}
			case len(args) == 1:
				if p, src, err = filePolicy(args[0], false); err != nil {
					return err
				}
			}
			l := policy.NewLinter(p)
			if err := a.git.EachTrackedFile(l.Add); err != nil {
				return err
			}
			out := l.Findings()
			if asJSON {
				if err := writeJSON(a.stdout, out); err != nil {
					return err
				}
			} else {
				a.printFindings(out)
				if len(out) == 0 {
					fmt.Fprintf(a.stdout, "%s: no findings over %s\n", src, count(l.Files, "tracked file"))
				}
			}
			if len(out) > 0 {
				return &silentError{code: exitRefused}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the findings as a JSON list")
	c.Flags().BoolVar(&staged, "staged", false, "lint the staged resources.yaml")
	return c
}

func (a *app) printFindings(out []policy.Finding) {
	for _, f := range out {
		fmt.Fprintf(a.stdout, "%s %s: %s\n", f.Kind, displayPath(f.Subject), f.Detail)
		if f.Fix != "" {
			fmt.Fprintf(a.stdout, "  fix: %s\n", f.Fix)
		}
	}
}

// policyDiff is what `oxygen policy diff --json` prints.
type policyDiff struct {
	From       string        `json:"from"`
	To         string        `json:"to"`
	Boundaries []string      `json:"boundaries"` // domains whose core or members the change redraws
	Moves      []policy.Move `json:"moves"`
}

func (a *app) policyDiffCommand() *cobra.Command {
	var asJSON, staged bool
	c := &cobra.Command{
		Use:   "diff [--staged | REV]",
		Short: "List the tracked files whose resource or owning domain a policy change moves",
		Long: `Classify every tracked file under two policies and list those whose
resource types or owning domain (core surface) differ, grouped by domain.

Without arguments it compares HEAD's resources.yaml with the one in the
working tree; --staged with the staged one; REV compares REV's with HEAD's.
A side without a resources.yaml is the built-in reference policy, as it
would be in force. The domains whose boundaries the change redraws are
named first: a committer outside them needs their handshake on
resources.yaml (rule core-boundary).`,
		Example: "  oxygen policy diff\n  oxygen policy diff --staged\n  oxygen policy diff HEAD~3 --json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if staged && len(args) > 0 {
				return errors.New("--staged and REV: pick one")
			}
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			if r.dirs.Bare {
				return errors.New("a bare repository has no tracked files: run oxygen policy diff in a clone")
			}
			oldSpec, newSpec := "HEAD:"+policy.FileName, ""
			oldName, newName := "HEAD's "+policy.FileName, "the working tree's "+policy.FileName
			switch {
			case staged:
				newSpec, newName = ":"+policy.FileName, "the staged "+policy.FileName
			case len(args) == 1:
				id, err := a.git.ResolveCommit(args[0])
				if err != nil {
					return err
				}
				oldSpec, oldName = id+":"+policy.FileName, args[0]+"'s "+policy.FileName
				newSpec, newName = "HEAD:"+policy.FileName, "HEAD's "+policy.FileName
			}
			old, oldSrc, err := a.gitPolicy(oldSpec, oldName, true)
			if err != nil {
				return err
			}
			var next *policy.Policy
			var newSrc string
			if newSpec != "" {
				next, newSrc, err = a.gitPolicy(newSpec, newName, true)
			} else {
				var top string
				if top, err = a.topLevel(); err == nil {
					next, newSrc, err = filePolicy(filepath.Join(top, policy.FileName), true)
					if err == nil && !strings.HasPrefix(newSrc, "the built-in") {
						newSrc = newName
					}
				}
			}
			if err != nil {
				return err
			}
			d := policy.NewDiffer(old, next)
			rep := policyDiff{From: oldSrc, To: newSrc, Boundaries: policy.BoundaryChanges(old, next), Moves: []policy.Move{}}
			if rep.Boundaries == nil {
				rep.Boundaries = []string{}
			}
			if err := a.git.EachTrackedFile(func(f string) {
				if m, ok := d.Move(f); ok {
					rep.Moves = append(rep.Moves, m)
				}
			}); err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, rep)
			}
			a.printPolicyDiff(rep)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	c.Flags().BoolVar(&staged, "staged", false, "compare HEAD's resources.yaml with the staged one")
	return c
}

// printPolicyDiff lists the moves under every domain they concern: the
// owners before and after; a move between resources only, under its owner
// or "(no domain)".
func (a *app) printPolicyDiff(rep policyDiff) {
	w := a.stdout
	fmt.Fprintf(w, "%s -> %s: %s move\n", rep.From, rep.To, count(len(rep.Moves), "tracked file"))
	if len(rep.Boundaries) > 0 {
		fmt.Fprintf(w, "boundaries redrawn: %s (a committer outside them needs their handshake on %s)\n", strings.Join(rep.Boundaries, ", "), policy.FileName)
	}
	const none = "(no domain)"
	groups := map[string][]string{}
	for _, m := range rep.Moves {
		var what []string
		if m.OwnersChanged() {
			what = append(what, fmt.Sprintf("core %s -> %s", orNothing(m.DomainsBefore), orNothing(m.DomainsAfter)))
		}
		if !slices.Equal(m.ResourcesBefore, m.ResourcesAfter) {
			what = append(what, fmt.Sprintf("resources %s -> %s", orNothing(m.ResourcesBefore), orNothing(m.ResourcesAfter)))
		}
		line := fmt.Sprintf("  %s: %s", displayPath(m.Path), strings.Join(what, "; "))
		ds := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(m.DomainsBefore), m.DomainsAfter...))))
		if len(ds) == 0 {
			ds = []string{none}
		}
		for _, d := range ds {
			groups[d] = append(groups[d], line)
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range groups {
			if k != none && !yield(k) {
				return
			}
		}
	})
	if _, ok := groups[none]; ok {
		names = append(names, none)
	}
	for _, d := range names {
		fmt.Fprintf(w, "%s\n%s\n", d, strings.Join(groups[d], "\n"))
	}
}

func orNothing(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// gitPolicy loads the policy git names by spec (like :resources.yaml). One
// that is missing is an error, or with builtIn the reference policy, as it
// would be in force.
func (a *app) gitPolicy(spec, name string, builtIn bool) (*policy.Policy, string, error) {
	blobs, err := a.git.ReadBlobs(spec)
	if err != nil {
		return nil, "", err
	}
	if blobs[0].Missing {
		return missingPolicy(name, builtIn)
	}
	p, err := policy.Load(policy.FileName, blobs[0].Data)
	if err != nil {
		return nil, "", fmt.Errorf("%w (%s)", err, name)
	}
	return p, name, nil
}

// filePolicy loads the policy in file, named as given.
func filePolicy(file string, builtIn bool) (*policy.Policy, string, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return missingPolicy(file, builtIn)
	}
	if err != nil {
		return nil, "", err
	}
	p, err := policy.Load(file, data)
	return p, file, err
}

func missingPolicy(name string, builtIn bool) (*policy.Policy, string, error) {
	if !builtIn {
		return nil, "", fmt.Errorf("%s: there is none (git add it, or name a file)", name)
	}
	p, err := policy.Load("built-in "+policy.FileName, oxygen.ReferencePolicy)
	return p, "the built-in reference policy (" + name + ": none)", err
}

// topLevel is the root of the current worktree.
func (a *app) topLevel() (string, error) {
	out, err := a.git.Run(nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(out), "\n"), nil
}

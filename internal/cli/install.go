package cli

import (
	"fmt"
	"os/exec"
	"strings"

	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/install"
	"github.com/spf13/cobra"
)

// hookTarget resolves the repository --repo names (or the current one).
func (a *app) hookTarget(dir string) (git.Dirs, error) {
	r := a.git
	if dir != "" {
		var err error
		if r, err = a.git.ForRepo(dir); err != nil {
			return git.Dirs{}, err
		}
	}
	d, err := r.Dirs()
	if err != nil && dir != "" {
		return d, fmt.Errorf("--repo %s: %w", dir, err)
	}
	return d, err
}

func (a *app) installCommand() *cobra.Command {
	var dir string
	var asJSON bool
	c := &cobra.Command{
		Use:   "install",
		Short: "Install oxygen's git hooks in a clone",
		Long: `Install oxygen's hooks where git looks for hooks (core.hooksPath is
honoured): pre-commit, pre-merge-commit and pre-push in a clone; in a bare
repository (a server), pre-receive, the gate that --no-verify cannot pass,
and proc-receive, which decides the acts of clones whose store says
sequenced (it sets receive.procReceiveRefs to refs/oxygen/acts and turns
receive.advertisePushOptions on; git 2.29 or later).
A hook that is already there is kept as NAME.oxygen-chained and runs before
oxygen. Running install again changes nothing; oxygen uninstall takes out
only what install wrote.

Beside a hook manager, the manager runs oxygen. Where husky owns the hooks
folder (core.hooksPath .husky/_, which husky rewrites on every npm install),
install adds oxygen's lines to the top of husky's scripts (.husky/pre-commit,
.husky/pre-merge-commit, .husky/pre-push) instead. Where the hooks are the
pre-commit framework's or lefthook's, install changes nothing and says what
to add to their configuration.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			d, err := a.hookTarget(dir)
			if err != nil {
				return err
			}
			names := hookNames(d.Bare)
			if scripts, ok := install.HuskyScripts(d.Hooks); ok && !d.Bare {
				acts, err := install.InstallHusky(d.Hooks, scripts, names)
				if err == nil || len(acts) > 0 {
					a.printActions(scripts+" (husky's scripts)", acts, asJSON)
				}
				if err != nil {
					return err
				}
				a.warnNotOnPath()
				return nil
			}
			shims := map[string][]byte{}
			for _, n := range names {
				shims[n], _ = Shim(n)
			}
			acts, err := install.Install(d.Hooks, shims, names)
			if err == nil && d.Bare {
				var more []install.Action
				more, err = a.installSequencer(d)
				acts = append(acts, more...)
			}
			if err == nil || len(acts) > 0 {
				a.printActions(d.Hooks, acts, asJSON)
			}
			if err != nil {
				return err
			}
			a.warnNotOnPath()
			return nil
		},
	}
	c.Flags().StringVar(&dir, "repo", "", "the repository to install into (default: the current one)")
	c.Flags().BoolVar(&asJSON, "json", false, "print what was done as JSON")
	return c
}

func (a *app) uninstallCommand() *cobra.Command {
	var dir string
	var asJSON bool
	c := &cobra.Command{
		Use:   "uninstall",
		Short: "Remove oxygen's git hooks, restoring any hook they chained",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			d, err := a.hookTarget(dir)
			if err != nil {
				return err
			}
			names := hookNames(d.Bare)
			if scripts, ok := install.HuskyScripts(d.Hooks); ok && !d.Bare {
				acts, err := install.UninstallHusky(d.Hooks, scripts, names)
				a.printActions(scripts+" (husky's scripts)", acts, asJSON)
				return err
			}
			acts, err := install.Uninstall(d.Hooks, names)
			if err == nil && d.Bare {
				var more []install.Action
				more, err = a.uninstallSequencer(d)
				acts = append(acts, more...)
			}
			a.printActions(d.Hooks, acts, asJSON)
			return err
		},
	}
	c.Flags().StringVar(&dir, "repo", "", "the repository to uninstall from (default: the current one)")
	c.Flags().BoolVar(&asJSON, "json", false, "print what was done as JSON")
	return c
}

// warnNotOnPath says when the hooks just installed cannot find oxygen.
func (a *app) warnNotOnPath() {
	if _, err := exec.LookPath("oxygen"); err != nil {
		fmt.Fprintln(a.stderr, "oxygen: warning: oxygen is not on PATH, so the hooks will refuse every commit until it is (see ./install.sh --prefix)")
	}
}

func (a *app) printActions(dir string, acts []install.Action, asJSON bool) {
	if asJSON {
		_ = writeJSON(a.stdout, map[string]any{"dir": dir, "actions": append([]install.Action{}, acts...)})
		return
	}
	if len(acts) == 0 {
		fmt.Fprintf(a.stdout, "no oxygen hooks in %s\n", dir)
		return
	}
	parts := make([]string, len(acts))
	for i, act := range acts {
		parts[i] = act.Hook + ": " + act.What
	}
	fmt.Fprintf(a.stdout, "%s: %s\n", dir, strings.Join(parts, ", "))
}

package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

func (a *app) assignCommand() *cobra.Command {
	var owner, domain, council string
	var scope, resources []string
	var asJSON bool
	c := &cobra.Command{
		Use:   "assign ID --owner WHO",
		Short: "Open a context capsule: an in-progress work item, its owner and its scope",
		Long: `Open the context capsule of an in-progress work item for your domain. While
its owner has in-progress capsules with a --scope, commits by the owner that
change paths outside the union of their scopes are refused. An owner outside
your domains is bound only once they accept it (oxygen capsules accept ID).
A domain may have budgets.in_progress_per_domain capsules in progress at
once (the attention budget); --council cites a granted council call to go
past it.`,
		Example: "  oxygen assign T-42 --owner agent7@builder.example --scope 'deploy/**' --resource deployment",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			d, err := a.actingDomain(r, domain)
			if err != nil {
				return err
			}
			if owner == "" {
				return errors.New("--owner is required: the e-mail of who works on it")
			}
			for _, g := range scope {
				if !doublestar.ValidatePattern(g) || strings.HasPrefix(g, "/") {
					return fmt.Errorf("--scope %q is not a path glob relative to the repository root", g)
				}
			}
			for _, id := range resources {
				if err := r.resource(id); err != nil {
					return err
				}
			}
			dec, err := a.act(r, policy.Act{Kind: policy.ActAssign, ID: args[0], Owner: owner, Domain: d, Scope: scope, Resources: resources, Council: council}, "assign "+args[0])
			if err != nil {
				return err
			}
			cap := *dec.Capsule
			if asJSON {
				return writeJSON(a.stdout, cap)
			}
			fmt.Fprintf(a.stdout, "capsule %s in progress for %s, owned by %s", cap.ID, cap.Domain, cap.Owner)
			if len(cap.Scope) > 0 {
				fmt.Fprintf(a.stdout, ", scope %s", strings.Join(cap.Scope, " "))
			}
			fmt.Fprintln(a.stdout)
			if cap.AwaitsConsent {
				fmt.Fprintf(a.stdout, "  next: its scope binds %s once they (or a member of their domain) run: oxygen capsules accept %s\n", cap.Owner, cap.ID)
			}
			return nil
		},
	}
	c.Flags().StringVar(&owner, "owner", "", "who works on it (an e-mail address)")
	c.Flags().StringArrayVar(&scope, "scope", nil, "a path glob the work may change (repeat for several)")
	c.Flags().StringArrayVar(&resources, "resource", nil, "a resource the work expects to lease (repeat for several)")
	c.Flags().StringVar(&domain, "domain", "", "the domain the work is for, if you are in several")
	c.Flags().StringVar(&council, "council", "", "a granted council call that lifts the attention budget")
	c.Flags().BoolVar(&asJSON, "json", false, "print the capsule as JSON")
	return c
}

func (a *app) doneCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "done ID",
		Short: "Close a context capsule",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			dec, err := a.act(r, policy.Act{Kind: policy.ActDone, ID: args[0]}, "done "+args[0])
			if err != nil {
				return err
			}
			cap := *dec.Capsule
			if asJSON {
				return writeJSON(a.stdout, cap)
			}
			fmt.Fprintf(a.stdout, "capsule %s done\n", cap.ID)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the capsule as JSON")
	return c
}

func (a *app) signalCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "signal",
		Short: "Send or acknowledge an explicit handoff between domains",
		Long: `Cross-domain work goes through signals. A missive from your domain to the
owner of a core surface, naming the exact files, becomes a handshake once a
member of the owner acknowledges it: then commits by your domain to exactly
those files are allowed, until budgets.handshake_ttl passes or the missive's
capsule is done. A council call, raised when you are blocked, is granted
once every addressed domain acknowledged it, a quorum of the policy's
council outside your own domains among them; it lifts one budget for one
act. An addressed domain may decline a signal instead: it is then spent.`,
	}
	c.AddCommand(a.sendCommand(policy.SignalMissive), a.sendCommand(policy.SignalCouncilCall), a.answerCommand(policy.ActAck), a.answerCommand(policy.ActDecline))
	return c
}

func (a *app) sendCommand(kind string) *cobra.Command {
	var to, files []string
	var subject, capsule, domain string
	var asJSON bool
	use, short := "missive --to DOMAIN --file PATH... --subject TEXT", "Ask a domain for a handshake on exact files of its core surface"
	if kind == policy.SignalCouncilCall {
		use, short = "council-call --to DOMAIN... --subject TEXT", "Raise a council call when blocked: granted once every addressed domain acknowledges it"
	}
	args := cobra.NoArgs
	if kind == policy.SignalCouncilCall {
		args = cobra.ArbitraryArgs // --to D... : the words after --to are domains too
	}
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(c *cobra.Command, extra []string) error {
			r, prefix, err := a.openRepoHere()
			if err != nil {
				return err
			}
			from, err := a.actingDomain(r, domain)
			if err != nil {
				return err
			}
			if subject == "" {
				return errors.New("--subject is required: say why")
			}
			to = splitList(append(to, extra...))
			for _, d := range to {
				if _, ok := r.policy.Domain(d); !ok {
					return fmt.Errorf("unknown domain %q (the policy has %s)", d, strings.Join(domainNames(r.policy), ", "))
				}
			}
			var paths []string
			for _, f := range files {
				p, err := repoPath(prefix, f)
				if err != nil {
					return err
				}
				paths = append(paths, p)
			}
			dec, err := a.act(r, policy.Act{Kind: policy.ActSignal, ID: newSignalID(kind), Signal: kind, Domain: from, Subject: subject, Capsule: capsule, To: to, Files: paths}, "signal")
			if err != nil {
				return err
			}
			s := *dec.Signal
			if asJSON {
				// A new signal's status needs nothing of the state but itself.
				return writeJSON(a.stdout, SignalOutput{s, r.policy.SignalStatus(policy.State{Signals: []policy.Signal{s}}, s, a.now())})
			}
			fmt.Fprintf(a.stdout, "%s %s sent from %s to %s\n", strings.ReplaceAll(s.Kind, "_", " "), s.ID, s.From, strings.Join(s.To, ", "))
			fmt.Fprintf(a.stdout, "  next: a member of %s runs: oxygen signal ack %s\n", strings.Join(s.To, " and of "), s.ID)
			return nil
		},
	}
	c.Flags().StringSliceVar(&to, "to", nil, "the addressed domain (council calls: one or more)")
	c.Flags().StringArrayVar(&files, "file", nil, "an exact path the signal is about (repeat for several)")
	c.Flags().StringVar(&subject, "subject", "", "what and why, in a line")
	c.Flags().StringVar(&capsule, "capsule", "", "the context capsule this belongs to, as evidence")
	c.Flags().StringVar(&domain, "domain", "", "the domain to send from, if you are in several")
	c.Flags().BoolVar(&asJSON, "json", false, "print the signal as JSON")
	return c
}

func splitList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// newSignalID names a signal: its kind and six random hex digits.
func newSignalID(kind string) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	prefix := "m-"
	if kind == policy.SignalCouncilCall {
		prefix = "cc-"
	}
	return prefix + hex.EncodeToString(b[:])
}

// answerCommand is `signal ack` or `signal decline`: a member of an
// addressed domain answers a signal. A declined signal is spent.
func (a *app) answerCommand(kind string) *cobra.Command {
	var asJSON bool
	short := "Acknowledge a signal addressed to your domain"
	if kind == policy.ActDecline {
		short = "Decline a signal addressed to your domain: it is spent, and grants nothing"
	}
	c := &cobra.Command{
		Use:   kind + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			if _, err := r.domains(); err != nil {
				return err
			}
			if _, err := a.act(r, policy.Act{Kind: kind, ID: args[0]}, kind+" "+args[0]); err != nil {
				return err
			}
			st, err := r.store.Current() // as the act left it, answered now or before
			if err != nil {
				return err
			}
			s := st.Signal(args[0])
			if s == nil {
				return fmt.Errorf("%s %s: the signal is gone from the store", kind, args[0])
			}
			out := SignalOutput{*s, r.policy.SignalStatus(st, *s, a.now())}
			if asJSON {
				return writeJSON(a.stdout, out)
			}
			fmt.Fprintf(a.stdout, "%s %s: %s\n", strings.ReplaceAll(s.Kind, "_", " "), s.ID, out.Status)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the signal as JSON")
	return c
}

func (a *app) signalsCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "signals",
		Short: "List the missives and council calls, with their status",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r, st, err := a.openState()
			if err != nil {
				return err
			}
			now := a.now()
			out := []SignalOutput{}
			for _, s := range st.Signals {
				out = append(out, SignalOutput{s, r.policy.SignalStatus(st, s, now)})
			}
			if asJSON {
				return writeJSON(a.stdout, out)
			}
			a.sayFreshness(r)
			if len(out) == 0 {
				fmt.Fprintln(a.stdout, "no signals")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tFROM\tTO\tSTATUS\tFILES\tSUBJECT")
			for _, s := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Kind, s.From, strings.Join(s.To, ","), s.Status, strings.Join(s.Files, " "), s.Subject)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as a JSON list")
	return c
}

// capsulesCommand lists the capsules; its subcommands are the owner's:
// accept one assigned from outside their domains, widen one's scope.
func (a *app) capsulesCommand() *cobra.Command {
	var all, asJSON bool
	c := &cobra.Command{
		Use:   "capsules",
		Short: "List the capsules in progress (--all: every one), with their owners, scopes and consent",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, st, err := a.openState()
			if err != nil {
				return err
			}
			now := a.now()
			out := []policy.Capsule{}
			for _, cp := range st.Capsules {
				if all || cp.InProgressAt(now) {
					out = append(out, cp)
				}
			}
			if asJSON {
				return writeJSON(a.stdout, out)
			}
			if len(out) == 0 {
				fmt.Fprintln(a.stdout, "no capsules in progress")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tDOMAIN\tOWNER\tSTATUS\tCONSENT\tSCOPE")
			for _, cp := range out {
				consent := "-"
				switch {
				case cp.Consent != nil:
					consent = "given by " + cp.Consent.By
				case cp.AwaitsConsent:
					consent = "awaited"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cp.ID, cp.Domain, cp.Owner, cp.Status, consent, orAnywhere(cp.Scope))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&all, "all", false, "also list the capsules that are done")
	c.Flags().BoolVar(&asJSON, "json", false, "print as a JSON list")
	c.AddCommand(a.capsuleActCommand(policy.ActAccept), a.capsuleActCommand(policy.ActWiden))
	return c
}

// capsuleActCommand is `capsules accept ID` or `capsules widen ID --scope G`.
func (a *app) capsuleActCommand(kind string) *cobra.Command {
	var scope []string
	var asJSON bool
	use, short := "accept ID", "Consent to a capsule assigned to you from outside your domains: its scope then binds your commits"
	if kind == policy.ActWiden {
		use, short = "widen ID --scope GLOB...", "Add path globs to the scope of a capsule you own"
	}
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			for _, g := range scope {
				if !doublestar.ValidatePattern(g) || strings.HasPrefix(g, "/") {
					return fmt.Errorf("--scope %q is not a path glob relative to the repository root", g)
				}
			}
			if _, err := a.act(r, policy.Act{Kind: kind, ID: args[0], Scope: scope}, kind+" "+args[0]); err != nil {
				return err
			}
			st, err := r.store.Current()
			if err != nil {
				return err
			}
			cp := st.Capsule(args[0])
			if cp == nil {
				return fmt.Errorf("%s %s: the capsule is gone from the store", kind, args[0])
			}
			if asJSON {
				return writeJSON(a.stdout, cp)
			}
			fmt.Fprintf(a.stdout, "capsule %s (%s, %s): scope %s, binding its owner\n", cp.ID, cp.Domain, cp.Owner, orAnywhere(cp.Scope))
			return nil
		},
	}
	if kind == policy.ActWiden {
		c.Flags().StringArrayVar(&scope, "scope", nil, "a path glob to add (repeat for several)")
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the capsule as JSON")
	return c
}

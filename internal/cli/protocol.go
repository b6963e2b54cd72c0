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
	"github.com/oxygen-protocol/oxygen/internal/store"
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
change paths outside the union of their scopes are refused. A domain may
have budgets.in_progress_per_domain capsules in progress at once (the
attention budget); --council cites a granted council call to go past it.`,
		Example: "  oxygen assign T-42 --owner agent7@builder.example --scope 'deploy/**' --resource deployment",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			d, err := r.actingDomain(domain)
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
			cap, err := r.store.Assign(store.Assign{
				ID: args[0], Owner: owner, Domain: d, Scope: scope, Resources: resources, By: r.email,
				Budget: r.policy.Budgets.InProgressPerDomain, Council: council,
			})
			if err != nil {
				return protocolError("assign "+args[0], err)
			}
			if asJSON {
				return writeJSON(a.stdout, cap)
			}
			fmt.Fprintf(a.stdout, "capsule %s in progress for %s, owned by %s", cap.ID, cap.Domain, cap.Owner)
			if len(cap.Scope) > 0 {
				fmt.Fprintf(a.stdout, ", scope %s", strings.Join(cap.Scope, " "))
			}
			fmt.Fprintln(a.stdout)
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
			if r.emailErr != nil {
				return r.emailErr
			}
			cap, err := r.store.Done(store.Done{ID: args[0], By: r.email, Domains: r.policy.DomainsOf(r.email)})
			if err != nil {
				return protocolError("done "+args[0], err)
			}
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
those files are allowed. A council call, raised when you are blocked, is
granted once every addressed domain acknowledged it, and lifts one budget
for one act.`,
	}
	c.AddCommand(a.sendCommand(policy.SignalMissive), a.sendCommand(policy.SignalCouncilCall), a.ackCommand())
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
			from, err := r.actingDomain(domain)
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
			s, err := r.store.Signal(store.SignalRequest{
				ID: newSignalID(kind), Kind: kind, From: from, By: r.email, Subject: subject,
				Capsule: capsule, To: to, Files: paths,
			})
			if err != nil {
				return protocolError("signal", err)
			}
			if asJSON {
				return writeJSON(a.stdout, SignalOutput{s, s.Status(a.now())})
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

func (a *app) ackCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "ack ID",
		Short: "Acknowledge a signal addressed to your domain",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			ds, err := r.domains()
			if err != nil {
				return err
			}
			s, err := r.store.Ack(store.AckRequest{ID: args[0], By: r.email, Domains: ds})
			if err != nil {
				return protocolError("ack "+args[0], err)
			}
			if asJSON {
				return writeJSON(a.stdout, SignalOutput{s, s.Status(a.now())})
			}
			fmt.Fprintf(a.stdout, "%s %s: %s\n", strings.ReplaceAll(s.Kind, "_", " "), s.ID, s.Status(a.now()))
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
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			st, err := r.store.Current()
			if err != nil {
				return err
			}
			now := a.now()
			out := []SignalOutput{}
			for _, s := range st.Signals {
				out = append(out, SignalOutput{s, s.Status(now)})
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

// protocolError words a store's refusal of an act; the exit code follows
// from its type.
func protocolError(act string, err error) error {
	var council *store.CouncilError
	if errors.As(err, &council) {
		return fmt.Errorf("%s: %w; see oxygen signals", act, err)
	}
	return fmt.Errorf("%s: %w", act, err)
}

package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// ttlFlag reads a --ttl value against the policy's bounds.
func ttlFlag(p *policy.Policy, s string, given bool) (time.Duration, error) {
	if !given {
		return p.Budgets.DefaultTTL, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("--ttl %q is not a duration (write it like 90s, 30m or 2h)", s)
	case d < policy.MinTTL:
		return 0, fmt.Errorf("--ttl %s is shorter than the smallest lease, %s", d, policy.MinTTL)
	case d > p.Budgets.MaxTTL:
		return 0, fmt.Errorf("--ttl %s is longer than the policy's max_ttl, %s", d, p.Budgets.MaxTTL)
	}
	return d, nil
}

func (a *app) claimCommand() *cobra.Command {
	var o claimOptions
	var asJSON bool
	c := &cobra.Command{
		Use:   "claim RESOURCE...",
		Short: "Take a lease on shared resources for your domain",
		Long: `Take a time-limited lease on one or more shared resources for your domain,
so that your commits to their paths are allowed. Several resources are
claimed together or not at all. Claiming what your domain already holds
answers with the existing lease. Another domain's live lease refuses the
claim (exit 1), as does a spent change budget, unless --council cites a
granted council call, which it then uses up. With --wait, a claim that
another domain's lease refuses queues instead (first come, first served per
resource, in the shared state: every clone sees one queue) and takes the
lease as soon as it is free and its turn has come; oxygen leases shows the
queue. A claim without --wait behind live waiters is refused (queued).`,
		Example:           "  oxygen claim schema --ttl 2h --reason 'migrate the plan registry'\n  oxygen claim storage --wait --timeout 10m",
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: a.completeResources,
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			o.ttlGiven = c.Flags().Changed("ttl")
			res, err := a.claim(c.Context(), r, args, o)
			if err != nil {
				return err
			}
			if asJSON {
				return a.writeAct(r.store, "claim", claimedLeases(res)...)
			}
			for _, cl := range res {
				l := cl.Lease
				if cl.Existing {
					fmt.Fprintf(a.stdout, "%s already holds %s (%s) until %s (%s left)\n", l.Domain, l.Resource, l.Owner, stamp(l.ExpiresAt), a.left(l.ExpiresAt))
					continue
				}
				if cl.TookOver != nil {
					fmt.Fprintf(a.stderr, "oxygen: took over the lapsed lease of %s (%s), which ended at %s\n", cl.TookOver.Domain, cl.TookOver.Owner, stamp(cl.TookOver.ExpiresAt))
				}
				fmt.Fprintf(a.stdout, "claimed %s for %s until %s (%s)\n", l.Resource, l.Domain, stamp(l.ExpiresAt), time.Duration(l.TTL)*time.Second)
			}
			return nil
		},
	}
	o.bind(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print the outcome as JSON")
	return c
}

func (a *app) syncCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "sync",
		Short: "Refresh the clone's copy of the shared lease state from the remote",
		Long: `Refresh .substrate/state from the state ref on the remote (store kind git).
The commit hooks read that copy without touching the network; claims and
releases always go through the remote, and refresh it too.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			if r.policy.Store.Kind != "git" {
				if asJSON {
					return writeJSON(a.stdout, map[string]any{"remote": nil, "ref": nil, "live_leases": nil})
				}
				fmt.Fprintln(a.stdout, "the local store is its own authority: nothing to sync (store.kind in resources.yaml is local)")
				return nil
			}
			if err := r.store.Sync(); err != nil {
				return fmt.Errorf("sync: %w", err)
			}
			a.carryDeadEnds(r)
			st, err := r.store.Current()
			if err != nil {
				return err
			}
			live := 0
			for _, l := range st.Leases {
				if l.HeldAt(a.now()) {
					live++
				}
			}
			if asJSON {
				return writeJSON(a.stdout, map[string]any{"remote": r.policy.Store.Remote, "ref": r.policy.Store.Ref, "live_leases": live})
			}
			fmt.Fprintf(a.stdout, "synced %s from %s: %s\n", r.policy.Store.Ref, r.policy.Store.Remote, count(live, "live lease"))
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

func (a *app) renewCommand() *cobra.Command {
	var ttl string
	var asJSON bool
	c := &cobra.Command{
		Use:               "renew RESOURCE",
		Short:             "Extend a lease your domain holds to now + TTL",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeResources,
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			if err := r.resource(args[0]); err != nil {
				return err
			}
			if _, err := r.domains(); err != nil {
				return err
			}
			dur, err := ttlFlag(r.policy, ttl, c.Flags().Changed("ttl"))
			if err != nil {
				return err
			}
			dec, err := a.act(r, policy.Act{Kind: policy.ActRenew, Resources: args, TTL: dur}, "renew "+args[0])
			if err != nil {
				return err
			}
			l := dec.Lease
			if asJSON {
				return a.writeAct(r.store, "renew", ActLease{Lease: *l, Outcome: outcomeRenewed})
			}
			fmt.Fprintf(a.stdout, "renewed %s for %s until %s (%s)\n", l.Resource, l.Domain, stamp(l.ExpiresAt), dur)
			return nil
		},
	}
	c.Flags().StringVar(&ttl, "ttl", "", "the new time left, as a Go duration (default: the policy's default_ttl)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the outcome as JSON")
	return c
}

func (a *app) releaseCommand() *cobra.Command {
	var asJSON, force bool
	var council string
	c := &cobra.Command{
		Use:   "release RESOURCE",
		Short: "End a lease your domain holds",
		Long: `End a lease your domain holds. Releasing a free resource does nothing; a
lapsed lease may be cleared by anyone. Another domain's live lease can be
released only with --force and a granted council call (--council ID) that
the lease's own domain acknowledged.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeResources,
		RunE: func(c *cobra.Command, args []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			// A lease on a resource the policy has since dropped can still be
			// released: it would hold its domain's budget until it lapsed.
			if err := r.resource(args[0]); err != nil && !r.onRecord(args[0]) {
				return err
			}
			if _, err := r.domains(); err != nil {
				return err
			}
			if force && council == "" {
				return errors.New("--force needs --council ID: a granted council call")
			}
			unpushed := a.unpushed(r)
			dec, err := a.act(r, policy.Act{Kind: policy.ActRelease, Resources: args, Force: force, Council: council}, "release "+args[0])
			if err == nil && dec.Lease != nil {
				a.warnUnpushed(r, dec.Lease, unpushed())
			}
			if err != nil {
				return err
			}
			l := dec.Lease
			if asJSON && l == nil {
				return a.writeAct(r.store, "release", ActLease{Lease: policy.Lease{Resource: args[0]}, Outcome: outcomeFree})
			}
			if asJSON {
				return a.writeAct(r.store, "release", ActLease{Lease: *l, Outcome: outcomeReleased})
			}
			if l == nil {
				fmt.Fprintf(a.stdout, "%s was not leased\n", args[0])
				return nil
			}
			fmt.Fprintf(a.stdout, "released %s (held by %s since %s)\n", l.Resource, l.Domain, stamp(l.CreatedAt))
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "release another domain's live lease (needs --council)")
	c.Flags().StringVar(&council, "council", "", "the granted council call that allows --force")
	c.Flags().BoolVar(&asJSON, "json", false, "print the outcome as JSON")
	return c
}

func (a *app) leasesCommand() *cobra.Command {
	var all, asJSON bool
	c := &cobra.Command{
		Use:   "leases",
		Short: "List the live leases",
		Long: `List the live leases, and who waits for them (claim --wait). --all adds
lapsed leases nobody released and lease files that cannot be read. --json
prints the same object with or without --all.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r, st, err := a.openState()
			if err != nil {
				return err
			}
			now := a.now()
			shown := []policy.Lease{}
			for _, l := range st.Leases {
				if all || l.HeldAt(now) {
					shown = append(shown, l)
				}
			}
			queue := append([]policy.Waiter{}, st.Waiting(now)...)
			if asJSON {
				return writeJSON(a.stdout, LeasesOutput{
					SchemaVersion: SchemaVersion, Leases: shown, Broken: append([]policy.BrokenLease{}, st.Broken...), Queue: queue,
					StateAsOf: stateAsOf(r.store),
				})
			}
			defer a.printQueue(queue)
			if f := r.store.Freshness(now); f != "" {
				fmt.Fprintln(a.stderr, "oxygen: "+f)
			}
			if !all && len(st.Broken) > 0 {
				fmt.Fprintf(a.stderr, "oxygen: %s cannot be read (see oxygen leases --all)\n", count(len(st.Broken), "record"))
			}
			if len(shown) == 0 && (!all || len(st.Broken) == 0) {
				fmt.Fprintln(a.stdout, "no live leases")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RESOURCE\tDOMAIN\tOWNER\tEXPIRES\tLEFT\tREASON")
			for _, l := range shown {
				left := a.left(l.ExpiresAt)
				if !l.HeldAt(now) {
					left = "lapsed"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Resource, l.Domain, l.Owner, stamp(l.ExpiresAt), left, l.Reason)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if all {
				for _, b := range st.Broken {
					fmt.Fprintf(a.stdout, "unreadable: %s: %s\n", b.File, b.Cause)
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&all, "all", false, "also list lapsed leases and unreadable lease files")
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

// completeResources offers the policy's resource ids to shell completion.
func (a *app) completeResources(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	r, err := a.openRepo(nil)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var ids []string
	for _, res := range r.policy.Resources {
		ids = append(ids, res.ID+"\t"+res.Description)
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (a *app) left(t time.Time) string {
	d := t.Sub(a.now()).Round(time.Second)
	if d < 0 {
		return "0s"
	}
	return d.String()
}

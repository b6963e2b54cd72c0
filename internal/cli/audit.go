package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// finding is one line of an audit: the shape of a lint's (--json).
type finding = policy.Finding

func (a *app) auditCommand() *cobra.Command {
	var asJSON, reap bool
	c := &cobra.Command{
		Use:   "audit",
		Short: "Find lease hoarding, stale work, unanswered signals and dead ends",
		Long: `List what the protocol's failure modes leave behind: leases that lapsed but
were never released, leases renewed far past their TTL, domains at their
budgets, capsules in progress for longer than max_ttl, signals nobody
answered within default_ttl, unreadable records, and the dead ends the hooks
recorded (with the git store, every clone's, carried to the shared state by
each clone's acts and oxygen sync). --reap releases the lapsed leases (each release is recorded).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r, st, err := a.openState()
			if err != nil {
				return err
			}
			deadEnds, err := store.DeadEndsOf(r.store, storeRoot(r.dirs))
			if err != nil {
				return err
			}
			now := a.now()
			out := auditFindings(r.policy, st, deadEnds, now)
			add := func(kind, subject, detail, fix string) {
				out = append(out, finding{Kind: kind, Subject: subject, Detail: detail, Fix: fix})
			}
			if reap {
				if err := a.reap(r, st, now, func(l policy.Lease) {
					add("reaped", l.Resource, fmt.Sprintf("released %s's lapsed lease", l.Domain), "")
				}); err != nil {
					return err
				}
			}
			if asJSON {
				return writeJSON(a.stdout, out)
			}
			a.sayFreshness(r)
			if len(out) == 0 {
				fmt.Fprintln(a.stdout, "nothing to report")
			}
			for _, f := range out {
				fmt.Fprintf(a.stdout, "%s %s: %s\n", f.Kind, f.Subject, f.Detail)
				if f.Fix != "" {
					fmt.Fprintf(a.stdout, "  fix: %s\n", f.Fix)
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the findings as a JSON list")
	c.Flags().BoolVar(&reap, "reap", false, "release the lapsed leases")
	return c
}

// auditFindings is what audit reports about the state at now: lapsed and
// hoarded leases, stale capsules, spent budgets (counted as the acts count
// them), unanswered signals, unreadable records and dead ends.
func auditFindings(p *policy.Policy, st policy.State, deadEnds []store.DeadEnd, now time.Time) []finding {
	b := p.Budgets
	out := []finding{}
	add := func(kind, subject, detail, fix string) {
		out = append(out, finding{Kind: kind, Subject: subject, Detail: detail, Fix: fix})
	}
	for _, l := range st.Leases {
		switch held := l.ExpiresAt.Sub(l.CreatedAt); {
		case !l.HeldAt(now):
			add("lapsed-lease", l.Resource, fmt.Sprintf("%s's lease ended at %s and was never released", l.Domain, stamp(l.ExpiresAt)), "oxygen audit --reap")
		case held > 3*time.Duration(l.TTL)*time.Second:
			add("hoarded-lease", l.Resource, fmt.Sprintf("%s has held it since %s, renewed to %s: more than three times its TTL", l.Domain, stamp(l.CreatedAt), held.Round(time.Minute)), "oxygen release "+l.Resource)
		}
	}
	for _, cp := range st.Capsules {
		if cp.InProgressAt(now) && now.Sub(cp.CreatedAt) > b.MaxTTL {
			add("stale-capsule", cp.ID, fmt.Sprintf("in progress for %s (%s, %s), longer than max_ttl", now.Sub(cp.CreatedAt).Round(time.Minute), cp.Domain, cp.Owner), "oxygen done "+cp.ID)
		}
	}
	for _, d := range p.Domains {
		if n := len(st.Held(d.Name, now)); n >= b.LeasesPerDomain {
			add("change-budget", d.Name, fmt.Sprintf("holds %d of %d leases", n, b.LeasesPerDomain), "")
		}
		if n := len(st.InProgress("", d.Name, now)); n >= b.InProgressPerDomain {
			add("attention-budget", d.Name, fmt.Sprintf("has %d of %d capsules in progress", n, b.InProgressPerDomain), "")
		}
	}
	for _, s := range st.Signals {
		if !s.Complete(now) && !s.DeclinedBy(now) && now.Sub(s.CreatedAt) > b.DefaultTTL {
			add("unanswered-signal", s.ID, fmt.Sprintf("%s from %s to %s, open for %s: %s", s.Kind, s.From, strings.Join(s.To, ", "), now.Sub(s.CreatedAt).Round(time.Minute), s.Subject), "a member of "+strings.Join(s.To, " or ")+" runs: oxygen signal ack "+s.ID)
		}
	}
	for _, br := range st.Broken {
		add("unreadable-record", br.File, br.Cause, "look at it, then remove it")
	}
	for _, d := range deadEnds {
		detail := fmt.Sprintf("%s refused %s at %s on %s", d.Hook, whoRefused(d), stamp(d.At), strings.Join(d.Paths, " "))
		if len(d.Resources) > 0 {
			detail += " (" + strings.Join(d.Resources, ", ") + ")"
		}
		add("dead-end", d.ID, detail+": "+strings.Join(d.Why, "; "), strings.Join(d.Fix, "; "))
	}
	return out
}

// reap releases every lapsed lease; the release of a lapsed lease needs no
// membership of its domain.
func (a *app) reap(r *repo, st policy.State, now time.Time, reaped func(policy.Lease)) error {
	if r.emailErr != nil {
		return r.emailErr
	}
	for _, l := range st.Leases {
		if l.HeldAt(now) {
			continue
		}
		dec, err := a.act(r, policy.Act{Kind: policy.ActRelease, Resources: []string{l.Resource}}, "reap "+l.Resource)
		if err != nil {
			return err
		}
		if dec.Lease != nil {
			reaped(*dec.Lease)
		}
	}
	return nil
}

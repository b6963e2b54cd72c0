package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// statusReport is what `oxygen status --json` prints.
type statusReport struct {
	Committer      string           `json:"committer"`
	Domains        []string         `json:"domains"`
	Store          string           `json:"store,omitempty"` // how current the state is
	Leases         []policy.Lease   `json:"leases"`          // held by the committer's domains
	Budgets        []domainBudget   `json:"budgets"`
	Capsules       []policy.Capsule `json:"capsules"`        // in progress, owned by the committer or their domains
	SignalsWaiting []policy.Signal  `json:"signals_waiting"` // addressed to the committer's domains, not acknowledged by them
	SignalsSent    []policy.Signal  `json:"signals_sent"`    // from the committer's domains, still open
	CouncilCalls   []policy.Signal  `json:"council_calls"`   // granted and not used, from or to the committer's domains
}

type domainBudget struct {
	Domain          string `json:"domain"`
	Leases          int    `json:"leases"`
	LeasesLimit     int    `json:"leases_limit"`
	InProgress      int    `json:"in_progress"`
	InProgressLimit int    `json:"in_progress_limit"`
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Your domains, leases, budgets, capsules and the signals waiting on you",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			ds, err := r.domains()
			if err != nil {
				return err
			}
			st, err := r.store.Current()
			if err != nil {
				return err
			}
			now := a.now()
			rep := statusOf(r.policy, st, r.email, ds, now)
			rep.Store = r.store.Freshness(now)
			if asJSON {
				return writeJSON(a.stdout, rep)
			}
			a.printStatus(rep, now)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

// statusOf is what status reports for who, a member of domains, at now.
func statusOf(p *policy.Policy, st policy.State, who string, ds []string, now time.Time) statusReport {
	rep := statusReport{Committer: who, Domains: ds,
		Leases: []policy.Lease{}, Capsules: []policy.Capsule{}, SignalsWaiting: []policy.Signal{}, SignalsSent: []policy.Signal{}, CouncilCalls: []policy.Signal{}}
	for _, d := range ds {
		held, busy := st.Held(d, now), st.InProgress("", d, now)
		rep.Leases = append(rep.Leases, held...)
		rep.Budgets = append(rep.Budgets, domainBudget{Domain: d, Leases: len(held), LeasesLimit: p.Budgets.LeasesPerDomain, InProgress: len(busy), InProgressLimit: p.Budgets.InProgressPerDomain})
		for _, c := range busy {
			if !strings.EqualFold(c.Owner, who) {
				rep.Capsules = append(rep.Capsules, c)
			}
		}
	}
	// Every capsule who owns, whoever opened it: bound, or waiting for consent.
	for _, c := range st.Capsules {
		if strings.EqualFold(c.Owner, who) && c.InProgressAt(now) {
			rep.Capsules = append(rep.Capsules, c)
		}
	}
	for _, s := range st.Signals {
		switch {
		case s.Kind == policy.SignalCouncilCall && s.UsedAt.IsZero() && p.Granted(st, s.ID, now) != nil && (slices.Contains(ds, s.From) || overlaps(ds, s.To)):
			rep.CouncilCalls = append(rep.CouncilCalls, s)
		case s.DeclinedBy(now):
		case slices.ContainsFunc(ds, func(d string) bool { return slices.Contains(s.To, d) && !s.AckedBy(d, now) }):
			rep.SignalsWaiting = append(rep.SignalsWaiting, s)
		case slices.Contains(ds, s.From) && !s.Complete(now):
			rep.SignalsSent = append(rep.SignalsSent, s)
		}
	}
	return rep
}

func overlaps(a, b []string) bool {
	return slices.ContainsFunc(a, func(s string) bool { return slices.Contains(b, s) })
}

func (a *app) printStatus(rep statusReport, now time.Time) {
	w := a.stdout
	fmt.Fprintf(w, "%s, in %s\n", rep.Committer, strings.Join(rep.Domains, ", "))
	if rep.Store != "" {
		fmt.Fprintf(w, "  %s\n", rep.Store)
	}
	for _, b := range rep.Budgets {
		fmt.Fprintf(w, "  %s: %d of %d leases, %d of %d capsules in progress\n", b.Domain, b.Leases, b.LeasesLimit, b.InProgress, b.InProgressLimit)
	}
	section := func(title string, n int) bool {
		if n > 0 {
			fmt.Fprintf(w, "%s:\n", title)
		}
		return n > 0
	}
	if section("leases", len(rep.Leases)) {
		for _, l := range rep.Leases {
			fmt.Fprintf(w, "  %s (%s, %s) %s left\n", l.Resource, l.Domain, l.Owner, a.left(l.ExpiresAt))
		}
	}
	if section("capsules in progress", len(rep.Capsules)) {
		for _, c := range rep.Capsules {
			consent := ""
			if c.AwaitsConsent && c.Consent == nil {
				consent = " (awaits " + c.Owner + "'s consent: oxygen capsules accept " + c.ID + ")"
			}
			fmt.Fprintf(w, "  %s (%s, %s) scope %s%s\n", c.ID, c.Domain, c.Owner, orAnywhere(c.Scope), consent)
		}
	}
	if section("waiting for your acknowledgement", len(rep.SignalsWaiting)) {
		for _, s := range rep.SignalsWaiting {
			fmt.Fprintf(w, "  %s %s from %s: %s (%s): oxygen signal ack %s\n", s.Kind, s.ID, s.From, s.Subject, strings.Join(s.Files, " "), s.ID)
		}
	}
	if section("sent, not yet acknowledged", len(rep.SignalsSent)) {
		for _, s := range rep.SignalsSent {
			fmt.Fprintf(w, "  %s %s to %s: %s\n", s.Kind, s.ID, strings.Join(s.To, ", "), s.Subject)
		}
	}
	if section("granted council calls, unused", len(rep.CouncilCalls)) {
		for _, s := range rep.CouncilCalls {
			fmt.Fprintf(w, "  %s: %s\n", s.ID, s.Subject)
		}
	}
}

func orAnywhere(globs []string) string {
	if len(globs) == 0 {
		return "anywhere"
	}
	return strings.Join(globs, " ")
}

package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
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
			rep := statusReport{Committer: r.email, Domains: ds, Store: r.store.Freshness(now),
				Leases: []policy.Lease{}, Capsules: []policy.Capsule{}, SignalsWaiting: []policy.Signal{}, SignalsSent: []policy.Signal{}, CouncilCalls: []policy.Signal{}}
			for _, d := range ds {
				b := domainBudget{Domain: d, LeasesLimit: r.policy.Budgets.LeasesPerDomain, InProgressLimit: r.policy.Budgets.InProgressPerDomain}
				for _, l := range st.Leases {
					if l.Domain == d && l.LiveAt(now, 0) {
						rep.Leases = append(rep.Leases, l)
						b.Leases++
					}
				}
				for _, cp := range st.InProgress("", d, now) {
					rep.Capsules = append(rep.Capsules, cp)
					b.InProgress++
				}
				rep.Budgets = append(rep.Budgets, b)
			}
			for _, s := range st.Signals {
				switch {
				case s.Kind == policy.SignalCouncilCall && s.Complete(now) && s.UsedAt.IsZero() && (slices.Contains(ds, s.From) || overlaps(ds, s.To)):
					rep.CouncilCalls = append(rep.CouncilCalls, s)
				case slices.ContainsFunc(ds, func(d string) bool { return slices.Contains(s.To, d) && !s.AckedBy(d, now) }):
					rep.SignalsWaiting = append(rep.SignalsWaiting, s)
				case slices.Contains(ds, s.From) && !s.Complete(now):
					rep.SignalsSent = append(rep.SignalsSent, s)
				}
			}
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
			fmt.Fprintf(w, "  %s (%s, %s) scope %s\n", c.ID, c.Domain, c.Owner, orAnywhere(c.Scope))
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

// finding is one line of an audit or a lint (their --json shape).
type finding struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Detail  string `json:"detail"`
	Fix     string `json:"fix,omitempty"`
}

func (a *app) auditCommand() *cobra.Command {
	var asJSON, reap bool
	c := &cobra.Command{
		Use:   "audit",
		Short: "Find lease hoarding, stale work, unanswered signals and dead ends",
		Long: `List what the protocol's failure modes leave behind: leases that lapsed but
were never released, leases renewed far past their TTL, domains at their
budgets, capsules in progress for longer than max_ttl, signals nobody
answered within default_ttl, unreadable records, and the dead ends the hooks
recorded. --reap releases the lapsed leases (each release is recorded).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			st, err := r.store.Current()
			if err != nil {
				return err
			}
			deadEnds, err := store.OpenLocal(storeRoot(r.dirs)).DeadEnds()
			if err != nil {
				return err
			}
			now, b := a.now(), r.policy.Budgets
			out := []finding{}
			add := func(kind, subject, detail, fix string) {
				out = append(out, finding{Kind: kind, Subject: subject, Detail: detail, Fix: fix})
			}
			leases, capsules := map[string]int{}, map[string]int{}
			for _, l := range st.Leases {
				switch held := l.ExpiresAt.Sub(l.CreatedAt); {
				case !l.LiveAt(now, 0):
					add("lapsed-lease", l.Resource, fmt.Sprintf("%s's lease ended at %s and was never released", l.Domain, stamp(l.ExpiresAt)), "oxygen audit --reap")
				case held > 3*time.Duration(l.TTL)*time.Second:
					leases[l.Domain]++
					add("hoarded-lease", l.Resource, fmt.Sprintf("%s has held it since %s, renewed to %s: more than three times its TTL", l.Domain, stamp(l.CreatedAt), held.Round(time.Minute)), "oxygen release "+l.Resource)
				default:
					leases[l.Domain]++
				}
			}
			for _, cp := range st.Capsules {
				if cp.InProgressAt(now) {
					capsules[cp.Domain]++
					if now.Sub(cp.CreatedAt) > b.MaxTTL {
						add("stale-capsule", cp.ID, fmt.Sprintf("in progress for %s (%s, %s), longer than max_ttl", now.Sub(cp.CreatedAt).Round(time.Minute), cp.Domain, cp.Owner), "oxygen done "+cp.ID)
					}
				}
			}
			for _, d := range r.policy.Domains {
				if n := leases[d.Name]; n >= b.LeasesPerDomain {
					add("change-budget", d.Name, fmt.Sprintf("holds %d of %d leases", n, b.LeasesPerDomain), "")
				}
				if n := capsules[d.Name]; n >= b.InProgressPerDomain {
					add("attention-budget", d.Name, fmt.Sprintf("has %d of %d capsules in progress", n, b.InProgressPerDomain), "")
				}
			}
			for _, s := range st.Signals {
				if !s.Complete(now) && now.Sub(s.CreatedAt) > b.DefaultTTL {
					add("unanswered-signal", s.ID, fmt.Sprintf("%s from %s to %s, open for %s: %s", s.Kind, s.From, strings.Join(s.To, ", "), now.Sub(s.CreatedAt).Round(time.Minute), s.Subject), "a member of "+strings.Join(s.To, " or ")+" runs: oxygen signal ack "+s.ID)
				}
			}
			for _, br := range st.Broken {
				add("unreadable-record", br.File, br.Cause, "look at it, then remove it")
			}
			for _, d := range deadEnds {
				detail := fmt.Sprintf("%s refused %s at %s on %s", d.Hook, d.Who, stamp(d.At), strings.Join(d.Paths, " "))
				if len(d.Resources) > 0 {
					detail += " (" + strings.Join(d.Resources, ", ") + ")"
				}
				add("dead-end", d.ID, detail+": "+strings.Join(d.Why, "; "), strings.Join(d.Fix, "; "))
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

// reap releases every lapsed lease; the release of a lapsed lease needs no
// membership of its domain.
func (a *app) reap(r *repo, st policy.State, now time.Time, reaped func(policy.Lease)) error {
	if r.emailErr != nil {
		return r.emailErr
	}
	for _, l := range st.Leases {
		if l.LiveAt(now, 0) {
			continue
		}
		got, err := r.store.Release(store.Release{Resource: l.Resource, By: r.email, Domains: r.policy.DomainsOf(r.email)})
		if err != nil {
			return fmt.Errorf("reap %s: %w", l.Resource, err)
		}
		if got != nil {
			reaped(*got)
		}
	}
	return nil
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

package cli

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// SchemaVersion is the version of the JSON contract: 2 since refusals and
// errors are data and a violation's fix is a runnable argv.
const SchemaVersion = 2

// Codes of failures that are not the protocol's own refusals.
const (
	codeUsage    = "usage"    // bad flags or arguments
	codeConfig   = "config"   // resources.yaml cannot be used
	codeGit      = "git"      // git failed or is missing
	codeRefused  = "refused"  // a refusal not yet given a code of its own
	codeInternal = "internal" // anything else
)

// ErrorOutput is what a command run with --json prints when it fails.
type ErrorOutput struct {
	SchemaVersion int             `json:"schema_version"`
	Error         *policy.Refusal `json:"error"`
}

// usageError is a command line that cannot be run as written.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// asRefusal turns any failure into the Refusal shape: a Refusal stays
// itself, anything else gets a generic code and the exit it maps to.
func asRefusal(err error) *policy.Refusal {
	var (
		r     *policy.Refusal
		usage *usageError
		gitE  *git.Error
		polE  *policy.Error
	)
	if errors.As(err, &r) {
		out := *r
		out.Message = oneLine(err.Error()) // with the act's context
		out.Exit = exitCode(err)
		return &out
	}
	code := codeInternal
	switch {
	case errors.As(err, &usage), strings.HasPrefix(err.Error(), "unknown command"):
		code = codeUsage
	case errors.As(err, &polE):
		code = codeConfig
	case errors.As(err, &gitE), errors.Is(err, git.ErrNoGit):
		code = codeGit
	case exitCode(err) == exitRefused:
		code = codeRefused
	}
	return &policy.Refusal{Code: code, Message: oneLine(err.Error()), Exit: exitCode(err)}
}

// writeJSONError prints err as the error envelope.
func writeJSONError(w io.Writer, err error) error {
	return writeJSON(w, ErrorOutput{SchemaVersion: SchemaVersion, Error: asRefusal(err)})
}

// wantsJSON says whether the command that ran was asked for JSON: its
// parsed flag, or, when the command line did not parse, the raw argument
// before any "--" (what follows belongs to the command oxygen run starts).
func wantsJSON(c *cobra.Command, args []string, err error) bool {
	var usage *usageError
	if c != nil && !errors.As(err, &usage) {
		if f := c.Flags().Lookup("json"); f != nil && f.Changed && f.Value.String() == "true" {
			return true
		}
		if f := c.Flags().Lookup("format"); f != nil && f.Value.String() == "json" {
			return true
		}
		return false
	}
	if i := slices.Index(args, "--"); i >= 0 {
		args = args[:i]
	}
	return slices.Contains(args, "--json") || slices.Contains(args, "--format=json")
}

// markUsage makes argument-count errors of every command usage errors.
func markUsage(c *cobra.Command) {
	if args := c.Args; args != nil {
		c.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return &usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markUsage(sub)
	}
}

// heldRefusal: another domain holds what a claim asks for. The fix waits
// for it in the queue.
func heldRefusal(what string, err error, l policy.Lease, domain string) error {
	r := policy.Refuse(policy.RuleHeldByOther, &policy.Fix{
		Argv:       []string{"oxygen", "claim", l.Resource, "--domain", domain, "--wait"},
		Needs:      l.Owner + " releases it, or it ends",
		RetryAfter: l.End().UTC(),
	}, "claim %s: %v; ask %s to run `oxygen release %s`, or claim it after it ends", what, err, l.Owner, l.Resource)
	r.Holder = &l
	return r
}

// budgetRefusal: the domain's change budget is spent. The fix releases the
// oldest-named lease it holds; the agent may pick another.
func budgetRefusal(what string, err error, b *store.BudgetError) error {
	fix := &policy.Fix{Needs: "a free slot in " + b.Domain + "'s change budget, or a granted council call cited with --council"}
	if len(b.Held) > 0 {
		fix.Argv = []string{"oxygen", "release", b.Held[0]}
		fix.Choose = map[string]string{"release": "which of " + strings.Join(b.Held, ", ") + " to release"}
	}
	return policy.Refuse("budget-spent", fix, "claim %s: %v; release one first (oxygen release RESOURCE), or raise a council call (oxygen signal council-call --to DOMAIN... --subject WHY) and claim with --council ID once granted", what, err)
}

// notHolderRefusal: a renewal or release of a lease the asker's domains do
// not hold. A renewal's fix claims it afresh (waiting if another domain
// holds it); a release of another domain's lease takes a council call.
func notHolderRefusal(act, resource string, err error, nh *store.NotHolderError) error {
	switch {
	case act == "renew" && (nh.Lease == nil || nh.Lapsed), nh.Lease == nil:
		return policy.Refuse("not-holder", &policy.Fix{Argv: []string{"oxygen", "claim", resource}},
			"renew %s: %v; claim it instead: oxygen claim %s", resource, err, resource)
	case act == "renew":
		r := policy.Refuse("not-holder", &policy.Fix{Argv: []string{"oxygen", "claim", resource, "--wait"}, RetryAfter: nh.Lease.End().UTC(), Needs: nh.Lease.Owner + " releases it, or it ends"},
			"renew %s: %v; claim it instead: oxygen claim %s", resource, err, resource)
		r.Holder = nh.Lease
		return r
	}
	r := policy.Refuse("not-holder", &policy.Fix{
		Argv:   []string{"oxygen", "signal", "council-call", "--to", nh.Lease.Domain, "--subject", "release " + resource + ", held by " + nh.Lease.Owner},
		Choose: map[string]string{"--subject": "why it must be released early"},
		Needs:  "the call granted (every addressed domain acknowledges it), then: oxygen release " + resource + " --force --council <its id>; or " + nh.Lease.Owner + " releases it",
	}, "release %s: %v; ask %s to release it, or raise a council call and release with --force --council ID", resource, err, nh.Lease.Owner)
	r.Holder = nh.Lease
	return r
}

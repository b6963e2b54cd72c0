package cli

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/oxygen-protocol/oxygen/internal/git"
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
	codeHook     = "hook"     // the hook that was there before oxygen refused
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
		hook  *chainedHookError
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
	case errors.As(err, &hook):
		code = codeHook
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

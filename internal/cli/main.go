// Package cli is oxygen's command line: it reads the change set and the
// state, asks the policy for a judgement, reports it and picks the exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// Exit codes, as the command-line contract fixes them.
const (
	exitOK      = 0
	exitRefused = 1 // refused by the protocol
	exitError   = 2 // usage, configuration or internal error
)

// version is set at build time by install.sh (-ldflags -X).
var version = ""

// Main runs oxygen with the process's arguments and returns its exit code.
func Main() int { return MainAt(time.Now) }

// MainAt is Main on another clock: the seam through which tests move time
// (a lease's expiry) without sleeping. oxygen itself always runs Main, so
// nobody can fake the time of a real gate, the server's least of all.
func MainAt(now func() time.Time) int {
	return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, now)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) int {
	return runContext(context.Background(), args, stdin, stdout, stderr, now)
}

// RunContext runs oxygen with args under ctx and returns its exit code: the
// MCP server (internal/mcpserver) runs each tool call as a command this way.
func RunContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) int {
	return runContext(ctx, args, stdin, stdout, stderr, now)
}

func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) int {
	a := newApp(stdin, stdout, stderr)
	a.now = now
	return a.execute(ctx, args)
}

// execute runs one command line on a: a test fakes the clock, the
// environment or git on an app of its own and runs oxygen through here.
func (a *app) execute(ctx context.Context, args []string) (code int) {
	stdin, stdout, stderr := a.stdin, a.stdout, a.stderr
	defer func() {
		// A bug must still fail closed with one line, never a stack trace.
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "oxygen: internal error: %v (please report it)\n", r)
			code = exitError
		}
	}()
	root := a.root(a.commandsFor(args))
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	code = exitCode(err)
	var silent *silentError
	if err != nil && !errors.As(err, &silent) {
		fmt.Fprintf(stderr, "oxygen: %s\n", oneLine(err.Error()))
		if wantsJSON(cmd, args, err) {
			_ = writeJSONError(stdout, err)
		}
	}
	return code
}

// app is what every command shares.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
	lookupEnv      func(string) (string, bool) // the environment, read through this one seam
	git            git.Runner
}

// getenv is the variable's value, "" when unset.
func (a *app) getenv(name string) string {
	v, _ := a.lookupEnv(name)
	return v
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now, lookupEnv: os.LookupEnv, git: git.Runner{}}
}

// silentError ends a command that has already explained itself.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// exitCode is the one place that maps an outcome to an exit code.
func exitCode(err error) int {
	var (
		silent   *silentError
		refused  *policy.Refusal
		chainErr *chainedHookError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &silent):
		return silent.code
	case errors.As(err, &refused):
		return refused.Exit
	case errors.As(err, &chainErr):
		return exitRefused
	default:
		return exitError
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// rootCommand is oxygen's whole command line.
func (a *app) rootCommand() *cobra.Command { return a.root(a.commands()) }

// commandsFor gives the commands the command line args needs. git runs
// `oxygen hook` on every commit, where building every other command's
// flags and help costs a tenth of a millisecond and more garbage for the
// start-up to fault in; it takes no flags and names no other command.
func (a *app) commandsFor(args []string) []*cobra.Command {
	if len(args) > 0 && args[0] == "hook" {
		return []*cobra.Command{a.hookCommand()}
	}
	return a.commands()
}

// commands are oxygen's commands.
func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		a.claimCommand(), a.renewCommand(), a.releaseCommand(), a.leasesCommand(),
		a.checkCommand(), a.hookCommand(), a.explainCommand(),
		a.assignCommand(), a.doneCommand(), a.capsulesCommand(), a.signalCommand(), a.signalsCommand(),
		a.statusCommand(), a.auditCommand(), a.lintCommand(), a.reportCommand(),
		a.installCommand(), a.uninstallCommand(), a.syncCommand(), versionCommand(),
		a.initCommand(),
		a.runCommand(), a.eventsCommand(), a.mcpCommand(),
	}
}

// root is the root command with the commands cmds.
func (a *app) root(cmds []*cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:   "oxygen",
		Short: "Enforce the Oxygen Protocol in git: leases on shared resources, checked on every commit and push",
		Long: `oxygen enforces the Oxygen Protocol in git. Shared resources are mapped to
paths by the globs of resources.yaml; a commit that changes one is refused
unless one of the committer's domains holds a live lease on it.

Exit codes: 0 allowed or done, 1 refused by the protocol, 2 usage,
configuration or internal error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(),
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{fmt.Errorf("%v (see oxygen %s --help)", err, c.Name())}
	})
	root.AddCommand(cmds...)
	markUsage(root)
	return root
}

// Version is oxygen's version, as oxygen version prints it.
func Version() string { return buildVersion() }

func buildVersion() string {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return v
}

func versionCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print oxygen's version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if asJSON {
				return writeJSON(c.OutOrStdout(), map[string]string{"version": buildVersion()})
			}
			fmt.Fprintf(c.OutOrStdout(), "oxygen %s\n", buildVersion())
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return c
}

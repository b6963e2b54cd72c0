package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// RunOutput is one line that run --json prints: "started" once the leases
// are held and the command starts, "ended" once it has exited and the leases
// it took are released. The command's own output comes in between.
type RunOutput struct {
	SchemaVersion int            `json:"schema_version"`
	Run           string         `json:"run"` // started or ended
	Command       []string       `json:"command"`
	Leases        []policy.Lease `json:"leases"`             // held, as last renewed
	Released      []policy.Lease `json:"released,omitempty"` // ended: the leases run took and gave back
	Renewals      int            `json:"renewals"`
	Exit          *int           `json:"exit,omitempty"` // ended: the command's exit code
}

func (a *app) runCommand() *cobra.Command {
	var o claimOptions
	var resources []string
	var asJSON bool
	c := &cobra.Command{
		Use:   "run --claim RESOURCE... [flags] -- COMMAND [ARG...]",
		Short: "Hold leases while a command runs: claim, renew, release, pass its exit code",
		Long: `Claim the resources (with --wait, queue for them), run COMMAND, renew the
leases while it runs (when a third of the TTL is left), release the leases
run took once it exits, and exit with its exit code. Signals reach the
command. If run itself is killed, its leases simply expire at the end of
their TTL. Leases the domain held before run are renewed, not released.`,
		Example: "  oxygen run --claim storage --ttl 10m -- make blobs\n  oxygen run --claim schema --wait --timeout 30m -- ./migrate.sh",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if len(resources) == 0 {
				return &usageError{errors.New("name what to hold with --claim RESOURCE")}
			}
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			o.ttlGiven = c.Flags().Changed("ttl")
			return a.runRun(c.Context(), r, resources, o, args, asJSON)
		},
	}
	c.Flags().SetInterspersed(false) // everything from COMMAND on is the command's
	c.Flags().StringArrayVar(&resources, "claim", nil, "a resource to hold while the command runs (repeat for several)")
	o.bind(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON line when the command starts and one when it ends")
	return c
}

func (a *app) runRun(ctx context.Context, r *repo, resources []string, o claimOptions, argv []string, asJSON bool) error {
	res, err := a.claim(ctx, r, resources, o)
	if err != nil {
		return err
	}
	out := RunOutput{SchemaVersion: SchemaVersion, Run: "started", Command: argv}
	var taken []string
	for _, cl := range res {
		out.Leases = append(out.Leases, cl.Lease)
		if !cl.Existing {
			taken = append(taken, cl.Lease.Resource)
		}
	}
	a.runReport(out, asJSON)

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = a.stdin, a.stdout, a.stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	startErr := cmd.Start()
	code := 0
	if startErr == nil {
		rn := renewer{
			now: a.now, after: time.After, leases: out.Leases, warn: a.stderr,
			renew: func(l policy.Lease) (policy.Lease, error) {
				dec, err := a.act(r, policy.Act{Kind: policy.ActRenew, Resources: []string{l.Resource}, TTL: time.Duration(l.TTL) * time.Second}, "renew "+l.Resource)
				if err != nil {
					return policy.Lease{}, err
				}
				return *dec.Lease, nil
			},
		}
		done := make(chan struct{})
		renewed := make(chan renewer, 1)
		go func() { renewed <- rn.loop(done) }()
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		var werr error
	wait:
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s) // it decides what the signal means
			case werr = <-waited:
				break wait
			}
		}
		close(done)
		rn = <-renewed
		out.Leases, out.Renewals = rn.leases, rn.renewals
		code = exitOf(werr)
	}
	// Release what run took, even if the command could not start.
	var relErr error
	for _, id := range taken {
		dec, err := a.act(r, policy.Act{Kind: policy.ActRelease, Resources: []string{id}}, "release "+id)
		if err != nil {
			relErr = errors.Join(relErr, fmt.Errorf("release %s: %w (it ends by itself at the end of its TTL)", id, err))
			continue
		}
		if dec.Lease != nil {
			out.Released = append(out.Released, *dec.Lease)
		}
	}
	out.Run, out.Exit = "ended", &code
	if startErr != nil {
		return errors.Join(fmt.Errorf("run %s: %w", argv[0], startErr), relErr)
	}
	a.runReport(out, asJSON)
	if relErr != nil {
		fmt.Fprintf(a.stderr, "oxygen: %s\n", oneLine(relErr.Error()))
	}
	if code != 0 {
		return &silentError{code: code}
	}
	return nil
}

func (a *app) runReport(o RunOutput, asJSON bool) {
	if asJSON {
		line, _ := json.Marshal(o) // plain data always marshals
		fmt.Fprintf(a.stdout, "%s\n", line)
		return
	}
	if o.Run == "started" {
		for _, l := range o.Leases {
			fmt.Fprintf(a.stderr, "oxygen: holding %s for %s until %s, renewed while %s runs\n", l.Resource, l.Domain, stamp(l.ExpiresAt), o.Command[0])
		}
		return
	}
	var names []string
	for _, l := range o.Released {
		names = append(names, l.Resource)
	}
	if len(names) > 0 {
		fmt.Fprintf(a.stderr, "oxygen: %s exited %d; released %s\n", o.Command[0], *o.Exit, strings.Join(names, " "))
	}
}

// exitOf is the exit code of a finished command: its own, or 128 plus the
// signal that killed it, as a shell reports it.
func exitOf(err error) int {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		if err != nil {
			return exitError
		}
		return exitOK
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ee.ExitCode()
}

// renewer keeps leases alive: each is renewed when a third of its TTL is
// left. Its clock and timer are injected so that a test can prove the
// schedule without waiting for it.
type renewer struct {
	now      func() time.Time
	after    func(time.Duration) <-chan time.Time
	renew    func(policy.Lease) (policy.Lease, error)
	warn     interface{ Write([]byte) (int, error) }
	leases   []policy.Lease
	renewals int
}

// renewAt is when a lease is renewed: with a third of its TTL left.
func renewAt(l policy.Lease) time.Time {
	return l.ExpiresAt.Add(-time.Duration(l.TTL) * time.Second / 3)
}

// retryPause spaces out renewals that failed for a reason that may pass (the
// remote unreachable): often enough to renew before the lease ends.
func retryPause(l policy.Lease) time.Duration {
	return max(time.Duration(l.TTL)*time.Second/30, 200*time.Millisecond)
}

// loop renews until done closes, and returns itself with the leases as last
// renewed. A lease that is no longer the domain's (it lapsed and was taken
// over, or was released by force) is warned about once and left alone.
func (rn renewer) loop(done <-chan struct{}) renewer {
	next := make([]time.Time, len(rn.leases))
	lost := make([]bool, len(rn.leases))
	for i, l := range rn.leases {
		next[i] = renewAt(l)
	}
	for {
		first := -1
		for i := range next {
			if !lost[i] && (first < 0 || next[i].Before(next[first])) {
				first = i
			}
		}
		if first < 0 {
			<-done
			return rn
		}
		select {
		case <-done:
			return rn
		case <-rn.after(max(next[first].Sub(rn.now()), 0)):
		}
		select {
		case <-done: // the command ended as the timer fired: nothing to renew
			return rn
		default:
		}
		l, err := rn.renew(rn.leases[first])
		var refused *policy.Refusal
		switch {
		case errors.As(err, &refused): // another's now, or ended: retrying cannot help
			lost[first] = true
			fmt.Fprintf(rn.warn, "oxygen: cannot renew %s: %v; the command runs on without it\n", rn.leases[first].Resource, err)
		case err != nil:
			next[first] = rn.now().Add(retryPause(rn.leases[first]))
			fmt.Fprintf(rn.warn, "oxygen: renew %s: %v (trying again)\n", rn.leases[first].Resource, err)
		default:
			rn.leases[first], next[first] = l, renewAt(l)
			rn.renewals++
		}
	}
}

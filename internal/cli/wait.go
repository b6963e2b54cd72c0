package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// claimOptions are the flags claim and run share.
type claimOptions struct {
	ttl, reason, domain, capsule, council string
	wait                                  bool
	timeout                               time.Duration
	ttlGiven                              bool
}

func (o *claimOptions) bind(c *cobra.Command) {
	c.Flags().StringVar(&o.ttl, "ttl", "", "how long the lease lasts, as a Go duration (default: the policy's default_ttl)")
	c.Flags().StringVar(&o.reason, "reason", "", "why you need it, shown to others")
	c.Flags().StringVar(&o.domain, "domain", "", "the domain to claim for, if you are in several (or set OXYGEN_DOMAIN)")
	c.Flags().StringVar(&o.capsule, "capsule", "", "the context capsule this work belongs to")
	c.Flags().StringVar(&o.council, "council", "", "a granted council call that lifts the change budget")
	c.Flags().BoolVar(&o.wait, "wait", false, "if another domain holds it, queue for it (first come, first served) and take it when it is free")
	c.Flags().DurationVar(&o.timeout, "timeout", 0, "with --wait, give up after this long (exit 1; default: wait as long as it takes)")
}

// Waiting is paced: the local store is cheap to read, the git store is a
// fetch from the remote each time, so it backs off.
const (
	localPoll   = 100 * time.Millisecond
	gitPollMin  = 500 * time.Millisecond
	gitPollMax  = 15 * time.Second
	waiterBeat  = time.Minute // a waiter not heard of for this long has gone; long, since each beat is an act (a push with the git store)
	beatEvery   = waiterBeat / 3
	maxTimeout  = policy.LongestTTL
	codeTimeout = "wait-timeout"
)

// claim takes the leases on ids, waiting if asked. A refusal is a
// *policy.Refusal with its fix.
func (a *app) claim(ctx context.Context, r *repo, ids []string, o claimOptions) ([]policy.Claimed, error) {
	d, err := a.actingDomain(r, o.domain)
	if err != nil {
		return nil, err
	}
	dur, err := ttlFlag(r.policy, o.ttl, o.ttlGiven)
	if err != nil {
		return nil, err
	}
	if o.timeout < 0 || o.timeout > maxTimeout || o.timeout != 0 && !o.wait {
		return nil, &usageError{fmt.Errorf("--timeout %s: give a positive duration, with --wait", o.timeout)}
	}
	for _, id := range ids {
		if err := r.resource(id); err != nil {
			return nil, &usageError{err}
		}
	}
	act := policy.Act{Kind: policy.ActClaim, Domain: d, Resources: ids, TTL: dur, Reason: o.reason, Capsule: o.capsule, Council: o.council}
	what := "claim " + strings.Join(ids, " ")
	if o.wait {
		return a.waitAndClaim(ctx, r, act, o.timeout, what)
	}
	dec, err := a.act(r, act, what)
	return dec.Claims, err
}

// waitAndClaim queues for every resource of the claim, in the state every
// clone shares, and claims them all once each is free and this claimer
// heads each queue.
func (a *app) waitAndClaim(ctx context.Context, r *repo, act policy.Act, timeout time.Duration, what string) (_ []policy.Claimed, err error) {
	if _, ok := r.store.(*store.Ref); ok {
		return nil, store.ErrServerSide
	}
	// Interrupted, it still leaves the queue rather than block it until its
	// heartbeat stops.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := a.now()
	var ws []policy.Waiter
	defer func() {
		for _, w := range ws {
			_, lerr := a.act(r, policy.Act{Kind: policy.ActUnwait, ID: w.ID}, "leave the queue of "+w.Resource)
			err = errors.Join(err, lerr)
		}
	}()
	beat := func(w policy.Waiter, id string) (policy.Waiter, error) {
		d, err := a.act(r, policy.Act{Kind: policy.ActWait, ID: id, Resources: []string{w.Resource}, Domain: act.Domain, TTL: waiterBeat}, "wait for "+w.Resource)
		if err != nil {
			return w, err
		}
		return *d.Waiter, nil
	}
	for _, res := range act.Resources {
		w, err := beat(policy.Waiter{Resource: res}, newWaiterID())
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	_, git := r.store.(*store.Git)
	pause, beaten := localPoll, start
	if git {
		pause = gitPollMin
	}
	var held *policy.Refusal // the last refusal by a lease or a queue in the way
	told := false
	for {
		now := a.now()
		st, err := r.store.Current()
		if err != nil {
			return nil, err
		}
		first := atHead(st, ws, now)
		if first {
			dec, err := a.act(r, act, what)
			if !errors.As(err, &held) || held.Code != policy.CodeHeldByOther && held.Code != policy.CodeQueued {
				return dec.Claims, err
			}
		}
		if !told {
			told = true // once: people see why nothing happens; the queue is in oxygen leases
			why := "waiters ahead in the queue"
			if first && held.Code == policy.CodeHeldByOther {
				why, _, _ = strings.Cut(held.Message, ";")
			}
			fmt.Fprintf(a.stderr, "oxygen: waiting for %s: %s\n", strings.Join(act.Resources, " "), why)
		}
		if timeout > 0 && now.Sub(start) >= timeout {
			return nil, waitTimeout(act, timeout, held)
		}
		if now.Sub(beaten) >= beatEvery {
			for i := range ws {
				if ws[i], err = beat(ws[i], ws[i].ID); err != nil {
					return nil, err
				}
			}
			beaten = now
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("stopped waiting: %w", context.Cause(ctx))
		case <-time.After(pause):
		}
		if git {
			// Each look is a fetch of the remote: it backs off, and a
			// claim's own fetch refreshes the copy too.
			if !first {
				if err := r.store.Sync(); err != nil {
					return nil, err
				}
			}
			pause = min(2*pause, gitPollMax)
		}
	}
}

// newWaiterID names a place in a queue, unguessable enough that two
// waiters never collide.
func newWaiterID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "w-" + hex.EncodeToString(b[:])
}

// atHead says whether ws head their queues in st at now (or their queues
// hold nobody live).
func atHead(st policy.State, ws []policy.Waiter, now time.Time) bool {
	for _, w := range ws {
		if q := st.Queue(w.Resource, now); len(q) > 0 && q[0].ID != w.ID {
			return false
		}
	}
	return true
}

// waitTimeout: the wait ran out. Its fix waits again; held is the last
// refusal by a lease in the way, nil if only the queue held it back.
func waitTimeout(act policy.Act, timeout time.Duration, held *policy.Refusal) error {
	r := policy.Refuse(codeTimeout, &policy.Fix{Argv: policy.ClaimWaitArgv(act.Resources, act.Domain),
		Needs: "the waiters ahead in its queue take their turn (oxygen leases shows them)"},
		"waited %s and it is still not free", timeout)
	if held != nil && held.Code == policy.CodeHeldByOther {
		r.Holder, r.Fix = held.Holder, held.Fix
		r.Message += ": " + held.Message
	}
	return r
}

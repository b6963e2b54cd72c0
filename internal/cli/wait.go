package cli

import (
	"context"
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
	waiterBeat  = 15 * time.Second // a waiter not heard of for this long has gone
	beatEvery   = waiterBeat / 3
	maxTimeout  = policy.LongestTTL
	codeTimeout = "wait-timeout"
)

// claim builds the claims of ids and takes them, waiting if asked. A
// refusal comes back as a policy.Refusal with its fix.
func (a *app) claim(ctx context.Context, r *repo, ids []string, o claimOptions) ([]store.Claimed, error) {
	d, err := r.actingDomain(o.domain)
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
	var claims []store.Claim
	for _, id := range ids {
		if err := r.resource(id); err != nil {
			return nil, &usageError{err}
		}
		claims = append(claims, store.Claim{
			Resource: id, Owner: r.email, Domain: d, TTL: dur,
			Reason: o.reason, Capsule: o.capsule, Budget: r.policy.Budgets.LeasesPerDomain, Council: o.council,
		})
	}
	what := strings.Join(ids, " ")
	var res []store.Claimed
	if o.wait {
		res, err = a.waitAndClaim(ctx, r, claims, d, o.timeout)
	} else {
		res, err = r.store.Claim(claims)
	}
	var held *store.HeldError
	var budget *store.BudgetError
	switch {
	case errors.As(err, &held):
		return nil, heldRefusal(what, err, held.Lease, d)
	case errors.As(err, &budget):
		return nil, budgetRefusal(what, err, budget)
	case err != nil:
		return nil, protocolError("claim "+what, err)
	}
	return res, nil
}

// waitAndClaim queues for every resource of claims, and claims them all
// once each is free and this claimer heads each queue.
func (a *app) waitAndClaim(ctx context.Context, r *repo, claims []store.Claim, domain string, timeout time.Duration) (_ []store.Claimed, err error) {
	q := store.QueueOf(r.store)
	if q == nil {
		return nil, store.ErrServerSide
	}
	// Interrupted, it still leaves the queue rather than block it until its
	// heartbeat stops.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := a.now()
	var ws []store.Waiter
	defer func() {
		for _, w := range ws {
			err = errors.Join(err, q.Leave(w))
		}
	}()
	for _, c := range claims {
		w, err := q.Join(c.Resource, c.Owner, domain, start, waiterBeat)
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
	var lastHeld *store.HeldError
	told := false
	for {
		now := a.now()
		first, err := atHead(q, ws, now)
		if err != nil {
			return nil, err
		}
		if first {
			res, err := r.store.Claim(claims)
			if !errors.As(err, &lastHeld) {
				return res, err
			}
		}
		if !told {
			told = true // once: people see why nothing happens; the queue is in oxygen leases
			why := "waiters ahead in the queue"
			if first {
				why = lastHeld.Error()
			}
			fmt.Fprintf(a.stderr, "oxygen: waiting for %s: %s\n", resourcesOf(claims), why)
		}
		if timeout > 0 && now.Sub(start) >= timeout {
			return nil, waitTimeout(claims, timeout, lastHeld)
		}
		if now.Sub(beaten) >= beatEvery {
			for i := range ws {
				if ws[i], err = q.Beat(ws[i], now, waiterBeat); err != nil {
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
		if git && first {
			pause = min(2*pause, gitPollMax) // each try was a fetch
		}
	}
}

// atHead says whether no live waiter is ahead of ws in any of their queues.
func atHead(q *store.Queue, ws []store.Waiter, now time.Time) (bool, error) {
	for _, w := range ws {
		ahead, err := q.Ahead(w, now)
		if err != nil || len(ahead) > 0 {
			return false, err
		}
	}
	return true, nil
}

func resourcesOf(claims []store.Claim) string {
	var ids []string
	for _, c := range claims {
		ids = append(ids, c.Resource)
	}
	return strings.Join(ids, " ")
}

func waitTimeout(claims []store.Claim, timeout time.Duration, held *store.HeldError) error {
	argv := append([]string{"oxygen", "claim"}, strings.Fields(resourcesOf(claims))...)
	argv = append(argv, "--domain", claims[0].Domain, "--wait")
	r := policy.Refuse(codeTimeout, &policy.Fix{Argv: argv}, "waited %s and it is still not free", timeout)
	if held != nil {
		r.Holder = &held.Lease
		r.Fix.RetryAfter = held.Lease.End().UTC()
		r.Fix.Needs = held.Lease.Owner + " releases it, or it ends"
		r.Message += fmt.Sprintf(": %v", held)
	} else {
		r.Fix.Needs = "the waiters ahead in its queue take their turn (oxygen leases shows them)"
	}
	return r
}

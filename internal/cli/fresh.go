package cli

import (
	"fmt"
	"slices"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// freshSyncLimit bounds the one refresh a refusal may wait for: a hook must
// answer even when the remote does not.
const freshSyncLimit = 3 * time.Second

// staleRules are the refusals a newer state can lift: a lease taken, or a
// handshake acknowledged, in another clone since this one last synced.
var staleRules = []string{policy.RuleShadowEdit, policy.RuleHeldByOther, policy.RuleNoHandshake, policy.RuleCoreBoundary}

// rejudgeFresh gives a git store's refusal one chance against the remote's
// current state: if a violation is one that a newer state could lift, it
// syncs once (bounded, and offline the first verdict stands) and judges
// again.
func (a *app) rejudgeFresh(r *repo, vs []policy.Violation, judge func(policy.State) []policy.Violation) ([]policy.Violation, error) {
	g, ok := r.store.(*store.Git)
	if !ok || !slices.ContainsFunc(vs, func(v policy.Violation) bool { return slices.Contains(staleRules, v.Rule) }) {
		return vs, nil
	}
	synced := make(chan error, 1)
	go func() { synced <- g.Sync() }()
	var err error
	select {
	case err = <-synced:
	case <-time.After(freshSyncLimit):
		err = fmt.Errorf("no answer within %s", freshSyncLimit)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "oxygen: could not refresh the state before refusing (%s); judged on %s\n", oneLine(err.Error()), g.Freshness(a.now()))
		return vs, nil
	}
	st, err := r.store.Current()
	if err != nil {
		return nil, err
	}
	return judge(st), nil
}

// sayFreshness tells people on stderr how old a git store's copy is that
// an answer was read from.
func (a *app) sayFreshness(r *repo) {
	if f := r.store.Freshness(a.now()); f != "" {
		fmt.Fprintln(a.stderr, "oxygen: "+f)
	}
}

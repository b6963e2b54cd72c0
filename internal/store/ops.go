package store

import (
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// ops is the Store's one mutation, over one kind's way of running a
// decision against its state and persisting what it decided.
type ops struct {
	mutate func(by string, decide func(policy.State) ([]change, error)) error
	// vet, if set, may refuse a decision before it is recorded.
	vet func(policy.Act, policy.Decision) error
}

// Act decides a against the state the store holds when it takes its lock,
// at the clock's time then, and records the decision.
func (o ops) Act(p *policy.Policy, a policy.Act, clock func() time.Time) (d policy.Decision, err error) {
	err = o.mutate(a.By, func(st policy.State) ([]change, error) {
		var derr error
		d, derr = p.Decide(a, st, clock())
		if derr == nil && o.vet != nil {
			derr = o.vet(a, d)
		}
		if derr != nil {
			return nil, derr
		}
		chs := record(a, d)
		prune(st, d.At, chs)
		return chs, nil
	})
	return d, err
}

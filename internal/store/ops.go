package store

import "github.com/oxygen-protocol/oxygen/policy"

// ops turns decisions into the Store's mutations, over one kind's way of
// running a decision against its state and persisting what it decided.
type ops struct {
	mutate func(by string, decide func(policy.State) ([]change, error)) error
}

// single runs one decision that yields a value and at most one change.
func single[T any](o ops, by string, decide func(policy.State) (T, change, error)) (out T, err error) {
	err = o.mutate(by, func(st policy.State) ([]change, error) {
		var ch change
		var derr error
		out, ch, derr = decide(st)
		return []change{ch}, derr
	})
	return out, err
}

// Claim takes leases, all or none.
func (o ops) Claim(cs []Claim) (res []Claimed, err error) {
	by := ""
	if len(cs) > 0 {
		by = cs[0].Owner
	}
	err = o.mutate(by, func(st policy.State) (chs []change, derr error) {
		res, chs, derr = decideClaims(st, cs)
		return chs, derr
	})
	return res, err
}

// Renew extends a lease.
func (o ops) Renew(r Renewal) (policy.Lease, error) {
	return single(o, r.By, func(st policy.State) (policy.Lease, change, error) { return decideRenew(st, r) })
}

// Release ends a lease.
func (o ops) Release(r Release) (*policy.Lease, error) {
	return single(o, r.By, func(st policy.State) (*policy.Lease, change, error) { return decideRelease(st, r) })
}

// Assign opens a context capsule.
func (o ops) Assign(a Assign) (policy.Capsule, error) {
	return single(o, a.By, func(st policy.State) (policy.Capsule, change, error) { return decideAssign(st, a) })
}

// Done closes a context capsule.
func (o ops) Done(d Done) (policy.Capsule, error) {
	return single(o, d.By, func(st policy.State) (policy.Capsule, change, error) { return decideDone(st, d) })
}

// Signal sends a missive or a council call.
func (o ops) Signal(r SignalRequest) (policy.Signal, error) {
	return single(o, r.By, func(st policy.State) (policy.Signal, change, error) { return decideSignal(st, r) })
}

// Ack acknowledges a signal.
func (o ops) Ack(a AckRequest) (policy.Signal, error) {
	return single(o, a.By, func(st policy.State) (policy.Signal, change, error) { return decideAck(st, a) })
}

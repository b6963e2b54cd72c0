package store

import (
	"github.com/oxygen-protocol/oxygen/policy"
)

// change is what one mutation does to the state: an event for the history
// and the state files it writes (a nil content removes the file). The
// policy decides (policy.Decide); a store only records what it decided, in
// this one shape, and the server replays the events to check a push.
type change struct {
	event Event
	files map[string][]byte
}

// The state's folders, and a record's path in them.
const (
	capsulesDir = "capsules"
	signalsDir  = "signals"
)

func leasePath(resource string) string { return leasesDir + "/" + resource + ".yaml" }
func capsulePath(id string) string     { return capsulesDir + "/" + id + ".yaml" }
func signalPath(id string) string      { return signalsDir + "/" + id + ".yaml" }

// record turns a decision on act a into the changes that write it: one
// event a record, the spent council call written with the first. The
// caller adds what the act prunes (prune).
func record(a policy.Act, d policy.Decision) []change {
	var chs []change
	add := func(e Event, path string, data []byte) {
		e.By, e.At = a.By, d.At
		chs = append(chs, change{event: e, files: map[string][]byte{path: data}})
	}
	switch {
	case a.Kind == policy.ActClaim:
		for _, c := range d.Claims {
			if c.Existing {
				continue
			}
			e := Event{Op: OpClaim, Lease: c.Lease, Council: c.Council}
			if c.TookOver != nil {
				e.Op, e.Replaced = OpTakeover, c.TookOver
			}
			add(e, leasePath(c.Lease.Resource), FormatLease(c.Lease))
		}
	case d.Lease != nil && a.Kind == policy.ActRenew:
		l := *d.Lease
		add(Event{Op: OpRenew, Lease: l}, leasePath(l.Resource), FormatLease(l))
	case d.Lease != nil:
		l := *d.Lease
		e := Event{Op: OpRelease, Lease: l}
		if d.Forced {
			e.Force, e.Council = true, a.Council
		}
		add(e, leasePath(l.Resource), nil)
	case d.Capsule != nil:
		c := *d.Capsule
		e := Event{Op: capsuleOps[a.Kind], Capsule: &c}
		if d.Council != nil {
			e.Council = d.Council.ID
		}
		add(e, capsulePath(c.ID), FormatCapsule(c))
	case d.Signal != nil:
		s := *d.Signal
		add(Event{Op: signalOps[a.Kind], Signal: &s}, signalPath(s.ID), FormatSignal(s))
	case d.DeadEnd != nil:
		x := *d.DeadEnd
		add(Event{Op: OpDeadEnd, DeadEnd: &x}, refusalPath(x.ID), FormatDeadEnd(x))
	case d.Waiter != nil && d.Unwait:
		w := *d.Waiter
		add(Event{Op: OpUnwait, Waiter: &w}, waiterPath(w.ID), nil)
	case d.Waiter != nil:
		w := *d.Waiter
		add(Event{Op: OpWait, Waiter: &w}, waiterPath(w.ID), FormatWaiter(w))
	}
	if d.Council != nil && len(chs) > 0 {
		chs[0].files[signalPath(d.Council.ID)] = FormatSignal(*d.Council)
	}
	return chs
}

var (
	capsuleOps = map[string]string{policy.ActAssign: OpAssign, policy.ActDone: OpDone, policy.ActAccept: OpAccept, policy.ActWiden: OpWiden}
	signalOps  = map[string]string{policy.ActSignal: OpSignal, policy.ActAck: OpAck, policy.ActDecline: OpDecline}
)

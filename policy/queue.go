package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Acts on a resource's wait queue (claim --wait).
const (
	ActWait   = "wait"   // join the queue, or renew the heartbeat of one's place in it
	ActUnwait = "unwait" // leave it
)

// Queue refusals.
const (
	CodeQueued    = "queued"     // a claim by someone behind others in the resource's queue
	CodeQueueFull = "queue-full" // a queue holds MaxWaiters already
)

// Bounds of the queue: a heartbeat longer than MaxBeat would let a dead
// waiter hold the others back for long; a flood of waiters must not make
// every read slow.
const (
	MaxBeat    = 2 * time.Minute
	MaxWaiters = 256
)

// Waiter is one place in a resource's wait queue, first come, first served.
// A waiter whose heartbeat (Until) passed has gone: it holds nobody back.
type Waiter struct {
	ID       string    `json:"id" yaml:"id"` // chosen by the waiter; names its place for its heartbeats
	Resource string    `json:"resource" yaml:"resource"`
	Owner    string    `json:"owner" yaml:"owner"`
	Domain   string    `json:"domain" yaml:"domain"`
	Since    time.Time `json:"since" yaml:"since"` // its place: the queue is ordered by Since, then ID
	Until    time.Time `json:"until" yaml:"until"`
}

// LiveAt says whether w still waits at now.
func (w Waiter) LiveAt(now time.Time) bool { return now.Before(w.Until) }

func queueOrder(a, b Waiter) int {
	return cmp.Or(strings.Compare(a.Resource, b.Resource), a.Since.Compare(b.Since), strings.Compare(a.ID, b.ID))
}

// Queue lists the live waiters for resource at now, first in line first.
func (st State) Queue(resource string, now time.Time) []Waiter {
	var out []Waiter
	for _, w := range st.Waiters {
		if w.Resource == resource && w.LiveAt(now) {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, queueOrder)
	return out
}

// Waiting lists every live waiter at now, by resource, then in line.
func (st State) Waiting(now time.Time) []Waiter {
	var out []Waiter
	for _, w := range st.Waiters {
		if w.LiveAt(now) {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, queueOrder)
	return out
}

func (st State) waiter(id string) *Waiter {
	for i := range st.Waiters {
		if st.Waiters[i].ID == id {
			return &st.Waiters[i]
		}
	}
	return nil
}

// queuedAhead refuses a claim of res by by while live waiters other than by
// come first in its queue.
func queuedAhead(st State, res, by, domain string, now time.Time) error {
	q := st.Queue(res, now)
	if len(q) == 0 || strings.EqualFold(q[0].Owner, by) {
		return nil
	}
	return &Refusal{Code: CodeQueued, Exit: 1,
		Message: fmt.Sprintf("%s has %d waiter(s) in its queue, first %s (%s) since %s: queue behind them with claim --wait (oxygen leases shows the queue)",
			res, len(q), q[0].Owner, q[0].Domain, q[0].Since.Format(time.RFC3339)),
		Fix: &Fix{Argv: ClaimWaitArgv([]string{res}, domain), Needs: "the waiters ahead take their turn, or stop waiting"}}
}

// decideWait joins the queue of a's one resource under id a.ID, or, if that
// place is the asker's already, renews its heartbeat to now + a.TTL.
func (p *Policy) decideWait(a Act, st State, now time.Time) (Decision, error) {
	if len(a.Resources) != 1 || !ValidName(a.Resources[0]) {
		return Decision{}, fmt.Errorf("wait: name one resource")
	}
	if !ValidRecordID(a.ID) {
		return Decision{}, fmt.Errorf("waiter id %q is not valid", a.ID)
	}
	if a.TTL <= 0 || a.TTL > MaxBeat {
		return Decision{}, fmt.Errorf("a heartbeat of %s: want at most %s", a.TTL, MaxBeat)
	}
	res := a.Resources[0]
	// A place whose heartbeat passed is gone: beating again joins anew, at the end.
	if cur := st.waiter(a.ID); cur != nil && cur.LiveAt(now) {
		if !strings.EqualFold(cur.Owner, a.By) || cur.Resource != res || cur.Domain != a.Domain {
			return Decision{}, exists("waiter", a.ID, "for "+cur.Resource, cur.Owner)
		}
		w := *cur
		w.Until = now.Add(a.TTL)
		return Decision{Waiter: &w}, nil
	}
	if err := p.member(a, a.Domain, "wait for "+a.Domain); err != nil {
		return Decision{}, err
	}
	if _, ok := p.Resource(res); !ok {
		return Decision{}, fmt.Errorf("wait: unknown resource %q", res) // a place nobody could ever claim only fills the state
	}
	q := st.Queue(res, now)
	if len(q) >= MaxWaiters {
		return Decision{}, Refuse(CodeQueueFull, nil, "%s has %d waiters already, the most a queue takes", res, len(q))
	}
	since := now
	if n := len(q); n > 0 && !since.After(q[n-1].Since) {
		since = q[n-1].Since.Add(time.Millisecond) // behind the last even when clocks disagree
	}
	w := Waiter{ID: a.ID, Resource: res, Owner: a.By, Domain: a.Domain, Since: since, Until: now.Add(a.TTL)}
	return Decision{Waiter: &w}, nil
}

// decideUnwait takes waiter a.ID out of its queue: by its owner, or a
// member of its domain. One that is not there changes nothing.
func (p *Policy) decideUnwait(a Act, st State, _ time.Time) (Decision, error) {
	cur := st.waiter(a.ID)
	if cur == nil {
		return Decision{}, nil
	}
	if !strings.EqualFold(cur.Owner, a.By) && !p.Member(a.By, cur.Domain) {
		return Decision{}, &Refusal{Code: CodeNotMember, Exit: 1, Message: fmt.Sprintf("%s may not take %s's place in the queue of %s: that takes its owner or a member of %s", a.By, cur.Owner, cur.Resource, cur.Domain)}
	}
	w := *cur
	return Decision{Waiter: &w, Unwait: true}, nil
}

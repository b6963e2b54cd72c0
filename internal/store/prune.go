package store

import (
	"slices"
	"strings"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// Retention is how long a finished capsule or signal stays among the live
// records after it finished. Nothing judged at the present needs it (a
// commit is judged within clock_skew of now, and the past is judged from
// the history, HistoryState), so it is short: status and signals still
// show what just ended, and the live records stay as few as an hour of a
// fleet's work however old the store. After that the record lives on in
// the history only, and its id may be used again.
const Retention = time.Hour

// finished says when a record stopped mattering to any act or to any
// commit made from then on (false: it still does). A capsule is finished
// when done; a missive when its handshake ended, it was declined or its
// capsule was done; a council call when it was used or declined. An open
// call or capsule is never finished.
func finishedCapsule(c policy.Capsule) (time.Time, bool) {
	return c.ClosedAt, c.Status == policy.CapsuleDone && !c.ClosedAt.IsZero()
}

func finishedSignal(st policy.State, s policy.Signal) (time.Time, bool) {
	var ends []time.Time
	if s.Declined != nil {
		ends = append(ends, s.Declined.At)
	}
	switch s.Kind {
	case policy.SignalMissive:
		ends = append(ends, s.HandshakeEnd())
		if c := st.CapsuleOf(&s); s.Capsule != "" && c != nil {
			if at, ok := finishedCapsule(*c); ok {
				ends = append(ends, at)
			}
		}
	case policy.SignalCouncilCall:
		if !s.UsedAt.IsZero() {
			ends = append(ends, s.UsedAt)
		}
	}
	if len(ends) == 0 {
		return time.Time{}, false
	}
	return slices.MinFunc(ends, time.Time.Compare), true
}

// prune adds to the first of chs the removal of every record of st that
// finished Retention or more before at (the act's time). It is part of
// what an act records, so the server's replay derives the same removals.
// A capsule a kept signal names stays, so that the signal still sees it
// done. It returns the earliest time at which a record it keeps may go
// (zero: none may, as they stand), before which pruning again finds
// nothing.
func prune(st policy.State, at time.Time, chs []change) (next time.Time) {
	if len(chs) == 0 {
		return time.Time{}
	}
	files := chs[0].files
	named := map[string]bool{}
	for _, s := range st.Signals {
		if end, ok := finishedSignal(st, s); ok && !at.Before(end.Add(Retention)) {
			if _, written := files[signalPath(s.ID)]; !written {
				files[signalPath(s.ID)] = nil
			}
			continue
		} else if ok {
			next = earliest(next, end.Add(Retention))
		}
		named[s.Capsule] = true
	}
	for _, c := range st.Capsules {
		if end, ok := finishedCapsule(c); ok && !named[c.ID] && !at.Before(end.Add(Retention)) {
			if _, written := files[capsulePath(c.ID)]; !written {
				files[capsulePath(c.ID)] = nil
			}
		} else if ok && !named[c.ID] {
			next = earliest(next, end.Add(Retention))
		}
	}
	// A waiter whose heartbeat passed has gone: nothing needs its place.
	for _, w := range st.Waiters {
		if w.LiveAt(at) {
			next = earliest(next, w.Until)
		} else if _, written := files[waiterPath(w.ID)]; !written {
			files[waiterPath(w.ID)] = nil
		}
	}
	for _, d := range st.DeadEnds {
		if end := d.At.Add(policy.DeadEndRetention); at.Before(end) {
			next = earliest(next, end)
		} else if _, written := files[refusalPath(d.ID)]; !written {
			files[refusalPath(d.ID)] = nil
		}
	}
	return next
}

// earliest of a and b, zero being none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}

// prunableFrom is the earliest time from which the record at path, as st
// holds it after an act wrote it, may let it or another record be pruned:
// a done capsule also ends the missives that name it (zero: never, as it
// stands).
func prunableFrom(st policy.State, path string) time.Time {
	dir, file, _ := strings.Cut(path, "/")
	id := strings.TrimSuffix(file, ".yaml")
	switch dir {
	case capsulesDir:
		if c := st.Capsule(id); c != nil {
			if end, ok := finishedCapsule(*c); ok {
				return end.Add(Retention)
			}
		}
	case signalsDir:
		if s := st.Signal(id); s != nil {
			if end, ok := finishedSignal(st, *s); ok {
				return end.Add(Retention)
			}
		}
	case refusalsDir:
		for _, d := range st.DeadEnds {
			if d.ID == id {
				return d.At.Add(policy.DeadEndRetention)
			}
		}
	case waitersDir:
		for _, w := range st.Waiters {
			if w.ID == id {
				return w.Until
			}
		}
	}
	return time.Time{}
}

package policy

import (
	"iter"
	"slices"
	"time"
	"unicode"
)

// historyIndex finds, for judging many changes against one history, the
// leases of a resource near a time and the capsules of an owner, without
// scanning every record for every path of every change: a range check of
// 1,000 commits against a day of a busy fleet's leases did that a few
// million times.
type historyIndex struct {
	leases     []Lease   // the lists indexed, as they were
	capsules   []Capsule // (the index is of these, not of others)
	byResource map[string]*leaseSpan
	byOwner    map[string][]int // foldKey(owner) -> capsules, in state order
}

// leaseSpan is one resource's leases, by creation time, and the longest
// any of them lasted: a lease that covers t started in
// (t - skew - longest, t + skew].
type leaseSpan struct {
	byStart []int // lease indexes, oldest creation first
	longest time.Duration
	scanAll bool // a lease that lasts beyond what a Duration holds
}

// IndexHistory makes the judgement of many changes against st (a history
// of leases and capsules, as range checks read it) cost the records near
// each change, not all of them. The index is of st's lists as they are:
// where a list is replaced or changes length (With, a new record) the
// judge scans it again, as without the index; a record changed in place
// is not seen, and must not happen while the index is in use.
func (st *State) IndexHistory() {
	h := &historyIndex{leases: st.Leases, capsules: st.Capsules, byResource: map[string]*leaseSpan{}, byOwner: map[string][]int{}}
	for i, l := range st.Leases {
		s := h.byResource[l.Resource]
		if s == nil {
			s = &leaseSpan{}
			h.byResource[l.Resource] = s
		}
		s.byStart = append(s.byStart, i)
		switch d := l.End().Sub(l.CreatedAt); {
		case d >= maxSpan || d <= -maxSpan:
			s.scanAll = true
		case d > s.longest:
			s.longest = d
		}
	}
	for _, s := range h.byResource {
		slices.SortStableFunc(s.byStart, func(a, b int) int { return st.Leases[a].CreatedAt.Compare(st.Leases[b].CreatedAt) })
	}
	for i, c := range st.Capsules {
		k := foldKey(c.Owner)
		h.byOwner[k] = append(h.byOwner[k], i)
	}
	st.hist = h
}

// maxSpan is past any lease a policy allows, and well inside what a
// Duration holds: a longer one turns its resource's index off.
const maxSpan = 100 * 365 * 24 * time.Hour

// usable reports whether the index is of st's lists as they are now.
func (h *historyIndex) usable(st *State) bool {
	return h != nil && sameList(h.leases, st.Leases) && sameList(h.capsules, st.Capsules)
}

// sameList reports whether a and b are one list: the same records, in
// the same place.
func sameList[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// leasesNear yields, in state order, the leases of resource that may
// cover t give or take skew: with the index, those created near t (a
// superset: the caller checks each), else every lease.
func (st *State) leasesNear(resource string, t time.Time, skew time.Duration) iter.Seq[*Lease] {
	near, ok := st.hist.near(st, resource, t, skew)
	return func(yield func(*Lease) bool) {
		if !ok {
			for i := range st.Leases {
				if !yield(&st.Leases[i]) {
					return
				}
			}
			return
		}
		for _, i := range near {
			if !yield(&st.Leases[i]) {
				return
			}
		}
	}
}

// near is leasesNear's look-up: ok is false where the index cannot answer.
func (h *historyIndex) near(st *State, resource string, t time.Time, skew time.Duration) (near []int, ok bool) {
	if !h.usable(st) {
		return nil, false
	}
	s := h.byResource[resource]
	switch {
	case s == nil:
		return nil, true
	case s.scanAll || skew < 0 || skew >= maxSpan:
		return nil, false
	}
	from, to := t.Add(-skew).Add(-s.longest), t.Add(skew)
	lo, _ := slices.BinarySearchFunc(s.byStart, from, func(i int, at time.Time) int { return st.Leases[i].CreatedAt.Compare(at) })
	hi, _ := slices.BinarySearchFunc(s.byStart, to, func(i int, at time.Time) int {
		if st.Leases[i].CreatedAt.After(at) {
			return 1
		}
		return -1 // up to and with those created at to
	})
	near = slices.Clone(s.byStart[lo:hi])
	slices.Sort(near)
	return near, true
}

// capsulesOf yields, in state order, the capsules whose owner is owner as
// strings.EqualFold compares them, and with no index every capsule (the
// caller checks each).
func (st *State) capsulesOf(owner string) iter.Seq[*Capsule] {
	return func(yield func(*Capsule) bool) {
		if !st.hist.usable(st) {
			for i := range st.Capsules {
				if !yield(&st.Capsules[i]) {
					return
				}
			}
			return
		}
		for _, i := range st.hist.byOwner[foldKey(owner)] {
			if !yield(&st.Capsules[i]) {
				return
			}
		}
	}
}

// foldKey is the same for two strings exactly where strings.EqualFold says
// they are equal: each rune (an invalid byte is utf8.RuneError, as there)
// becomes the least of the runes that simple case folding makes it.
func foldKey(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		out = append(out, least)
	}
	return string(out)
}

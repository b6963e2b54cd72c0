package policy

// Source says where the policy that judges a change comes from.
type Source int

const (
	// Unadopted: no policy on the change's line, on the ref it goes to or
	// on the default branch. The change is history before adoption, or the
	// bootstrap that adds the first policy, and is not judged.
	Unadopted Source = iota
	// FromBase: the base's committed policy (HEAD's, the first parent's).
	FromBase
	// FromLastLoading: the base's does not load; the last policy that loads
	// on the base's first-parent line judges, so that a repair needs that
	// policy's coordination lease like any policy edit.
	FromLastLoading
	// FromRef: the base has none; the ref being updated has one (its old tip).
	FromRef
	// FromDefault: neither has one; the repository's default branch does.
	FromDefault
)

// Version is one committed resources.yaml as the choice of a policy sees it.
type Version struct {
	Present bool    // the file exists
	Policy  *Policy // nil when it does not load
}

// Lineage is what is known of the line a change is made on. Ref and
// Default are the policies in force at those tips (each tip's own, or the
// last that loads on its line), nil where there is none.
type Lineage struct {
	Base        Version // the base's resources.yaml; none for a root commit
	LastLoading *Policy // the last policy that loads on the base's first-parent line; asked for only when Base is present and does not load
	Ref         *Policy // the updated ref's old tip's
	Default     *Policy // the default branch's
}

// NeedsLastLoading reports whether InForce will look at LastLoading, so
// that a caller walks history only when the answer depends on it.
func (l Lineage) NeedsLastLoading() bool { return l.Base.Present && l.Base.Policy == nil }

// InForce picks the policy that judges a change. A change is never judged
// by a policy that it, or history never judged on its line, brings in: the
// base's judges; where it does not load, the last one that loads on its
// line; where the line has none that loads, the updated ref's, then the
// default branch's. Where none of them has one, the change is not judged
// (Unadopted, nil): history before a repository adopted oxygen passes, and
// so does the commit that adds the first policy.
func InForce(l Lineage) (*Policy, Source) {
	switch {
	case l.Base.Policy != nil:
		return l.Base.Policy, FromBase
	case l.Base.Present && l.LastLoading != nil:
		return l.LastLoading, FromLastLoading
	case l.Ref != nil:
		return l.Ref, FromRef
	case l.Default != nil:
		return l.Default, FromDefault
	}
	return nil, Unadopted
}

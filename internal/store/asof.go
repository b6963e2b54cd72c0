package store

import "time"

// SyncedAs says which state commit the clone's copy holds and when it was
// fetched (ok false: never).
func (g *Git) SyncedAs() (commit string, at time.Time, ok bool) {
	s, ok := g.marker()
	return s.Commit, s.SyncedAt, ok
}

package store

import (
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// Untrusted is a store that cannot be trusted, for the reason err: every
// read and every act fails with it. It stands in for a clone's store whose
// files git tracks (a commit brought them, and a pull overwrites them).
func Untrusted(err error) Store { return untrusted{err} }

type untrusted struct{ err error }

func (u untrusted) Current() (policy.State, error) { return policy.State{}, u.err }
func (u untrusted) Act(*policy.Policy, policy.Act, func() time.Time) (policy.Decision, error) {
	return policy.Decision{}, u.err
}
func (u untrusted) History() ([]policy.Lease, error)             { return nil, u.err }
func (u untrusted) Sync() error                                  { return u.err }
func (u untrusted) Freshness(time.Time) string                   { return "" }
func (u untrusted) HistoryState(time.Time) (policy.State, error) { return policy.State{}, u.err }

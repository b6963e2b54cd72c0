package cli

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// fakeClock fires every timer at once, moving its time to the timer's end.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) after(d time.Duration) <-chan time.Time {
	c.t = c.t.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

func lease(resource string, at time.Time, ttl time.Duration) policy.Lease {
	return policy.Lease{Resource: resource, Domain: "builder", TTL: int64(ttl / time.Second), CreatedAt: at, ExpiresAt: at.Add(ttl)}
}

func TestRenewerSchedule(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		leases []policy.Lease
		fail   map[int]error // the nth renewal's error
		want   []string      // resource@offset of each renewal tried
	}{
		{
			name:   "a third of the TTL left, again and again",
			leases: []policy.Lease{lease("storage", t0, 90*time.Second)},
			want:   []string{"storage@1m0s", "storage@2m0s", "storage@3m0s"},
		},
		{
			name:   "two leases, each on its own schedule",
			leases: []policy.Lease{lease("storage", t0, 90*time.Second), lease("schema", t0, 30*time.Second)},
			want:   []string{"schema@20s", "schema@40s", "storage@1m0s"},
		},
		{
			name:   "a failure is retried soon, well before the lease ends",
			leases: []policy.Lease{lease("storage", t0, 300*time.Second)},
			fail:   map[int]error{0: errors.New("remote unreachable")},
			want:   []string{"storage@3m20s", "storage@3m30s", "storage@6m50s"},
		},
		{
			name:   "a lost lease is not renewed again",
			leases: []policy.Lease{lease("storage", t0, 90*time.Second), lease("schema", t0, 60*time.Second)},
			fail:   map[int]error{0: &policy.Refusal{Code: policy.CodeLapsed, Exit: 1, Message: "lapsed"}},
			want:   []string{"schema@40s", "storage@1m0s", "storage@2m0s"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := &fakeClock{t: t0}
			done := make(chan struct{})
			var got []string
			rn := renewer{
				now: clock.now, after: clock.after, warn: io.Discard, leases: c.leases,
				renew: func(l policy.Lease) (policy.Lease, error) {
					n := len(got)
					got = append(got, l.Resource+"@"+clock.t.Sub(t0).String())
					if len(got) == len(c.want) {
						close(done)
					}
					if err := c.fail[n]; err != nil {
						return policy.Lease{}, err
					}
					ttl := time.Duration(l.TTL) * time.Second
					l.ExpiresAt = clock.t.Add(ttl)
					return l, nil
				},
			}
			res := rn.loop(done)
			if len(got) != len(c.want) {
				t.Fatalf("renewals %q, want %q", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("renewals %q, want %q", got, c.want)
				}
			}
			if ok := len(c.want) - len(c.fail); res.renewals != ok {
				t.Errorf("%d renewals counted, want %d", res.renewals, ok)
			}
		})
	}
}

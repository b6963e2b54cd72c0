package cli

import (
	"errors"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
)

func TestSinceFilter(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	at := func(id int, t time.Time) store.Numbered { return store.Numbered{ID: id, Event: store.Event{At: t}} }
	cases := []struct {
		since string
		keep  []store.Numbered
		drop  []store.Numbered
	}{
		{"", []store.Numbered{at(1, now)}, nil},
		{"0", []store.Numbered{at(1, now)}, nil},
		{"41", []store.Numbered{at(42, now)}, []store.Numbered{at(41, now), at(1, now)}},
		{"2026-11-30T11:00:00Z", []store.Numbered{at(1, now.Add(-time.Hour)), at(2, now)}, []store.Numbered{at(3, now.Add(-time.Hour-time.Millisecond))}},
		{"10m", []store.Numbered{at(1, now.Add(-10*time.Minute))}, []store.Numbered{at(1, now.Add(-11*time.Minute))}},
		{"0s", []store.Numbered{at(1, now)}, []store.Numbered{at(1, now.Add(-time.Millisecond))}},
	}
	for _, c := range cases {
		keep, err := sinceFilter(c.since, now)
		if err != nil {
			t.Fatalf("--since %q: %v", c.since, err)
		}
		for _, e := range c.keep {
			if !keep(e) {
				t.Errorf("--since %q dropped %d at %s", c.since, e.ID, e.At)
			}
		}
		for _, e := range c.drop {
			if keep(e) {
				t.Errorf("--since %q kept %d at %s", c.since, e.ID, e.At)
			}
		}
	}
	for _, bad := range []string{"-1", "yesterday", "-5m", "2026-11-30", "1e3"} {
		var u *usageError
		if _, err := sinceFilter(bad, now); !errors.As(err, &u) {
			t.Errorf("--since %q: %v, want a usage error", bad, err)
		}
	}
}

func FuzzSinceFilter(f *testing.F) {
	for _, s := range []string{"", "0", "41", "2026-11-30T11:00:00Z", "10m", "-1", "9999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		keep, err := sinceFilter(s, time.Unix(1e9, 0))
		var u *usageError
		switch {
		case err != nil && !errors.As(err, &u):
			t.Fatalf("--since %q: %v is not a usage error", s, err)
		case err == nil:
			keep(store.Numbered{ID: 1})
		}
	})
}

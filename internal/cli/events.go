package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/spf13/cobra"
)

// Following is paced: a stat of the local history is cheap; the git store
// fetches, backing off while nothing happens.
const (
	followLocal  = 100 * time.Millisecond
	followGitMin = time.Second
	followGitMax = 30 * time.Second
)

// eventsOptions are the flags of oxygen events.
type eventsOptions struct {
	since  string
	follow bool
	limit  int
	asJSON bool
}

func (a *app) eventsCommand() *cobra.Command {
	var o eventsOptions
	c := &cobra.Command{
		Use:   "events",
		Short: "Print the state's history: claims, renewals, releases, takeovers, the queue, signals, acks",
		Long: `Print the state's history, one event a line, oldest first. Each event has an
id, its line in the history, which names it for good: --since ID prints
what came after it. --since also takes a time (RFC 3339) or a duration
(10m: the last ten minutes). --follow then prints new events as they
happen (the local store is watched; the git store is fetched, backing off
to every 30s while nothing happens); --limit ends after that many events.
--json prints one JSON object a line (NDJSON).`,
		Example: "  oxygen events --since 41 --follow --json\n  oxygen events --since 1h",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r, err := a.openRepo(nil)
			if err != nil {
				return err
			}
			return a.eventsRun(c.Context(), r.store, o)
		},
	}
	c.Flags().StringVar(&o.since, "since", "", "print only events after this id, or at or after this time (RFC 3339) or this long ago (a duration)")
	c.Flags().BoolVar(&o.follow, "follow", false, "keep printing new events as they happen")
	c.Flags().IntVar(&o.limit, "limit", 0, "stop after printing this many events")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON object a line")
	return c
}

// sinceFilter reads --since: an event id, a time, or a duration ago.
func sinceFilter(s string, now time.Time) (func(store.Numbered) bool, error) {
	if s == "" {
		return func(store.Numbered) bool { return true }, nil
	}
	if id, err := strconv.Atoi(s); err == nil && id >= 0 {
		return func(e store.Numbered) bool { return e.ID > id }, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		d, derr := time.ParseDuration(s)
		if derr != nil || d < 0 {
			return nil, &usageError{fmt.Errorf("--since %q: want an event id, a time such as 2026-11-30T09:00:00Z, or a duration such as 10m", s)}
		}
		t = now.Add(-d)
	}
	return func(e store.Numbered) bool { return !e.At.Before(t) }, nil
}

func (a *app) eventsRun(ctx context.Context, s store.Store, o eventsOptions) error {
	keep, err := sinceFilter(o.since, a.now())
	if err != nil {
		return err
	}
	if o.limit < 0 {
		return &usageError{errors.New("--limit wants a count of 1 or more")}
	}
	tail, err := store.TailOf(s)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	printed := 0
	pause := followLocal
	if tail.Remote() {
		pause = followGitMin
	}
	offline := false
	for {
		events, err := tail.Read()
		if err != nil {
			return err
		}
		if tail.Offline != nil && !offline {
			fmt.Fprintf(a.stderr, "oxygen: %s; showing this clone's copy (%s)\n", oneLine(tail.Offline.Error()), s.Freshness(a.now()))
		}
		offline = tail.Offline != nil
		for _, e := range events {
			if !keep(e) {
				continue
			}
			if err := a.printEvent(e, o.asJSON); err != nil {
				return err
			}
			if printed++; printed == o.limit {
				return nil
			}
		}
		if !o.follow {
			return nil
		}
		if tail.Remote() {
			if len(events) > 0 {
				pause = followGitMin
			} else {
				pause = min(2*pause, followGitMax)
			}
		}
		if err := a.waitForGrowth(ctx, tail, pause); err != nil {
			return nil // interrupted: a follower's normal end
		}
	}
}

// waitForGrowth returns once the history may have grown: for the local
// store, when its size changes (a stat every pause); for the git store,
// after pause, when the next Read fetches.
func (a *app) waitForGrowth(ctx context.Context, t *store.Tail, pause time.Duration) error {
	size := t.Size()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		if t.Remote() || t.Size() != size {
			return nil
		}
	}
}

func (a *app) printEvent(e store.Numbered, asJSON bool) error {
	if asJSON {
		line, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", line)
		return err
	}
	_, err := fmt.Fprintf(a.stdout, "%d\t%s\t%s\t%s\t%s\n", e.ID, stamp(e.At), e.Op, eventSubject(e.Event), e.By)
	return err
}

// eventSubject names what an event is about, for people.
func eventSubject(e store.Event) string {
	switch {
	case e.Waiter != nil:
		return e.Waiter.Resource + " (" + e.Waiter.Domain + ")"
	case e.Capsule != nil:
		return e.Capsule.ID
	case e.Signal != nil:
		return e.Signal.ID
	case e.DeadEnd != nil:
		return e.DeadEnd.Hook + " " + strings.Join(e.DeadEnd.Paths, " ")
	}
	return e.Lease.Resource + " (" + e.Lease.Domain + ")"
}

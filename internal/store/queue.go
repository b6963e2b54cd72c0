package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// Waiter is a claimer queued for a resource by claim --wait. The queue is
// first come, first served per resource; a waiter that stops renewing its
// heartbeat (Until) has gone, and counts for nothing.
type Waiter struct {
	ID       string    `json:"id"` // orders the queue: the time it joined, then a random tail
	Resource string    `json:"resource"`
	Owner    string    `json:"owner"`
	Domain   string    `json:"domain"`
	Since    time.Time `json:"since"`
	Until    time.Time `json:"until"`
}

// Queue is the clone's queue of waiters, one folder per resource beside the
// state's records. Every worktree and process of the clone sees it; other
// clones of a git store do not (they are not in the shared state yet).
type Queue struct {
	local   *Local
	history bool // the local store's history records queue changes; a git store's copy is the remote's
}

// QueueOf returns the queue kept with s, or nil for a store that takes no
// claims (the server's).
func QueueOf(s Store) *Queue {
	switch s := s.(type) {
	case *Local:
		return &Queue{local: s, history: true}
	case *Git:
		return &Queue{local: s.local}
	}
	return nil
}

const queueDir = "queue"

// maxBeat bounds a heartbeat: an entry that claims to live longer than
// this (written by hand, or on a clock far ahead) holds nobody back.
const maxBeat = time.Minute

// live says whether a waiter still counts at now.
func (w Waiter) live(now time.Time) bool { return now.Before(w.Until) && w.Until.Sub(now) <= maxBeat }

// maxWaiters bounds one resource's queue: a flood of waiters must not fill
// the disk or make every read slow.
const maxWaiters = 256

func (q *Queue) dir(resource string) string { return filepath.Join(q.local.dir, queueDir, resource) }

// Join queues a claimer behind every live waiter, under the store's lock so
// that two joins are ordered.
func (q *Queue) Join(resource, owner, domain string, now time.Time, beat time.Duration) (Waiter, error) {
	if !policy.ValidName(resource) || !policy.ValidName(domain) {
		return Waiter{}, fmt.Errorf("resource %q or domain %q is not a plain name", resource, domain)
	}
	if err := policy.ValidText([]string{owner, domain}); err != nil {
		return Waiter{}, err
	}
	if beat <= 0 || beat > maxBeat {
		return Waiter{}, fmt.Errorf("a heartbeat of %s: want at most %s", beat, maxBeat)
	}
	unlock, err := q.local.lock()
	if err != nil {
		return Waiter{}, err
	}
	defer unlock()
	if err := mkdirNoFollow(filepath.Join(q.local.dir, queueDir)); err != nil {
		return Waiter{}, err
	}
	if err := mkdirNoFollow(q.dir(resource)); err != nil {
		return Waiter{}, err
	}
	all, err := q.read(resource)
	if err != nil {
		return Waiter{}, err
	}
	var live []Waiter
	for _, w := range all {
		if now.Before(w.Until) {
			live = append(live, w) // for the order; a forged one is ignored by Ahead
		} else {
			os.Remove(q.file(w)) // gone: it stopped beating
		}
	}
	if len(live) >= maxWaiters {
		return Waiter{}, policy.Refuse("queue-full", nil, "%s has %d waiters already, the most a queue takes", resource, len(live))
	}
	at := now.UTC()
	if n := len(live); n > 0 && !at.After(live[n-1].Since) {
		at = live[n-1].Since.Add(time.Nanosecond) // FIFO even when clocks disagree
	}
	w := Waiter{ID: fmt.Sprintf("%019d-%s", at.UnixNano(), randomHex(4)), Resource: resource, Owner: owner, Domain: domain, Since: at, Until: now.Add(beat).UTC()}
	if err := q.write(w); err != nil {
		return Waiter{}, err
	}
	return w, q.record(OpWait, w)
}

// Beat tells the others that w is still waiting, until now + beat.
func (q *Queue) Beat(w Waiter, now time.Time, beat time.Duration) (Waiter, error) {
	w.Until = now.Add(beat).UTC()
	return w, q.write(w)
}

// Leave takes w out of its queue: it got the lease, or gave up.
func (q *Queue) Leave(w Waiter) error {
	unlock, err := q.local.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(q.file(w)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("leave the queue of %s: %w", w.Resource, err)
	}
	return q.record(OpUnwait, w)
}

// Ahead lists the live waiters queued before w.
func (q *Queue) Ahead(w Waiter, now time.Time) ([]Waiter, error) {
	all, err := q.read(w.Resource)
	var out []Waiter
	for _, o := range all {
		if o.ID < w.ID && o.live(now) {
			out = append(out, o)
		}
	}
	return out, err
}

// Waiting lists every live waiter, by resource, then in queue order.
func (q *Queue) Waiting(now time.Time) ([]Waiter, error) {
	entries, err := os.ReadDir(filepath.Join(q.local.dir, queueDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the queue: %w", err)
	}
	var out []Waiter
	for _, e := range entries {
		if !e.IsDir() || !policy.ValidName(e.Name()) {
			continue
		}
		ws, err := q.read(e.Name())
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			if w.live(now) {
				out = append(out, w)
			}
		}
	}
	return out, nil
}

func (q *Queue) file(w Waiter) string { return filepath.Join(q.dir(w.Resource), w.ID+".json") }

func (q *Queue) write(w Waiter) error {
	data, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return writeAtomic(q.file(w), data)
}

// read returns a resource's waiters in queue order, live or not. A file that
// cannot be read is skipped: a waiter is only ever a hint of order, never a
// right to a lease.
func (q *Queue) read(resource string) ([]Waiter, error) {
	entries, err := os.ReadDir(q.dir(resource))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the queue of %s: %w", resource, err)
	}
	var out []Waiter
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(id, ".") {
			continue
		}
		data, err := readRecord(filepath.Join(q.dir(resource), e.Name()))
		var w Waiter
		if err != nil || json.Unmarshal(data, &w) != nil || w.ID != id || w.Resource != resource {
			continue
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b Waiter) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// record appends a queue change to the clone's history. The caller holds
// the lock.
func (q *Queue) record(op string, w Waiter) error {
	if !q.history {
		return nil
	}
	line, err := encodeEvent(Event{V: formatVersion, Op: op, By: w.Owner, At: time.Now().UTC().Truncate(time.Millisecond), Waiter: &w})
	if err != nil {
		return err
	}
	_, err = q.local.appendOnce(line)
	return err
}

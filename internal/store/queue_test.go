package store_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

func owners(ws []store.Waiter) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Owner)
	}
	return out
}

func sameList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The queue is first come, first served per resource; a waiter whose
// heartbeat lapsed counts for nothing, and the next join clears it away.
func TestQueueOrderAndHeartbeat(t *testing.T) {
	s := newLocal(t)
	q := store.QueueOf(s)
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	beat := 15 * time.Second
	a, err := q.Join("storage", "a@x.example", "x", t0, beat)
	if err != nil {
		t.Fatal(err)
	}
	// b's clock is behind a's: b still queues behind a.
	b, err := q.Join("storage", "b@y.example", "y", t0.Add(-10*time.Second), 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c, err := q.Join("schema", "c@z.example", "z", t0, beat)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		w    store.Waiter
		at   time.Time
		want []string
	}{
		{"the first has nobody ahead", a, t0.Add(time.Second), nil},
		{"the second waits behind the first", b, t0.Add(time.Second), []string{"a@x.example"}},
		{"queues are per resource", c, t0.Add(time.Second), nil},
		{"a waiter that stopped beating has gone", b, t0.Add(beat), nil},
		{"one beating too far ahead holds nobody back", b, t0.Add(-time.Hour), nil},
	} {
		ahead, err := q.Ahead(tc.w, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		if !sameList(owners(ahead), tc.want) {
			t.Errorf("%s: ahead %q, want %q", tc.name, owners(ahead), tc.want)
		}
	}
	// A heartbeat keeps a in line.
	if a, err = q.Beat(a, t0.Add(10*time.Second), beat); err != nil {
		t.Fatal(err)
	}
	if ahead, _ := q.Ahead(b, t0.Add(20*time.Second)); !sameList(owners(ahead), []string{"a@x.example"}) {
		t.Errorf("after a's heartbeat, ahead of b: %q", owners(ahead))
	}
	all, err := q.Waiting(t0.Add(20 * time.Second))
	if err != nil || !sameList(owners(all), []string{"a@x.example", "b@y.example"}) {
		t.Errorf("Waiting: %q, %v", owners(all), err)
	}
	if err := q.Leave(a); err != nil {
		t.Fatal(err)
	}
	if err := q.Leave(a); err != nil {
		t.Errorf("leaving twice: %v", err)
	}
	if ahead, _ := q.Ahead(b, t0.Add(20*time.Second)); len(ahead) != 0 {
		t.Errorf("after a left, ahead of b: %q", owners(ahead))
	}
	// A join after c's heartbeat lapsed removes its file.
	if _, err := q.Join("schema", "d@z.example", "z", t0.Add(time.Hour), beat); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(s.Path(), "queue", "schema", "*.json"))
	if len(files) != 1 {
		t.Errorf("queue/schema holds %d files, want the live waiter's only", len(files))
	}
}

// The queue changes are in the local store's history.
func TestQueueEvents(t *testing.T) {
	s := newLocal(t)
	q := store.QueueOf(s)
	w, err := q.Join("storage", "a@x.example", "x", time.Now(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Leave(w); err != nil {
		t.Fatal(err)
	}
	tail, err := store.TailOf(s)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := tail.Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Op != store.OpWait || evs[1].Op != store.OpUnwait || evs[1].ID != 2 || evs[1].Waiter.ID != w.ID {
		t.Fatalf("events %+v", evs)
	}
	if more, err := tail.Read(); len(more) != 0 || err != nil {
		t.Errorf("a second read: %+v, %v", more, err)
	}
}

// A flood of waiters stops at the queue's bound, with a refusal.
func TestQueueFlood(t *testing.T) {
	s := newLocal(t)
	q := store.QueueOf(s)
	now := time.Now()
	var err error
	n := 0
	for ; n < 1000 && err == nil; n++ {
		_, err = q.Join("storage", "a@x.example", "x", now, time.Minute)
	}
	var r *policy.Refusal
	if !errors.As(err, &r) || r.Code != "queue-full" || n > 300 {
		t.Fatalf("after %d joins: %v", n, err)
	}
}

// A hand-written entry that claims to wait for a year is ignored, and a
// Join cannot ask for a heartbeat that long.
func TestQueueForgedHeartbeat(t *testing.T) {
	s := newLocal(t)
	q := store.QueueOf(s)
	now := time.Now()
	if _, err := q.Join("storage", "a@x.example", "x", now, 365*24*time.Hour); err == nil {
		t.Fatal("a heartbeat of a year was accepted")
	}
	w, err := q.Join("storage", "a@x.example", "x", now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	forged := fmt.Sprintf(`{"id":"0000000000000000001-ffffffff","resource":"storage","owner":"m@x.example","domain":"x","since":"2000-01-01T00:00:00Z","until":"%s"}`, now.Add(365*24*time.Hour).UTC().Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(s.Path(), "queue", "storage", "0000000000000000001-ffffffff.json"), []byte(forged), 0o644); err != nil {
		t.Fatal(err)
	}
	if ahead, err := q.Ahead(w, now); len(ahead) != 0 || err != nil {
		t.Errorf("ahead of a real waiter: %q, %v", owners(ahead), err)
	}
}

// Bad names never reach the file system.
func TestQueueBadInput(t *testing.T) {
	s := newLocal(t)
	q := store.QueueOf(s)
	for _, res := range []string{"", "../x", "a/b", ".hidden"} {
		if _, err := q.Join(res, "a@x.example", "x", time.Now(), time.Minute); err == nil {
			t.Errorf("Join(%q) succeeded", res)
		}
	}
	if _, err := q.Join("storage", "a@x.example", "../x", time.Now(), time.Minute); err == nil {
		t.Error("a domain that is no plain name was queued")
	}
	if _, err := os.Stat(filepath.Join(s.Path(), "queue", "..", "x")); err == nil {
		t.Error("a file outside the queue was written")
	}
}

// A history torn mid-line is read up to its last whole line; the rest comes
// with the next read, once whole.
func TestTailTornLine(t *testing.T) {
	s := newLocal(t)
	if _, err := claim(t, s, req("storage", "builder", time.Now(), time.Hour)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(s.Path(), "events.jsonl")
	whole, _ := os.ReadFile(file)
	tail, _ := store.TailOf(s)
	if err := os.WriteFile(file, append(whole, whole[:10]...), 0o644); err != nil {
		t.Fatal(err)
	}
	if evs, err := tail.Read(); len(evs) != 1 || err != nil {
		t.Fatalf("first read: %d events, %v", len(evs), err)
	}
	if err := os.WriteFile(file, append(whole, whole...), 0o644); err != nil {
		t.Fatal(err)
	}
	evs, err := tail.Read()
	if len(evs) != 1 || err != nil || evs[0].ID != 2 {
		t.Fatalf("second read: %+v, %v", evs, err)
	}
	if err := os.WriteFile(file, whole[:5], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tail.Read(); err == nil {
		t.Error("a history that shrank was read")
	}
}

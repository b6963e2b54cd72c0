package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// benchEvents builds a history of n events the way a busy clone writes one:
// over eight resources and five domains, each lease claimed (a takeover now
// and then), renewed once or twice, then released.
func benchEvents(n int) []Event {
	resources := []string{"schema", "storage", "index", "execution", "deployment", "identity", "policy", "coordination"}
	domains := []string{"watcher", "builder", "guardian", "scribe", "gems"}
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	events := make([]Event, 0, n)
	for i := 0; len(events) < n; i++ {
		res := resources[i%len(resources)]
		dom := domains[i%len(domains)]
		owner := fmt.Sprintf("agent%d@%s.example", i%17, dom)
		t = t.Add(time.Minute)
		l := policy.Lease{
			Resource: res, Owner: owner, Domain: dom, TTL: 7200,
			CreatedAt: t, ExpiresAt: t.Add(2 * time.Hour), Reason: "bench lease", Capsule: "capsule-" + res,
		}
		op := OpClaim
		if i%7 == 3 {
			op = OpTakeover
		}
		events = append(events, Event{V: formatVersion, Op: op, By: owner, At: t, Lease: l})
		for r := 0; r < 1+i%2 && len(events) < n; r++ {
			l.ExpiresAt = l.ExpiresAt.Add(time.Hour)
			l.TTL += 3600
			events = append(events, Event{V: formatVersion, Op: OpRenew, By: owner, At: t.Add(time.Duration(r+1) * time.Minute), Lease: l})
		}
		if len(events) < n {
			rl := l
			rl.ReleasedAt = t.Add(30 * time.Minute)
			events = append(events, Event{V: formatVersion, Op: OpRelease, By: owner, At: rl.ReleasedAt, Lease: rl})
		}
	}
	return events
}

func benchLog(b *testing.B, events []Event) []byte {
	var buf bytes.Buffer
	for _, e := range events {
		line, err := encodeEvent(e)
		if err != nil {
			b.Fatal(err)
		}
		buf.Write(line)
	}
	return buf.Bytes()
}

const benchHistory = 10000

// BenchmarkParseEvents reads a 10,000-event events.jsonl held in memory.
func BenchmarkParseEvents(b *testing.B) {
	data := benchLog(b, benchEvents(benchHistory))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		events, err := ParseEvents(bytes.NewReader(data), eventsLog)
		if err != nil || len(events) != benchHistory {
			b.Fatalf("%d events, %v", len(events), err)
		}
	}
}

// BenchmarkReplay turns 10,000 parsed events into the lease history.
func BenchmarkReplay(b *testing.B) {
	events := benchEvents(benchHistory)
	b.ReportAllocs()
	for b.Loop() {
		if leases := Replay(events); len(leases) == 0 {
			b.Fatal("no leases")
		}
	}
}

// BenchmarkLocalHistory is what `check --range` and pre-push pay for the
// lease history: open, read, parse and replay a 10,000-event log on disk.
func BenchmarkLocalHistory(b *testing.B) {
	root := b.TempDir()
	s := OpenLocal(root)
	if err := os.MkdirAll(s.Path(), 0o755); err != nil {
		b.Fatal(err)
	}
	data := benchLog(b, benchEvents(benchHistory))
	if err := os.WriteFile(filepath.Join(s.Path(), eventsLog), data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if leases, err := s.History(); err != nil || len(leases) == 0 {
			b.Fatalf("%d leases, %v", len(leases), err)
		}
	}
}

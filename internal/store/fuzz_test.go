package store_test

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// FuzzParseLease: ParseLease never panics; a lease it accepts keeps its
// invariants and survives FormatLease unchanged.
func FuzzParseLease(f *testing.F) {
	f.Add([]byte(sampleFile))
	f.Add([]byte(unquoted))
	f.Add(store.FormatLease(policy.Lease{Resource: "schema", Owner: "o", Domain: "d", TTL: 1, CreatedAt: t0, ExpiresAt: t0.Add(time.Second), Reason: "a\nb", Capsule: "c"}))
	for _, tt := range parseLeaseErrors {
		f.Add([]byte(tt.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := store.ParseLease("schema", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		ttl := time.Duration(l.TTL) * time.Second
		switch {
		case l.Resource != "schema" || l.Owner == "" || !policy.ValidName(l.Domain):
			t.Fatalf("accepted %+v", l)
		case l.TTL < 1 || l.TTL > 366*24*3600:
			t.Fatalf("accepted ttl %d", l.TTL)
		case !l.CreatedAt.Before(l.ExpiresAt) || l.ExpiresAt.Sub(l.CreatedAt) < ttl:
			t.Fatalf("accepted times %v .. %v with ttl %d", l.CreatedAt, l.ExpiresAt, l.TTL)
		case l.CreatedAt.Location() != time.UTC || l.ExpiresAt.Location() != time.UTC:
			t.Fatalf("times not in UTC: %v, %v", l.CreatedAt, l.ExpiresAt)
		}
		out := store.FormatLease(l)
		back, err := store.ParseLease("schema", out)
		if err != nil {
			t.Fatalf("ParseLease(FormatLease(%+v)): %v\n%s", l, err, out)
		}
		if !sameLease(back, l) {
			t.Fatalf("round trip changed the lease:\n got %+v\nwant %+v\n%s", back, l, out)
		}
		if again := store.FormatLease(back); !bytes.Equal(again, out) {
			t.Fatalf("FormatLease is not stable:\n%s\n%s", out, again)
		}
	})
}

// FuzzParseEvents: ParseEvents never panics; what it accepts is valid and
// replays; a torn last line is skipped without changing what came before.
func FuzzParseEvents(f *testing.F) {
	l := sampleLease()
	claim := eventLine(f, ev(store.OpClaim, t0, l))
	release := eventLine(f, ev(store.OpRelease, t0.Add(time.Hour), l))
	f.Add([]byte(claim + release))
	f.Add([]byte(claim + release[:30]))
	f.Add([]byte(claim + "garbage\n" + release))
	f.Add([]byte(strings.Replace(claim, `"v":1`, `"v":2`, 1)))
	f.Add([]byte(strings.Replace(claim, `"resource":"schema"`, `"resource":"../x"`, 1)))
	f.Add([]byte("\n"))
	f.Add([]byte(`{"v":1,"op":"wait","by":"a@x","at":"2026-11-30T00:00:00Z","waiter":{"id":"1-a","resource":"schema","owner":"a@x","domain":"x"}}` + "\n"))
	f.Add([]byte(`{"v":1,"op":"unwait","by":"a@x","at":"2026-11-30T00:00:00Z","waiter":{"resource":"../x"}}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := store.ParseEvents(bytes.NewReader(data), "events.jsonl")
		if err != nil {
			if evs != nil || !strings.HasPrefix(err.Error(), "events.jsonl:") {
				t.Fatalf("ParseEvents = %d events, %v", len(evs), err)
			}
			return
		}
		if len(evs) > bytes.Count(data, []byte{'\n'}) {
			t.Fatalf("%d events from %d lines", len(evs), bytes.Count(data, []byte{'\n'}))
		}
		for _, e := range evs {
			var ok bool
			switch e.Op {
			case store.OpClaim, store.OpTakeover, store.OpRenew, store.OpRelease:
				ok = policy.ValidName(e.Lease.Resource)
			case store.OpAssign, store.OpDone:
				ok = e.Capsule != nil && policy.ValidRecordID(e.Capsule.ID)
			case store.OpSignal, store.OpAck:
				ok = e.Signal != nil && policy.ValidRecordID(e.Signal.ID)
			case store.OpWait, store.OpUnwait:
				ok = e.Waiter != nil && policy.ValidName(e.Waiter.Resource)
			}
			if e.V != 1 || !ok {
				t.Fatalf("accepted event %+v", e)
			}
		}
		for _, l := range store.Replay(evs) {
			if !policy.ValidName(l.Resource) {
				t.Fatalf("replayed %+v", l)
			}
		}
		if len(data) == 0 || data[len(data)-1] != '\n' {
			return
		}
		torn, err := store.ParseEvents(bytes.NewReader(append(bytes.Clone(data), `{"v":1,"op":"cla`...)), "events.jsonl")
		if err != nil || len(torn) != len(evs) {
			t.Fatalf("with a torn last line: %d events, %v; want the %d before it", len(torn), err, len(evs))
		}
	})
}

// FuzzRecordTextsReadBack: any UTF-8 text an act may carry (a reason, a
// subject, a file) reads back from its record exactly as written; yaml.v3
// alone writes "\n 00" so that it does not parse and "\n\n" so that it
// reads as "\n".
func FuzzRecordTextsReadBack(f *testing.F) {
	for _, s := range []string{"\n 00", "\n\n", " lead", "trail ", "a\r\nb", "\u2028", "\u0085x", "\t", "#", "- y", "a: b", "null", "~", "'\"", "\x7f", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || policy.ValidText([]string{s}) != nil {
			return // refused before any record is written
		}
		l := policy.Lease{Resource: "schema", Owner: "o@x", Domain: "d", TTL: 60, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute), Reason: s}
		got, err := store.ParseLease("schema", store.FormatLease(l))
		if err != nil || got.Reason != s {
			t.Fatalf("lease reason %q read back as %q (%v)", s, got.Reason, err)
		}
		sig := policy.Signal{ID: "s-1", Kind: policy.SignalMissive, From: "d", By: "o@x", To: []string{"e"}, Files: []string{s}, Subject: s, CreatedAt: t0}
		back, err := store.ParseSignal("s-1", store.FormatSignal(sig))
		if err != nil || back.Subject != s || len(back.Files) != 1 || back.Files[0] != s {
			t.Fatalf("signal subject and file %q read back as %q, %q (%v)", s, back.Subject, back.Files, err)
		}
	})
}

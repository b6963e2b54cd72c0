package store

import (
	"fmt"
	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"maps"
	"slices"
	"testing"
	"time"

	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/policy"
)

// floodStep is one state commit carrying n council calls, each a new signal
// record (the crafted push of issue 11 point 9), decided as a client would:
// the parent's files (an empty state) and the commit's.
func floodStep(tb testing.TB, p *policy.Policy, n int, now time.Time) (before, after map[string][]byte) {
	before = map[string][]byte{eventsLog: nil}
	after = maps.Clone(before)
	var cur policy.State
	cur.Index()
	for i := range n {
		a := policy.Act{Kind: policy.ActSignal, ID: fmt.Sprintf("cc-%06d", i), Signal: policy.SignalCouncilCall,
			By: "ada@builder.example", Domain: "builder", To: []string{"scribe"}, Subject: "flood"}
		d, err := p.Decide(a, cur, now)
		if err != nil {
			tb.Fatal(err)
		}
		for _, ch := range record(a, d) {
			ch.event.V = formatVersion
			line, err := encodeEvent(ch.event)
			if err != nil {
				tb.Fatal(err)
			}
			after[eventsLog] = append(after[eventsLog], line...)
			for path, data := range ch.files {
				after[path] = data
				cur = putRecord(cur, path, data)
			}
		}
	}
	return before, after
}

// BenchmarkVerifyStep replays one pushed state commit of 1,000 and of
// 10,000 events: verification is linear, so the second costs about ten
// times the first (compare the ns/op of the two).
func BenchmarkVerifyStep(b *testing.B) {
	p, err := policy.Load("resources.yaml", oxygen.ReferencePolicy)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	v := Verifier{Policy: p, Now: now}
	for _, n := range []int{1_000, 10_000} {
		before, after := floodStep(b, p, n, now)
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			for b.Loop() {
				var st policy.State
				st.Index()
				rs := replayState{budget: MaxPushEvents}
				if _, _, err := v.verifyStep(before, after, entriesOf(before), entriesOf(after), st, &rs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyClaimAfterFlood replays one claim pushed on top of a state
// that holds 1,600 council calls (the crafted push, once accepted):
// what every later push pays to read the state it builds on.
func BenchmarkVerifyClaimAfterFlood(b *testing.B) {
	p, err := policy.Load("resources.yaml", oxygen.ReferencePolicy)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	_, state := floodStep(b, p, 1_600, now)
	st := stateFiles(state, func(p string) string { return p })
	a := policy.Act{Kind: policy.ActClaim, By: "ada@builder.example", Domain: "builder", Resources: []string{"schema"}, TTL: time.Hour}
	d, err := p.Decide(a, st, now)
	if err != nil {
		b.Fatal(err)
	}
	// The claim seals the flood's 1,600 events into the first segment, with
	// its checkpoint (the first: computed from the segment alone).
	after := maps.Clone(state)
	after[eventsLog] = nil
	afterEntries := entriesOf(after)
	afterEntries[segmentPath(1)] = gitcli.TreeEntry{Mode: regularFile, Size: int64(len(state[eventsLog]))}
	cp, err := nextCheckpoint(nil, state[eventsLog], segmentPath(1))
	if err != nil {
		b.Fatal(err)
	}
	afterEntries[checkpointPath(1)] = gitcli.TreeEntry{Mode: regularFile, OID: blobID(cp, ""), Size: int64(len(cp))}
	for _, ch := range record(a, d) {
		ch.event.V = formatVersion
		line, _ := encodeEvent(ch.event)
		after[eventsLog] = append(slices.Clone(after[eventsLog]), line...)
		maps.Copy(after, ch.files)
	}
	v := Verifier{Policy: p, Now: now}
	for b.Loop() {
		st := stateFiles(state, func(p string) string { return p }) // as VerifyUpdate reads the old state
		st.Index()
		rs := replayState{budget: MaxPushEvents}
		if _, _, err := v.verifyStep(state, after, entriesOf(state), afterEntries, st, &rs); err != nil {
			b.Fatal(err)
		}
	}
}

// entriesOf lists files as a tree read with them would (no blob ids: no
// segment is compared).
func entriesOf(files map[string][]byte) map[string]gitcli.TreeEntry {
	out := map[string]gitcli.TreeEntry{}
	for path, data := range files {
		out[path] = gitcli.TreeEntry{Mode: regularFile, Size: int64(len(data))}
	}
	return out
}

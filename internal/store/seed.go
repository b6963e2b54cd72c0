package store

import (
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// Seed records a long run of acts at once, for building the aged stores
// that benchmarks measure: each act is decided by the policy against the
// state the acts before it left, at its own time, and recorded as Act
// records it, but in memory, with one append to the history and one write
// of each record left at the end. Refused acts are counted, not recorded.
// It holds the store's lock throughout, and skips the per-act fsyncs and
// journal that make Act safe against a crash: a seed cut short is thrown
// away, not recovered.
func (s *Local) Seed(p *policy.Policy, acts iter.Seq2[policy.Act, time.Time]) (recorded, refused int, err error) {
	unlock, err := s.lock()
	if err != nil {
		return 0, 0, err
	}
	defer unlock()
	st, err := s.Current()
	if err != nil {
		return 0, 0, err
	}
	st.Index()
	var log []byte
	files := map[string][]byte{}
	for a, at := range acts {
		d, err := p.Decide(a, st, at)
		if err != nil {
			refused++
			continue
		}
		chs := record(a, d)
		prune(st, d.At, chs)
		for _, ch := range chs {
			ch.event.V = formatVersion
			line, err := encodeEvent(ch.event)
			if err != nil {
				return recorded, refused, err
			}
			log = append(log, line...)
			recorded++
			for path, data := range ch.files {
				files[path] = data
				st = putRecord(st, path, data)
			}
		}
	}
	if err := appendFile(s.fileName(eventsLog), log); err != nil {
		return recorded, refused, err
	}
	for _, path := range slices.Sorted(maps.Keys(files)) {
		file := s.fileName(path)
		if files[path] == nil {
			err = os.Remove(file)
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
		} else {
			err = os.WriteFile(file, files[path], 0o644)
		}
		if err != nil {
			return recorded, refused, fmt.Errorf("record the seed: %w", err)
		}
	}
	return recorded, refused, nil
}

// The reference policy's resources and domains, and a folder of each
// domain's core, for FleetActs.
var (
	fleetResources = []string{"schema", "storage", "index", "execution", "deployment", "identity", "policy", "coordination"}
	fleetDomains   = []string{"watcher", "builder", "guardian", "scribe", "gems"}
	fleetCores     = []string{"monitoring", "runtime", "secrets", "docs", "ui"}
)

// FleetActs yields n acts of a fleet on the reference policy's domains and
// resources, one event each, step apart from start: for building aged
// stores in benchmarks (Seed). A round of ten, with mixed: three leases
// claimed and released, a capsule assigned and done, a missive sent to
// another domain and acknowledged; without: five leases.
func FleetActs(n int, mixed bool, start time.Time, step time.Duration) iter.Seq2[policy.Act, time.Time] {
	return func(yield func(policy.Act, time.Time) bool) {
		at := start
		k := 0
		emit := func(a policy.Act) bool {
			at = at.Add(step)
			k++
			return yield(a, at)
		}
		for round := 0; k < n; round++ {
			dom := round % len(fleetDomains)
			by := fmt.Sprintf("agent%d@%s.example", round%13, fleetDomains[dom])
			leases := 5
			if mixed {
				leases = 3
			}
			for i := 0; i < leases && k < n; i++ {
				res := []string{fleetResources[(round*leases+i)%len(fleetResources)]}
				claim := policy.Act{Kind: policy.ActClaim, By: by, Domain: fleetDomains[dom], Resources: res, TTL: 2 * time.Hour, Reason: "fleet work"}
				if !emit(claim) || k < n && !emit(policy.Act{Kind: policy.ActRelease, By: by, Resources: res}) {
					return
				}
			}
			if !mixed {
				continue
			}
			id := fmt.Sprintf("c%d", round)
			if k < n && !emit(policy.Act{Kind: policy.ActAssign, By: by, Domain: fleetDomains[dom], ID: id, Owner: by, Scope: []string{"src/" + id + "/**"}}) {
				return
			}
			if k < n && !emit(policy.Act{Kind: policy.ActDone, By: by, ID: id}) {
				return
			}
			to := (dom + 1) % len(fleetDomains)
			sig := fmt.Sprintf("s%d", round)
			send := policy.Act{Kind: policy.ActSignal, By: by, Domain: fleetDomains[dom], ID: sig, Signal: policy.SignalMissive,
				To: []string{fleetDomains[to]}, Files: []string{fleetCores[to] + "/" + sig + ".md"}, Subject: "a change to your surface"}
			if k < n && !emit(send) {
				return
			}
			ack := policy.Act{Kind: policy.ActAck, By: fmt.Sprintf("agent%d@%s.example", round%11, fleetDomains[to]), ID: sig}
			if k < n && !emit(ack) {
				return
			}
		}
	}
}

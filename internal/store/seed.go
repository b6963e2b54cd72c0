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
		for _, ch := range record(a, d, st) {
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

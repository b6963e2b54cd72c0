package store

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"time"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/policy"
)

// The checkpoints of the state ref: checkpoints/<n>.json is the state of
// the past after history/<n>.jsonl, cut to what can still matter from its
// last event on (past.since), written by the act that seals the segment
// and checked by the server like the rest of that act. It is a function
// of the checkpoint before it and the segment: checkpoint n is checkpoint
// n-1 (none for the first, or where a store sealed segments before
// checkpoints were written) replayed through segment n, so whoever
// computes it, from whichever earlier checkpoint, writes the same bytes,
// and a reader of a range replays from the newest checkpoint at or before
// it: the events after it, not the store's age.
type refCheckpoint struct {
	V     int          `json:"v"`
	At    time.Time    `json:"at"` // the time of the segment's last event
	State policy.State `json:"state"`
}

// parseCheckpoint reads a checkpoint file, strictly: a known version, no
// unknown fields, nothing after it.
func parseCheckpoint(data []byte, name string) (refCheckpoint, error) {
	var cp refCheckpoint
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cp); err != nil || dec.More() {
		return cp, fmt.Errorf("%s: not a checkpoint", name)
	}
	if cp.V != formatVersion {
		return cp, fmt.Errorf("%s: checkpoint format version %d: this oxygen reads version %d", name, cp.V, formatVersion)
	}
	return cp, nil
}

// nextCheckpoint is the checkpoint after segment seg (called name), prev
// being the one before it (nil: none).
func nextCheckpoint(prev, seg []byte, name string) ([]byte, error) {
	var cp refCheckpoint
	if prev != nil {
		var err error
		if cp, err = parseCheckpoint(prev, name); err != nil {
			return nil, err
		}
	}
	events, err := ParseEvents(bytes.NewReader(seg), name)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("%s holds no event", name)
	}
	p := newPast(cp.State)
	for _, e := range events {
		p.add(e)
	}
	at := events[len(events)-1].At
	data, err := json.Marshal(refCheckpoint{V: formatVersion, At: at, State: p.since(at)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return append(data, '\n'), nil
}

// sealCheckpoint is checkpoint n, of segment n holding seg, in a tree
// whose files are entries and whose segments end at n-1: computed from
// the newest checkpoint before it there, or from the beginning, through
// the segments between.
func sealCheckpoint(r gitcli.Runner, entries map[string]gitcli.TreeEntry, n int, seg []byte) ([]byte, error) {
	k := n - 1
	for k > 0 && entries[checkpointPath(k)].OID == "" {
		k--
	}
	var names, oids []string
	if k > 0 {
		names, oids = append(names, checkpointPath(k)), append(oids, entries[checkpointPath(k)].OID)
	}
	for j := k + 1; j < n; j++ {
		names, oids = append(names, segmentPath(j)), append(oids, entries[segmentPath(j)].OID)
	}
	blobs, err := readSealed(r, names, oids)
	if err != nil {
		return nil, err
	}
	var cp []byte
	if k > 0 {
		cp, blobs = blobs[0], blobs[1:]
	}
	for i, b := range blobs {
		if cp, err = nextCheckpoint(cp, b, segmentPath(k+1+i)); err != nil {
			return nil, err
		}
	}
	return nextCheckpoint(cp, seg, segmentPath(n))
}

// readSealed reads segments and checkpoints (names, of blobs oids) in one
// git process.
func readSealed(r gitcli.Runner, names, oids []string) ([][]byte, error) {
	if len(oids) == 0 {
		return nil, nil
	}
	for i, oid := range oids {
		if oid == "" {
			return nil, fmt.Errorf("%s is missing: the history's segments are numbered from 000001 without a gap", names[i])
		}
	}
	blobs, err := r.ReadBlobs(oids...)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(blobs))
	for i, b := range blobs {
		if b.Missing {
			return nil, fmt.Errorf("%s: blob %s is missing", names[i], oids[i])
		}
		out[i] = b.Data
	}
	return out, nil
}

// checkCheckpoint checks that commit entries, which seal segment n of the
// parent's events.jsonl seg, carry the checkpoint that follows from the
// parent's (beforeEntries) and seg, byte for byte: a checkpoint is what
// later readers start from instead of the events, so one that says
// anything else would change their verdicts.
func checkCheckpoint(r gitcli.Runner, beforeEntries, entries map[string]gitcli.TreeEntry, n int, seg []byte) error {
	want, err := sealCheckpoint(r, beforeEntries, n, seg)
	if err != nil {
		return err
	}
	// The id is of the content, size and all: the blob is never read.
	if got := entries[checkpointPath(n)]; got.OID != blobID(want, got.OID) {
		return fmt.Errorf("%s is not the state the history gives after %s (oxygen computes it from %s and the checkpoint before it)", checkpointPath(n), segmentPath(n), segmentPath(n))
	}
	return nil
}

// blobID is git's id of a blob holding data, in the hash of like (an id of
// the same repository: SHA-1 or SHA-256), so that a checkpoint is compared
// without reading it.
func blobID(data []byte, like string) string {
	var h hash.Hash = sha1.New()
	if len(like) == 64 {
		h = sha256.New()
	}
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// replayRef replays the history of state commit tip (none: "") into the
// state of the past: from the newest checkpoint at or before since (zero:
// from the beginning), then the segments after it and events.jsonl. name
// names the ref in errors.
func replayRef(r gitcli.Runner, tip, name string, since time.Time) (policy.State, error) {
	if tip == "" {
		return policy.State{}, nil
	}
	files, entries, err := r.ReadTreeSkip(tip, sealedFile)
	if err != nil {
		return policy.State{}, err
	}
	segs := segments(entries)
	p, from := newPast(policy.State{}), 0
	// Newest first, in batches that grow fourfold: a recent range reads one
	// checkpoint, an old one few processes.
	for hi, batch := len(segs), 1; hi > 0 && from == 0 && !since.IsZero(); hi, batch = hi-batch, batch*4 {
		var ks []int
		var names, oids []string
		for k := hi; k > max(hi-batch, 0); k-- {
			// One too large to read is passed over, not an error: a
			// checkpoint only shortens the replay, and a flood of events
			// in one day must not stop every range check over it.
			if e, ok := entries[checkpointPath(k)]; ok && e.Size >= 0 && e.Size <= maxCheckpoint { // -1: a size not known (git.ReadTrees), so not read
				ks, names, oids = append(ks, k), append(names, checkpointPath(k)), append(oids, e.OID)
			}
		}
		blobs, err := readSealed(r, names, oids)
		if err != nil {
			return policy.State{}, err
		}
		for i, b := range blobs {
			cp, err := parseCheckpoint(b, name+":"+names[i])
			if err != nil {
				return policy.State{}, err
			}
			if !cp.At.After(since) {
				p, from = newPast(cp.State), ks[i]
				break
			}
		}
	}
	var names, oids []string
	for _, seg := range segs[from:] {
		names, oids = append(names, seg), append(oids, entries[seg].OID)
	}
	blobs, err := readSealed(r, names, oids)
	if err != nil {
		return policy.State{}, err
	}
	for i, b := range append(blobs, files[eventsLog]) {
		file := eventsLog
		if i < len(names) {
			file = names[i]
		}
		events, err := ParseEvents(bytes.NewReader(b), name+":"+file)
		if err != nil {
			return policy.State{}, err
		}
		for _, e := range events {
			p.add(e)
		}
	}
	return p.state(), nil
}

// HistoryState replays the state ref's history into the state of the
// past, from its newest checkpoint at or before since.
func (s *Ref) HistoryState(since time.Time) (policy.State, error) {
	tip, err := s.git.RefID(s.ref)
	if err != nil {
		return policy.State{}, err
	}
	return replayRef(s.git, tip, s.ref, since)
}

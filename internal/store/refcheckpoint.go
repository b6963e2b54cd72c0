package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// The server's checkpoints: the state of the past at the end of each
// history segment of its state ref, in files of its git dir
// (oxygen/checkpoints/<key>.json), the key naming the segments before it
// by blob. Segments never change, so a checkpoint stays true; like the
// clone's, it is a cache that any reader rebuilds from the segments.
type segmentCheckpoint struct {
	V     int          `json:"v"`
	At    time.Time    `json:"at"` // the time of the segment's last event
	State policy.State `json:"state"`
}

// HistoryState replays the state ref's history into the state of the
// past: from the checkpoint of the newest segment that ends at or before
// since (zero: from the beginning), writing those it passes.
func (s *Ref) HistoryState(since time.Time) (policy.State, error) {
	tip, err := s.git.RefID(s.ref)
	if err != nil || tip == "" {
		return policy.State{}, err
	}
	files, entries, err := s.git.ReadTreeSkip(tip, isSegment)
	if err != nil {
		return policy.State{}, err
	}
	segs := segments(entries)
	keys := make([]string, len(segs)) // keys[k]: the checkpoint after segs[:k+1]
	h := sha256.New()
	for k, seg := range segs {
		fmt.Fprintf(h, "%s %s\n", seg, entries[seg].OID)
		keys[k] = fmt.Sprintf("%x", h.Sum(nil))
	}
	dir := s.checkpointDir()
	p, from := newPast(policy.State{}), 0
	for k := len(segs) - 1; k >= 0 && !since.IsZero() && dir != ""; k-- {
		data, err := readFile(filepath.Join(dir, keys[k]+".json"), maxCheckpoint)
		var cp segmentCheckpoint
		if err == nil && json.Unmarshal(data, &cp) == nil && cp.V == formatVersion && !cp.At.After(since) {
			p, from = newPast(cp.State), k+1
			break
		}
	}
	var oids []string
	for _, seg := range segs[from:] {
		oids = append(oids, entries[seg].OID)
	}
	blobs, err := s.git.ReadBlobs(oids...)
	if err != nil {
		return policy.State{}, err
	}
	for i, b := range blobs {
		events, err := ParseEvents(bytes.NewReader(b.Data), s.ref+":"+segs[from+i])
		if err != nil {
			return policy.State{}, err
		}
		for _, e := range events {
			p.add(e)
		}
		if len(events) > 0 && dir != "" {
			at := events[len(events)-1].At
			if data, err := json.Marshal(segmentCheckpoint{V: formatVersion, At: at, State: p.since(at)}); err == nil {
				if err := os.MkdirAll(dir, 0o755); err == nil {
					_ = writeAtomic(filepath.Join(dir, keys[from+i]+".json"), data) // a cache: failing costs only time
				}
			}
		}
	}
	events, err := ParseEvents(bytes.NewReader(files[eventsLog]), s.ref+":"+eventsLog)
	if err != nil {
		return policy.State{}, err
	}
	for _, e := range events {
		p.add(e)
	}
	return p.state(), nil
}

// checkpointDir is where the server keeps its checkpoints ("": nowhere).
func (s *Ref) checkpointDir() string {
	out, err := s.git.Run(nil, "rev-parse", "--path-format=absolute", "--git-common-dir")
	if err != nil {
		return ""
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "oxygen", "checkpoints")
	if fi, err := os.Lstat(filepath.Dir(dir)); err != nil && !errors.Is(err, fs.ErrNotExist) || err == nil && !fi.IsDir() {
		return ""
	}
	return dir
}

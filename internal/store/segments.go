package store

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
)

// On the git store's ref the history is cut in segments, so that an act
// rewrites and sends a file of at most segmentEvents events, not the whole
// log: events.jsonl holds the newest events, and the act that finds it
// holding segmentEvents or more first moves it whole to the next
// history/<n>.jsonl (from 000001), which no commit changes again. The
// history is the segments in order, then events.jsonl. A local store and
// the clone's copy keep it as one file. The same act writes
// checkpoints/<n>.json, the state of the past after the segment (see
// refcheckpoint.go).
const (
	historyDir        = "history"
	refCheckpointsDir = "checkpoints"
)

// segmentEvents is a variable for the tests only.
var segmentEvents = 1000

func segmentPath(n int) string { return fmt.Sprintf("%s/%06d.jsonl", historyDir, n) }

func checkpointPath(n int) string { return fmt.Sprintf("%s/%06d.json", refCheckpointsDir, n) }

// isSegment says whether path names a history segment.
func isSegment(path string) bool { return numbered(path, historyDir, ".jsonl") }

// isCheckpoint says whether path names a segment's checkpoint.
func isCheckpoint(path string) bool { return numbered(path, refCheckpointsDir, ".json") }

// sealedFile says whether path is written once, by a seal, and read apart
// from the records: a segment or its checkpoint.
func sealedFile(path string) bool { return isSegment(path) || isCheckpoint(path) }

// numbered says whether path is dir/<6 digits><ext>.
func numbered(path, dir, ext string) bool {
	name, ok := strings.CutPrefix(path, dir+"/")
	num, isExt := strings.CutSuffix(name, ext)
	if !ok || !isExt || len(num) != 6 {
		return false
	}
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return false
		}
	}
	return true
}

// segments lists a tree's segments, in order.
func segments(entries map[string]gitcli.TreeEntry) []string {
	var out []string
	for path := range entries {
		if isSegment(path) {
			out = append(out, path)
		}
	}
	slices.Sort(out)
	return out
}

// sealDue says whether the act on a tree whose events.jsonl is log moves
// it to a segment first.
func sealDue(log []byte) bool { return bytes.Count(log, []byte("\n")) >= segmentEvents }

// checkSegments checks the segments and checkpoints of a state commit
// against its parent's: the old ones untouched, and one more segment, in
// order, exactly when the parent's events.jsonl was due, holding it as it
// was, with its checkpoint and no other. It returns the events.jsonl the
// commit's must extend, and the number of the segment it seals (0: none),
// whose checkpoint's content the caller checks.
func checkSegments(before map[string][]byte, beforeEntries, afterEntries map[string]gitcli.TreeEntry) ([]byte, int, error) {
	old, bsegs, asegs := before[eventsLog], segments(beforeEntries), segments(afterEntries)
	for _, path := range slices.Sorted(maps.Keys(beforeEntries)) {
		if sealedFile(path) && afterEntries[path] != beforeEntries[path] {
			return nil, 0, fmt.Errorf("%s was changed or removed: the history and its checkpoints may only grow", path)
		}
	}
	switch {
	case len(asegs) == len(bsegs) && sealDue(old):
		return nil, 0, fmt.Errorf("events.jsonl holds %d events: the next act moves it to %s first", bytes.Count(old, []byte("\n")), segmentPath(len(bsegs)+1))
	case len(asegs) == len(bsegs):
		return old, 0, newCheckpoints(beforeEntries, afterEntries, "")
	case len(asegs) != len(bsegs)+1 || asegs[len(bsegs)] != segmentPath(len(bsegs)+1):
		return nil, 0, fmt.Errorf("history segments are added one at a time, in order: want %s, not %s", segmentPath(len(bsegs)+1), strings.Join(slices.DeleteFunc(slices.Clone(asegs), func(s string) bool { return slices.Contains(bsegs, s) }), ", "))
	case !sealDue(old):
		return nil, 0, fmt.Errorf("%s: events.jsonl is moved to a segment only once it holds %d events", asegs[len(bsegs)], segmentEvents)
	case afterEntries[asegs[len(bsegs)]].OID != beforeEntries[eventsLog].OID:
		return nil, 0, fmt.Errorf("%s is not events.jsonl as it was", asegs[len(bsegs)])
	}
	n := len(asegs)
	if _, ok := afterEntries[checkpointPath(n)]; !ok {
		return nil, 0, fmt.Errorf("%s is sealed without %s, the state after it: oxygen writes both in one commit (an oxygen older than the server's does not: upgrade it)", segmentPath(n), checkpointPath(n))
	}
	return nil, n, newCheckpoints(beforeEntries, afterEntries, checkpointPath(n))
}

// newCheckpoints refuses a checkpoint that after adds to before, but for
// the sealing one (if any).
func newCheckpoints(beforeEntries, afterEntries map[string]gitcli.TreeEntry, sealing string) error {
	for _, path := range slices.Sorted(maps.Keys(afterEntries)) {
		if _, had := beforeEntries[path]; isCheckpoint(path) && !had && path != sealing {
			return fmt.Errorf("%s is added without sealing its segment: only the act that seals a segment writes its checkpoint", path)
		}
	}
	return nil
}

// fullLog is the whole history of a tree read with its segments.
func fullLog(files map[string][]byte) []byte {
	var log []byte
	for _, path := range slices.Sorted(maps.Keys(files)) {
		if isSegment(path) {
			log = append(log, files[path]...)
		}
	}
	return append(log, files[eventsLog]...)
}

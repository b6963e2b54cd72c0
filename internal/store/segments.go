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
// the clone's copy keep it as one file.
const historyDir = "history"

// segmentEvents is a variable for the tests only.
var segmentEvents = 1000

func segmentPath(n int) string { return fmt.Sprintf("%s/%06d.jsonl", historyDir, n) }

// isSegment says whether path names a history segment.
func isSegment(path string) bool {
	name, ok := strings.CutPrefix(path, historyDir+"/")
	num, isLog := strings.CutSuffix(name, ".jsonl")
	if !ok || !isLog || len(num) != 6 {
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

// checkSegments checks the segments of a state commit against its
// parent's: the old ones untouched, and one more, in order, exactly when
// the parent's events.jsonl was due, holding it as it was. It returns the
// events.jsonl the commit's must extend.
func checkSegments(before map[string][]byte, beforeEntries, afterEntries map[string]gitcli.TreeEntry) ([]byte, error) {
	old, bsegs, asegs := before[eventsLog], segments(beforeEntries), segments(afterEntries)
	for _, seg := range bsegs {
		if afterEntries[seg] != beforeEntries[seg] {
			return nil, fmt.Errorf("%s was changed or removed: the history may only grow", seg)
		}
	}
	switch {
	case len(asegs) == len(bsegs) && sealDue(old):
		return nil, fmt.Errorf("events.jsonl holds %d events: the next act moves it to %s first", bytes.Count(old, []byte("\n")), segmentPath(len(bsegs)+1))
	case len(asegs) == len(bsegs):
		return old, nil
	case len(asegs) != len(bsegs)+1 || asegs[len(bsegs)] != segmentPath(len(bsegs)+1):
		return nil, fmt.Errorf("history segments are added one at a time, in order: want %s, not %s", segmentPath(len(bsegs)+1), strings.Join(slices.DeleteFunc(slices.Clone(asegs), func(s string) bool { return slices.Contains(bsegs, s) }), ", "))
	case !sealDue(old):
		return nil, fmt.Errorf("%s: events.jsonl is moved to a segment only once it holds %d events", asegs[len(bsegs)], segmentEvents)
	case afterEntries[asegs[len(bsegs)]].OID != beforeEntries[eventsLog].OID:
		return nil, fmt.Errorf("%s is not events.jsonl as it was", asegs[len(bsegs)])
	}
	return nil, nil
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

package store

import "github.com/oxygen-protocol/oxygen/policy"

// SetSegmentEvents makes the git store seal its events.jsonl every n
// events, until the returned function restores it.
func SetSegmentEvents(n int) (restore func()) {
	old := segmentEvents
	segmentEvents = n
	return func() { segmentEvents = old }
}

// SetMaxCheckpoint makes readers take checkpoints of at most n bytes,
// until the returned function restores it.
func SetMaxCheckpoint(n int64) (restore func()) {
	old := maxCheckpoint
	maxCheckpoint = n
	return func() { maxCheckpoint = old }
}

// ReadAnswer is readAnswer, without the state it carries.
func ReadAnswer(stderr []byte) (policy.Decision, error) {
	d, _, _, err := readAnswer(stderr)
	return d, err
}

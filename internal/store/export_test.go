package store

// SetSegmentEvents makes the git store seal its events.jsonl every n
// events, until the returned function restores it.
func SetSegmentEvents(n int) (restore func()) {
	old := segmentEvents
	segmentEvents = n
	return func() { segmentEvents = old }
}

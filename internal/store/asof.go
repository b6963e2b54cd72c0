package store

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"
)

// SyncedAs says which state commit the clone's copy holds and when it was
// fetched (ok false: never).
func (g *Git) SyncedAs() (commit string, at time.Time, ok bool) {
	data, err := os.ReadFile(filepath.Join(g.local.dir, syncedFile))
	var s synced
	if err != nil || json.Unmarshal(data, &s) != nil {
		return "", time.Time{}, false
	}
	return s.Commit, s.SyncedAt, true
}

package store

import (
	"errors"
	"fmt"

	"github.com/oxygen-protocol/oxygen/policy"
)

// waitersDir holds the wait queues' places, one record each (claim --wait):
// part of the state, so every clone of a git store sees one queue.
const waitersDir = "waiters"

func waiterPath(id string) string { return waitersDir + "/" + id + ".yaml" }

type waiterFile struct {
	Version       int `yaml:"version"`
	policy.Waiter `yaml:",inline"`
}

// FormatWaiter renders a waiter file.
func FormatWaiter(w policy.Waiter) []byte {
	return marshal(waiterFile{Version: formatVersion, Waiter: w})
}

// ParseWaiter reads the waiter file filed as id.
func ParseWaiter(id string, data []byte) (policy.Waiter, error) {
	var f waiterFile
	if err := decodeStrict(data, &f); err != nil {
		return f.Waiter, err
	}
	w := f.Waiter
	switch {
	case f.Version != formatVersion:
		return w, fmt.Errorf("format version %d: this oxygen reads version %d", f.Version, formatVersion)
	case w.ID != id:
		return w, fmt.Errorf("names waiter %q but is filed as %q", w.ID, id)
	case !policy.ValidName(w.Resource) || !policy.ValidName(w.Domain) || w.Owner == "":
		return w, errors.New("resource, domain or owner missing")
	case w.Since.IsZero() || w.Until.Before(w.Since):
		return w, errors.New("since and until do not fit")
	}
	w.Since, w.Until = w.Since.UTC(), w.Until.UTC()
	return w, nil
}

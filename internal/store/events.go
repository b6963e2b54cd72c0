package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Numbered is an event of the history with its id: its line in the history,
// from 1. The history only grows, so an id names the same event for good,
// in every clone of a git store.
type Numbered struct {
	ID int `json:"id"`
	Event
}

// Tail reads a store's history as it grows.
type Tail struct {
	file string       // the history the store keeps, or its clone's copy
	sync func() error // refreshes the copy from the remote; nil: it is the authority
	off  int64        // where the lines not read yet begin
	next int          // the id of the next line
	// Offline is why the last Read could not refresh the copy (nil: it
	// did, or there is none to refresh); that Read used the copy as it was.
	Offline error
}

// TailOf returns a reader of s's history from its first event.
func TailOf(s Store) (*Tail, error) {
	switch s := s.(type) {
	case *Local:
		return &Tail{file: filepath.Join(s.dir, eventsLog), next: 1}, s.checkDirs(false)
	case *Git:
		return &Tail{file: filepath.Join(s.local.dir, eventsLog), sync: s.Sync, next: 1}, s.local.checkDirs(false)
	}
	return nil, ErrServerSide
}

// Remote says whether reading new events means a fetch from a remote.
func (t *Tail) Remote() bool { return t.sync != nil }

// Size is the history's size in bytes: one stat, to see cheaply whether it
// grew.
func (t *Tail) Size() int64 {
	fi, err := os.Lstat(t.file)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Read returns the whole events appended since the last Read, refreshing
// the clone's copy first for a git store (offline, it reads the copy and
// says why in Offline). A line still being written waits for the next Read.
func (t *Tail) Read() ([]Numbered, error) {
	if t.sync != nil {
		t.Offline = t.sync()
	}
	f, err := os.OpenFile(t.file, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the history: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read the history: %w", err)
	}
	if fi.Size() < t.off {
		return nil, fmt.Errorf("%s shrank from %d to %d bytes: the history was rewritten, not appended to", t.file, t.off, fi.Size())
	}
	data, err := io.ReadAll(io.NewSectionReader(f, t.off, fi.Size()-t.off))
	if err != nil {
		return nil, fmt.Errorf("read the history: %w", err)
	}
	whole := data[:bytes.LastIndexByte(data, '\n')+1]
	events, err := parseEvents(bytes.NewReader(whole), t.file, t.next)
	if err != nil {
		return nil, err
	}
	out := make([]Numbered, len(events))
	for i, e := range events {
		out[i] = Numbered{ID: t.next + i, Event: e}
	}
	t.off += int64(len(whole))
	t.next += len(events)
	return out, nil
}

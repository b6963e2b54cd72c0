package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DeadEnd records one refusal by a hook: who was stopped, when, on which
// paths and resources, why, and the fix (the protocol's dead_end artifact
// for a shadow edit). Dead ends stay where the refusal happened, in the
// clone (or on the server); they are not part of the shared state.
type DeadEnd struct {
	ID        string    `json:"id" yaml:"id"`
	Hook      string    `json:"hook" yaml:"hook"`
	Who       string    `json:"who" yaml:"who"`
	At        time.Time `json:"at" yaml:"at"`
	Commits   []string  `json:"commits,omitempty" yaml:"commits,omitempty"`
	Paths     []string  `json:"paths" yaml:"paths"`
	Resources []string  `json:"resources,omitempty" yaml:"resources,omitempty"`
	Why       []string  `json:"why" yaml:"why"`
	Fix       []string  `json:"fix" yaml:"fix"`
}

const (
	deadEndsDir = "dead_ends"
	maxDeadEnds = 500 // the newest are kept: an agent retrying must not fill the disk
)

// RecordDeadEnd writes a dead end, dropping the oldest past maxDeadEnds.
func (s *Local) RecordDeadEnd(d DeadEnd) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	dir := filepath.Join(s.dir, deadEndsDir)
	if err := mkdirNoFollow(dir); err != nil {
		return err
	}
	d.ID = d.At.UTC().Format("20060102T150405.000Z") + "-" + randomHex(3)
	if err := writeAtomic(filepath.Join(dir, d.ID+".yaml"), marshal(d)); err != nil {
		return err
	}
	names, err := s.deadEndNames()
	if err != nil {
		return err
	}
	for len(names) > maxDeadEnds {
		os.Remove(filepath.Join(dir, names[0]))
		names = names[1:]
	}
	return nil
}

func (s *Local) deadEndNames() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, deadEndsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".yaml") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names) // ids begin with their time
	return names, nil
}

// DeadEnds lists the recorded dead ends, oldest first. One that cannot be
// read is reported as such, not dropped.
func (s *Local) DeadEnds() ([]DeadEnd, error) {
	if err := s.checkDirs(false); err != nil {
		return nil, err
	}
	names, err := s.deadEndNames()
	if err != nil {
		return nil, err
	}
	var out []DeadEnd
	for _, n := range names {
		file := filepath.Join(s.dir, deadEndsDir, n)
		data, err := readRecord(file)
		var d DeadEnd
		if err == nil {
			err = decodeStrict(data, &d)
		}
		if err != nil {
			return out, fmt.Errorf("%s: %v", file, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func mkdirNoFollow(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.Mkdir(dir, 0o755)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s: not a directory (a symlink or file where the store's folder should be); move it away: mv %s %s.moved", dir, dir, dir)
	}
	return nil
}

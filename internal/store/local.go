package store

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// Dir is where the state lives below a clone's root.
const Dir = ".substrate/state"

const (
	leasesDir = "leases"
	eventsLog = "events.jsonl"
	lockFile  = ".lock"
	tmpPrefix = ".tmp-"
	maxRecord = 64 << 10 // no lease file is near this; a larger one is not read
)

// Local is the store kept in files under <root>/.substrate/state, shared by
// every process and every worktree of the clone.
type Local struct {
	dir string // <root>/.substrate/state
}

// OpenLocal returns the local store of the clone whose root is root. Nothing
// is created until the first mutation.
func OpenLocal(root string) *Local { return &Local{dir: filepath.Join(root, Dir)} }

// Path returns the store's directory.
func (s *Local) Path() string { return s.dir }

func (s *Local) leaseFile(resource string) string {
	return filepath.Join(s.dir, leasesDir, resource+".yaml")
}

// Current reads every lease file.
func (s *Local) Current() (policy.State, error) {
	var st policy.State
	if err := s.checkDirs(false); err != nil {
		return st, err
	}
	entries, err := os.ReadDir(filepath.Join(s.dir, leasesDir))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read the lease store: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue // temp files of a write in progress, or left by a crash
		}
		resource, ok := strings.CutSuffix(name, ".yaml")
		if !ok || !policy.ValidName(resource) {
			st.Broken = append(st.Broken, policy.BrokenLease{Resource: resource, File: filepath.Join(s.dir, leasesDir, name), Cause: "not a lease file name (want <resource>.yaml)"})
			continue
		}
		l, broken, err := s.read(resource)
		switch {
		case err != nil:
			return st, err
		case broken != nil:
			st.Broken = append(st.Broken, *broken)
		case l != nil:
			st.Leases = append(st.Leases, *l)
		}
	}
	return st, nil
}

// read returns the lease of resource, nil if there is none, or a
// BrokenLease if its file cannot be trusted.
func (s *Local) read(resource string) (*policy.Lease, *policy.BrokenLease, error) {
	file := s.leaseFile(resource)
	broken := func(cause string) (*policy.Lease, *policy.BrokenLease, error) {
		return nil, &policy.BrokenLease{Resource: resource, File: file, Cause: cause}, nil
	}
	fi, err := os.Lstat(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return broken(err.Error())
	}
	if !fi.Mode().IsRegular() {
		return broken("not a regular file (a symlink or special file in the store is never followed)")
	}
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return broken(err.Error())
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecord+1))
	if err != nil {
		return broken(err.Error())
	}
	if len(data) > maxRecord {
		return broken("larger than any lease file")
	}
	l, err := ParseLease(resource, data)
	if err != nil {
		return broken(err.Error())
	}
	return &l, nil, nil
}

// checkDirs refuses a store whose directories are symlinks or files, so
// that oxygen never reads or writes outside the clone through one.
func (s *Local) checkDirs(create bool) error {
	root := filepath.Dir(filepath.Dir(s.dir))
	for _, d := range []string{filepath.Dir(s.dir), s.dir, filepath.Join(s.dir, leasesDir)} {
		fi, err := os.Lstat(d)
		if errors.Is(err, fs.ErrNotExist) {
			if !create {
				return nil
			}
			if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("create the lease store: %w", err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("read the lease store: %w", err)
		}
		if !fi.IsDir() {
			rel, _ := filepath.Rel(root, d)
			return fmt.Errorf("%s: not a directory (a symlink or file where the lease store should be); move it away", rel)
		}
	}
	return nil
}

// writeIgnore keeps the state out of commits: it is the clone's own. It runs
// under the lock, since removeStaleTemps would take another writer's temp file.
func (s *Local) writeIgnore() error {
	ignore := filepath.Join(s.dir, ".gitignore")
	if _, err := os.Lstat(ignore); errors.Is(err, fs.ErrNotExist) {
		return writeAtomic(ignore, []byte("# oxygen's local coordination state: not for committing\n*\n"))
	}
	return nil
}

// lock takes the store's exclusive lock for one mutation. The kernel drops
// it when the process exits, however it exits, so a crash never leaves a
// stale lock behind.
func (s *Local) lock() (unlock func(), err error) {
	if err := s.checkDirs(true); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(s.dir, lockFile), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock the lease store: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock the lease store %s: %w", s.dir, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.removeStaleTemps()
	if err := s.writeIgnore(); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// removeStaleTemps deletes temp files: under the lock, any that exist were
// left by a writer that died before its rename.
func (s *Local) removeStaleTemps() {
	for _, d := range []string{s.dir, filepath.Join(s.dir, leasesDir)} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tmpPrefix) {
				os.Remove(filepath.Join(d, e.Name()))
			}
		}
	}
}

// mutate runs one decision under the store's lock, against the state as it
// is on disk, and persists what it decided.
func (s *Local) mutate(decide func(policy.State) ([]change, error)) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.Current()
	if err != nil {
		return err
	}
	chs, err := decide(st)
	for _, ch := range chs {
		if err == nil && !ch.empty() {
			err = s.commit(ch)
		}
	}
	return err
}

// Sync has nothing to do: the local store is its own authority.
func (s *Local) Sync() error { return nil }

// Freshness is empty: the local store is always current.
func (s *Local) Freshness(time.Time) string { return "" }

// Claim takes a lease under the store's lock.
func (s *Local) Claim(cs []Claim) (res []Claimed, err error) {
	err = s.mutate(func(st policy.State) (chs []change, err error) {
		res, chs, err = decideClaims(st, cs)
		return chs, err
	})
	return res, err
}

// Renew extends a live lease held by one of the asker's domains.
func (s *Local) Renew(r Renewal) (l policy.Lease, err error) {
	err = s.mutate(func(st policy.State) ([]change, error) {
		var ch change
		l, ch, err = decideRenew(st, r)
		return []change{ch}, err
	})
	return l, err
}

// Release ends a live lease held by one of the asker's domains, or clears a
// lapsed one of anybody's.
func (s *Local) Release(r Release) (l *policy.Lease, err error) {
	err = s.mutate(func(st policy.State) ([]change, error) {
		var ch change
		l, ch, err = decideRelease(st, r)
		return []change{ch}, err
	})
	return l, err
}

// commit records the event, then writes the lease file (or removes it).
// The history is written first: a crash between the two leaves a record of
// the intent, never a lease the history lacks.
func (s *Local) commit(ch change) error {
	if err := s.appendEvent(ch.event); err != nil {
		return err
	}
	file := s.leaseFile(ch.event.Lease.Resource)
	if ch.lease == nil {
		if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("release %s: %w", ch.event.Lease.Resource, err)
		}
		return syncDir(filepath.Dir(file))
	}
	return writeAtomic(file, FormatLease(*ch.lease))
}

func (s *Local) appendEvent(e Event) error {
	e.V = formatVersion
	line, err := encodeEvent(e)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(s.dir, eventsLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("record the event: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("record the event: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("record the event: %w", err)
	}
	return f.Close()
}

// History replays the event log into the list of every lease recorded.
func (s *Local) History() ([]policy.Lease, error) {
	if err := s.checkDirs(false); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(s.dir, eventsLog), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the lease history: %w", err)
	}
	defer f.Close()
	events, err := ParseEvents(f, filepath.Join(s.dir, eventsLog))
	if err != nil {
		return nil, err
	}
	return Replay(events), nil
}

// writeAtomic replaces file with data: a temp file in the same directory,
// fsync, rename, fsync of the directory. Readers see the old or the new
// content, never a part.
func writeAtomic(file string, data []byte) error {
	dir := filepath.Dir(file)
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, tmpPrefix+filepath.Base(file)+"-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	_, err = io.Copy(f, bytes.NewReader(data))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", file, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// sortLeases orders leases by resource, then start.
func sortLeases(ls []policy.Lease) {
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].Resource != ls[j].Resource {
			return ls[i].Resource < ls[j].Resource
		}
		return ls[i].CreatedAt.Before(ls[j].CreatedAt)
	})
}

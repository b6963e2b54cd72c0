package store

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
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
	ops
	dir string // <root>/.substrate/state
}

// OpenLocal returns the local store of the clone whose root is root. Nothing
// is created until the first mutation.
func OpenLocal(root string) *Local {
	s := &Local{dir: filepath.Join(root, Dir)}
	s.ops = ops{mutate: s.mutate}
	return s
}

// Path returns the store's directory.
func (s *Local) Path() string { return s.dir }

// CacheDir is the folder of the clone's blob cache, inside the store's. It
// is an error where a folder on the way is a symlink or a file (a commit
// can put one there), so that nothing is cached outside the clone.
func (s *Local) CacheDir() (string, error) {
	if err := s.checkDirs(false); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, "cache"), nil
}

// recordDirs are the state's folders of records, one file per record.
var recordDirs = []string{leasesDir, capsulesDir, signalsDir, waitersDir, refusalsDir}

// Current reads every record file.
func (s *Local) Current() (policy.State, error) {
	if err := s.checkDirs(false); err != nil {
		return policy.State{}, err
	}
	files := map[string][]byte{}
	var unreadable []policy.BrokenLease
	for _, d := range recordDirs {
		entries, err := os.ReadDir(filepath.Join(s.dir, d))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return policy.State{}, fmt.Errorf("read the store: %w", err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				continue // temp files of a write in progress, or left by a crash
			}
			path := d + "/" + e.Name()
			data, cause := readRecord(filepath.Join(s.dir, d, e.Name()))
			if errors.Is(cause, fs.ErrNotExist) {
				continue // released between the listing and the read
			}
			if cause != nil {
				unreadable = append(unreadable, brokenRecord(path, s.fileName(path), cause.Error()))
				continue
			}
			files[path] = data
		}
	}
	st := stateFiles(files, s.fileName)
	st.Broken = append(st.Broken, unreadable...)
	return st, nil
}

func (s *Local) fileName(path string) string { return filepath.Join(s.dir, filepath.FromSlash(path)) }

// readRecord reads a record file, or says why it cannot be trusted
// (fs.ErrNotExist: it is not there).
func readRecord(file string) ([]byte, error) { return readFile(file, maxRecord) }

// readFile reads a regular file of the store of at most limit bytes,
// following no symlink.
func readFile(file string, limit int64) ([]byte, error) {
	fi, err := os.Lstat(file)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file (a symlink or special file in the store is never followed)")
	}
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errors.New("larger than any record")
	}
	return data, nil
}

// checkDirs refuses a store whose directories are symlinks or files, so
// that oxygen never reads or writes outside the clone through one.
func (s *Local) checkDirs(create bool) error {
	root := filepath.Dir(filepath.Dir(s.dir))
	dirs := []string{filepath.Dir(s.dir), s.dir}
	for _, d := range recordDirs {
		dirs = append(dirs, filepath.Join(s.dir, d))
	}
	for _, d := range dirs {
		fi, err := os.Lstat(d)
		if errors.Is(err, fs.ErrNotExist) {
			if !create {
				continue
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
			return fmt.Errorf("%s: not a directory (a symlink or file where the lease store should be); move it away: mv %s %s.moved", rel, rel, rel)
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

// lock takes the store's exclusive lock for one mutation, waiting for it as
// long as it takes. The kernel drops it when the process exits, however it
// exits, so a crash never leaves a stale lock behind.
// Prepare makes the store's folders, as a first act would: a server's
// hooks keep their cache of policy files there (CacheDir).
func (s *Local) Prepare() error { return s.checkDirs(true) }

// flock holds an exclusive lock on file (made if missing, never through a
// symlink) until the file returned is closed. It waits in the kernel's
// queue, without a deadline: an act racing others must not fail because
// they were many or the machine slow, and a holder that dies frees the
// lock at once.
func flock(file string) (*os.File, error) {
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if errors.Is(err, fs.ErrPermission) {
		// Another user's (a repository shared by the users who push to
		// it, whose hooks each run as the pusher): a lock needs no write.
		f, err = os.OpenFile(file, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	}
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (s *Local) lock() (unlock func(), err error) {
	if err := s.checkDirs(true); err != nil {
		return nil, err
	}
	f, err := flock(filepath.Join(s.dir, lockFile))
	if err != nil {
		return nil, fmt.Errorf("lock the lease store %s: %w", s.dir, err)
	}
	s.removeStaleTemps()
	err = s.writeIgnore()
	if err == nil {
		err = s.recover()
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// removeStaleTemps deletes temp files: under the lock, any that exist were
// left by a writer that died before its rename.
func (s *Local) removeStaleTemps() {
	dirs := []string{s.dir}
	for _, d := range recordDirs {
		dirs = append(dirs, filepath.Join(s.dir, d))
	}
	for _, d := range dirs {
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
func (s *Local) mutate(_ string, decide func(policy.State) ([]change, error)) error {
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
	if err != nil {
		return err
	}
	return s.commit(chs)
}

// Sync has nothing to do: the local store is its own authority.
func (s *Local) Sync() error { return nil }

// Freshness is empty: the local store is always current.
func (s *Local) Freshness(time.Time) string { return "" }

// pendingFile is the journal of a mutation under way: the event and the
// records it writes, saved whole before any of them is applied. A process
// killed half-way through leaves it behind, and the next to take the lock
// finishes the job, so the history and the records never disagree.
const pendingFile = "pending.json"

type journal struct {
	Events []byte            `json:"events"` // the history lines, newlines included
	Files  map[string][]byte `json:"files"`  // state path -> content; null removes it
}

// maxJournal bounds a journal: every record of one act, and its events.
const maxJournal = 16 << 20

// commit journals the changes of one act, then applies them: a crash
// leaves all of them to be completed, or none.
func (s *Local) commit(chs []change) error {
	j := journal{Files: map[string][]byte{}}
	for _, ch := range chs {
		ch.event.V = formatVersion
		line, err := encodeEvent(ch.event)
		if err != nil {
			return err
		}
		j.Events = append(j.Events, line...)
		maps.Copy(j.Files, ch.files)
	}
	if len(j.Events) == 0 {
		return nil
	}
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(s.dir, pendingFile), data); err != nil {
		return err
	}
	recorded, err := s.apply(data)
	switch {
	case err != nil && !recorded:
		// Nothing happened, and the caller will say so: the journal must
		// not make it happen later.
		os.Remove(filepath.Join(s.dir, pendingFile))
	case err != nil:
		err = fmt.Errorf("%w (the change is recorded and the next oxygen command completes it)", err)
	}
	return err
}

// recover finishes a mutation that a killed process left in the journal.
// The caller holds the lock.
func (s *Local) recover() error {
	file := filepath.Join(s.dir, pendingFile)
	data, err := readFile(file, maxJournal)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %v (a mutation was under way: look at it, then remove it)", file, err)
	}
	_, err = s.apply(data)
	return err
}

// apply carries out a journal, idempotently: the event is appended unless
// it is there already (after dropping a torn last line that a crash cut
// short: it was never acknowledged), the records are written, and the
// journal goes. recorded says whether the event reached the history.
func (s *Local) apply(data []byte) (recorded bool, err error) {
	var j journal
	if err := json.Unmarshal(data, &j); err != nil || !bytes.HasSuffix(j.Events, []byte("\n")) {
		return false, fmt.Errorf("%s: not a journal of oxygen's (look at it, then remove it)", filepath.Join(s.dir, pendingFile))
	}
	if written, err := s.appendOnce(j.Events); err != nil {
		return written, err
	}
	for _, path := range slices.Sorted(maps.Keys(j.Files)) {
		if !stateFileName(path) {
			return true, fmt.Errorf("%s: names %q, not a state file", filepath.Join(s.dir, pendingFile), path)
		}
		file := s.fileName(path)
		if j.Files[path] != nil {
			if err := writeAtomic(file, j.Files[path]); err != nil {
				return true, err
			}
			continue
		}
		if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return true, fmt.Errorf("remove %s: %w", file, err)
		}
		if err := syncDir(filepath.Dir(file)); err != nil {
			return true, err
		}
	}
	if err := os.Remove(filepath.Join(s.dir, pendingFile)); err != nil {
		return true, fmt.Errorf("finish the mutation: %w", err)
	}
	return true, syncDir(s.dir)
}

// appendOnce appends lines to the history unless they end it already.
// written says whether they reached the file, even if syncing it failed.
func (s *Local) appendOnce(lines []byte) (written bool, err error) {
	f, err := os.OpenFile(filepath.Join(s.dir, eventsLog), os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return false, fmt.Errorf("record the event: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("record the event: %w", err)
	}
	// The tail: enough to hold the lines and to find where the last whole
	// line ends.
	size := fi.Size()
	n := min(size, int64(len(lines))+maxRecord)
	tail := make([]byte, n)
	if _, err := f.ReadAt(tail, size-n); err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("record the event: %w", err)
	}
	if bytes.HasSuffix(tail, lines) && (int64(len(lines)) == size || tail[len(tail)-len(lines)-1] == '\n') {
		return true, nil // a recovery of a mutation that got this far
	}
	end := size
	if size > 0 && tail[len(tail)-1] != '\n' {
		end = size - n + int64(bytes.LastIndexByte(tail, '\n')) + 1 // drop the torn line
		if err := f.Truncate(end); err != nil {
			return false, fmt.Errorf("record the event: %w", err)
		}
	}
	if _, err := f.WriteAt(lines, end); err != nil {
		return false, fmt.Errorf("record the event: %w", err)
	}
	if err := f.Sync(); err != nil {
		return true, fmt.Errorf("record the event: %w", err)
	}
	return true, nil
}

// History replays the event log into the list of every lease recorded.
func (s *Local) History() ([]policy.Lease, error) {
	events, err := s.events()
	return Replay(events), err
}

// events reads the whole event log.
func (s *Local) events() ([]Event, error) {
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
	return ParseEvents(f, filepath.Join(s.dir, eventsLog))
}

// writeAtomic replaces file with data: a temp file in the same directory,
// fsync, rename, fsync of the directory. Readers see the old or the new
// content, never a part.
func writeAtomic(file string, data []byte) error {
	dir := filepath.Dir(file)
	tmp := filepath.Join(dir, tmpPrefix+filepath.Base(file)+"-"+randomHex(6))
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

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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

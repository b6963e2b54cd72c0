package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// Checkpoints of the history, so that judging a range of commits costs the
// events of its time span, not the store's age. A checkpoint is the state
// of the past at one event of the log (every checkpointEvery-th), cut to
// what can still matter from its time on (past.since): leases not ended,
// capsules and signals not finished checkpointKeep before it. It is a
// cache, in files of the clone (.substrate/state/checkpoints/<offset>-<unix ms>.json),
// written by the first reader that passes the event, and reproducible from
// the log alone: a checkpoint whose log no longer starts as it did is
// ignored.
const (
	checkpointsDir  = "checkpoints"
	checkpointEvery = 1000
	// checkpointKeep is the slack by which a checkpoint keeps finished
	// records: it must exceed any clock_skew a policy sets.
	checkpointKeep = 24 * time.Hour
)

// maxCheckpoint bounds what a checkpoint file may hold (a variable for the
// tests only).
var maxCheckpoint int64 = 64 << 20

type checkpoint struct {
	V      int          `json:"v"`
	Offset int64        `json:"offset"` // the log's bytes before the checkpoint
	Events int          `json:"events"` // and its events
	At     time.Time    `json:"at"`     // the time of its last event
	Prefix string       `json:"prefix"` // sha256 of the log's last bytes before Offset (up to 4 KiB)
	State  policy.State `json:"state"`
}

// prefixSum fingerprints the log before offset by its last 4 KiB.
func prefixSum(f io.ReaderAt, offset int64) (string, error) {
	n := min(offset, 4<<10)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, offset-n); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf)
	return fmt.Sprintf("%x", sum), nil
}

// HistoryState replays the event log into the state of the past: from the
// newest checkpoint at or before since (zero: from the beginning), writing
// the checkpoints it passes that are not there yet.
func (s *Local) HistoryState(since time.Time) (policy.State, error) {
	if err := s.checkDirs(false); err != nil {
		return policy.State{}, err
	}
	name := filepath.Join(s.dir, eventsLog)
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return policy.State{}, nil
	}
	if err != nil {
		return policy.State{}, fmt.Errorf("read the lease history: %w", err)
	}
	defer f.Close()
	p, offset, n := newPast(policy.State{}), int64(0), 0
	if !since.IsZero() {
		if cp := s.checkpointAt(f, since); cp != nil {
			p, offset, n = newPast(cp.State), cp.Offset, cp.Events
		}
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return policy.State{}, fmt.Errorf("read the lease history: %w", err)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return p.state(), nil // a torn or absent last line
		}
		if err != nil {
			return policy.State{}, fmt.Errorf("%s: %w", name, err)
		}
		n++
		e, err := parseEvent(line, name, n)
		if err != nil {
			return policy.State{}, err
		}
		p.add(e)
		offset += int64(len(line))
		if n%checkpointEvery == 0 {
			s.writeCheckpoint(f, p, offset, n, e.At)
		}
	}
}

// checkpointFile names the checkpoint at offset, of an event at at: sorted
// by name, by offset; the time in the name spares reading the ones that
// come too late.
func (s *Local) checkpointFile(offset int64, at time.Time) string {
	return filepath.Join(s.dir, checkpointsDir, fmt.Sprintf("%016d-%d.json", offset, at.UnixMilli()))
}

// checkpointAt finds the newest usable checkpoint at or before since, if
// any: one of this log, at an event no later than since.
func (s *Local) checkpointAt(f *os.File, since time.Time) *checkpoint {
	entries, err := os.ReadDir(filepath.Join(s.dir, checkpointsDir))
	if err != nil {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	slices.Reverse(entries)
	for _, e := range entries {
		o, ms, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".json"), "-")
		off, oerr := strconv.ParseInt(o, 10, 64)
		at, aerr := strconv.ParseInt(ms, 10, 64)
		if !ok || oerr != nil || aerr != nil || off > fi.Size() || time.UnixMilli(at).After(since) {
			continue
		}
		file := filepath.Join(s.dir, checkpointsDir, e.Name())
		data, err := readFile(file, maxCheckpoint)
		var cp checkpoint
		if err != nil || json.Unmarshal(data, &cp) != nil || cp.V != formatVersion || cp.Offset != off || cp.At.After(since) {
			os.Remove(file) // not one of ours: the next reader writes it again
			continue
		}
		if sum, err := prefixSum(f, off); err != nil || sum != cp.Prefix {
			os.Remove(file) // another log's: the git store's copy was replaced
			continue
		}
		return &cp
	}
	return nil
}

// writeCheckpoint saves the past at offset unless it is saved already. A
// checkpoint is a cache: failing to write one costs only time.
func (s *Local) writeCheckpoint(f *os.File, p *past, offset int64, n int, at time.Time) {
	file := s.checkpointFile(offset, at)
	if _, err := os.Lstat(file); err == nil {
		return
	}
	sum, err := prefixSum(f, offset)
	if err != nil {
		return
	}
	data, err := json.Marshal(checkpoint{V: formatVersion, Offset: offset, Events: n, At: at, Prefix: sum, State: p.since(at)})
	if err != nil {
		return
	}
	dir := filepath.Dir(file)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return
	}
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		return
	}
	_ = writeAtomic(file, bytes.TrimSpace(data))
}

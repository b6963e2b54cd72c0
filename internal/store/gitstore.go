package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/policy"
)

// Git is the store kept on a ref of the clone's remote: every mutation is
// one commit on it, pushed with compare-and-swap, so the ref's history is
// the audit log. The clone's .substrate/state is its materialised copy,
// which the commit hooks read without touching the network.
type Git struct {
	ops
	git      gitcli.Runner
	gitDir   string // the clone's common git dir
	remote   string
	ref      string
	tracking string // the clone's copy of the remote ref
	local    *Local
	mu       sync.Mutex
	fetched  string // the state a history read fetched, until an act moves it
	// emptyTree, where the remote's oxygen decides acts (sequencer.go),
	// is the id of the empty tree in the clone's object format; else "".
	emptyTree string
	undecided string // why the remote did not decide the last act
}

// A mutation that lost the race for the ref starts over from the new
// state, after a pause drawn at random from a window that starts at what
// the lost attempt cost (at least backoffFirst) and doubles with each loss
// (up to backoffMax), for as long as raceBudget. The window is measured,
// not fixed, because the ref admits one act per attempt's time: clones
// that lost spread their next tries over the time the winners need, and a
// claim fails only when the ref stays contended that long.
const (
	backoffFirst = 10 * time.Millisecond
	backoffMax   = time.Second
	raceBudget   = 30 * time.Second
)

// backoff is the pause after losing attempt (1, 2, ...), which took spent.
func backoff(attempt int, spent time.Duration) time.Duration {
	window := min(max(spent, backoffFirst)<<min(attempt, 10), backoffMax)
	return rand.N(window + 1)
}

const syncedFile = "synced.json"

// OpenGit returns the git store of the clone whose common git dir is gitDir
// and whose root is root. Where the remote decides its acts (sequenced),
// format is the clone's object format (gitcli.Dirs.ObjectFormat).
func OpenGit(r gitcli.Runner, gitDir, root, remote, ref string, sequenced bool, format string) *Git {
	g := &Git{git: r, gitDir: gitDir, remote: remote, ref: ref, tracking: TrackingRef(remote, ref), local: OpenLocal(root)}
	if sequenced {
		g.emptyTree = gitcli.EmptyTree(format)
	}
	g.ops = ops{mutate: g.mutate}
	return g
}

// TrackingRef is where a clone keeps its copy of the remote's state ref.
func TrackingRef(remote, ref string) string {
	return "refs/oxygen/remotes/" + remote + "/" + strings.TrimPrefix(ref, "refs/")
}

// Act decides a. Where the remote sequences acts, it is sent there and
// the remote's oxygen decides it, at the remote's time; else this clone
// decides it against the state it fetches, and pushes what it decided.
func (g *Git) Act(p *policy.Policy, a policy.Act, clock func() time.Time) (policy.Decision, error) {
	g.undecided = ""
	if g.emptyTree != "" {
		d, err := g.send(a)
		var not *notDecided
		switch {
		case errors.As(err, &not):
			// The remote refused the act undecided (its hooks are not
			// oxygen's of this version, or not routed): the clone decides
			// it, and the gate checks what it pushes, as ever. A store
			// that sequences must never be why an act cannot be made.
			d, err = g.ops.Act(p, a, clock)
			if err == nil {
				g.undecided = not.why
			}
			return d, err
		case !errors.Is(err, errLongAct):
			return d, err
		}
		// An act too long for a push option (a signal naming hundreds of
		// long paths) is decided here, and pushed as state.
	}
	return g.ops.Act(p, a, clock)
}

// Undecided says why the remote did not decide the last act, which this
// clone decided in its place ("" where it did, or was not asked to).
func (g *Git) Undecided() string { return g.undecided }

// notDecided is a remote's refusal of an act it did not decide.
type notDecided struct{ why string }

func (e *notDecided) Error() string { return e.why }

// errLongAct: the act does not fit a push option, which git sends as one
// pkt-line: the policy bounds an act's texts, not that.
var errLongAct = errors.New("the act is too long for a push option")

// maxPushOption is the longest push option git sends: a pkt-line's data.
const maxPushOption = 65516

// send has the remote decide a: a push to gitcli.ActsRefs with the act as
// its option. What is pushed is the empty tree, which every repository
// has, so nothing else is sent (a state commit the remote holds would do,
// but git sends what the remote advertises no descendant of, and the
// clone may not have the remote's newest). The answer carries the state
// after the act, of which the copy is made; where it does not (the copy
// is behind by a segment, or the answer was lost), the copy is fetched.
func (g *Git) send(a policy.Act) (policy.Decision, error) {
	unlock, err := g.local.lock()
	if err != nil {
		return policy.Decision{}, err
	}
	defer unlock()
	have, sealed := g.held()
	req, err := json.Marshal(Request{V: wireVersion, Act: a, Have: have})
	if err != nil {
		return policy.Decision{}, err
	}
	if len(actOption)+len(req) > maxPushOption {
		return policy.Decision{}, errLongAct
	}
	stderr, perr := g.git.PushAct(g.remote, g.emptyTree, a.Kind, actOption+string(req))
	d, st, answered, err := readAnswer(stderr)
	switch {
	case !answered && perr != nil:
		return policy.Decision{}, &notDecided{fmt.Sprintf("%s did not decide the act: %s (a remote that decides acts runs oxygen install --repo, of this version or later)", g.remote, pushFailure(stderr, perr))}
	case !answered:
		// Pushed, yet no oxygen answered: a host without oxygen's hooks
		// took it for a ref, which goes again.
		ref := gitcli.ActsRefs + "/" + a.Kind
		gone := "deleted it"
		if err := g.git.DeleteRemoteRef(g.remote, ref); err != nil {
			gone = fmt.Sprintf("delete it with: git push %s :%s", g.remote, ref)
		}
		return policy.Decision{}, &notDecided{fmt.Sprintf("%s took the act for a ref %s, and nothing of oxygen there decided it (%s): oxygen install --repo on the server decides acts there, or take sequenced out of the store in resources.yaml", g.remote, ref, gone)}
	}
	g.mu.Lock()
	g.fetched = ""
	g.mu.Unlock()
	if st != nil && g.adopt(st, have, sealed) == nil {
		return d, err
	}
	tip, files, sealedNow, ferr := g.fetch()
	if ferr == nil {
		ferr = g.materialise(tip, files, sealedNow)
	}
	if ferr != nil && answered && err == nil {
		// The act is done; only the copy is behind. fetch's own words
		// ("nothing changed") speak of the copy, not of the act.
		ferr = fmt.Errorf("%s decided the act, but this clone's copy of the state did not follow it (oxygen sync brings it, once it can fetch): %s", g.remote, strings.TrimSuffix(ferr.Error(), "; nothing changed"))
	}
	return d, errors.Join(err, ferr)
}

// held says how much of the history the copy holds, for the remote to
// send the rest (nil where it cannot say: never synced, or by an oxygen
// that did not record its segments), and the sizes of its sealed segments.
func (g *Git) held() (*Held, []int64) {
	s, ok := g.marker()
	if !ok || s.Remote != g.remote || s.Ref != g.ref || s.Segments == nil {
		return nil, nil
	}
	base := total(s.Segments)
	fi, err := os.Lstat(filepath.Join(g.local.dir, eventsLog))
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < base {
		return nil, nil
	}
	return &Held{Segments: len(s.Segments), Log: fi.Size() - base}, s.Segments
}

// adopt makes the copy of the state st, sent for a copy that holds have:
// its records, and the history's current segment as the copy's and the
// tail sent, if together they are what the remote holds.
func (g *Git) adopt(st *after, have *Held, sealed []int64) error {
	base := total(sealed)
	cur, err := readTail(filepath.Join(g.local.dir, eventsLog), base, have.Log)
	if err != nil || int64(len(cur)) != have.Log {
		return errors.New("the copy's history changed meanwhile")
	}
	cur = append(cur, st.Tail...)
	if sum := sha256.Sum256(cur); hex.EncodeToString(sum[:]) != st.Sum || !gitcli.IsObjectID(st.Tip) {
		return errors.New("the copy's history is not the remote's")
	}
	files := make(map[string][]byte, len(st.Records)+1)
	for path, data := range st.Records {
		if path == eventsLog || !stateFileName(path) {
			return fmt.Errorf("the answer holds %q, which no state holds", path)
		}
		files[path] = data
	}
	files[eventsLog] = cur
	return g.materialise(st.Tip, files, sealed)
}

// pushFailure is why a push failed, in the remote's words where it gave
// any (an oxygen's refusal), else git's.
func pushFailure(stderr []byte, err error) string {
	var said []string
	for l := range strings.Lines(string(stderr)) {
		if m, ok := strings.CutPrefix(strings.TrimSpace(l), "remote: oxygen: "); ok {
			said = append(said, m)
		}
	}
	if len(said) > 0 {
		return strings.Join(said, "; ")
	}
	return err.Error()
}

// Current reads the materialised copy: no network.
func (g *Git) Current() (policy.State, error) { return g.local.Current() }

// History fetches the remote's state and replays its history.
func (g *Git) History() ([]policy.Lease, error) {
	if err := g.Sync(); err != nil {
		return nil, err
	}
	return g.local.History()
}

// HistoryState fetches the remote's state and replays its history from
// the ref's newest checkpoint at or before since, as the server does. The
// fetch is made once: a second read (a range check's whose first, from a
// hint, started too late) replays the state the first fetched, until an
// act moves it. A Git is one command's: a command is a moment.
func (g *Git) HistoryState(since time.Time) (policy.State, error) {
	g.mu.Lock()
	tip := g.fetched
	g.mu.Unlock()
	if tip == "" {
		if err := g.Sync(); err != nil {
			return policy.State{}, err
		}
		var err error
		if tip, err = g.git.RefID(g.tracking); err != nil {
			return policy.State{}, err
		}
		g.mu.Lock()
		g.fetched = tip
		g.mu.Unlock()
	}
	return replayRef(g.git, tip, g.ref, since)
}

// synced is the materialised copy's record of what it copies.
type synced struct {
	V        int       `json:"v"`
	Remote   string    `json:"remote"`
	Ref      string    `json:"ref"`
	Commit   string    `json:"commit"`
	SyncedAt time.Time `json:"synced_at"`
	// Segments are the sizes of the history's sealed segments the copy
	// holds (in events.jsonl, before the current one's lines).
	Segments []int64 `json:"segments"`
}

// marker reads the copy's record of what it copies (ok false: none that
// reads).
func (g *Git) marker() (synced, bool) {
	data, err := readFile(filepath.Join(g.local.dir, syncedFile), maxRecord) // no symlink: it could name /dev/zero
	var s synced
	return s, err == nil && json.Unmarshal(data, &s) == nil
}

// Freshness says which state the copy holds and how old it is.
func (g *Git) Freshness(now time.Time) string {
	s, ok := g.marker()
	if !ok {
		return fmt.Sprintf("leases from %s %s: never synced here (run oxygen sync)", g.remote, g.ref)
	}
	return fmt.Sprintf("leases from %s %s as of %s ago (oxygen sync refreshes them)", g.remote, g.ref, now.Sub(s.SyncedAt).Round(time.Second))
}

// Sync fetches the remote's state and materialises it.
func (g *Git) Sync() error {
	unlock, err := g.local.lock()
	if err != nil {
		return err
	}
	defer unlock()
	tip, files, sealed, err := g.fetch()
	if err != nil {
		return err
	}
	return g.materialise(tip, files, sealed)
}

// fetch brings the remote's state ref into the tracking ref, refusing a
// rewritten history, and reads its files, but for the history's segments
// (of which it gives the sizes, in order) and checkpoints.
func (g *Git) fetch() (string, map[string][]byte, []int64, error) {
	err := g.git.FetchRef(g.remote, g.ref, g.tracking)
	if errors.Is(err, gitcli.ErrRefMissing) || errors.Is(err, gitcli.ErrRewritten) {
		// What this clone saw is asked only now: a fetch leaves the
		// tracking ref as it was when it refuses, and it is one process
		// fewer on every act's way.
		seen, serr := g.git.RefID(g.tracking)
		switch {
		case serr != nil:
			return "", nil, nil, serr
		case errors.Is(err, gitcli.ErrRefMissing) && seen != "":
			return "", nil, nil, fmt.Errorf("%s %s is gone, though this clone saw it at %s: the state was deleted, not trusted (if that was meant, forget it here with: git update-ref -d %s)", g.remote, g.ref, seen[:12], g.tracking)
		case errors.Is(err, gitcli.ErrRefMissing):
			return "", map[string][]byte{}, nil, nil // no state yet: the first claim creates it
		case seen == "": // rewritten, yet never seen: git's word for something else
			return "", nil, nil, fmt.Errorf("%w; nothing changed", err)
		default:
			return "", nil, nil, fmt.Errorf("%s %s was rewritten: it no longer descends from %s, which this clone saw, so it is not trusted (if the rewrite was meant, forget the old one here with: git update-ref -d %s)", g.remote, g.ref, seen[:12], g.tracking)
		}
	}
	if err != nil {
		return "", nil, nil, fmt.Errorf("%w; nothing changed", err)
	}
	// The tracking ref moves only under the lock this runs under: its
	// tree and id are read together, in two processes, not three.
	tip, files, entries, err := g.git.ReadRefTree(g.tracking, sealedFile)
	if err != nil {
		return "", nil, nil, fmt.Errorf("read %s: %w", g.ref, err)
	}
	var sealed []int64
	for _, seg := range segments(entries) {
		sealed = append(sealed, entries[seg].Size)
	}
	return tip, files, sealed, nil
}

// materialise makes the local copy hold exactly the state of commit tip.
// The caller holds the local lock. It writes only what differs, and the
// history by appending what is new, so an act costs a few writes however
// old the store is.
func (g *Git) materialise(tip string, files map[string][]byte, sealed []int64) error {
	for _, d := range recordDirs {
		dir := filepath.Join(g.local.dir, d)
		keep := map[string]bool{}
		for path, data := range files {
			name, ok := strings.CutPrefix(path, d+"/")
			if !ok || strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
				continue // never a path outside the record folders
			}
			keep[name] = true
			file := filepath.Join(dir, name)
			if old, err := readRecord(file); err == nil && bytes.Equal(old, data) {
				continue
			}
			if err := writeAtomic(file, data); err != nil {
				return err
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !keep[e.Name()] && !strings.HasPrefix(e.Name(), ".") {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	if err := g.materialiseLog(tip, files[eventsLog], sealed); err != nil {
		return err
	}
	marker, _ := json.Marshal(synced{V: formatVersion, Remote: g.remote, Ref: g.ref, Commit: tip, SyncedAt: time.Now().UTC(), Segments: append([]int64{}, sealed...)})
	return writeAtomic(filepath.Join(g.local.dir, syncedFile), marker)
}

// materialiseLog makes the local history hold the ref's: the segments of
// the sizes sealed, then cur (events.jsonl). Where the local copy holds the
// segments and a start of cur, the rest is appended (the ref's history only
// grows); else it is rebuilt from the segments, read from commit tip.
func (g *Git) materialiseLog(tip string, cur []byte, sealed []int64) error {
	file := filepath.Join(g.local.dir, eventsLog)
	base := total(sealed)
	if fi, err := os.Lstat(file); err == nil && fi.Mode().IsRegular() && fi.Size() >= base && fi.Size() <= base+int64(len(cur)) {
		have, err := readTail(file, base, fi.Size()-base)
		if err == nil && bytes.Equal(have, cur[:len(have)]) {
			if len(have) == len(cur) {
				return nil
			}
			return appendFile(file, cur[len(have):])
		}
	}
	log := cur
	if len(sealed) > 0 {
		files, _, err := g.git.ReadTreeSkip(tip, isCheckpoint)
		if err != nil {
			return err
		}
		log = fullLog(files)
	}
	return writeAtomic(file, log)
}

// total is the sum of sizes: where the current segment starts in the
// copy's events.jsonl, after the sealed ones.
func total(sizes []int64) int64 {
	var n int64
	for _, s := range sizes {
		n += s
	}
	return n
}

// readTail reads n bytes of file from offset.
func readTail(file string, offset, n int64) ([]byte, error) {
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, offset); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf, nil
}

// appendFile appends data to file (created if need be) and syncs it.
func appendFile(file string, data []byte) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

// mutate runs one decision against the remote's current state and pushes
// what it decided as one commit; if another clone moved the ref meanwhile,
// it starts over from the new state, a bounded number of times.
func (g *Git) mutate(by string, decide func(policy.State) ([]change, error)) error {
	unlock, err := g.local.lock()
	if err != nil {
		return err
	}
	defer unlock()
	deadline := time.Now().Add(raceBudget)
	for attempt := 1; ; attempt++ {
		start := time.Now()
		tip, files, sealed, err := g.fetch()
		if err != nil {
			return err
		}
		chs, err := decide(stateFiles(files, g.fileName))
		if err != nil {
			return errors.Join(err, g.materialise(tip, files, sealed))
		}
		commit, err := g.write(tip, files, &sealed, by, chs)
		if err != nil || commit == "" {
			return errors.Join(err, g.materialise(tip, files, sealed))
		}
		err = g.git.PushCAS(g.remote, g.ref, tip, commit)
		if errors.Is(err, gitcli.ErrLostRace) {
			pause := backoff(attempt, time.Since(start))
			if time.Now().Add(pause).After(deadline) {
				return fmt.Errorf("%s %s kept moving: lost the race %d times in %s, nothing changed; try again (last: %v)", g.remote, g.ref, attempt, raceBudget, err)
			}
			time.Sleep(pause)
			continue
		}
		if err != nil {
			return fmt.Errorf("%w; nothing changed", err)
		}
		if err := g.git.UpdateRef(g.tracking, commit); err != nil {
			return err
		}
		g.mu.Lock()
		g.fetched = ""
		g.mu.Unlock()
		if err := g.materialise(commit, files, sealed); err != nil {
			return err
		}
		// The act is done; packing is housekeeping, and its failure no
		// reason to report one. One act in 16 looks (those whose commit id
		// starts with 0): a few objects each, against a threshold of 256.
		if commit[0] == '0' {
			_ = g.git.PackAuto()
		}
		return nil
	}
}

// write applies the changes to files (in place) and writes them as one
// commit on top of tip (writeState), moving no ref.
func (g *Git) write(tip string, files map[string][]byte, sealed *[]int64, by string, chs []change) (string, error) {
	return writeState(g.git, g.gitDir, "", tip, files, sealed, by, chs)
}

// writeState applies the changes to files (in place) and writes them as
// one commit on top of tip, first moving events.jsonl to the next of the
// sealed segments, with its checkpoint, when it is due. It moves ref
// there ("": none; see gitcli.StateCommit.Ref). No changes: no commit.
func writeState(r gitcli.Runner, gitDir, ref, tip string, files map[string][]byte, sealed *[]int64, by string, chs []change) (string, error) {
	c := gitcli.StateCommit{Parent: tip, Put: map[string][]byte{}, By: by, At: time.Now().UTC(), Ref: ref}
	var added []byte // the new history lines, also the commit message's body
	var written []Event
	for _, ch := range chs {
		ch.event.V = formatVersion
		line, err := encodeEvent(ch.event)
		if err != nil {
			return "", err
		}
		added = append(added, line...)
		for path, data := range ch.files {
			if data == nil {
				delete(files, path)
				delete(c.Put, path)
				c.Delete = append(c.Delete, path)
				continue
			}
			files[path], c.Put[path] = data, data
			c.Delete = slices.DeleteFunc(c.Delete, func(p string) bool { return p == path })
		}
		written = append(written, ch.event)
	}
	if len(written) == 0 {
		return "", nil
	}
	events := append(bytes.Clone(files[eventsLog]), added...)
	if old := files[eventsLog]; sealDue(old) {
		n := len(*sealed) + 1
		_, entries, err := r.ReadTreeSkip(tip, func(string) bool { return true })
		if err != nil {
			return "", err
		}
		cp, err := sealCheckpoint(r, entries, n, old)
		if err != nil {
			return "", fmt.Errorf("seal %s: %w", segmentPath(n), err)
		}
		c.Put[segmentPath(n)], c.Put[checkpointPath(n)] = old, cp
		*sealed = append(*sealed, int64(len(old)))
		events = added
	}
	files[eventsLog], c.Put[eventsLog] = events, events
	c.Message = stateSubject(written) + "\n\n" + string(added)
	return r.WriteCommit(gitDir, c)
}

// stateSubject is a state commit's subject: what its events do, by whom
// (one act's events are one person's). It ends in no white space, which
// git drops from a subject it prints (%s): the gate compares the two.
func stateSubject(events []Event) string {
	summary := make([]string, len(events))
	for i, e := range events {
		summary[i] = e.Op + " " + e.subject()
	}
	return strings.TrimRight(fmt.Sprintf("oxygen: %s by %s", strings.Join(summary, ", "), events[0].By), " \t\r\n")
}

func (g *Git) fileName(path string) string { return g.ref + ":" + path }

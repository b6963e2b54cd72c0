package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/policy"
)

// A git store whose policy says store.sequenced sends each act to the
// remote whole, and the remote's oxygen decides it. Where every clone
// decides its own acts, the one state ref admits one act per round trip:
// a clone fetches, decides, writes and pushes with compare-and-swap, and
// every clone that pushed meanwhile does it all again. Where the remote
// decides, acts wait their turn on a lock of its own, for the few
// milliseconds an act takes there, and nothing is done twice. The state
// ref, its history and its checks are what they were: what the remote
// writes is what the clone's own push would have carried.

// The act travels as a push option (git push -o), the answer as a line of
// the hook's standard error, which git relays to the pusher.
const (
	actOption    = "oxygen-act="
	answerPrefix = "oxygen-answer: "
	wireVersion  = 1
)

// Request is an act as a clone sends it, with what the clone's copy of
// the state holds of the history (nil: unknown).
type Request struct {
	V    int        `json:"v"`
	Act  policy.Act `json:"act"`
	Have *Held      `json:"have,omitempty"`
}

// Held is how much of the history a clone's copy holds: the sealed
// segments, and the bytes of the current one.
type Held struct {
	Segments int   `json:"segments"`
	Log      int64 `json:"log"`
}

// answer is the remote's word on one act: its decision, or why not; and
// where it can, the state after it, for the clone's copy.
type answer struct {
	V        int              `json:"v"`
	Decision *policy.Decision `json:"decision,omitempty"`
	Refusal  *policy.Refusal  `json:"refusal,omitempty"`
	Error    string           `json:"error,omitempty"`
	State    *after           `json:"state,omitempty"`
}

// after is the state ref as an act left it (or found it, where refused),
// for a clone whose copy holds what its request said: every record file,
// and the history's current segment from where the copy's ends. So the
// clone makes its copy without fetching the ref. (No segment or checkpoint
// is in it: a clone that holds fewer segments than the ref fetches.)
type after struct {
	Tip     string            `json:"tip"`
	Records map[string][]byte `json:"records"`
	Tail    []byte            `json:"tail"`
	Sum     string            `json:"sum"` // of the whole current segment: sha256, hex
}

// maxAfter bounds what an answer carries of the state: a copy larger than
// that is fetched.
const maxAfter = 1 << 20

// afterOf is the state of tip, with files (but the segments) and sealed
// segments, for a copy that holds have; nil where it cannot say.
func afterOf(tip string, files map[string][]byte, sealed int, have *Held) *after {
	cur := files[eventsLog]
	if have == nil || tip == "" || have.Segments != sealed || have.Log < 0 || have.Log > int64(len(cur)) {
		return nil
	}
	a := &after{Tip: tip, Records: map[string][]byte{}, Tail: cur[have.Log:]}
	size := len(a.Tail)
	for path, data := range files {
		if path != eventsLog {
			a.Records[path] = data
			size += len(path) + len(data)
		}
	}
	if size > maxAfter {
		return nil
	}
	sum := sha256.Sum256(cur)
	a.Sum = hex.EncodeToString(sum[:])
	return a
}

// RequestOf finds the act among a push's options: ok false where none is.
func RequestOf(options []string) (req Request, ok bool, err error) {
	for _, o := range options {
		data, found := strings.CutPrefix(o, actOption)
		if !found {
			continue
		}
		if ok {
			return req, true, errors.New("a push carries one act")
		}
		dec := json.NewDecoder(strings.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return req, true, fmt.Errorf("the act does not read: %v", err)
		}
		// One value, whole: a decoder stops after the first, and what
		// follows it (a second act) would pass unread.
		if _, err := dec.Token(); err != io.EOF {
			return req, true, errors.New("the act does not read: more follows its one JSON value")
		}
		if req.V != wireVersion {
			return req, true, fmt.Errorf("the act is of version %d; this oxygen reads version %d (upgrade the older one)", req.V, wireVersion)
		}
		ok = true
	}
	return req, ok, nil
}

// Outcome is what the remote did with a request: its decision, how the
// state ref moved, and the state after it.
type Outcome struct {
	Decision policy.Decision
	Move     Move
	after    *after
}

// Answer is the line a remote prints for the pusher: the decision, or the
// error that stopped it, and the state after it where it can.
func Answer(o Outcome, err error) string {
	ans := answer{V: wireVersion, Decision: &o.Decision, State: o.after}
	var refused *policy.Refusal
	switch {
	case errors.As(err, &refused):
		ans.Decision, ans.Refusal = nil, refused
	case err != nil:
		ans = answer{V: wireVersion, Error: gitcli.OneLineReason(err.Error())}
	}
	data, merr := json.Marshal(ans)
	if merr != nil {
		data, _ = json.Marshal(answer{V: wireVersion, Error: merr.Error()})
	}
	return answerPrefix + string(data)
}

// readAnswer finds the remote's answer in what git printed on standard
// error: found false where there is none.
func readAnswer(stderr []byte) (d policy.Decision, st *after, found bool, err error) {
	var line []byte
	answers := 0
	for l := range bytes.Lines(stderr) {
		if i := bytes.Index(l, []byte(answerPrefix)); i >= 0 {
			line = l[i+len(answerPrefix):]
			answers++
		}
	}
	if line == nil {
		return d, nil, false, nil
	}
	if answers > 1 {
		// One push reached several repositories (a remote with more than
		// one pushurl), and each oxygen there may have decided the act:
		// no one answer speaks for it, nor is its state the copy's.
		return d, nil, true, errors.New("more than one remote answered the act (does the remote have several pushurls?): it may be recorded at each; send acts to one repository, then run oxygen sync")
	}
	var ans answer
	// git pads what it relays with spaces, to overwrite a progress line.
	if err := json.Unmarshal(bytes.TrimSpace(line), &ans); err != nil || ans.V != wireVersion {
		return d, nil, true, fmt.Errorf("the remote's answer does not read (is its oxygen of another version?): %.200q", bytes.TrimSpace(line))
	}
	switch {
	case ans.Refusal != nil:
		return d, ans.State, true, ans.Refusal
	case ans.Error != "":
		return d, nil, true, errors.New(ans.Error)
	case ans.Decision == nil:
		return d, nil, true, errors.New("the remote's answer holds no decision")
	}
	return *ans.Decision, ans.State, true, nil
}

// Sequencer decides acts on a server, one at a time, against the state
// ref of its own repository, and records each there: the remote's side of
// a sequenced git store. It makes the checks the server makes of a pushed
// state commit: the act is the pusher's own (where the host names who
// pushes), a council call is granted by someone else, and the time is the
// server's.
type Sequencer struct {
	Git    gitcli.Runner
	GitDir string // the repository's
	Ref    string
	Policy *policy.Policy
	Pusher string // who the host says pushes ("" if it does not say)
	Clock  func() time.Time
}

// Move is a ref's move: from Old to New (equal where nothing changed).
type Move struct{ Old, New string }

// Act decides the request's act and records what it decided.
func (s Sequencer) Act(req Request) (Outcome, error) {
	v := Verifier{Git: s.Git, Policy: s.Policy, Pusher: s.Pusher}
	if err := v.mayAct(req.Act.By); err != nil {
		return Outcome{}, err
	}
	var o Outcome
	mutate := func(by string, decide func(policy.State) ([]change, error)) (err error) {
		o.Move, o.after, err = s.mutate(by, decide, req.Have)
		return err
	}
	var err error
	o.Decision, err = ops{mutate: mutate, vet: v.selfGranted}.Act(s.Policy, req.Act, s.Clock)
	return o, err
}

// sequencerLock is the file, in the repository's git dir, that acts queue on.
const sequencerLock = "oxygen-sequencer.lock"

// sequencerTries bounds the retries when clones that decide their own acts
// (an older oxygen, one whose policy does not say sequenced) push the ref
// between a read and a write here.
const sequencerTries = 20

// mutate runs one decision against the state ref and moves the ref to
// what it decided, under the repository's lock. It gives the state after
// it (or as it found it, where the decision refused) for a copy that holds
// have.
func (s Sequencer) mutate(by string, decide func(policy.State) ([]change, error), have *Held) (Move, *after, error) {
	lock, err := flock(filepath.Join(s.GitDir, sequencerLock))
	if err != nil {
		return Move{}, nil, fmt.Errorf("lock %s: %w", s.Ref, err)
	}
	defer lock.Close()
	for try := 1; ; try++ {
		// The id and its tree in one process: a clone's push may move the
		// ref at any time.
		tip, tree, err := s.Git.ReadTip(s.Ref, sealedFile)
		if err != nil {
			return Move{}, nil, fmt.Errorf("read %s: %w", s.Ref, err)
		}
		files := tree.Files
		if files == nil {
			files = map[string][]byte{}
		}
		// Sealed segments are counted, not read: here only their number counts.
		sealed := make([]int64, len(segments(tree.Entries)))
		chs, err := decide(stateFiles(files, func(path string) string { return s.Ref + ":" + path }))
		if err != nil {
			return Move{}, afterOf(tip, files, len(sealed), have), err
		}
		commit, err := writeState(s.Git, s.GitDir, s.Ref, tip, files, &sealed, by, chs)
		switch {
		case err == nil && commit == "":
			return Move{tip, tip}, afterOf(tip, files, len(sealed), have), nil
		case err == nil:
			return Move{tip, commit}, afterOf(commit, files, len(sealed), have), nil
		}
		// The ref moves only as a fast-forward of tip: if it moved, a
		// clone's own push landed meanwhile, and the act starts over.
		if now, rerr := s.Git.RefID(s.Ref); rerr != nil || now == tip || try == sequencerTries {
			return Move{}, nil, errors.Join(err, rerr)
		}
	}
}

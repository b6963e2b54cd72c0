package store

import (
	"bytes"
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

// request is an act as a clone sends it.
type request struct {
	V   int        `json:"v"`
	Act policy.Act `json:"act"`
}

// answer is the remote's word on one act: its decision, or why not.
type answer struct {
	V        int              `json:"v"`
	Decision *policy.Decision `json:"decision,omitempty"`
	Refusal  *policy.Refusal  `json:"refusal,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// ActOf finds the act among a push's options: ok false where none is one.
func ActOf(options []string) (a policy.Act, ok bool, err error) {
	for _, o := range options {
		data, found := strings.CutPrefix(o, actOption)
		if !found {
			continue
		}
		if ok {
			return a, true, errors.New("a push carries one act")
		}
		var req request
		dec := json.NewDecoder(strings.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return a, true, fmt.Errorf("the act does not read: %v", err)
		}
		// One value, whole: a decoder stops after the first, and what
		// follows it (a second act) would pass unread.
		if _, err := dec.Token(); err != io.EOF {
			return a, true, errors.New("the act does not read: more follows its one JSON value")
		}
		if req.V != wireVersion {
			return a, true, fmt.Errorf("the act is of version %d; this oxygen reads version %d (upgrade the older one)", req.V, wireVersion)
		}
		a, ok = req.Act, true
	}
	return a, ok, nil
}

// Answer is the line a remote prints for the pusher: the decision, or the
// error that stopped it.
func Answer(d policy.Decision, err error) string {
	ans := answer{V: wireVersion, Decision: &d}
	var refused *policy.Refusal
	switch {
	case errors.As(err, &refused):
		ans = answer{V: wireVersion, Refusal: refused}
	case err != nil:
		ans = answer{V: wireVersion, Error: policy.OneLine(err.Error())}
	}
	data, merr := json.Marshal(ans)
	if merr != nil {
		data, _ = json.Marshal(answer{V: wireVersion, Error: merr.Error()})
	}
	return answerPrefix + string(data)
}

// readAnswer finds the remote's answer in what git printed on standard
// error: ok false where there is none.
func readAnswer(stderr []byte) (policy.Decision, bool, error) {
	var line []byte
	for l := range bytes.Lines(stderr) {
		if i := bytes.Index(l, []byte(answerPrefix)); i >= 0 {
			line = l[i+len(answerPrefix):]
		}
	}
	if line == nil {
		return policy.Decision{}, false, nil
	}
	var ans answer
	// git pads what it relays with spaces, to overwrite a progress line.
	if err := json.Unmarshal(bytes.TrimSpace(line), &ans); err != nil || ans.V != wireVersion {
		return policy.Decision{}, true, fmt.Errorf("the remote's answer does not read (is its oxygen of another version?): %.200q", bytes.TrimSpace(line))
	}
	switch {
	case ans.Refusal != nil:
		return policy.Decision{}, true, ans.Refusal
	case ans.Error != "":
		return policy.Decision{}, true, errors.New(ans.Error)
	case ans.Decision == nil:
		return policy.Decision{}, true, errors.New("the remote's answer holds no decision")
	}
	return *ans.Decision, true, nil
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

// Act decides a and records what it decided, and says how the ref moved.
func (s Sequencer) Act(a policy.Act) (policy.Decision, Move, error) {
	v := Verifier{Git: s.Git, Policy: s.Policy, Pusher: s.Pusher}
	if err := v.mayAct(a.By); err != nil {
		return policy.Decision{}, Move{}, err
	}
	var m Move
	mutate := func(by string, decide func(policy.State) ([]change, error)) (err error) {
		m, err = s.mutate(by, decide)
		return err
	}
	d, err := ops{mutate: mutate, vet: v.selfGranted}.Act(s.Policy, a, s.Clock)
	return d, m, err
}

// sequencerLock is the file, in the repository's git dir, that acts queue on.
const sequencerLock = "oxygen-sequencer.lock"

// sequencerTries bounds the retries when clones that decide their own acts
// (an older oxygen, one whose policy does not say sequenced) push the ref
// between a read and a write here.
const sequencerTries = 20

// mutate runs one decision against the state ref and moves the ref to
// what it decided, under the repository's lock.
func (s Sequencer) mutate(by string, decide func(policy.State) ([]change, error)) (Move, error) {
	lock, err := flock(filepath.Join(s.GitDir, sequencerLock))
	if err != nil {
		return Move{}, fmt.Errorf("lock %s: %w", s.Ref, err)
	}
	defer lock.Close()
	for try := 1; ; try++ {
		// By id, then its tree: a clone's push may move the ref at any time.
		tip, err := s.Git.RefID(s.Ref)
		if err != nil {
			return Move{}, err
		}
		files, sealed := map[string][]byte{}, []int64(nil)
		if tip != "" {
			var entries map[string]gitcli.TreeEntry
			if files, entries, err = s.Git.ReadTreeSkip(tip, sealedFile); err != nil {
				return Move{}, fmt.Errorf("read %s: %w", s.Ref, err)
			}
			for _, seg := range segments(entries) {
				sealed = append(sealed, entries[seg].Size)
			}
		}
		chs, err := decide(stateFiles(files, func(path string) string { return s.Ref + ":" + path }))
		if err != nil {
			return Move{}, err
		}
		commit, err := writeState(s.Git, s.GitDir, s.Ref, tip, files, &sealed, by, chs)
		switch {
		case err == nil && commit == "":
			return Move{tip, tip}, nil
		case err == nil:
			return Move{tip, commit}, nil
		}
		// The ref moves only as a fast-forward of tip: if it moved, a
		// clone's own push landed meanwhile, and the act starts over.
		if now, rerr := s.Git.RefID(s.Ref); rerr != nil || now == tip || try == sequencerTries {
			return Move{}, errors.Join(err, rerr)
		}
	}
}

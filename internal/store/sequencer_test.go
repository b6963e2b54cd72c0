package store_test

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// sequencer is the remote's sequencer of g, for pusher.
func (g *gitState) sequencer(pusher string) store.Sequencer {
	return store.Sequencer{Git: g.remote, GitDir: g.gitDir, Ref: stateRef, Policy: g.policy, Pusher: pusher, Clock: time.Now}
}

// TestSequencerPassesTheGate: what the sequencer writes is what the gate
// lets a clone push. Every commit it makes passes the server's check of a
// push, acts a clone decided itself land on top of it, and it acts on top
// of theirs.
func TestSequencerPassesTheGate(t *testing.T) {
	g := newGitState(t)
	seq := g.sequencer("")
	var tips []string
	act := func(what string, a policy.Act) {
		t.Helper()
		o, err := seq.Act(store.Request{V: 1, Act: a})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if o.Move.New == o.Move.Old {
			t.Fatalf("%s: the ref did not move", what)
		}
		tips = append(tips, o.Move.Old, o.Move.New)
	}
	act("the first claim, on no state at all", gclaim([]string{"schema"}, "builder", ""))
	act("a second claim", gclaim([]string{"storage"}, "builder", ""))
	g.do(t, "a clone's own claim on top", gclaim([]string{"index"}, "scribe", ""))
	act("a release after it", policy.Act{Kind: policy.ActRelease, Resources: []string{"schema"}, By: agentOf("builder")})
	act("a signal", gsignal("m-1", policy.SignalMissive, "scribe", "docs/a.md"))
	for i := 0; i < len(tips); i += 2 {
		old := tips[i]
		if old == "" {
			continue // the first: no push of a root state commit is checked against nothing
		}
		if err := g.verify(old, tips[i+1]); err != nil {
			t.Errorf("the gate refuses the sequencer's commit %s: %v", tips[i+1][:12], err)
		}
	}
	st, err := g.store.Current()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.store.Sync(); err != nil {
		t.Fatal(err)
	}
	if st, err = g.store.Current(); err != nil || len(st.Leases) != 2 || len(st.Signals) != 1 {
		t.Errorf("the clone's copy after a sync: %+v, %v", st, err)
	}
}

// TestSequencerRefuses: a refusal is the decision's, whole; an act the
// pusher may not carry, or a council call its caller would grant, is not
// decided at all.
func TestSequencerRefuses(t *testing.T) {
	g := newGitState(t)
	if _, err := g.sequencer("").Act(store.Request{V: 1, Act: gclaim([]string{"schema"}, "builder", "")}); err != nil {
		t.Fatal(err)
	}
	tip := g.tip(t)
	var refused *policy.Refusal
	_, err := g.sequencer("").Act(store.Request{V: 1, Act: gclaim([]string{"schema"}, "scribe", "")})
	if !errors.As(err, &refused) || refused.Code != policy.CodeHeldByOther {
		t.Errorf("a claim of a held resource: %v, want held-by-other", err)
	}
	_, err = g.sequencer(agentOf("guardian")).Act(store.Request{V: 1, Act: gclaim([]string{"storage"}, "builder", "")})
	if err == nil || !strings.Contains(err.Error(), "a push carries only the pusher's own acts") {
		t.Errorf("an act as another: %v", err)
	}
	if now := g.tip(t); now != tip {
		t.Errorf("refused acts moved the state ref to %s", now)
	}
}

// TestSequencerRace: acts decided at once take turns: of eight domains
// claiming one resource, one wins and seven are refused naming it, and the
// history holds one claim.
func TestSequencerRace(t *testing.T) {
	g := newGitState(t)
	domains := []string{"builder", "scribe", "guardian", "watcher", "gems"}
	var (
		wg               sync.WaitGroup
		mu               sync.Mutex
		won, held, other int
	)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := g.sequencer("").Act(store.Request{V: 1, Act: gclaim([]string{"schema"}, domains[i%len(domains)], "")})
			var refused *policy.Refusal
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.As(err, &refused) && refused.Code == policy.CodeHeldByOther:
				held++
			default:
				other++
				t.Errorf("claim %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	// A domain's own second claim of what it holds changes nothing, and
	// succeeds: every claim of the winner's domain does.
	if won < 1 || won+held != 8 || other != 0 {
		t.Errorf("%d won, %d refused as held, %d otherwise", won, held, other)
	}
	out, err := exec.Command("git", "-C", g.gitDir, "show", stateRef+":events.jsonl").Output()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), `"op":"claim"`); n != 1 {
		t.Errorf("the history holds %d claims, want 1:\n%s", n, out)
	}
}

// TestSequencerProcesses: an act on the remote is one cat-file that reads
// the state ref and its tree, and one fast-import that writes the commit
// and moves the ref: acts wait for each other that long.
func TestSequencerProcesses(t *testing.T) {
	g := newGitState(t)
	g.do(t, "the first claim", gclaim([]string{"schema"}, "builder", ""))
	var calls []string
	seq := g.sequencer("")
	seq.Git.Exec = func(cmd *exec.Cmd) error {
		calls = append(calls, cmd.Args[1])
		return cmd.Run()
	}
	if _, err := seq.Act(store.Request{V: 1, Act: gclaim([]string{"storage"}, "builder", "")}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(calls, " "), "cat-file fast-import"; got != want {
		t.Errorf("an act ran git %s, want %s", got, want)
	}
}

func TestRequestOf(t *testing.T) {
	claim := `{"v":1,"act":{"Kind":"claim","By":"a@b.example","Resources":["schema"]}}`
	for _, c := range []struct {
		name string
		opts []string
		ok   bool
		err  string
	}{
		{"none", []string{"ci.skip"}, false, ""},
		{"one", []string{"ci.skip", "oxygen-act=" + claim}, true, ""},
		{"one, with what the copy holds", []string{`oxygen-act={"v":1,"act":{"Kind":"claim"},"have":{"segments":2,"log":10}}`}, true, ""},
		{"two", []string{"oxygen-act=" + claim, "oxygen-act=" + claim}, true, "a push carries one act"},
		{"not JSON", []string{"oxygen-act={"}, true, "the act does not read"},
		{"an unknown field", []string{`oxygen-act={"v":1,"act":{"Kind":"claim","Sudo":true}}`}, true, "the act does not read"},
		{"another version", []string{`oxygen-act={"v":2,"act":{}}`}, true, "the act is of version 2"},
		{"trailing words", []string{"oxygen-act=" + claim + " x"}, true, "the act does not read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, ok, err := store.RequestOf(c.opts)
			if ok != c.ok || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
				t.Fatalf("RequestOf = %+v, %v, %v; want ok %v, error %q", req, ok, err, c.ok, c.err)
			}
		})
	}
}

// FuzzRequestOf: whatever a pusher sends, the request reads or is refused
// in one line.
func FuzzRequestOf(f *testing.F) {
	f.Add(`oxygen-act={"v":1,"act":{"Kind":"claim","By":"a@b.example","Resources":["schema"],"TTL":3600000000000}}`)
	f.Add(`oxygen-act={"v":1,"act":{"Kind":"dead-end","DeadEnd":{"id":"x"}},"have":{"segments":-1,"log":-5}}`)
	f.Add("oxygen-act=")
	f.Fuzz(func(t *testing.T, opt string) {
		if _, _, err := store.RequestOf([]string{opt}); err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("error of more than one line: %q", err)
		}
	})
}

// TestAnswerReads: what the remote prints, git relays with a prefix and
// padding, among other lines; the clone reads the same decision, refusal
// or error back.
func TestAnswerReads(t *testing.T) {
	at := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	d := policy.Decision{At: at, Claims: []policy.Claimed{{Lease: policy.Lease{Resource: "schema", Domain: "builder", ExpiresAt: at.Add(time.Hour)}}}}
	refusal := policy.Refuse(policy.CodeHeldByOther, &policy.Fix{Argv: []string{"oxygen", "claim", "schema", "--wait"}}, "schema is leased by builder")
	for _, c := range []struct {
		name string
		err  error
	}{{"a decision", nil}, {"a refusal", refusal}, {"an error", errors.New("lock refs/oxygen/state: no space\nleft")}} {
		t.Run(c.name, func(t *testing.T) {
			relayed := fmt.Sprintf("remote: something else        \nremote: %s        \nTo ../remote.git\n", store.Answer(store.Outcome{Decision: d}, c.err))
			got, err := store.ReadAnswer([]byte(relayed))
			var r *policy.Refusal
			switch {
			case c.err == nil && (err != nil || !got.At.Equal(at) || got.Claims[0].Lease != d.Claims[0].Lease):
				t.Errorf("read %+v, %v; want %+v", got, err, d)
			case c.err == refusal && (!errors.As(err, &r) || r.Code != refusal.Code || r.Message != refusal.Message || r.Fix.Argv[3] != "--wait"):
				t.Errorf("read %v, want the refusal whole", err)
			case c.err != nil && c.err != refusal && (err == nil || err.Error() != "lock refs/oxygen/state: no space left"):
				t.Errorf("read %v, want the error in one line", err)
			}
		})
	}
}

// FuzzReadAnswer: whatever comes back on standard error, the clone reads
// an answer, or none, or says in one line that it does not read.
func FuzzReadAnswer(f *testing.F) {
	f.Add([]byte("remote: " + store.Answer(store.Outcome{}, nil) + "   \n"))
	f.Add([]byte(`remote: oxygen-answer: {"v":1,"state":{"tip":"x","records":{"../a":"AA=="}}}`))
	f.Add([]byte("oxygen-answer: "))
	f.Fuzz(func(t *testing.T, stderr []byte) {
		if _, err := store.ReadAnswer(stderr); err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Fatalf("error of more than one line: %q", err)
		}
	})
}

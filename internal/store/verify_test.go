package store_test

// The server's check of pushes to the state ref (Verifier) against real git:
// an honest history of every issue-5 mutation, made through the git store,
// must replay exactly; hand-forged state commits must not.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	oxygen "github.com/oxygen-protocol/oxygen"
	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

const (
	stateRef = "refs/oxygen/state"
	zeroID   = "0000000000000000000000000000000000000000"
)

// gitState is a bare remote and a clone whose git store pushes to it (no
// hooks: the Verifier is called directly).
type gitState struct {
	remote gitcli.Runner
	gitDir string // the remote's
	store  *store.Git
	policy *policy.Policy
	clone  string
}

func newGitState(t *testing.T) *gitState {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, v := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMITTER_EMAIL", "GIT_AUTHOR_EMAIL"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	remote, clone := filepath.Join(dir, "remote.git"), filepath.Join(dir, "clone")
	for _, args := range [][]string{
		{"init", "-q", "--bare", remote},
		{"init", "-q", clone},
		{"-C", clone, "remote", "add", "origin", remote},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	p, err := policy.Load("resources.yaml", oxygen.ReferencePolicy)
	if err != nil {
		t.Fatal(err)
	}
	return &gitState{
		remote: gitcli.Runner{Dir: remote},
		gitDir: remote,
		store:  store.OpenGit(gitcli.Runner{Dir: clone}, filepath.Join(clone, ".git"), clone, "origin", stateRef, false, ""),
		policy: p,
		clone:  clone,
	}
}

func (g *gitState) tip(t *testing.T) string {
	t.Helper()
	id, err := g.remote.RefID(stateRef)
	if err != nil || id == "" {
		t.Fatalf("state ref: %q, %v", id, err)
	}
	return id
}

func (g *gitState) verify(old, new string) error {
	return store.Verifier{Git: g.remote, Policy: g.policy, Now: time.Now()}.VerifyUpdate(old, new)
}

func mustOK[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// do acts through the git store at the client's clock (the server checks
// at its own), failing the test on an error.
func (g *gitState) do(t *testing.T, what string, a policy.Act) policy.Decision {
	t.Helper()
	d, err := g.store.Act(g.policy, a, time.Now)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return d
}

func gclaim(resources []string, domain, council string) policy.Act {
	return policy.Act{Kind: policy.ActClaim, Resources: resources, By: agentOf(domain), Domain: domain, TTL: time.Hour, Council: council}
}

func gassign(id, owner, council string) policy.Act {
	return policy.Act{Kind: policy.ActAssign, ID: id, Owner: owner, Domain: "builder", By: agentOf("builder"), Council: council}
}

func gsignal(id, kind, to, file string) policy.Act {
	a := policy.Act{Kind: policy.ActSignal, ID: id, Signal: kind, Domain: "builder", By: agentOf("builder"), Subject: "why", To: []string{to}}
	if file != "" {
		a.Files = []string{file}
	}
	return a
}

// grant raises council call id from builder to guardian and scribe (and
// to the holder of a lease it must lift, when given), and has all ack it.
func (g *gitState) grant(t *testing.T, id string, also ...string) {
	t.Helper()
	to := append([]string{"guardian", "scribe"}, also...)
	g.do(t, "council call", policy.Act{Kind: policy.ActSignal, ID: id, Signal: policy.SignalCouncilCall, Domain: "builder", By: agentOf("builder"), Subject: "blocked", To: to})
	for _, d := range to {
		g.do(t, "ack "+id, policy.Act{Kind: policy.ActAck, ID: id, By: agentOf(d)})
	}
}

func TestVerifierAcceptsProtocolHistory(t *testing.T) {
	g := newGitState(t)
	g.do(t, "claim", gclaim([]string{"schema", "storage"}, "builder", ""))
	g.do(t, "guardian claim", gclaim([]string{"identity"}, "guardian", ""))
	t1 := gassign("T-1", agentOf("builder"), "")
	t1.Scope = []string{"deploy/**"}
	g.do(t, "assign", t1)
	g.do(t, "assign", gassign("T-2", agentOf("builder"), ""))
	m1 := gsignal("m-1", policy.SignalMissive, "scribe", "docs/guide.md")
	m1.Capsule = "T-1"
	g.do(t, "missive", m1)
	g.do(t, "ack", policy.Act{Kind: policy.ActAck, ID: "m-1", By: agentOf("scribe")})
	g.do(t, "second ack", policy.Act{Kind: policy.ActAck, ID: "m-1", By: agentOf("scribe")})
	g.grant(t, "cc-1")
	g.do(t, "claim past the budget with a council call", gclaim([]string{"index"}, "builder", "cc-1"))
	g.grant(t, "cc-2")
	g.do(t, "assign past the budget with a council call", gassign("T-3", agentOf("builder"), "cc-2"))
	g.do(t, "done", policy.Act{Kind: policy.ActDone, ID: "T-1", By: agentOf("builder")})
	g.do(t, "done by a member of its domain", policy.Act{Kind: policy.ActDone, ID: "T-2", By: "bob@builder.example"})
	t4 := gassign("T-4", "eve@guardian.example", "")
	t4.Scope = []string{"access/**"}
	g.do(t, "assign across domains", t4)
	g.do(t, "accept", policy.Act{Kind: policy.ActAccept, ID: "T-4", By: "eve@guardian.example"})
	g.do(t, "widen", policy.Act{Kind: policy.ActWiden, ID: "T-4", By: "eve@guardian.example", Scope: []string{"secrets/**"}})
	g.do(t, "council call to decline", gsignal("cc-x", policy.SignalCouncilCall, "scribe", ""))
	g.do(t, "decline", policy.Act{Kind: policy.ActDecline, ID: "cc-x", By: agentOf("scribe")})
	g.grant(t, "cc-3", "guardian")
	l := g.do(t, "forced release", policy.Act{Kind: policy.ActRelease, Resources: []string{"identity"}, By: agentOf("builder"), Force: true, Council: "cc-3"}).Lease
	if l == nil || l.Domain != "guardian" {
		t.Fatalf("forced release returned %+v", l)
	}
	if err := g.verify(zeroID, g.tip(t)); err != nil {
		t.Fatalf("the server refuses an honest history: %v", err)
	}
}

// A claim of several resources past the change budget, lifted by one
// council call, is one honest act: the server must accept what the client
// decided.
func TestVerifierAcceptsMultiClaimCouncil(t *testing.T) {
	g := newGitState(t)
	g.do(t, "claim", gclaim([]string{"schema", "storage"}, "builder", ""))
	g.grant(t, "cc-1")
	old := g.tip(t)
	g.do(t, "claim two past the budget with one call", gclaim([]string{"index", "execution"}, "builder", "cc-1"))
	if err := g.verify(old, g.tip(t)); err != nil {
		t.Fatalf("the server refuses a multi-resource claim lifted by one granted council call: %v", err)
	}
}

// A capsule's owner may close it whatever their domain (decideDone): where
// the host names the pusher, the owner's own push of that must pass too.
func TestVerifierAcceptsDoneByOwnerAsPusher(t *testing.T) {
	g := newGitState(t)
	g.do(t, "assign", gassign("T-1", "eve@guardian.example", ""))
	old := g.tip(t)
	g.do(t, "done by the owner", policy.Act{Kind: policy.ActDone, ID: "T-1", By: "eve@guardian.example"})
	v := store.Verifier{Git: g.remote, Policy: g.policy, Pusher: "eve@guardian.example", Now: time.Now()}
	if err := v.VerifyUpdate(old, g.tip(t)); err != nil {
		t.Fatalf("the server refuses the owner's own push closing their capsule: %v", err)
	}
	// A member of neither the capsule's domain nor its owner is refused.
	v.Pusher = "sam@scribe.example"
	if err := v.VerifyUpdate(old, g.tip(t)); err == nil {
		t.Error("a push of eve's done by sam of scribe was accepted")
	}
}

// forge writes a state commit on top of the remote's tip: the tip's files
// with put written and del removed, and the events appended to the history.
func (g *gitState) forge(t *testing.T, put map[string][]byte, del []string, evs ...store.Event) (old, forged string) {
	t.Helper()
	old = g.tip(t)
	files := mustOK[map[string][]byte](t, "read the tip")(g.remote.ReadTree(old))
	log := files["events.jsonl"]
	for _, e := range evs {
		e.V = 1
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		log = append(append(log, b...), '\n')
	}
	if put == nil {
		put = map[string][]byte{}
	}
	put["events.jsonl"] = log
	id, err := g.remote.WriteCommit(g.gitDir, gitcli.StateCommit{Parent: old, Put: put, Delete: del, Message: "forged", By: "forger@example", At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return old, id
}

func TestVerifierRefusesForgeries(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, g *gitState)
		forge func(t *testing.T, g *gitState, now time.Time) (put map[string][]byte, del []string, evs []store.Event)
		want  string
	}{
		{
			name: "an acknowledgement written by the sender's domain",
			setup: func(t *testing.T, g *gitState) {
				g.do(t, "missive", gsignal("m-1", policy.SignalMissive, "scribe", "docs/guide.md"))
			},
			forge: func(t *testing.T, g *gitState, now time.Time) (map[string][]byte, []string, []store.Event) {
				s := signalAt(t, g, "m-1")
				s.Acks = []policy.Ack{{Domain: "scribe", By: "ada@builder.example", At: now}}
				return map[string][]byte{"signals/m-1.yaml": store.FormatSignal(s)}, nil,
					[]store.Event{{Op: store.OpAck, By: "ada@builder.example", At: now, Signal: &s}}
			},
			want: "ada@builder.example may not acknowledge signal m-1",
		},
		{
			name: "a place in a queue for a domain its author is not in",
			setup: func(t *testing.T, g *gitState) {
				g.do(t, "claim", gclaim([]string{"schema"}, "builder", ""))
			},
			forge: func(t *testing.T, g *gitState, now time.Time) (map[string][]byte, []string, []store.Event) {
				w := policy.Waiter{ID: "w-1", Resource: "schema", Owner: agentOf("builder"), Domain: "scribe", Since: now, Until: now.Add(time.Minute)}
				return map[string][]byte{"waiters/w-1.yaml": store.FormatWaiter(w)}, nil, []store.Event{{Op: store.OpWait, By: agentOf("builder"), At: now, Waiter: &w}}
			},
			want: "may not wait for scribe",
		},
		{
			name: "a queue file in the state",
			setup: func(t *testing.T, g *gitState) {
				g.do(t, "claim", gclaim([]string{"schema"}, "builder", ""))
			},
			forge: func(t *testing.T, g *gitState, now time.Time) (map[string][]byte, []string, []store.Event) {
				l := leaseAt(t, g, "schema")
				return map[string][]byte{"queue/schema/1-a.json": []byte(`{}`)}, nil,
					[]store.Event{{Op: store.OpRenew, By: agentOf("builder"), At: now, Lease: l}}
			},
			want: "queue/schema/1-a.json has no place in the state",
		},
		{
			name: "an acknowledgement without its event",
			setup: func(t *testing.T, g *gitState) {
				g.do(t, "missive", gsignal("m-1", policy.SignalMissive, "scribe", "docs/guide.md"))
			},
			forge: func(t *testing.T, g *gitState, now time.Time) (map[string][]byte, []string, []store.Event) {
				s := signalAt(t, g, "m-1")
				s.Acks = []policy.Ack{{Domain: "scribe", By: agentOf("scribe"), At: now}}
				return map[string][]byte{"signals/m-1.yaml": store.FormatSignal(s)}, nil, nil
			},
			want: "a state commit must add whole events",
		},
		{
			name: "a council call acknowledged by its sender's domain",
			setup: func(t *testing.T, g *gitState) {
				g.do(t, "claim", gclaim([]string{"schema", "storage"}, "builder", ""))
				g.do(t, "call", gsignal("cc-1", policy.SignalCouncilCall, "scribe", ""))
			},
			forge: func(t *testing.T, g *gitState, now time.Time) (map[string][]byte, []string, []store.Event) {
				s := signalAt(t, g, "cc-1")
				s.Acks = []policy.Ack{{Domain: "scribe", By: "ada@builder.example", At: now}}
				ackEv := store.Event{Op: store.OpAck, By: "ada@builder.example", At: now, Signal: &s}
				return map[string][]byte{"signals/cc-1.yaml": store.FormatSignal(s)}, nil, []store.Event{ackEv}
			},
			want: "may not acknowledge signal cc-1",
		},
		{
			name: "a forced release citing no council call",
			setup: func(t *testing.T, g *gitState) {
				g.do(t, "claim", gclaim([]string{"index"}, "guardian", ""))
			},
			forge: func(t *testing.T, g *gitState, now time.Time) (map[string][]byte, []string, []store.Event) {
				l := leaseAt(t, g, "index")
				l.ReleasedAt = now
				return nil, []string{"leases/index.yaml"}, []store.Event{{Op: store.OpRelease, By: "ada@builder.example", At: now, Lease: l, Force: true}}
			},
			want: "leased by guardian",
		},
		{
			name: "a claim past the budget citing a spent call",
			setup: func(t *testing.T, g *gitState) {
				g.do(t, "claim", gclaim([]string{"schema", "storage"}, "builder", ""))
				g.grant(t, "cc-1")
				g.do(t, "claim with the call", gclaim([]string{"index"}, "builder", "cc-1"))
			},
			forge: func(t *testing.T, g *gitState, now time.Time) (map[string][]byte, []string, []store.Event) {
				l := policy.Lease{Resource: "execution", Owner: "ada@builder.example", Domain: "builder", TTL: 3600, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
				s := signalAt(t, g, "cc-1")
				return map[string][]byte{"leases/execution.yaml": store.FormatLease(l), "signals/cc-1.yaml": store.FormatSignal(s)}, nil,
					[]store.Event{{Op: store.OpClaim, By: "ada@builder.example", At: now, Lease: l, Council: "cc-1"}}
			},
			want: "council call cc-1 was used already",
		},
		{
			// One act of several claims shares one time; a claim at another
			// time cannot ride on the call an earlier one spent.
			name: "a later claim riding on a call spent in the same commit",
			setup: func(t *testing.T, g *gitState) {
				g.do(t, "claim", gclaim([]string{"schema", "storage"}, "builder", ""))
				g.grant(t, "cc-1")
			},
			forge: func(t *testing.T, g *gitState, now time.Time) (map[string][]byte, []string, []store.Event) {
				claimEv := func(resource string, at time.Time) store.Event {
					l := policy.Lease{Resource: resource, Owner: "ada@builder.example", Domain: "builder", TTL: 3600, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
					return store.Event{Op: store.OpClaim, By: "ada@builder.example", At: at, Lease: l, Council: "cc-1"}
				}
				first, second := claimEv("index", now), claimEv("execution", now.Add(time.Millisecond))
				s := signalAt(t, g, "cc-1")
				s.UsedAt, s.UsedFor = now, "claim index"
				return map[string][]byte{
					"leases/index.yaml":     store.FormatLease(first.Lease),
					"leases/execution.yaml": store.FormatLease(second.Lease),
					"signals/cc-1.yaml":     store.FormatSignal(s),
				}, nil, []store.Event{first, second}
			},
			want: "claim execution by ada@builder.example: council call cc-1 was used already",
		},
		{
			name: "a capsule closed by a member of another domain",
			setup: func(t *testing.T, g *gitState) {
				g.do(t, "assign", gassign("T-1", agentOf("builder"), ""))
			},
			forge: func(t *testing.T, g *gitState, now time.Time) (map[string][]byte, []string, []store.Event) {
				var c policy.Capsule
				for _, cp := range mustOK[policy.State](t, "state")(g.store.Current()).Capsules {
					c = cp
				}
				c.Status, c.ClosedAt = policy.CapsuleDone, now
				return map[string][]byte{"capsules/T-1.yaml": store.FormatCapsule(c)}, nil,
					[]store.Event{{Op: store.OpDone, By: "eve@guardian.example", At: now, Capsule: &c}}
			},
			want: "eve@guardian.example may not close capsule T-1",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGitState(t)
			tt.setup(t, g)
			if err := g.verify(zeroID, g.tip(t)); err != nil {
				t.Fatalf("the honest history before the forgery is refused: %v", err)
			}
			// Forged now, after the honest history: a forgery the server's
			// clock would accept.
			put, del, evs := tt.forge(t, g, time.Now().UTC().Truncate(time.Millisecond))
			old, forged := g.forge(t, put, del, evs...)
			err := g.verify(old, forged)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("forged state commit: err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func signalAt(t *testing.T, g *gitState, id string) policy.Signal {
	t.Helper()
	for _, s := range mustOK[policy.State](t, "state")(g.store.Current()).Signals {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no signal %s", id)
	return policy.Signal{}
}

func leaseAt(t *testing.T, g *gitState, resource string) policy.Lease {
	t.Helper()
	for _, l := range mustOK[policy.State](t, "state")(g.store.Current()).Leases {
		if l.Resource == resource {
			return l
		}
	}
	t.Fatalf("no lease on %s", resource)
	return policy.Lease{}
}

// TestVerifierBoundsAPush: a push of more state commits than the bound is
// refused with the bound, before any of them is replayed.
func TestVerifierBoundsAPush(t *testing.T) {
	g := newGitState(t)
	g.do(t, "claim", gclaim([]string{"schema"}, "builder", ""))
	old := g.tip(t)
	tip := old
	for i := range store.MaxPushCommits + 1 {
		id, err := g.remote.WriteCommit(g.gitDir, gitcli.StateCommit{Parent: tip, Put: map[string][]byte{"events.jsonl": []byte(strings.Repeat("x\n", i+1))}, Message: "flood", By: "forger@example", At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		tip = id
	}
	err := g.verify(old, tip)
	if err == nil || !strings.Contains(err.Error(), "the push carries more than 100 state commits, the most one push may") {
		t.Fatalf("a push of 101 state commits: %v", err)
	}
}

// TestVerifierRefusesActsInAnothersName: where the host names the pusher,
// an honest act of someone else is refused, whoever could have made it.
func TestVerifierRefusesActsInAnothersName(t *testing.T) {
	g := newGitState(t)
	g.do(t, "claim", gclaim([]string{"schema"}, "builder", ""))
	old := g.tip(t)
	g.do(t, "missive", gsignal("m-1", policy.SignalMissive, "scribe", "docs/guide.md"))
	v := store.Verifier{Git: g.remote, Policy: g.policy, Pusher: agentOf("builder"), Now: time.Now()}
	if err := v.VerifyUpdate(old, g.tip(t)); err != nil {
		t.Fatalf("the sender's own push: %v", err)
	}
	v.Pusher = "bob@builder.example" // a member of the same domain, but not the author
	if err := v.VerifyUpdate(old, g.tip(t)); err == nil || !strings.Contains(err.Error(), "pushed by bob@builder.example, but recorded as agent@builder.example's") {
		t.Fatalf("agent's missive pushed by bob: %v", err)
	}
	v.Pusher = "eve" // a host's user name that is in no domain of the sender's
	if err := v.VerifyUpdate(old, g.tip(t)); err == nil || !strings.Contains(err.Error(), "pushed by eve") {
		t.Fatalf("agent's missive pushed by the user name eve: %v", err)
	}
}

// The queue's acts and a carried dead end, as an honest clone pushes them:
// a place, its heartbeat, a claim by the head of the queue, leaving it.
func TestVerifierAcceptsQueueAndDeadEnd(t *testing.T) {
	g := newGitState(t)
	g.do(t, "claim", gclaim([]string{"schema"}, "builder", ""))
	old := g.tip(t)
	wait := policy.Act{Kind: policy.ActWait, ID: "w-1", By: agentOf("guardian"), Domain: "guardian", Resources: []string{"schema"}, TTL: time.Minute}
	g.do(t, "wait", wait)
	g.do(t, "heartbeat", wait)
	g.do(t, "release", policy.Act{Kind: policy.ActRelease, By: agentOf("builder"), Resources: []string{"schema"}})
	g.do(t, "claim by the head", gclaim([]string{"schema"}, "guardian", ""))
	g.do(t, "unwait", policy.Act{Kind: policy.ActUnwait, ID: "w-1", By: agentOf("guardian")})
	de := policy.DeadEnd{ID: "d-1", Hook: "pre-commit", Who: agentOf("builder"), At: time.Now().UTC().Add(-time.Hour), Paths: []string{"schema/a"}, Why: []string{"no lease"}}
	g.do(t, "dead end", policy.Act{Kind: policy.ActDeadEnd, By: agentOf("builder"), DeadEnd: &de})
	if err := g.verify(old, g.tip(t)); err != nil {
		t.Fatalf("the server refuses an honest queue and dead end: %v", err)
	}
	st, err := g.store.Current()
	if err != nil || len(st.Waiters) != 0 || len(st.DeadEnds) != 1 {
		t.Fatalf("state after: %+v, %v", st, err)
	}
}

// TestVerifierAncestry: the state ref moves only forward, along one line.
// The verifier reads ancestry from the commits the push brings, with no
// process of its own for it: each shape of history is told apart.
func TestVerifierAncestry(t *testing.T) {
	g := newGitState(t)
	g.do(t, "claim", gclaim([]string{"schema"}, "builder", ""))
	first := g.tip(t)
	g.do(t, "claim", gclaim([]string{"index"}, "builder", ""))
	second := g.tip(t)
	commitTree := func(parents ...string) string {
		t.Helper()
		args := []string{"-c", "user.name=t", "-c", "user.email=t@example", "commit-tree", "-m", "shape"}
		for _, p := range parents {
			args = append(args, "-p", p)
		}
		out, err := g.remote.Run(nil, append(args, second+"^{tree}")...)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	unrelated := commitTree()
	// An annotated tag of the next state: git would set the ref to the tag,
	// which no later push could move (the ref no longer names a commit).
	tag := func(of string) string {
		t.Helper()
		name := "t" + of[:12]
		if _, err := g.remote.Run(nil, "-c", "user.name=t", "-c", "user.email=t@example", "tag", "-a", "-m", "tag", name, of); err != nil {
			t.Fatal(err)
		}
		out, err := g.remote.Run(nil, "rev-parse", "refs/tags/"+name)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	const forward, line, notCommit = "only moves forward", "must be a single line", "is not a commit"
	for _, tc := range []struct {
		name     string
		old, new string
		want     string // in the refusal; "" accepted
	}{
		{"one act on top", first, second, ""},
		{"back to an older state", second, first, forward},
		{"a history of its own", second, unrelated, forward},
		{"a history of its own on top of one", second, commitTree(unrelated), forward},
		{"a merge that brings the old state in second", second, commitTree(unrelated, second), line},
		{"a merge that brings the old state in first", second, commitTree(second, unrelated), line},
		{"an annotated tag of the next state", first, tag(second), notCommit},
		{"an annotated tag of the first state, from none", zeroID, tag(first), notCommit},
	} {
		err := g.verify(tc.old, tc.new)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

package store_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// at acts through the git store at the time given.
func (g *gitState) at(t *testing.T, when time.Time, what string, a policy.Act) {
	t.Helper()
	if _, err := g.store.Act(g.policy, a, func() time.Time { return when }); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// variant writes a commit beside honest (same parent, same message) with
// its tree changed by put and del.
func (g *gitState) variant(t *testing.T, honest string, put map[string][]byte, del ...string) (parent, id string) {
	t.Helper()
	out, err := g.remote.Run(nil, "log", "-1", "--format=%P%x00%B", honest)
	if err != nil {
		t.Fatal(err)
	}
	parent, msg, _ := strings.Cut(string(out), "\x00")
	parent = strings.TrimSpace(parent)
	files, err := g.remote.ReadTree(honest)
	if err != nil {
		t.Fatal(err)
	}
	old, err := g.remote.ReadTree(parent)
	if err != nil {
		t.Fatal(err)
	}
	all := map[string][]byte{}
	for p, d := range files {
		all[p] = d
	}
	for p, d := range put {
		all[p] = d
	}
	for _, p := range del {
		delete(all, p)
	}
	var gone []string
	for p := range old {
		if _, ok := all[p]; !ok {
			gone = append(gone, p)
		}
	}
	id, err = g.remote.WriteCommit(g.gitDir, gitcli.StateCommit{Parent: parent, Put: all, Delete: gone, Message: strings.TrimSpace(msg), By: agentOf("builder"), At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return parent, id
}

func (g *gitState) verifyAt(now time.Time, old, new string) error {
	return store.Verifier{Git: g.remote, Policy: g.policy, Now: now}.VerifyUpdate(old, new)
}

// TestVerifierPruneExactly: a state commit prunes exactly the records due
// at its act's time: a granted, unused council call and a live missive
// stay however old; a done capsule due goes, and one kept is refused.
func TestVerifierPruneExactly(t *testing.T) {
	g := newGitState(t)
	t0 := time.Now()
	g.at(t, t0, "assign", gassign("c1", agentOf("builder"), ""))
	g.at(t, t0, "done", policy.Act{Kind: policy.ActDone, ID: "c1", By: agentOf("builder")})
	g.grant(t, "k1")
	later := t0.Add(2 * time.Hour)
	g.at(t, later, "claim", gclaim([]string{"schema"}, "builder", ""))
	honest := g.tip(t)
	files, err := g.remote.ReadTree(honest)
	if err != nil {
		t.Fatal(err)
	}
	if _, kept := files["capsules/c1.yaml"]; kept {
		t.Fatal("the honest act did not prune the done capsule")
	}
	parent, _ := g.variant(t, honest, nil)
	if err := g.verifyAt(later, parent, honest); err != nil {
		t.Fatalf("the honest prune is refused: %v", err)
	}
	before, err := g.remote.ReadTree(parent)
	if err != nil {
		t.Fatal(err)
	}
	_, keep := g.variant(t, honest, map[string][]byte{"capsules/c1.yaml": before["capsules/c1.yaml"]})
	if err := g.verifyAt(later, parent, keep); err == nil || !strings.Contains(err.Error(), "do not match what the events decide") {
		t.Errorf("a due record kept: %v", err)
	}
	if _, ok := files["signals/k1.yaml"]; !ok {
		t.Fatalf("the honest act pruned the granted call; tree: %v", keys(files))
	}
	_, drop := g.variant(t, honest, nil, "signals/k1.yaml")
	if err := g.verifyAt(later, parent, drop); err == nil || !strings.Contains(err.Error(), "do not match what the events decide") {
		t.Errorf("a granted, unused council call pruned: %v", err)
	}
}

// TestVerifierRefusesQueueEvents: a claimer's queue is the clone's own; a
// wait event pushed to the state ref is refused.
func TestVerifierRefusesQueueEvents(t *testing.T) {
	g := newGitState(t)
	g.do(t, "claim", gclaim([]string{"schema"}, "builder", ""))
	base := g.tip(t)
	files, err := g.remote.ReadTree(base)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	line := `{"v":1,"op":"wait","by":"` + agentOf("builder") + `","at":"` + now.Format(time.RFC3339) + `","waiter":{"id":"1","resource":"schema","owner":"` + agentOf("builder") + `","domain":"builder","since":"` + now.Format(time.RFC3339) + `","until":"` + now.Add(time.Minute).Format(time.RFC3339) + `"}}` + "\n"
	for _, msg := range []string{"oxygen: wait schema by " + agentOf("builder"), "x"} {
		id, err := g.remote.WriteCommit(g.gitDir, gitcli.StateCommit{Parent: base, Put: map[string][]byte{"events.jsonl": append(bytes.Clone(files["events.jsonl"]), line...)}, Message: msg, By: agentOf("builder"), At: now})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.verify(base, id); err == nil {
			t.Errorf("a wait event pushed to the state ref (%q) is accepted", msg)
		} else {
			t.Log(err)
		}
	}
}

// TestVerifierSealHoldsTheLogAsItWas: the segment a seal adds is the
// parent's events.jsonl blob, not another of the same size, and the new
// events.jsonl starts afresh.
func TestVerifierSealHoldsTheLogAsItWas(t *testing.T) {
	defer store.SetSegmentEvents(3)()
	g := newGitState(t)
	claim := gclaim([]string{"schema"}, "builder", "")
	release := policy.Act{Kind: policy.ActRelease, Resources: []string{"schema"}, By: agentOf("builder")}
	g.do(t, "claim", claim)
	g.do(t, "release", release)
	g.do(t, "claim", claim)
	g.do(t, "release", release) // seals 000001
	honest := g.tip(t)
	files, err := g.remote.ReadTree(honest)
	if err != nil {
		t.Fatal(err)
	}
	seg := files["history/000001.jsonl"]
	if seg == nil {
		t.Fatal("no seal")
	}
	parent, _ := g.variant(t, honest, nil)
	if err := g.verify(parent, honest); err != nil {
		t.Fatalf("the honest seal is refused: %v", err)
	}
	same := bytes.Clone(seg)
	i := bytes.Index(same, []byte(`"schema"`))
	same[i+1] = 'S' // one byte, same size
	_, forged := g.variant(t, honest, map[string][]byte{"history/000001.jsonl": same})
	if err := g.verify(parent, forged); err == nil || !strings.Contains(err.Error(), "is not events.jsonl as it was") {
		t.Errorf("a sealed segment of the same size, changed: %v", err)
	}
	_, dup := g.variant(t, honest, map[string][]byte{"events.jsonl": append(bytes.Clone(seg), files["events.jsonl"]...)})
	if err := g.verify(parent, dup); err == nil {
		t.Error("a seal that also keeps the old events in events.jsonl is accepted")
	} else {
		t.Log(err)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

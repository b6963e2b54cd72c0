package store_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// TestGitStoreSegments: the git store moves events.jsonl whole to the next
// history segment once it holds segmentEvents events (here 3), so an act
// writes a short file however long the history; the server accepts exactly
// that and refuses a segment changed, removed, sealed early or late; the
// clone's copy and the server's history are the whole log all the same.
func TestGitStoreSegments(t *testing.T) {
	defer store.SetSegmentEvents(3)()
	g := newGitState(t)
	claim := gclaim([]string{"schema"}, "builder", "")
	release := policy.Act{Kind: policy.ActRelease, Resources: []string{"schema"}, By: agentOf("builder")}
	var tips []string
	for range 5 {
		g.do(t, "claim", claim)
		tips = append(tips, g.tip(t))
		g.do(t, "release", release)
		tips = append(tips, g.tip(t))
	}
	prev := zeroID
	for _, tip := range tips {
		if err := g.verify(prev, tip); err != nil {
			t.Fatalf("the server refuses an honest act: %v", err)
		}
		prev = tip
	}
	files, err := g.remote.ReadTree(prev)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	want := []string{"checkpoints/000001.json", "checkpoints/000002.json", "checkpoints/000003.json", "events.jsonl", "history/000001.jsonl", "history/000002.jsonl", "history/000003.jsonl"}
	if !slices.Equal(paths, want) {
		t.Fatalf("the state tree holds %v, want %v", paths, want)
	}
	if n := bytes.Count(files["events.jsonl"], []byte("\n")); n != 1 {
		t.Errorf("events.jsonl holds %d events after 10 acts, want 1", n)
	}
	// The whole history, on the server and in the clone's copy.
	history, err := store.OpenRef(g.remote, stateRef).History()
	if err != nil || len(history) != 5 {
		t.Fatalf("the server's history: %d leases, %v", len(history), err)
	}
	local, err := os.ReadFile(filepath.Join(filepath.Join(g.clone, store.Dir), "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(local, []byte("\n")); n != 10 {
		t.Errorf("the clone's copy holds %d events, want 10", n)
	}
	// A clone that never saw the state rebuilds its copy from the segments.
	os.Remove(filepath.Join(filepath.Join(g.clone, store.Dir), "events.jsonl"))
	if err := g.store.Sync(); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(filepath.Join(filepath.Join(g.clone, store.Dir), "events.jsonl")); !bytes.Equal(again, local) {
		t.Error("a rebuilt copy differs from the one grown act by act")
	}

	// Forgeries on top of the tip (events.jsonl: 1 event, 3 segments).
	forge := func(parent string, put map[string][]byte, del ...string) string {
		t.Helper()
		id, err := g.remote.WriteCommit(g.gitDir, gitcli.StateCommit{Parent: parent, Put: put, Delete: del, Message: "forged", By: agentOf("builder"), At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	line := files["events.jsonl"]
	for _, c := range []struct {
		name, want string
		id         string
	}{
		{"a segment changed", "history/000001.jsonl was changed or removed", forge(prev, map[string][]byte{"history/000001.jsonl": []byte("{}\n"), "events.jsonl": append(bytes.Clone(line), line...)})},
		{"a segment removed", "history/000002.jsonl was changed or removed", forge(prev, map[string][]byte{"events.jsonl": append(bytes.Clone(line), line...)}, "history/000002.jsonl")},
		{"sealed early", "moved to a segment only once it holds 3 events", forge(prev, map[string][]byte{"history/000004.jsonl": line, "events.jsonl": line})},
		{"a segment out of order", "want history/000004.jsonl, not history/000009.jsonl", forge(prev, map[string][]byte{"history/000009.jsonl": line, "events.jsonl": line})},
		{"a stray file", "history/x.jsonl has no place in the state", forge(prev, map[string][]byte{"history/x.jsonl": line, "events.jsonl": append(bytes.Clone(line), line...)})},
	} {
		if err := g.verify(prev, c.id); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// Sealed late: two more acts fill events.jsonl to 3; a commit that adds
	// to it instead of moving it is refused.
	g.do(t, "claim", claim)
	g.do(t, "release", release)
	full := g.tip(t)
	late := forge(full, map[string][]byte{"events.jsonl": append(bytes.Clone(line), append(line, line...)...)})
	if err := g.verify(full, late); err == nil || !strings.Contains(err.Error(), "events.jsonl holds 3 events: the next act moves it to history/000004.jsonl first") {
		t.Errorf("sealed late: %v", err)
	}
}

// TestVerifierRefusesAStaleUpdateAtOnce: an update whose ref moved since
// the pusher read it is refused before its replay, in the words the
// pusher takes for a lost race.
func TestVerifierRefusesAStaleUpdateAtOnce(t *testing.T) {
	g := newGitState(t)
	g.do(t, "claim", gclaim([]string{"schema"}, "builder", ""))
	first := g.tip(t)
	g.do(t, "claim", gclaim([]string{"index"}, "builder", ""))
	found := g.tip(t)
	v := store.Verifier{Git: g.remote, Policy: g.policy, Now: time.Now(), Found: &found}
	if err := v.VerifyUpdate(zeroID, first); err == nil || err.Error() != gitcli.MovedMeanwhile {
		t.Errorf("an update from nothing, the ref being at %s: %v", g.tip(t)[:12], err)
	}
	if err := v.VerifyUpdate(first, g.tip(t)); err == nil || err.Error() != gitcli.MovedMeanwhile {
		t.Errorf("an update from %s, the ref being there already: %v", first[:12], err)
	}
	v.Found = nil
	if err := v.VerifyUpdate(first, g.tip(t)); err != nil {
		t.Errorf("without the ref to compare, the update replays: %v", err)
	}
}

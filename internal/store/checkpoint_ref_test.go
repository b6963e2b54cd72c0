package store_test

import (
	"encoding/json"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gitcli "github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

const (
	cp1 = "checkpoints/000001.json"
	cp2 = "checkpoints/000002.json"
	cp3 = "checkpoints/000003.json"
)

// sealTwice acts through the git store (segments of 3 events) until it has
// sealed two segments, and once more: it returns the state commits of its
// 8 acts; the 4th seals history/000001.jsonl, the 7th history/000002.jsonl.
func sealTwice(t *testing.T, g *gitState) []string {
	t.Helper()
	var tips []string
	for _, res := range []string{"schema", "index", "storage", "execution"} {
		g.do(t, "claim", gclaim([]string{res}, "builder", ""))
		tips = append(tips, g.tip(t))
		g.do(t, "release", policy.Act{Kind: policy.ActRelease, Resources: []string{res}, By: agentOf("builder")})
		tips = append(tips, g.tip(t))
	}
	return tips
}

// planted is checkpoint data (a state ref's checkpoint) with a lease the
// history never had.
func planted(t *testing.T, data []byte) []byte {
	t.Helper()
	var cp map[string]any
	if err := json.Unmarshal(data, &cp); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	cp["state"] = map[string]any{"Leases": []map[string]any{{"resource": "planted", "owner": agentOf("builder"), "domain": "builder", "ttl": 3600,
		"created_at": now, "expires_at": now.Add(time.Hour)}}}
	out, err := json.Marshal(cp)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// TestVerifierCheckpoints: the act that seals a segment carries exactly the
// checkpoint the history gives after it, and no commit changes, removes or
// adds another.
func TestVerifierCheckpoints(t *testing.T) {
	defer store.SetSegmentEvents(3)()
	g := newGitState(t)
	tips := sealTwice(t, g)
	seal2, after := tips[6], tips[7]
	files, err := g.remote.ReadTree(after)
	if err != nil {
		t.Fatal(err)
	}
	if files[cp1] == nil || files[cp2] == nil || files[cp3] != nil {
		t.Fatalf("the state holds %v, want the checkpoints of two segments", slices.Sorted(maps.Keys(files)))
	}
	for _, c := range []struct {
		name   string
		honest string // the act the forgery stands in for
		put    map[string][]byte
		del    []string
		want   string // "": accepted
	}{
		{"the honest seal", seal2, nil, nil, ""},
		{"the honest act after it", after, nil, nil, ""},
		{"a wrong checkpoint", seal2, map[string][]byte{cp2: planted(t, files[cp2])}, nil, cp2 + " is not the state the history gives after history/000002.jsonl"},
		{"the checkpoint before", seal2, map[string][]byte{cp2: files[cp1]}, nil, cp2 + " is not the state the history gives"},
		{"padded", seal2, map[string][]byte{cp2: append(slices.Clone(files[cp2]), ' ')}, nil, cp2 + " is not the state the history gives"},
		{"a seal without its checkpoint", seal2, nil, []string{cp2}, "history/000002.jsonl is sealed without " + cp2},
		{"a checkpoint changed", after, map[string][]byte{cp1: planted(t, files[cp1])}, nil, cp1 + " was changed or removed"},
		{"a checkpoint changed by a seal", seal2, map[string][]byte{cp1: planted(t, files[cp1])}, nil, cp1 + " was changed or removed"},
		{"a checkpoint removed", after, nil, []string{cp1}, cp1 + " was changed or removed"},
		{"a checkpoint added without a seal", after, map[string][]byte{cp3: files[cp2]}, nil, cp3 + " is added without sealing its segment"},
		{"a seal that adds two", seal2, map[string][]byte{cp3: files[cp2]}, nil, cp3 + " is added without sealing its segment"},
		{"a checkpoint of another name", after, map[string][]byte{"checkpoints/1.json": files[cp1]}, nil, "checkpoints/1.json has no place in the state"},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent, id := g.variant(t, c.honest, c.put, c.del...)
			err := g.verify(parent, id)
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("%v, want %q", err, c.want)
			}
		})
	}
}

// stripped is commit's tree without its checkpoints, written as one commit
// on parent ("" none) with commit's message: as a store sealed before
// checkpoints were written holds it.
func (g *gitState) stripped(t *testing.T, commit, parent string, keep ...string) string {
	t.Helper()
	files := mustOK[map[string][]byte](t, "read")(g.remote.ReadTree(commit))
	msg := mustOK[[]byte](t, "log")(g.remote.Run(nil, "log", "-1", "--format=%B", commit))
	var gone []string
	if parent != "" {
		for p := range mustOK[map[string][]byte](t, "read")(g.remote.ReadTree(parent)) {
			if files[p] == nil {
				gone = append(gone, p)
			}
		}
	}
	for p := range files {
		if strings.HasPrefix(p, "checkpoints/") && !slices.Contains(keep, p) {
			delete(files, p)
			gone = append(gone, p)
		}
	}
	return mustOK[string](t, "commit")(g.remote.WriteCommit(g.gitDir, gitcli.StateCommit{Parent: parent, Put: files, Delete: gone, Message: strings.TrimSpace(string(msg)), By: agentOf("builder"), At: time.Now()}))
}

// TestCheckpointsOfAStoreSealedBefore: a state ref whose segments were
// sealed before checkpoints were written stays valid and readable; the
// next seal's checkpoint, computed from the beginning, is the one computed
// from the checkpoint before it.
func TestCheckpointsOfAStoreSealedBefore(t *testing.T) {
	defer store.SetSegmentEvents(3)()
	g := newGitState(t)
	tips := sealTwice(t, g)
	old := g.stripped(t, tips[5], "")        // segment 1, no checkpoint
	seal := g.stripped(t, tips[6], old, cp2) // seals segment 2 with the honest checkpoint
	if err := g.verify(old, seal); err != nil {
		t.Fatalf("the honest seal on a store without checkpoints: %v", err)
	}
	next := g.stripped(t, tips[7], seal, cp2)
	if err := g.verify(seal, next); err != nil {
		t.Fatalf("an act after it: %v", err)
	}
	late := g.stripped(t, tips[7], seal, cp1, cp2)
	if err := g.verify(seal, late); err == nil || !strings.Contains(err.Error(), cp1+" is added without sealing its segment") {
		t.Errorf("a checkpoint added late for an old segment: %v", err)
	}
	for _, tip := range []string{old, seal} {
		if _, err := g.remote.Run(nil, "update-ref", stateRef, tip); err != nil {
			t.Fatal(err)
		}
		st, err := store.OpenRef(g.remote, stateRef).HistoryState(time.Now().Add(time.Hour))
		if err != nil || len(st.Leases) < 3 {
			t.Errorf("the history of %s: %d leases, %v", tip[:12], len(st.Leases), err)
		}
	}
}

// freshClone is a new clone of g's remote whose git store has read nothing
// yet (as CI's).
func freshClone(t *testing.T, g *gitState) *store.Git {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fresh")
	for _, args := range [][]string{{"init", "-q", dir}, {"-C", dir, "remote", "add", "origin", g.gitDir}} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return store.OpenGit(gitcli.Runner{Dir: dir}, filepath.Join(dir, ".git"), dir, "origin", stateRef, false, "")
}

// TestHistoryStateFromRefCheckpoints: the server and a fresh clone read the
// history of a recent range from the state ref's newest checkpoint before
// it, and get what the whole replay gives.
func TestHistoryStateFromRefCheckpoints(t *testing.T) {
	defer store.SetSegmentEvents(3)()
	g := newGitState(t)
	tips := sealTwice(t, g)
	same := func(a, b policy.Lease) bool {
		return a.Resource == b.Resource && a.CreatedAt.Equal(b.CreatedAt) && a.End().Equal(b.End())
	}
	ref := store.OpenRef(g.remote, stateRef)
	full := mustOK[policy.State](t, "the whole history")(ref.HistoryState(time.Time{}))
	if len(full.Leases) != 4 {
		t.Fatalf("the whole history: %d leases, want 4", len(full.Leases))
	}
	recent := time.Now().Add(time.Hour)
	for name, s := range map[string]store.Store{"server": ref, "fresh clone": freshClone(t, g)} {
		st, err := s.HistoryState(recent)
		if err != nil || !slices.EqualFunc(st.Leases, full.Leases, same) {
			t.Errorf("%s: %d leases from a checkpoint, the whole history %d (%v)", name, len(st.Leases), len(full.Leases), err)
		}
	}
	// The checkpoint is read: one planted (on a server that does not
	// verify) shows its lease to a recent range, not to the whole history.
	files := mustOK[map[string][]byte](t, "read")(g.remote.ReadTree(tips[7]))
	plant := planted(t, files[cp2])
	_, forged := g.variant(t, tips[7], map[string][]byte{cp2: plant})
	if _, err := g.remote.Run(nil, "update-ref", stateRef, forged); err != nil {
		t.Fatal(err)
	}
	isPlanted := func(l policy.Lease) bool { return l.Resource == "planted" }
	for name, s := range map[string]store.Store{"server": ref, "fresh clone": freshClone(t, g)} {
		if st, err := s.HistoryState(recent); err != nil || !slices.ContainsFunc(st.Leases, isPlanted) {
			t.Errorf("%s: the history of a recent range was not read from the checkpoint (%v)", name, err)
		}
		if st, err := s.HistoryState(time.Time{}); err != nil || slices.ContainsFunc(st.Leases, isPlanted) {
			t.Errorf("%s: the whole history was read from a checkpoint (%v)", name, err)
		}
	}
	// A checkpoint too large to read is passed over: the range is answered
	// from an older start, not refused.
	defer store.SetMaxCheckpoint(int64(len(plant)) - 1)()
	for name, s := range map[string]store.Store{"server": ref, "fresh clone": freshClone(t, g)} {
		if st, err := s.HistoryState(recent); err != nil || slices.ContainsFunc(st.Leases, isPlanted) || len(st.Leases) != len(full.Leases) {
			t.Errorf("%s: with the planted checkpoint too large, %d leases, planted %v, want the whole history's %d (%v)", name, len(st.Leases), slices.ContainsFunc(st.Leases, isPlanted), len(full.Leases), err)
		}
	}
}

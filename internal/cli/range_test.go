package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// forgetfulStore records the times the history is read from, and leaves
// out, as a checkpoint may, every lease that ended more than a day before
// (store.Store's HistoryState): a read from too late a time misses them.
type forgetfulStore struct {
	store.Store
	mu    sync.Mutex
	since []time.Time
}

func (s *forgetfulStore) HistoryState(since time.Time) (policy.State, error) {
	s.mu.Lock()
	s.since = append(s.since, since)
	s.mu.Unlock()
	st, err := s.Store.HistoryState(time.Time{})
	st.Leases = slices.DeleteFunc(st.Leases, func(l policy.Lease) bool { return l.End().Before(since.Add(-24 * time.Hour)) })
	return st, err
}

// runAt runs oxygen's command line with the clock at t.
func runAt(t *testing.T, at time.Time, args ...string) {
	t.Helper()
	var out bytes.Buffer
	a := newApp(bytes.NewReader(nil), &out, &out)
	a.now = func() time.Time { return at }
	if code := a.execute(context.Background(), args); code != 0 {
		t.Fatalf("oxygen %s: exit %d: %s", strings.Join(args, " "), code, out.String())
	}
}

// commitAt commits everything as who, dated at.
func commitAt(t *testing.T, at time.Time, who string, args ...string) {
	t.Helper()
	date := at.Format(time.RFC3339)
	cmd := exec.Command("git", append([]string{"commit", "-q", "--no-verify"}, args...)...)
	cmd.Env = append(cmd.Environ(), "GIT_COMMITTER_DATE="+date, "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_EMAIL="+who, "GIT_AUTHOR_EMAIL="+who)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git commit %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// TestCheckRangeReadsHistoryEarly: check --range reads the history from
// the committer time of the range's start while git lists the range, and
// keeps that read only where no commit of the range is older; a range that
// holds an older commit (here a merge of a branch made days before) is
// judged from its oldest commit, as without the early read: a lease that
// ended days before the start still allows its holder's commit, and still
// refuses another's.
func TestCheckRangeReadsHistoryEarly(t *testing.T) {
	testRepo(t)
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	start := leasedThenStarted(t, t0) // the range's start, A
	now := t0.Add(10 * 24 * time.Hour)

	judge := func(r *repo, rng, rev string, early bool) []policy.Violation {
		t.Helper()
		a := newApp(nil, &bytes.Buffer{}, &bytes.Buffer{})
		a.now = func() time.Time { return now }
		var vs []policy.Violation
		e, err := a.checkEnds(rng, rev)
		if err != nil {
			t.Fatal(err)
		}
		if early {
			_, vs, err = a.checkRange(r, e)
		} else { // as before the early read: from the oldest commit only
			_, vs, err = a.judgeCommits(r, func() ([]git.Commit, error) {
				if e.old == "" {
					return a.git.Log("-n1", e.tip)
				}
				return a.git.Log(e.tip, "^"+e.old)
			}, time.Time{}, "", func() ([]fallback, error) { return nil, nil }, map[string]string{e.tip: "the last commit judged"})
		}
		if err != nil {
			t.Fatalf("check %s%s: %v", rng, rev, err)
		}
		return vs
	}
	open := func() (*repo, *forgetfulStore) {
		t.Helper()
		r, err := newApp(nil, &bytes.Buffer{}, &bytes.Buffer{}).openRepo(nil)
		if err != nil {
			t.Fatal(err)
		}
		fs := &forgetfulStore{Store: r.store}
		r.store = fs
		return r, fs
	}

	// A commit after the start: the early read judges it.
	writeFile(t, "notes.txt", "b\n")
	commitAt(t, start.Add(time.Hour), "ada@builder.example", "-a", "-m", "B")
	gitHere(t, "tag", "B")
	r, fs := open()
	if vs := judge(r, "A..B", "", true); len(vs) != 0 {
		t.Errorf("A..B: %v, want no violations", vs)
	}
	if !slices.EqualFunc(fs.since, []time.Time{start}, time.Time.Equal) {
		t.Errorf("A..B read the history from %v, want once, from A's time %v", fs.since, start)
	}
	r, fs = open()
	judge(r, "", "B", true)
	if want := start.Add(time.Hour); !slices.EqualFunc(fs.since, []time.Time{want}, time.Time.Equal) {
		t.Errorf("--commit B read the history from %v, want once, from its time %v", fs.since, want)
	}

	// A branch made under the lease, days before the start, merged in.
	for _, c := range []struct {
		who  string
		rule string // "" allowed
	}{
		{"ada@builder.example", ""}, // the holder, under her lease
		{"eve@guardian.example", policy.RuleHeldByOther},
	} {
		t.Run(strings.Split(c.who, "@")[0], func(t *testing.T) {
			gitHere(t, "checkout", "-q", "-B", "side", "old")
			writeFile(t, "store/blobs/model.bin", c.who+"\n")
			gitHere(t, "add", "-A")
			commitAt(t, t0.Add(10*time.Minute), c.who, "-m", "X")
			gitHere(t, "checkout", "-q", "B")
			cmd := exec.Command("git", "merge", "-q", "--no-ff", "--no-verify", "-m", "M", "side")
			date := start.Add(2 * time.Hour).Format(time.RFC3339)
			cmd.Env = append(cmd.Environ(), "GIT_COMMITTER_DATE="+date, "GIT_AUTHOR_DATE="+date)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git merge: %v: %s", err, out)
			}
			r, fs := open()
			got := judge(r, "A..HEAD", "", true)
			if want := []time.Time{start, t0.Add(10 * time.Minute)}; !slices.EqualFunc(fs.since, want, time.Time.Equal) {
				t.Errorf("read the history from %v, want %v: from A's time, then from the oldest commit's", fs.since, want)
			}
			r, _ = open()
			if before := judge(r, "A..HEAD", "", false); !slices.EqualFunc(got, before, func(v, w policy.Violation) bool {
				return v.Commit == w.Commit && v.Path == w.Path && v.Rule == w.Rule && v.Reason == w.Reason
			}) {
				t.Errorf("judged %v, but from the oldest commit only %v", got, before)
			}
			rules := make([]string, len(got))
			for i, v := range got {
				rules[i] = v.Rule
			}
			if want := slices.DeleteFunc([]string{c.rule}, func(s string) bool { return s == "" }); !slices.Equal(rules, want) {
				t.Errorf("the range with %s's old commit: %v, want %q", c.who, got, want)
			}
		})
	}
}

// writeFile writes a file of the current directory, making its folders.
func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckRangeGitProcesses is a speed guard: CI pays for each git
// process check --range starts; its two ends are resolved in one.
func TestCheckRangeGitProcesses(t *testing.T) {
	testRepo(t)
	for _, s := range []string{"a", "b"} {
		writeFile(t, "notes.txt", s+"\n")
		gitHere(t, "add", "notes.txt")
		gitHere(t, "commit", "-q", "--no-verify", "-m", s)
	}
	for _, args := range [][]string{{"--range", "HEAD~2..HEAD"}, {"--commit", "HEAD"}} {
		var rec gitRecorder
		a := newApp(nil, nil, nil)
		a.git.Exec = rec.exec
		if code, out := runApp(t, a, append([]string{"check"}, args...)...); code != 0 {
			t.Fatalf("oxygen check %q: exit %d: %s", args, code, out)
		}
		slices.Sort(rec.calls)
		// rev-parse finds the repository, var the committer; cat-file
		// reads HEAD's policy (no cache here), resolves both ends (two
		// rev-parses for a range before) and looks up the policy's ids at
		// the range's edge. HEAD's policy is not read again.
		if want := []string{"cat-file", "cat-file", "cat-file", "log", "rev-parse", "var"}; !slices.Equal(rec.calls, want) {
			t.Errorf("check %q ran git %q, want %q", args, rec.calls, want)
		}
	}
}

// TestCheckRangeFetchesOnce: with the git store, a range that holds a
// commit older than its start is read twice (from the start, then from
// the oldest commit) but fetched once.
func TestCheckRangeFetchesOnce(t *testing.T) {
	testRepo(t)
	remote := t.TempDir()
	gitHere(t, "init", "-q", "--bare", remote)
	gitHere(t, "remote", "add", "origin", remote)
	data, err := os.ReadFile(policy.FileName)
	if err != nil {
		t.Fatal(err)
	}
	git := strings.Replace(string(data), "store:\n  kind: local", "store:\n  kind: git", 1)
	if git == string(data) {
		t.Fatal("the reference policy has no local store to replace")
	}
	writeFile(t, policy.FileName, git)
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	gitHere(t, "add", policy.FileName)
	commitAt(t, t0.Add(-time.Hour), "ada@builder.example", "-m", "the git store")
	gitHere(t, "push", "-q", "origin", "main")
	start := leasedThenStarted(t, t0)
	gitHere(t, "checkout", "-q", "-b", "side", "old")
	writeFile(t, "store/blobs/model.bin", "x\n")
	gitHere(t, "add", "-A")
	commitAt(t, t0.Add(10*time.Minute), "eve@guardian.example", "-m", "X")
	gitHere(t, "checkout", "-q", "A")
	cmd := exec.Command("git", "merge", "-q", "--no-ff", "--no-verify", "-m", "M", "side")
	date := start.Add(time.Hour).Format(time.RFC3339)
	cmd.Env = append(cmd.Environ(), "GIT_COMMITTER_DATE="+date, "GIT_AUTHOR_DATE="+date)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git merge: %v: %s", err, out)
	}

	var rec gitRecorder
	a := newApp(nil, &bytes.Buffer{}, &bytes.Buffer{})
	a.git.Exec = rec.exec
	a.now = func() time.Time { return t0.Add(10 * 24 * time.Hour) }
	r, err := a.openRepo(nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := a.checkEnds("A..HEAD", "")
	if err != nil {
		t.Fatal(err)
	}
	_, vs, err := a.checkRange(r, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].Rule != policy.RuleHeldByOther {
		t.Errorf("eve's commit under ada's lease, days before the range's start: %v, want held-by-other", vs)
	}
	if n := len(slices.DeleteFunc(slices.Clone(rec.calls), func(c string) bool { return c != "fetch" })); n != 1 {
		t.Errorf("git %q: %d fetches, want 1", rec.calls, n)
	}
}

// leasedThenStarted makes the history both range tests judge: storage
// leased by ada at t0 for half an hour, a branch "old" there, and five days
// on the range's start, a commit tagged A; it returns A's time.
func leasedThenStarted(t *testing.T, t0 time.Time) time.Time {
	t.Helper()
	start := t0.Add(5 * 24 * time.Hour)
	runAt(t, t0, "claim", "storage")
	runAt(t, t0.Add(30*time.Minute), "release", "storage")
	gitHere(t, "branch", "old")
	writeFile(t, "notes.txt", "a\n")
	gitHere(t, "add", "notes.txt")
	commitAt(t, start, "ada@builder.example", "-m", "A")
	gitHere(t, "tag", "A")
	return start
}

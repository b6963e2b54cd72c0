package oxygen_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestGatesAgree replays generated histories (claims, releases, capsules,
// signals, commits at varied times, merges, an adopted root) and requires
// the same verdict for every commit from pre-push, from `oxygen check
// --range` in a fresh clone, and from the server's pre-receive. One seeded
// history by default; OXYGEN_SOAK=1 runs more and longer ones
// (OXYGEN_SEED picks the first seed).
func TestGatesAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real git and oxygen for seconds")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("OXYGEN_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("OXYGEN_SEED: %v", err)
		}
	}
	runs, ops := 1, 40
	if os.Getenv("OXYGEN_SOAK") == "1" {
		runs, ops = 5, 120
	}
	var refused, accepted int
	for i := range runs {
		r, a := agreeOnce(t, seed+uint64(i), ops)
		refused, accepted = refused+r, accepted+a
	}
	// A history in which every commit passes, or none does, compares
	// nothing worth comparing.
	if refused == 0 || accepted == 0 {
		t.Errorf("the histories judged %d commits refused and %d accepted: want some of each", refused, accepted)
	}
}

// world is one generated history: a server, the clone it is made in.
type world struct {
	t      *testing.T
	rng    *rand.Rand
	dir    string
	env    []string
	events []time.Time // when acts happened: commits are dated around them
	n      int
	open   []string // capsules assigned
}

func agreeOnce(t *testing.T, seed uint64, ops int) (refused, accepted int) {
	t.Logf("seed %d (OXYGEN_SEED=%d to replay)", seed, seed)
	w := &world{t: t, rng: rand.New(rand.NewPCG(seed, seed>>32)), dir: t.TempDir()}
	w.env = gitEnv(t, w.dir)
	w.git(".", "init", "-q", "--bare", "server.git")
	w.oxygen(".", "", "install", "--repo", "server.git")
	w.git(".", "clone", "-q", "server.git", "dev")
	w.write("dev/resources.yaml", agreePolicy)
	w.git("dev", "add", "resources.yaml")
	w.git("dev", "commit", "-q", "-m", "adopt oxygen")
	w.git("dev", "push", "-q", "origin", "main")
	w.git("dev", "remote", "set-head", "origin", "main")
	adopt := strings.TrimSpace(w.git("dev", "rev-parse", "HEAD"))
	w.events = append(w.events, time.Now())

	for range ops {
		w.step()
	}
	tip := strings.TrimSpace(w.git("dev", "rev-parse", "HEAD"))
	n, _ := strconv.Atoi(strings.TrimSpace(w.git("dev", "rev-list", "--count", tip, "^"+adopt)))

	// The three gates judge at one moment, as if run at once: future-date
	// is relative to the gate's clock, and a commit dated clock_skew and a
	// second after an act would pass a gate that runs a second later.
	w.env = append(w.env, "OXYGEN_TEST_NOW="+time.Now().UTC().Format(time.RFC3339))
	// pre-push, as git would run it for a push of main.
	zero := strings.Repeat("0", 40)
	url := filepath.Join(w.dir, "server.git")
	// All three judge the history as a new branch, so that the server's main
	// stays where the fresh clone's range starts.
	w.git("dev", "update-ref", "refs/heads/judged", tip)
	_, prePush, _ := w.run("dev", "refs/heads/judged "+tip+" refs/heads/judged "+zero+"\n", "oxygen", "hook", "pre-push", "origin", url)
	// The server's pre-receive, through a real push.
	_, push, _ := w.run("dev", "", "git", "push", "--no-verify", "origin", "judged")
	// check --range in a fresh clone, which fetches the commits from dev.
	w.git(".", "clone", "-q", "server.git", "fresh")
	w.git("fresh", "fetch", "-q", "../dev", "main:refs/remotes/dev/main")
	_, check, _ := w.run("fresh", "", "oxygen", "check", "--range", "origin/main..refs/remotes/dev/main")

	gates := map[string]string{"pre-push": prePush, "pre-receive": push, "check --range": check}
	verdicts := map[string]map[string]bool{}
	for name, out := range gates {
		verdicts[name] = parseVerdicts(out)
	}
	want := verdicts["pre-receive"]
	for name, got := range verdicts {
		if !mapsEqual(got, want) {
			t.Errorf("seed %d: %s and pre-receive disagree:\n%s\n--- %s said:\n%s\n--- pre-receive said:\n%s", seed, name, diffVerdicts(got, want), name, gates[name], push)
		}
	}
	commits := map[string]bool{}
	for v := range want {
		commits[strings.SplitN(v, " ", 2)[0]] = true
	}
	t.Logf("seed %d: %d commits, %d refused, %d violations", seed, n, len(commits), len(want))
	return len(commits), n - len(commits)
}

const agreePolicy = `version: 1
domains:
  builder:
    members: ["*@builder.example"]
    core: ["build/**"]
  guardian:
    members: ["*@guardian.example"]
    core: ["guard/**"]
resources:
  storage:
    paths: ["store/**"]
  index:
    paths: ["index/**"]
  coordination:
    paths: ["resources.yaml"]
budgets:
  risk_paths_per_commit: 2
store:
  kind: git
`

var (
	people    = []string{"ada@builder.example", "bob@builder.example", "eve@guardian.example"}
	resources = []string{"storage", "index"}
	files     = []string{"store/a", "store/b", "index/i", "guard/g", "build/x", "docs/d"}
	scopes    = []string{"store/**", "index/**", "docs/**"}
	offsets   = []time.Duration{-time.Hour, -45 * time.Second, -31 * time.Second, -29 * time.Second, -5 * time.Second, 0, 5 * time.Second, 29 * time.Second, 31 * time.Second, 45 * time.Second, time.Hour}
)

// step does one random thing to the world.
func (w *world) step() {
	pick := func(list []string) string { return list[w.rng.IntN(len(list))] }
	who := pick(people)
	w.n++
	switch k := w.rng.IntN(20); {
	case k < 3:
		ttl := "1h"
		if w.rng.IntN(3) == 0 {
			ttl = "2s"
		}
		w.act(who, "claim", pick(resources), "--ttl", ttl)
	case k < 5:
		w.act(who, "release", pick(resources))
	case k < 6:
		id := fmt.Sprintf("C-%d", w.n)
		if _, ok := w.act("ada@builder.example", "assign", id, "--owner", pick(people[:2]), "--scope", pick(scopes)); ok {
			w.open = append(w.open, id)
		}
	case k < 7 && len(w.open) > 0:
		i := w.rng.IntN(len(w.open))
		w.act("ada@builder.example", "done", w.open[i])
		w.open = slices.Delete(w.open, i, i+1)
	case k < 8:
		out, _ := w.act(pick(people[:2]), "signal", "missive", "--to", "guardian", "--file", "guard/g", "--subject", "why")
		if m := regexp.MustCompile(`missive (m-[0-9a-f]+) sent`).FindStringSubmatch(out); m != nil && w.rng.IntN(2) == 0 {
			w.act("eve@guardian.example", "signal", "ack", m[1])
		}
	case k < 16:
		w.commit(who)
	case k < 18:
		w.merge(who, false)
	case k < 19:
		w.merge(who, true)
	default:
		w.root(who)
	}
}

// act runs an oxygen command as who; refusals (exit 1) are part of the
// game, and it reports whether the act was done.
func (w *world) act(who string, args ...string) (string, bool) {
	out, errOut, code := w.run("dev", "", "env", append([]string{"GIT_COMMITTER_EMAIL=" + who, "oxygen"}, args...)...)
	if code == 2 {
		w.t.Fatalf("oxygen %s as %s: exit 2: %s", strings.Join(args, " "), who, errOut)
	}
	w.events = append(w.events, time.Now())
	return out, code == 0
}

// date is a commit time around one of the acts.
func (w *world) date() string {
	at := w.events[w.rng.IntN(len(w.events))].Add(offsets[w.rng.IntN(len(offsets))])
	return fmt.Sprintf("%d +0000", at.Unix())
}

// commit changes one to three files as who, at a varied time.
func (w *world) commit(who string) {
	for range 1 + w.rng.IntN(3) {
		f := files[w.rng.IntN(len(files))]
		w.write("dev/"+f, fmt.Sprintf("%d\n", w.rng.Int()))
	}
	w.git("dev", "add", "-A")
	w.dated(who, "commit", "-q", "--no-verify", "--allow-empty", "-m", fmt.Sprintf("change %d", w.n))
}

// dated runs git as who at a varied time.
func (w *world) dated(who string, args ...string) string {
	d := w.date()
	env := []string{"GIT_COMMITTER_EMAIL=" + who, "GIT_COMMITTER_DATE=" + d, "GIT_AUTHOR_DATE=" + d}
	out, errOut, code := w.run("dev", "", "env", append(append(env, "git"), args...)...)
	if code != 0 {
		w.t.Fatalf("git %s: %s%s", strings.Join(args, " "), out, errOut)
	}
	return out
}

// merge merges a side branch made from an earlier commit, or (evil) takes
// an earlier commit's tree back as a merge.
func (w *world) merge(who string, evil bool) {
	count, _ := strconv.Atoi(strings.TrimSpace(w.git("dev", "rev-list", "--count", "--first-parent", "HEAD")))
	base := fmt.Sprintf("HEAD~%d", w.rng.IntN(min(count, 4)))
	if evil {
		id := strings.TrimSpace(w.dated(who, "commit-tree", "-p", "HEAD", "-p", base, "-m", "take an old tree", base+"^{tree}"))
		w.git("dev", "merge", "-q", "--ff-only", id)
		return
	}
	w.git("dev", "checkout", "-q", "-b", fmt.Sprintf("side%d", w.n), base)
	w.commit(pickPerson(w))
	w.git("dev", "checkout", "-q", "main")
	// -X theirs settles content conflicts but not a side's change to a
	// file an evil merge removed: those keep the side's version.
	d := w.date()
	env := []string{"GIT_COMMITTER_EMAIL=" + who, "GIT_COMMITTER_DATE=" + d, "GIT_AUTHOR_DATE=" + d, "git"}
	msg := fmt.Sprintf("merge %d", w.n)
	out, errOut, code := w.run("dev", "", "env", append(env, "merge", "-q", "--no-ff", "--no-verify", "-X", "theirs", "-m", msg, fmt.Sprintf("side%d", w.n))...)
	if code != 0 {
		if !strings.Contains(out, "CONFLICT (modify/delete)") {
			w.t.Fatalf("git merge: %s%s", out, errOut)
		}
		w.git("dev", "add", "-A")
		if _, errOut, code := w.run("dev", "", "env", append(env, "commit", "-q", "--no-verify", "-m", msg)...); code != 0 {
			w.t.Fatalf("git commit (merge): %s", errOut)
		}
	}
}

func pickPerson(w *world) string { return people[w.rng.IntN(len(people))] }

// root brings in a new root commit, with a policy of its own, as a merge's
// first parent: judged by the branch's policy, never by its own.
func (w *world) root(who string) {
	w.git("dev", "checkout", "-q", "--orphan", fmt.Sprintf("root%d", w.n))
	w.write("dev/resources.yaml", agreePolicy+"# the root's own\n")
	w.git("dev", "add", "-A")
	w.dated(who, "commit", "-q", "--no-verify", "-m", "a root")
	id := strings.TrimSpace(w.dated(who, "commit-tree", "-p", "HEAD", "-p", "main", "-m", "merge a root", "HEAD^{tree}"))
	w.git("dev", "checkout", "-q", "-f", "main")
	w.git("dev", "merge", "-q", "--ff-only", id)
}

func (w *world) write(name, content string) {
	p := filepath.Join(w.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) git(dir string, args ...string) string {
	out, errOut, code := w.run(dir, "", "git", args...)
	if code != 0 {
		w.t.Fatalf("git %s: %s%s", strings.Join(args, " "), out, errOut)
	}
	return out
}

func (w *world) oxygen(dir, stdin string, args ...string) string {
	out, errOut, code := w.run(dir, stdin, "oxygen", args...)
	if code != 0 {
		w.t.Fatalf("oxygen %s: %s", strings.Join(args, " "), errOut)
	}
	return out
}

// run runs a command in dir (relative to the world) and returns its
// output and exit code.
func (w *world) run(dir, stdin, name string, args ...string) (string, string, int) {
	cmd := exec.Command(name, args...)
	cmd.Dir = filepath.Join(w.dir, dir)
	cmd.Env = append(w.env, "OXYGEN=0") // no client hooks (the server's runs): the gates are run by hand
	if name == "oxygen" && len(args) > 0 && args[0] == "hook" {
		cmd.Env = w.env
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			w.t.Fatalf("%s %v: %v", name, args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// gitEnv is isolateGit's environment for a test that runs commands itself.
func gitEnv(t *testing.T, dir string) []string {
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	config := "[user]\n\tname = Oxygen Test\n\temail = ada@builder.example\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "GIT_") && !strings.HasPrefix(name, "OXYGEN") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", "TZ=UTC", "NO_COLOR=1")
}

var (
	commitHeader = regexp.MustCompile(`^commit ([0-9a-f]{12}) `)
	ruleLine     = regexp.MustCompile(`^  \S.*\[([a-z-]+)\]$`)
	pathLine     = regexp.MustCompile(`^      (\S.*)$`)
)

// parseVerdicts reads a refusal as printed (by a hook, check, or the server
// through git's "remote: " lines) into "commit rule path" entries.
func parseVerdicts(out string) map[string]bool {
	got := map[string]bool{}
	commit, rule := "", ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimRight(strings.TrimPrefix(sc.Text(), "remote: "), " \t")
		if m := commitHeader.FindStringSubmatch(line); m != nil {
			commit, rule = m[1], ""
		} else if m := ruleLine.FindStringSubmatch(line); m != nil {
			rule = m[1]
		} else if m := pathLine.FindStringSubmatch(line); m != nil && commit != "" && rule != "" {
			got[commit+" "+rule+" "+m[1]] = true
		}
	}
	return got
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func diffVerdicts(got, want map[string]bool) string {
	var lines []string
	for k := range got {
		if !want[k] {
			lines = append(lines, "+ "+k)
		}
	}
	for k := range want {
		if !got[k] {
			lines = append(lines, "- "+k)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

package store_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// The soak tests run many OS processes (this test binary, re-executed as a
// helper) against one local store: each claims, renews and releases a few
// resources as domains picked at random, and opens and closes capsules.
// Throughout and at the end, the store must be readable and its history
// must never show two domains holding one resource at the same instant.
//
// TestSoakRaces and TestSoakKills run for minutes, only on request:
//
//	OXYGEN_SOAK=1 OXYGEN_SOAK_DURATION=2m go test -run Soak -v ./internal/store/
//
// TestProcessRaces and TestProcessKills are the same tests for two seconds,
// run by every go test.

const (
	soakHelperEnv = "OXYGEN_SOAK_HELPER" // "worker" or "fresh": this process is a helper
	soakRootEnv   = "OXYGEN_SOAK_ROOT"   // the clone root whose store the helpers share
	soakUntilEnv  = "OXYGEN_SOAK_UNTIL"  // a worker stops at this time (Unix nanoseconds)
	soakSeedEnv   = "OXYGEN_SOAK_SEED"
	soakLogEnv    = "OXYGEN_SOAK_LOG" // where a worker appends one line per operation
)

var (
	soakResources = []string{"r0", "r1", "r2"}
	soakDomains   = []string{"d0", "d1", "d2", "d3"}
)

func TestSoakRaces(t *testing.T) {
	soakGate(t)
	st := runSoak(t, soakConfig{duration: soakDuration(t), procs: 8})
	st.report(t)
}

func TestSoakKills(t *testing.T) {
	soakGate(t)
	st := runSoak(t, soakConfig{duration: soakDuration(t), procs: 6, kill: true})
	st.report(t)
}

func TestProcessRaces(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	st := runSoak(t, soakConfig{duration: 2 * time.Second, procs: 4})
	st.report(t)
}

func TestProcessKills(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	st := runSoak(t, soakConfig{duration: 2 * time.Second, procs: 4, kill: true})
	st.report(t)
}

func soakGate(t *testing.T) {
	if os.Getenv("OXYGEN_SOAK") != "1" {
		t.Skip("a soak test: run with OXYGEN_SOAK=1 go test -run Soak")
	}
}

func soakDuration(t *testing.T) time.Duration {
	d := 90 * time.Second
	if s := os.Getenv("OXYGEN_SOAK_DURATION"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			t.Fatalf("OXYGEN_SOAK_DURATION: %v", err)
		}
	}
	return d
}

// TestSoakHelperProcess is not a test: it is what a helper process runs.
func TestSoakHelperProcess(t *testing.T) {
	mode := os.Getenv(soakHelperEnv)
	if mode == "" {
		t.Skip("a helper process of the soak tests")
	}
	var code int
	switch mode {
	case "worker":
		code = soakWorker()
	case "fresh":
		code = soakFresh()
	default:
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		code = 2
	}
	os.Exit(code)
}

// soakWorker loops on random operations until its deadline (or a SIGKILL),
// appending "op outcome" to its log after each one. An outcome is "ok", the
// protocol's refusal ("held", "not-holder", "budget", "exists", "unknown"),
// or "ERR" followed by an error nothing should give.
func soakWorker() int {
	root := os.Getenv(soakRootEnv)
	ns, _ := strconv.ParseInt(os.Getenv(soakUntilEnv), 10, 64)
	until := time.Unix(0, ns)
	seed, _ := strconv.ParseUint(os.Getenv(soakSeedEnv), 10, 64)
	logf, err := os.OpenFile(os.Getenv(soakLogEnv), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	rng := rand.New(rand.NewPCG(seed, uint64(os.Getpid())))
	s := store.OpenLocal(root)
	for time.Now().Before(until) {
		res := soakResources[rng.IntN(len(soakResources))]
		dom := soakDomains[rng.IntN(len(soakDomains))]
		who := "agent@" + dom + ".example"
		ttl := time.Duration(1+rng.IntN(2)) * time.Second
		capsule := fmt.Sprintf("cap-%s-%d", dom, rng.IntN(6))
		var a policy.Act
		switch p := rng.IntN(100); {
		case p < 45:
			a = policy.Act{Kind: policy.ActClaim, Resources: []string{res}, Domain: dom, TTL: ttl, Reason: "soak"}
		case p < 65:
			a = policy.Act{Kind: policy.ActRenew, Resources: []string{res}, TTL: ttl}
		case p < 90:
			a = policy.Act{Kind: policy.ActRelease, Resources: []string{res}}
		case p < 95:
			a = policy.Act{Kind: policy.ActAssign, ID: capsule, Owner: who, Domain: dom, Scope: []string{"src/**"}}
		default:
			a = policy.Act{Kind: policy.ActDone, ID: capsule}
		}
		a.By = who
		_, err = s.Act(testPolicy, a, time.Now)
		op := a.Kind
		fmt.Fprintf(logf, "%s %s\n", op, outcome(err))
	}
	return 0
}

// outcome names a result by its refusal code: the protocol's answers are
// fine, anything else is an error nothing should give.
func outcome(err error) string {
	var r *policy.Refusal
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &r) && r.Code != policy.CodeBrokenRecord:
		return soakOutcomes[r.Code]
	}
	return "ERR " + strings.ReplaceAll(err.Error(), "\n", `\n`)
}

// soakOutcomes are the words the soak's tally uses for refusal codes.
var soakOutcomes = map[string]string{
	policy.CodeHeldByOther: "held", policy.CodeNotHolder: "not-holder", policy.CodeNotLeased: "not-holder", policy.CodeLapsed: "not-holder",
	policy.CodeBudgetChange: "budget", policy.CodeBudgetAttention: "budget", policy.CodeExists: "exists", policy.CodeUnknown: "unknown",
}

// soakFresh is a new process after others died: it claims a resource nobody
// used, and tries every soak resource; a live lease of another domain is a
// fine answer, a lock that never comes is not. It prints how long the
// slowest claim took.
func soakFresh() int {
	unbounded := policyWith(1_000_000)
	s := store.OpenLocal(os.Getenv(soakRootEnv))
	var slowest time.Duration
	for _, res := range append([]string{"fresh"}, soakResources...) {
		start := time.Now()
		_, err := s.Act(unbounded, policy.Act{Kind: policy.ActClaim, Resources: []string{res}, By: "new@fresh.example", Domain: "fresh", TTL: time.Second}, time.Now)
		slowest = max(slowest, time.Since(start))
		if _, code := refusal(err); err != nil && !(res != "fresh" && code == policy.CodeHeldByOther) {
			fmt.Printf("claim %s: %v\n", res, err)
			return 1
		}
	}
	fmt.Println(slowest.Nanoseconds())
	return 0
}

type soakConfig struct {
	duration time.Duration
	procs    int
	kill     bool // SIGKILL workers at random moments and start new ones
}

type soakStats struct {
	duration   time.Duration
	ops        map[string]int // "claim ok", "release held", ...
	total      int
	kills      int
	fresh      int            // fresh processes that claimed after kills
	freshMax   time.Duration  // the slowest claim of one
	checks     int            // continuous checks of the store
	tmpLeft    int            // temp files found after the kills, before the next mutation
	violations []string       // the first broken rules, each once
	kinds      map[string]int // how many distinct ones of each kind
	seen       map[string]bool
	overlapped map[string]bool // leases a later one overlaps
}

func newSoakStats() *soakStats {
	return &soakStats{ops: map[string]int{}, kinds: map[string]int{}, seen: map[string]bool{}, overlapped: map[string]bool{}}
}

// violate records a broken rule of a kind, each distinct one once; the
// first 40 are kept to print.
func (st *soakStats) violate(kind, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if st.seen[msg] {
		return
	}
	st.seen[msg] = true
	st.kinds[kind]++
	if len(st.violations) < 40 {
		st.violations = append(st.violations, kind+": "+msg)
	}
}

func (st *soakStats) report(t *testing.T) {
	t.Helper()
	keys := make([]string, 0, len(st.ops))
	for k := range st.ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, st.ops[k])
	}
	n, kinds := 0, make([]string, 0, len(st.kinds))
	for k, c := range st.kinds {
		n += c
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, c))
	}
	sort.Strings(kinds)
	t.Logf("soak %s: %d operations (%.0f/s), %d kills, %d fresh processes claimed after kills (slowest claim %s), %d store checks, %d temp files left by kills, %d violations %v (%d leases overlapped by later ones);%s",
		st.duration.Round(time.Millisecond), st.total, float64(st.total)/st.duration.Seconds(), st.kills, st.fresh, st.freshMax.Round(time.Millisecond),
		st.checks, st.tmpLeft, n, kinds, len(st.overlapped), b.String())
	for _, v := range st.violations {
		t.Errorf("violation: %s", v)
	}
	if st.ops["claim ok"] == 0 || st.ops["release ok"] == 0 || st.ops["renew ok"] == 0 {
		t.Errorf("the soak did too little to mean anything: %v", st.ops)
	}
}

// runSoak runs the workers, checks the store while they run and after.
func runSoak(t *testing.T, cfg soakConfig) *soakStats {
	dir := t.TempDir()
	root := filepath.Join(dir, "clone")
	logs := filepath.Join(dir, "logs")
	for _, d := range []string{root, logs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	st := newSoakStats()
	start := time.Now()
	until := start.Add(cfg.duration)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)

	n := 0
	spawn := func(mode string, deadline time.Time) *exec.Cmd {
		n++
		cmd := exec.Command(os.Args[0], "-test.run=^TestSoakHelperProcess$")
		cmd.Env = append(os.Environ(),
			soakHelperEnv+"="+mode, soakRootEnv+"="+root,
			soakUntilEnv+"="+strconv.FormatInt(deadline.UnixNano(), 10),
			soakSeedEnv+"="+strconv.FormatUint(seed+uint64(n), 10),
			soakLogEnv+"="+filepath.Join(logs, fmt.Sprintf("w%04d", n)))
		cmd.Stderr = os.Stderr
		return cmd
	}

	// The continuous check, while the workers run.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := store.OpenLocal(root)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			mu.Lock()
			st.checks++
			checkSoakStore(s, st, false)
			mu.Unlock()
		}
	}()

	workers := make([]*exec.Cmd, cfg.procs)
	for i := range workers {
		workers[i] = spawn("worker", until)
		if err := workers[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	if cfg.kill {
		for time.Now().Before(until) {
			time.Sleep(time.Duration(5+rng.IntN(120)) * time.Millisecond)
			i := rng.IntN(len(workers))
			workers[i].Process.Signal(syscall.SIGKILL)
			workers[i].Wait()
			st.kills++
			if st.kills%25 == 0 { // a new process claims while the others run on
				mu.Lock()
				st.fresh++
				runFresh(t, spawn, st)
				mu.Unlock()
			}
			workers[i] = spawn("worker", until.Add(time.Hour))
			if err := workers[i].Start(); err != nil {
				t.Fatal(err)
			}
		}
		for _, w := range workers { // the last ones die mid-flight too
			w.Process.Signal(syscall.SIGKILL)
			w.Wait()
			st.kills++
		}
	} else {
		for _, w := range workers {
			if err := w.Wait(); err != nil {
				st.violate("worker failed", "a worker failed: %v", err)
			}
		}
	}
	close(stop)
	wg.Wait()
	st.duration = time.Since(start)

	s := store.OpenLocal(root)
	if cfg.kill {
		st.tmpLeft = len(tempFiles(root))
		// Before any mutation cleans up: where the last kill left a journal,
		// its event may be in the history and its files not yet written,
		// which the next mutation completes; the check after it is exact.
		_, err := os.Stat(filepath.Join(s.Path(), "pending.json"))
		checkSoakStore(s, st, errors.Is(err, fs.ErrNotExist))
		st.fresh++
		// The lock has no deadline, and the kernel frees a dead holder's: a
		// fresh claim must simply get it (a hang is what runFresh reports).
		runFresh(t, spawn, st)
		if left := tempFiles(root); len(left) > 0 {
			st.violate("temp file kept", "temp files left by killed writers survive the next mutation: %s", strings.Join(left, ", "))
		}
	}
	checkSoakStore(s, st, true)
	countOps(t, logs, st)
	return st
}

// runFresh starts a new process that must claim, and records its slowest
// claim; one that never finishes is a lock nobody frees.
func runFresh(t *testing.T, spawn func(string, time.Time) *exec.Cmd, st *soakStats) {
	cmd := spawn("fresh", time.Now())
	var out bytes.Buffer
	cmd.Stdout = &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			st.violate("fresh claim failed", "a fresh process could not claim after the kills: %v: %s", err, strings.TrimSpace(out.String()))
			return
		}
		ns, _ := strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
		took := time.Duration(ns)
		st.freshMax = max(st.freshMax, took)
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
		st.violate("fresh claim hung", "a fresh process hung for %s", time.Since(start).Round(time.Millisecond))
	}
}

// tempFiles lists the temp files of writes in the store.
func tempFiles(root string) []string {
	var out []string
	filepath.WalkDir(filepath.Join(root, store.Dir), func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			rel, _ := filepath.Rel(root, path)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// checkSoakStore checks what may be checked at any moment: every record
// file reads, the history reads, no two domains' leases on one resource
// overlap in it. With final (nobody writes any more), the lease files must
// also be exactly what the history says is held: no lease the history lost,
// none it does not know.
func checkSoakStore(s *store.Local, st *soakStats, final bool) {
	cur, err := s.Current()
	if err != nil {
		st.violate("store unreadable", "Current: %v", err)
		return
	}
	for _, b := range cur.Broken {
		kind := "record unreadable"
		if strings.Contains(b.Cause, "no such file or directory") {
			kind = "record vanished mid-read" // a release removed it between the listing and the read
		}
		st.violate(kind, "a record does not read: %s: %s", b.File, b.Cause)
	}
	events, err := readEvents(s)
	if err != nil {
		st.violate("history unreadable", "the history does not read: %v", err)
		return
	}
	history := store.Replay(events)
	for _, v := range overlaps(history) {
		st.violate(v.kind, "%s", v.msg)
		st.overlapped[v.first] = true
	}
	if !final {
		return
	}
	latest := map[string]policy.Lease{}
	for _, l := range history { // by resource, then start: the last one wins
		latest[l.Resource] = l
	}
	files := map[string]policy.Lease{}
	for _, l := range cur.Leases {
		files[l.Resource] = l
		if _, ok := latest[l.Resource]; !ok {
			st.violate("files and history disagree", "lease file of %s (%s from %s) is not in the history", l.Resource, l.Domain, l.CreatedAt.Format(time.RFC3339Nano))
		}
	}
	for res, l := range latest {
		f, ok := files[res]
		switch {
		case !l.ReleasedAt.IsZero() && ok:
			st.violate("files and history disagree", "%s: the history released %s's lease from %s at %s, its file is still there", res, l.Domain, stamp(l.CreatedAt), stamp(l.ReleasedAt))
		case l.ReleasedAt.IsZero() && !ok:
			st.violate("files and history disagree", "%s: the history has %s's lease from %s until %s, its file is gone", res, l.Domain, stamp(l.CreatedAt), stamp(l.ExpiresAt))
		case ok && (f.Domain != l.Domain || !f.CreatedAt.Equal(l.CreatedAt) || !f.ExpiresAt.Equal(l.ExpiresAt)):
			st.violate("files and history disagree", "%s: the file holds %s's lease %s..%s, the history %s's %s..%s", res, f.Domain, stamp(f.CreatedAt), stamp(f.ExpiresAt), l.Domain, stamp(l.CreatedAt), stamp(l.ExpiresAt))
		}
	}
	for _, c := range cur.Capsules {
		if !policy.ValidRecordID(c.ID) {
			st.violate("bad capsule", "capsule %q", c.ID)
		}
	}
}

func stamp(t time.Time) string { return t.Format("15:04:05.000") }

func readEvents(s *store.Local) ([]store.Event, error) {
	data, err := os.ReadFile(filepath.Join(s.Path(), "events.jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return store.ParseEvents(bytes.NewReader(data), "events.jsonl")
}

// overlap is two leases of one resource whose [created, end) intervals
// overlap: of two domains, the protocol's one rule broken; of one domain, a
// lease granted twice.
type overlap struct{ kind, msg, first string }

func overlaps(history []policy.Lease) []overlap {
	byRes := map[string][]policy.Lease{}
	for _, l := range history {
		byRes[l.Resource] = append(byRes[l.Resource], l)
	}
	var out []overlap
	for res, ls := range byRes {
		sort.SliceStable(ls, func(i, j int) bool { return ls[i].CreatedAt.Before(ls[j].CreatedAt) })
		var active []policy.Lease
		for _, l := range ls {
			active = slices.DeleteFunc(active, func(a policy.Lease) bool { return !a.End().After(l.CreatedAt) })
			for _, a := range active {
				kind := "two domains held at once"
				if a.Domain == l.Domain {
					kind = "one domain granted twice"
				}
				out = append(out, overlap{kind, fmt.Sprintf("%s: %s %s..%s and %s %s..%s", res,
					a.Domain, stamp(a.CreatedAt), stamp(a.End()), l.Domain, stamp(l.CreatedAt), stamp(l.End())),
					res + " " + a.Domain + " " + a.CreatedAt.Format(time.RFC3339Nano)})
			}
			if l.End().After(l.CreatedAt) {
				active = append(active, l)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].msg < out[j].msg })
	return out
}

// countOps adds up the workers' logs; an error nothing should give is a
// violation.
func countOps(t *testing.T, logs string, st *soakStats) {
	entries, err := os.ReadDir(logs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		f, err := os.Open(filepath.Join(logs, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			op, res, _ := strings.Cut(line, " ")
			if strings.HasPrefix(res, "ERR") {
				st.violate("unexpected error", "%s: %s", op, res)
				res = "ERR"
			}
			if op == "" || res == "" { // the line a SIGKILL cut short
				continue
			}
			st.ops[op+" "+res]++
			st.total++
		}
		f.Close()
	}
}

// The local store records an event, then writes the record files it
// changed. A writer killed between the two leaves exactly the event: the
// tests below build that state by hand (TestProcessKills reaches it with
// SIGKILL) and ask that the store and its history still agree afterwards.

// TestKilledMidAppend: a process killed while appending its event leaves a
// torn last line; the next mutation drops it and finishes the job, and the
// history reads whole.
func TestKilledMidAppend(t *testing.T) {
	s := newLocal(t)
	mustClaim(t, s, req("storage", "builder", t0, time.Hour))
	killed := policy.Lease{Resource: "schema", Owner: "agent@builder.example", Domain: "builder", TTL: 3600,
		CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Minute + time.Hour)}
	killedAfterEvent(t, s, ev(store.OpClaim, killed.CreatedAt, killed), map[string][]byte{"leases/schema.yaml": store.FormatLease(killed)}, true)

	mustClaim(t, s, req("index", "scribe", t0.Add(2*time.Minute), time.Hour))
	agree(t, s)
	if _, err := s.History(); err != nil {
		t.Fatalf("the history after a torn append: %v", err)
	}
}

// killedAfterEvent leaves a store as a process killed mid-mutation would:
// its journal written, its event appended (or, torn, half of it), and none
// of the records it meant to write.
func killedAfterEvent(t *testing.T, s *store.Local, e store.Event, files map[string][]byte, torn bool) {
	t.Helper()
	line := eventLine(t, e)
	j, err := json.Marshal(map[string]any{"events": []byte(line), "files": files})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Path(), "pending.json"), j, 0o644); err != nil {
		t.Fatal(err)
	}
	if torn {
		line = line[:len(line)/2]
	}
	f, err := os.OpenFile(filepath.Join(s.Path(), "events.jsonl"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		t.Fatal(err)
	}
}

// agree checks a store at rest: no two leases of one resource overlap in
// the history, and the lease files are what the history holds.
func agree(t *testing.T, s *store.Local) {
	t.Helper()
	st := newSoakStats()
	checkSoakStore(s, st, true)
	for _, v := range st.violations {
		t.Error(v)
	}
}

// TestKilledClaim: a claim killed after its event, before its lease file.
// The claimer never heard back; the file says the resource is free, so
// another domain takes it. The history must not then show both holding it
// (pre-push and CI judge commits by the history: both domains' commits to
// the resource would pass).
func TestKilledClaim(t *testing.T) {
	s := newLocal(t)
	mustClaim(t, s, req("storage", "builder", t0, time.Hour)) // the store exists
	killed := policy.Lease{Resource: "schema", Owner: "agent@builder.example", Domain: "builder", TTL: 3600,
		CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Minute + time.Hour)}
	killedAfterEvent(t, s, ev(store.OpClaim, killed.CreatedAt, killed), map[string][]byte{"leases/schema.yaml": store.FormatLease(killed)}, false)

	if _, err := claim(t, s, req("schema", "scribe", t0.Add(2*time.Minute), time.Hour)); err != nil {
		if _, code := refusal(err); code != policy.CodeHeldByOther {
			t.Fatalf("claim after the killed one: %v", err)
		}
	}
	agree(t, s)
}

// TestKilledRenew: a renewal killed after its event. The file keeps the old
// expiry; once it passes, another domain takes the resource over while the
// history still has the renewed lease running.
func TestKilledRenew(t *testing.T) {
	s := newLocal(t)
	l := mustClaim(t, s, req("schema", "builder", t0, time.Minute)).Lease
	renewed := l
	renewed.TTL, renewed.ExpiresAt = 3600, t0.Add(30*time.Second+time.Hour)
	killedAfterEvent(t, s, ev(store.OpRenew, t0.Add(30*time.Second), renewed), map[string][]byte{"leases/schema.yaml": store.FormatLease(renewed)}, false)

	if _, err := claim(t, s, req("schema", "scribe", t0.Add(2*time.Minute), time.Hour)); err != nil {
		if _, code := refusal(err); code != policy.CodeHeldByOther {
			t.Fatalf("claim after the killed renewal: %v", err)
		}
	}
	agree(t, s)
}

// TestKilledRelease: a release killed after its event, before the file is
// removed. The holder sees its lease still held (its commits pass the commit
// hook), while the history, which pre-push and CI judge by, has it ended.
func TestKilledRelease(t *testing.T) {
	s := newLocal(t)
	l := mustClaim(t, s, req("schema", "builder", t0, time.Hour)).Lease
	released := l
	released.ReleasedAt = t0.Add(time.Minute)
	e := ev(store.OpRelease, released.ReleasedAt, released)
	killedAfterEvent(t, s, e, map[string][]byte{"leases/schema.yaml": nil}, false)

	// Any later mutation, under the lock, is where the store can notice.
	mustClaim(t, s, req("storage", "scribe", t0.Add(2*time.Minute), time.Hour))
	agree(t, s)
}

// TestStaleTempsEveryFolder: temp files a killed writer left in any folder
// of the store (a capsule or signal write, not only a lease) are ignored by
// readers and removed by the next mutation.
func TestStaleTempsEveryFolder(t *testing.T) {
	s := newLocal(t)
	mustClaim(t, s, req("storage", "builder", t0, time.Hour))
	var stale []string
	for _, d := range []string{".", "leases", "capsules", "signals"} {
		if err := os.MkdirAll(filepath.Join(s.Path(), d), 0o755); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(s.Path(), d, ".tmp-c-1.yaml-dead01")
		if err := os.WriteFile(f, []byte("version: 1\nid: c-"), 0o644); err != nil {
			t.Fatal(err)
		}
		stale = append(stale, f)
	}
	if st := current(t, s); len(st.Broken) != 0 || len(st.Capsules) != 0 || len(st.Signals) != 0 {
		t.Errorf("Current with temp files = %+v, want them ignored", st)
	}
	if _, err := s.Act(testPolicy, policy.Act{Kind: policy.ActAssign, ID: "c-1", Owner: "ada@builder.example", Domain: "builder", By: "ada@builder.example"}, at(t0)); err != nil {
		t.Fatal(err)
	}
	for _, f := range stale {
		if _, err := os.Lstat(f); !errors.Is(err, fs.ErrNotExist) {
			rel, _ := filepath.Rel(s.Path(), f)
			t.Errorf("after a mutation, the stale temp file %s is still there", rel)
		}
	}
}

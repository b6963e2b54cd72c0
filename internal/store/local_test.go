package store_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

func newLocal(t *testing.T) *store.Local {
	t.Helper()
	return store.OpenLocal(t.TempDir())
}

// timedAct is an act and the time it is decided at.
type timedAct struct {
	policy.Act
	now time.Time
}

func req(resource, domain string, now time.Time, ttl time.Duration) timedAct {
	return timedAct{policy.Act{Kind: policy.ActClaim, Resources: []string{resource}, By: agentOf(domain), Domain: domain, TTL: ttl}, now}
}

// claim makes one claim.
func claim(t *testing.T, s store.Store, c timedAct) (policy.Claimed, error) {
	t.Helper()
	d, err := s.Act(testPolicy, c.Act, at(c.now))
	if err != nil {
		return policy.Claimed{}, err
	}
	if len(d.Claims) != 1 {
		t.Fatalf("Claim of one resource returned %d results", len(d.Claims))
	}
	return d.Claims[0], nil
}

func mustClaim(t *testing.T, s store.Store, c timedAct) policy.Claimed {
	t.Helper()
	res, err := claim(t, s, c)
	if err != nil {
		t.Fatalf("claim %v for %s: %v", c.Resources, c.Domain, err)
	}
	return res
}

// renew and release act on one resource as by.
func renew(s store.Store, resource, by string, ttl time.Duration, now time.Time) (policy.Lease, error) {
	d, err := s.Act(testPolicy, policy.Act{Kind: policy.ActRenew, Resources: []string{resource}, By: by, TTL: ttl}, at(now))
	if d.Lease == nil {
		return policy.Lease{}, err
	}
	return *d.Lease, err
}

func release(s store.Store, resource, by string, now time.Time) (*policy.Lease, error) {
	d, err := s.Act(testPolicy, policy.Act{Kind: policy.ActRelease, Resources: []string{resource}, By: by}, at(now))
	return d.Lease, err
}

// refusal returns err's refusal code ("" if it is none).
func refusal(err error) (*policy.Refusal, string) {
	var r *policy.Refusal
	if errors.As(err, &r) {
		return r, r.Code
	}
	return nil, ""
}

func leaseFile(s *store.Local, resource string) string {
	return filepath.Join(s.Path(), "leases", resource+".yaml")
}

// events reads the store's history as recorded.
func events(t *testing.T, s *store.Local) []store.Event {
	t.Helper()
	f, err := os.Open(filepath.Join(s.Path(), "events.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := store.ParseEvents(f, "events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func ops(evs []store.Event) string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Op+":"+e.Lease.Resource+":"+e.Lease.Domain)
	}
	return strings.Join(out, " ")
}

func current(t *testing.T, s *store.Local) policy.State {
	t.Helper()
	st, err := s.Current()
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	return st
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLocalClaim(t *testing.T) {
	s := newLocal(t)
	if st := current(t, s); len(st.Leases)+len(st.Broken) != 0 {
		t.Fatalf("a new store has %+v", st)
	}
	c := req("schema", "builder", t0.Add(400*time.Millisecond).In(time.FixedZone("X", 3600)), 2*time.Hour)
	c.Reason, c.Capsule = "migrate", "cap-1"
	got := mustClaim(t, s, c)
	want := policy.Lease{Resource: "schema", Owner: "agent@builder.example", Domain: "builder", TTL: 7200,
		CreatedAt: t0.Add(400 * time.Millisecond), ExpiresAt: t0.Add(2*time.Hour + 400*time.Millisecond), Reason: "migrate", Capsule: "cap-1"}
	if !sameLease(got.Lease, want) || got.Existing || got.TookOver != nil {
		t.Fatalf("Claim = %+v, want a new lease %+v", got, want)
	}
	if file := readFile(t, leaseFile(s, "schema")); file != string(store.FormatLease(want)) {
		t.Errorf("lease file =\n%s\nwant\n%s", file, store.FormatLease(want))
	}
	if ig := readFile(t, filepath.Join(s.Path(), ".gitignore")); !strings.Contains(ig, "\n*\n") {
		t.Errorf(".gitignore = %q, want it to ignore everything", ig)
	}
	st := current(t, s)
	if len(st.Leases) != 1 || !sameLease(st.Leases[0], want) || len(st.Broken) != 0 {
		t.Errorf("Current = %+v, want the one lease", st)
	}
	if got := ops(events(t, s)); got != "claim:schema:builder" {
		t.Errorf("events = %s", got)
	}

	// The same domain again: the lease it holds, nothing written.
	again := mustClaim(t, s, req("schema", "builder", t0.Add(time.Hour), 5*time.Hour))
	if !again.Existing || !sameLease(again.Lease, want) || again.TookOver != nil {
		t.Errorf("re-claim = %+v, want Existing with the first lease", again)
	}

	// Another domain: refused, naming the holder.
	_, err := claim(t, s, req("schema", "scribe", t0.Add(time.Hour), time.Hour))
	if r, code := refusal(err); code != policy.CodeHeldByOther || r.Holder.Domain != "builder" || r.Exit != 1 || !strings.Contains(err.Error(), "schema is leased by builder") {
		t.Errorf("claim by scribe: %v, want held-by-other naming builder", err)
	}
	if got := ops(events(t, s)); got != "claim:schema:builder" {
		t.Errorf("events after refused and repeated claims = %s, want the first claim only", got)
	}
	if file := readFile(t, leaseFile(s, "schema")); file != string(store.FormatLease(want)) {
		t.Errorf("lease file changed to\n%s", file)
	}

	// A bad resource id is refused before any file is named after it.
	if _, err := claim(t, s, req("../escape", "builder", t0, time.Hour)); err == nil || !strings.Contains(err.Error(), "not a plain name") {
		t.Errorf("claim of ../escape: %v, want a plain-name error", err)
	}
	if _, err := os.Lstat(filepath.Join(s.Path(), "escape.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("escape.yaml exists outside the leases directory: %v", err)
	}
}

func TestLocalBudget(t *testing.T) {
	s := newLocal(t)
	mustClaim(t, s, req("schema", "builder", t0, time.Hour))
	mustClaim(t, s, req("storage", "builder", t0, time.Hour))
	mustClaim(t, s, req("index", "scribe", t0, time.Hour)) // another domain's lease does not count
	_, err := claim(t, s, req("execution", "builder", t0.Add(time.Minute), time.Hour))
	if _, code := refusal(err); code != policy.CodeBudgetChange || !strings.Contains(err.Error(), "builder holds 2 of 2 leases") {
		t.Fatalf("third claim: %v, want budget-change for builder holding 2 of 2", err)
	}
	if !strings.Contains(err.Error(), "schema") || !strings.Contains(err.Error(), "storage") {
		t.Errorf("budget error %q does not name the leases held", err)
	}
	if _, err := os.Lstat(leaseFile(s, "execution")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused claim left a lease file: %v", err)
	}
	// Once the two have lapsed they no longer count.
	mustClaim(t, s, req("execution", "builder", t0.Add(2*time.Hour), time.Hour))
}

func TestLocalClaimAllOrNothing(t *testing.T) {
	s := newLocal(t)
	mustClaim(t, s, req("index", "scribe", t0, time.Hour))
	batch := req("schema", "builder", t0, time.Hour)
	batch.Resources = []string{"schema", "storage", "index"}
	res, err := s.Act(testPolicy, batch.Act, at(t0))
	if r, code := refusal(err); code != policy.CodeHeldByOther || r.Holder.Resource != "index" || res.Changes() {
		t.Fatalf("batch with a held resource = %+v, %v; want held-by-other on index", res, err)
	}
	// Three claims against a budget of two: the budget counts the batch.
	batch.Resources = batch.Resources[:2]
	res, err = s.Act(testPolicy, batch.Act, at(t0))
	if err != nil || len(res.Claims) != 2 {
		t.Fatalf("batch of two = %+v, %v", res, err)
	}
	s2 := newLocal(t)
	batch.Resources = []string{"a", "b", "c"}
	_, err = s2.Act(testPolicy, batch.Act, at(t0))
	if _, code := refusal(err); code != policy.CodeBudgetChange {
		t.Fatalf("batch of three on a budget of two: %v, want budget-change", err)
	}
	if st := current(t, s2); len(st.Leases) != 0 || len(events(t, s2)) != 0 {
		t.Errorf("a refused batch left %+v and events %s", st, ops(events(t, s2)))
	}
}

// TestLocalTTLBounds: a lease of any ttl a policy may allow, from MinTTL to
// LongestTTL, is one the store reads back, not a broken file.
func TestLocalTTLBounds(t *testing.T) {
	for _, ttl := range []time.Duration{policy.MinTTL, policy.LongestTTL} {
		s := newLocal(t)
		got := mustClaim(t, s, req("schema", "builder", t0, ttl))
		st := current(t, s)
		if len(st.Broken) != 0 || len(st.Leases) != 1 || !sameLease(st.Leases[0], got.Lease) {
			t.Errorf("ttl %s: Current = %+v, want the lease %+v", ttl, st, got.Lease)
		}
	}
}

func TestLocalTakeover(t *testing.T) {
	s := newLocal(t)
	first := mustClaim(t, s, req("schema", "builder", t0, time.Hour)).Lease
	got := mustClaim(t, s, req("schema", "scribe", t0.Add(2*time.Hour), time.Hour))
	if got.Existing || got.TookOver == nil || !sameLease(*got.TookOver, first) {
		t.Fatalf("claim of a lapsed lease = %+v, want TookOver = %+v", got, first)
	}
	if got.Lease.Domain != "scribe" || !got.Lease.CreatedAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("new lease = %+v", got.Lease)
	}
	evs := events(t, s)
	if o := ops(evs); o != "claim:schema:builder takeover:schema:scribe" {
		t.Fatalf("events = %s", o)
	}
	if evs[1].Replaced == nil || !sameLease(*evs[1].Replaced, first) {
		t.Errorf("takeover event replaced %+v, want %+v", evs[1].Replaced, first)
	}
	hist, err := s.History()
	if err != nil || len(hist) != 2 || !sameLease(hist[0], first) || !sameLease(hist[1], got.Lease) {
		t.Errorf("History = %+v, %v; want the lapsed lease, then the new one", hist, err)
	}
	// At the instant of expiry the lease is over: taken over, not held.
	s2 := newLocal(t)
	mustClaim(t, s2, req("schema", "builder", t0, time.Hour))
	if got := mustClaim(t, s2, req("schema", "scribe", t0.Add(time.Hour), time.Hour)); got.TookOver == nil {
		t.Errorf("claim at expires_at = %+v, want a takeover", got)
	}
}

func TestLocalRenew(t *testing.T) {
	s := newLocal(t)
	first := mustClaim(t, s, req("schema", "builder", t0, 2*time.Hour)).Lease
	tests := []struct {
		name, resource, by string
		at                 time.Time
		code               string
	}{
		{"not the holder", "schema", "x@scribe.example", t0.Add(time.Hour), policy.CodeNotHolder},
		{"no domains", "schema", "x@nowhere", t0.Add(time.Hour), policy.CodeNotHolder},
		{"free resource", "storage", "x@builder.example", t0.Add(time.Hour), policy.CodeNotLeased},
		{"lapsed", "schema", "x@builder.example", t0.Add(2 * time.Hour), policy.CodeLapsed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renew(s, tt.resource, tt.by, time.Hour, tt.at)
			if _, code := refusal(err); code != tt.code {
				t.Fatalf("Renew: %v, want %s", err, tt.code)
			}
		})
	}
	if o := ops(events(t, s)); o != "claim:schema:builder" {
		t.Fatalf("refused renewals recorded events: %s", o)
	}
	l, err := renew(s, "schema", "ada@builder.example", 3*time.Hour, t0.Add(time.Hour+300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	want := first
	want.TTL, want.ExpiresAt = 10800, t0.Add(4*time.Hour+300*time.Millisecond)
	if !sameLease(l, want) {
		t.Errorf("Renew = %+v, want %+v", l, want)
	}
	if file := readFile(t, leaseFile(s, "schema")); file != string(store.FormatLease(want)) {
		t.Errorf("lease file after renewal =\n%s\nwant\n%s", file, store.FormatLease(want))
	}
	evs := events(t, s)
	if o := ops(evs); o != "claim:schema:builder renew:schema:builder" || evs[1].By != "ada@builder.example" {
		t.Errorf("events = %s (by %q)", o, evs[1].By)
	}
	hist, err := s.History()
	if err != nil || len(hist) != 1 || !sameLease(hist[0], want) {
		t.Errorf("History = %+v, %v; want the renewed lease", hist, err)
	}
	// Still live at the old expiry.
	if _, err := claim(t, s, req("schema", "scribe", t0.Add(3*time.Hour), time.Hour)); !strings.Contains(err.Error(), "leased by builder") {
		t.Errorf("claim at the old expiry: %v, want held-by-other", err)
	}
}

func TestLocalRelease(t *testing.T) {
	s := newLocal(t)
	first := mustClaim(t, s, req("schema", "builder", t0, 2*time.Hour)).Lease

	_, err := release(s, "schema", "x@scribe.example", t0.Add(time.Minute))
	if r, code := refusal(err); code != policy.CodeNotHolder || r.Holder.Domain != "builder" {
		t.Fatalf("release by scribe: %v, want not-holder naming builder", err)
	}
	if _, err := os.Lstat(leaseFile(s, "schema")); err != nil {
		t.Fatalf("a refused release removed the lease file: %v", err)
	}

	got, err := release(s, "storage", "x@builder.example", t0)
	if err != nil || got != nil {
		t.Errorf("release of a free resource = %+v, %v; want nil, nil", got, err)
	}

	got, err = release(s, "schema", "ada@builder.example", t0.Add(30*time.Minute))
	if err != nil || got == nil {
		t.Fatalf("release by the holder = %+v, %v", got, err)
	}
	want := first
	want.ReleasedAt = t0.Add(30 * time.Minute)
	if !sameLease(*got, want) {
		t.Errorf("released = %+v, want %+v", *got, want)
	}
	if _, err := os.Lstat(leaseFile(s, "schema")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lease file after release: %v, want it gone", err)
	}
	if st := current(t, s); len(st.Leases) != 0 {
		t.Errorf("Current after release = %+v", st)
	}
	if o := ops(events(t, s)); o != "claim:schema:builder release:schema:builder" {
		t.Errorf("events = %s", o)
	}
	hist, err := s.History()
	if err != nil || len(hist) != 1 || !sameLease(hist[0], want) {
		t.Errorf("History = %+v, %v; want the released lease", hist, err)
	}
	// Now anyone may claim it.
	mustClaim(t, s, req("schema", "scribe", t0.Add(31*time.Minute), time.Hour))

	// A lapsed lease is anybody's to clear.
	s2 := newLocal(t)
	mustClaim(t, s2, req("schema", "builder", t0, time.Hour))
	got, err = release(s2, "schema", "x@scribe.example", t0.Add(2*time.Hour))
	if err != nil || got == nil || got.Domain != "builder" || !got.ReleasedAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("release of a lapsed lease by scribe = %+v, %v", got, err)
	}
	if _, err := os.Lstat(leaseFile(s2, "schema")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lapsed lease file after release: %v, want it gone", err)
	}
}

func TestLocalHistory(t *testing.T) {
	s := newLocal(t)
	if h, err := s.History(); err != nil || h != nil {
		t.Fatalf("History of an empty store = %+v, %v", h, err)
	}
	mustClaim(t, s, req("schema", "builder", t0, time.Hour))
	mustClaim(t, s, req("storage", "scribe", t0, time.Hour))
	if _, err := renew(s, "schema", agentOf("builder"), 2*time.Hour, t0.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := release(s, "schema", agentOf("builder"), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, s, req("schema", "gems", t0.Add(90*time.Minute), time.Hour))
	hist, err := s.History()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range hist {
		rel := "-"
		if !l.ReleasedAt.IsZero() {
			rel = l.ReleasedAt.Format("15:04")
		}
		got = append(got, fmt.Sprintf("%s:%s:%s-%s:%s", l.Resource, l.Domain, l.CreatedAt.Format("15:04"), l.ExpiresAt.Format("15:04"), rel))
	}
	want := "schema:builder:15:00-17:30:16:00 schema:gems:16:30-17:30:- storage:scribe:15:00-16:00:-"
	if strings.Join(got, " ") != want {
		t.Errorf("History = %s\n            want %s", strings.Join(got, " "), want)
	}
	// A history whose last line a crash cut short still reads.
	f, err := os.OpenFile(filepath.Join(s.Path(), "events.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"v":1,"op":"claim","lea`)
	f.Close()
	if h, err := s.History(); err != nil || len(h) != 3 {
		t.Errorf("History with a torn last line = %d leases, %v; want 3", len(h), err)
	}
}

// setupBroken makes a store whose leases directory exists, with a live
// storage lease, and writes data as schema's lease file.
func setupBroken(t *testing.T, data string) *store.Local {
	t.Helper()
	s := newLocal(t)
	mustClaim(t, s, req("storage", "builder", t0, time.Hour))
	if err := os.WriteFile(leaseFile(s, "schema"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLocalBroken(t *testing.T) {
	valid := string(store.FormatLease(sampleLease()))
	tests := []struct {
		name  string
		data  string
		cause string
	}{
		{"garbage", "\x00\xffnot a lease", "not valid YAML"},
		{"truncated", valid[:len(valid)/2], ""},
		{"empty", "", "empty"},
		{"names another resource", strings.Replace(valid, "resource: schema", "resource: storage", 1), `names resource "storage" but is filed as "schema"`},
		{"times contradict", set(valid, "expires_at", "2026-11-28T14:00:00Z"), "expires_at is not after created_at"},
		{"too large", valid + "reason: " + strings.Repeat("x", 70<<10) + "\n", "larger than any record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := setupBroken(t, tt.data)
			file := leaseFile(s, "schema")
			st := current(t, s)
			if len(st.Broken) != 1 || st.Broken[0].Resource != "schema" || st.Broken[0].File != file || !strings.Contains(st.Broken[0].Cause, tt.cause) {
				t.Fatalf("Current().Broken = %+v, want schema's file with cause %q", st.Broken, tt.cause)
			}
			if len(st.Leases) != 1 || st.Leases[0].Resource != "storage" {
				t.Errorf("Current().Leases = %+v, want the storage lease only", st.Leases)
			}
			checkBrokenRefused(t, s, file, tt.data)
		})
	}
}

// checkBrokenRefused: claim, renew and release of schema stop with a
// *BrokenError naming file, and leave its content as it was.
func checkBrokenRefused(t *testing.T, s *store.Local, file, content string) {
	t.Helper()
	nEvents := len(events(t, s))
	for _, op := range []struct {
		name string
		do   func() error
	}{
		{"claim", func() error { _, err := claim(t, s, req("schema", "builder", t0, time.Hour)); return err }},
		{"renew", func() error {
			_, err := renew(s, "schema", agentOf("builder"), time.Hour, t0)
			return err
		}},
		{"release", func() error {
			_, err := release(s, "schema", agentOf("builder"), t0)
			return err
		}},
	} {
		err := op.do()
		if r, code := refusal(err); code != policy.CodeBrokenRecord || r.Exit != 2 || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "to free schema") {
			t.Errorf("%s: %v, want broken-record naming %s", op.name, err, file)
		}
		if got := readFileNoFollow(t, file); got != content {
			t.Errorf("%s changed the broken file to %q", op.name, got)
		}
	}
	if n := len(events(t, s)); n != nEvents {
		t.Errorf("refused operations recorded %d events", n-nEvents)
	}
	// The rest of the store still works.
	mustClaim(t, s, req("index", "builder", t0, time.Hour))
}

func readFileNoFollow(t *testing.T, name string) string {
	t.Helper()
	fi, err := os.Lstat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(name)
		if err != nil {
			t.Fatal(err)
		}
		return "symlink:" + target
	}
	return readFile(t, name)
}

func TestLocalBadFileName(t *testing.T) {
	s := setupBroken(t, string(store.FormatLease(sampleLease())))
	for _, name := range []string{"Schema.yaml", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(s.Path(), "leases", name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st := current(t, s)
	if len(st.Leases) != 2 || len(st.Broken) != 2 {
		t.Fatalf("Current = %+v, want 2 leases and 2 broken records", st)
	}
	for _, b := range st.Broken {
		if !strings.Contains(b.Cause, "not a lease file name") {
			t.Errorf("broken %+v: want a file-name cause", b)
		}
	}
}

func TestLocalSymlinkedLeaseFile(t *testing.T) {
	s := newLocal(t)
	mustClaim(t, s, req("storage", "builder", t0, time.Hour))
	outside := filepath.Join(t.TempDir(), "schema.yaml")
	content := string(store.FormatLease(sampleLease())) // a valid lease: the link alone makes it broken
	if err := os.WriteFile(outside, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	file := leaseFile(s, "schema")
	if err := os.Symlink(outside, file); err != nil {
		t.Fatal(err)
	}
	st := current(t, s)
	if len(st.Broken) != 1 || st.Broken[0].Resource != "schema" || !strings.Contains(st.Broken[0].Cause, "symlink") {
		t.Fatalf("Current().Broken = %+v, want the symlinked schema lease", st.Broken)
	}
	for _, l := range st.Leases {
		if l.Resource == "schema" {
			t.Errorf("a symlinked lease counts as held: %+v", l)
		}
	}
	checkBrokenRefused(t, s, file, "symlink:"+outside)
	if got := readFile(t, outside); got != content {
		t.Errorf("the symlink's target changed to %q", got)
	}
}

func TestLocalSymlinkedStateDir(t *testing.T) {
	for _, link := range []string{".substrate/state", ".substrate"} {
		t.Run(link, func(t *testing.T) {
			root := t.TempDir()
			outside := t.TempDir()
			if err := os.MkdirAll(filepath.Dir(filepath.Join(root, link)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(root, link)); err != nil {
				t.Fatal(err)
			}
			s := store.OpenLocal(root)
			if _, err := s.Current(); err == nil || !strings.Contains(err.Error(), "not a directory") {
				t.Errorf("Current: %v, want a not-a-directory error", err)
			}
			if _, err := s.History(); err == nil || !strings.Contains(err.Error(), "not a directory") {
				t.Errorf("History: %v, want a not-a-directory error", err)
			}
			if _, err := claim(t, s, req("schema", "builder", t0, time.Hour)); err == nil || !strings.Contains(err.Error(), "not a directory") {
				t.Errorf("Claim: %v, want a not-a-directory error", err)
			}
			if _, err := release(s, "schema", agentOf("builder"), t0); err == nil {
				t.Error("Release through a symlinked store succeeded")
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("oxygen wrote %d entries through the symlink: %v", len(entries), entries)
			}
		})
	}
}

func TestLocalStaleTemps(t *testing.T) {
	s := newLocal(t)
	mustClaim(t, s, req("storage", "builder", t0, time.Hour))
	stale := []string{
		filepath.Join(s.Path(), "leases", ".tmp-schema.yaml-dead01"),
		filepath.Join(s.Path(), ".tmp-.gitignore-dead02"),
	}
	for _, f := range stale {
		if err := os.WriteFile(f, []byte("half a lea"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st := current(t, s)
	if len(st.Leases) != 1 || len(st.Broken) != 0 {
		t.Errorf("Current with stale temp files = %+v, want them ignored", st)
	}
	for _, f := range stale {
		if _, err := os.Lstat(f); err != nil {
			t.Errorf("Current removed %s (it takes no lock; only a mutation may): %v", f, err)
		}
	}
	mustClaim(t, s, req("schema", "scribe", t0, time.Hour))
	for _, f := range stale {
		if _, err := os.Lstat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after a mutation %s is still there: %v", f, err)
		}
	}
	// Renew and release clear them too.
	for _, op := range []func(){
		func() {
			renew(s, "schema", agentOf("scribe"), time.Hour, t0)
		},
		func() { release(s, "nothing", agentOf("scribe"), t0) },
	} {
		os.WriteFile(stale[0], nil, 0o644)
		op()
		if _, err := os.Lstat(stale[0]); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a stale temp file survived a mutation: %v", err)
		}
	}
}

// TestLocalConcurrentClaims: processes claiming one resource at once, each
// with its own file descriptors, are serialised by the lock: one wins, every
// other one sees its lease.
func TestLocalConcurrentClaims(t *testing.T) {
	const n = 16
	for round := 0; round < 8; round++ {
		root := t.TempDir()
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		won := make([]policy.Claimed, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := store.OpenLocal(root)
				<-start
				res, err := claim(t, s, req("schema", fmt.Sprintf("d%02d", i), t0, time.Hour))
				errs[i] = err
				if err == nil {
					won[i] = res
				}
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("round %d: d%02d and d%02d both claimed schema", round, winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody claimed schema: %v", round, errs)
		}
		want := fmt.Sprintf("d%02d", winner)
		for i, err := range errs {
			if r, code := refusal(err); i != winner && (code != policy.CodeHeldByOther || r.Holder.Domain != want) {
				t.Errorf("round %d: d%02d got %v, want held-by-other naming %s", round, i, err, want)
			}
		}
		s := store.OpenLocal(root)
		st := current(t, s)
		if len(st.Leases) != 1 || st.Leases[0].Domain != want || len(st.Broken) != 0 {
			t.Errorf("round %d: Current = %+v, want %s's lease", round, st, want)
		}
		if o := ops(events(t, s)); o != "claim:schema:"+want {
			t.Errorf("round %d: events = %s", round, o)
		}
	}
}

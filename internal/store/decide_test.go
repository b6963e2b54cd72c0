package store_test

// Tests of the decisions behind every mutation of issue 5 (decide.go),
// through the local store's exported methods with explicit times: council
// calls lifting the change and attention budgets once, forced releases,
// capsules, signals and acknowledgements.

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

// d0 is a fixed clock for the decisions below.
var d0 = time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)

func agentOf(domain string) string { return "agent@" + domain + ".example" }

// signal sends a signal from domain from at now.
func sendSignal(t *testing.T, s *store.Local, id, kind, from string, to, files []string, now time.Time) policy.Signal {
	t.Helper()
	sg, err := s.Signal(store.SignalRequest{ID: id, Kind: kind, From: from, By: agentOf(from), Subject: "why", To: to, Files: files, Now: now})
	if err != nil {
		t.Fatalf("signal %s: %v", id, err)
	}
	return sg
}

func ackAs(t *testing.T, s *store.Local, id, domain string, now time.Time) policy.Signal {
	t.Helper()
	sg, err := s.Ack(store.AckRequest{ID: id, By: agentOf(domain), Domains: []string{domain}, Now: now})
	if err != nil {
		t.Fatalf("ack %s by %s: %v", id, domain, err)
	}
	return sg
}

// grantedCall raises council call id from builder to guardian and scribe and
// has both acknowledge it.
func grantedCall(t *testing.T, s *store.Local, id string) {
	t.Helper()
	sendSignal(t, s, id, policy.SignalCouncilCall, "builder", []string{"guardian", "scribe"}, nil, d0)
	ackAs(t, s, id, "guardian", d0.Add(time.Second))
	ackAs(t, s, id, "scribe", d0.Add(2*time.Second))
}

// signalOf reads signal id from the store.
func signalOf(t *testing.T, s *store.Local, id string) policy.Signal {
	t.Helper()
	for _, sg := range current(t, s).Signals {
		if sg.ID == id {
			return sg
		}
	}
	t.Fatalf("no signal %s in the store", id)
	return policy.Signal{}
}

func leaseOf(t *testing.T, s *store.Local, resource string) *policy.Lease {
	t.Helper()
	for _, l := range current(t, s).Leases {
		if l.Resource == resource {
			return &l
		}
	}
	return nil
}

// builderAtBudget: builder holds schema and storage, its whole change budget of 2.
func builderAtBudget(t *testing.T, s *store.Local) {
	t.Helper()
	mustClaim(t, s, req("schema", "builder", d0, time.Hour))
	mustClaim(t, s, req("storage", "builder", d0, time.Hour))
}

func councilOf(evs []store.Event) []string {
	var out []string
	for _, e := range evs {
		if e.Council != "" {
			out = append(out, e.Op+" "+e.Lease.Resource+" "+e.Council)
		}
	}
	return out
}

func TestClaimCouncilLiftsChangeBudgetOnce(t *testing.T) {
	now := d0.Add(time.Minute)
	for _, tt := range []struct {
		name    string
		setup   func(t *testing.T, s *store.Local)
		council string
		wantErr bool // a *store.CouncilError
	}{
		{"granted and unused", func(t *testing.T, s *store.Local) { grantedCall(t, s, "cc-1") }, "cc-1", false},
		{"acknowledged by one of two addressed domains", func(t *testing.T, s *store.Local) {
			sendSignal(t, s, "cc-1", policy.SignalCouncilCall, "builder", []string{"guardian", "scribe"}, nil, d0)
			ackAs(t, s, "cc-1", "guardian", d0)
		}, "cc-1", true},
		{"acknowledged by nobody", func(t *testing.T, s *store.Local) {
			sendSignal(t, s, "cc-1", policy.SignalCouncilCall, "builder", []string{"guardian"}, nil, d0)
		}, "cc-1", true},
		{"an acknowledged missive is no council call", func(t *testing.T, s *store.Local) {
			sendSignal(t, s, "m-1", policy.SignalMissive, "builder", []string{"scribe"}, []string{"docs/a.md"}, d0)
			ackAs(t, s, "m-1", "scribe", d0)
		}, "m-1", true},
		{"no such signal", func(*testing.T, *store.Local) {}, "cc-404", true},
		{"used already", func(t *testing.T, s *store.Local) {
			grantedCall(t, s, "cc-1")
			if _, err := s.Assign(store.Assign{ID: "T-1", Owner: agentOf("builder"), Domain: "builder", By: agentOf("builder"), Budget: 0, Now: d0}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Assign(store.Assign{ID: "T-2", Owner: agentOf("builder"), Domain: "builder", By: agentOf("builder"), Budget: 1, Council: "cc-1", Now: d0.Add(3 * time.Second)}); err != nil {
				t.Fatalf("spending the call on an assignment: %v", err)
			}
		}, "cc-1", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newLocal(t)
			builderAtBudget(t, s)
			tt.setup(t, s)
			before := len(events(t, s))
			c := req("index", "builder", now, time.Hour)
			c.Council = tt.council
			_, err := claim(t, s, c)
			if tt.wantErr {
				var ce *store.CouncilError
				if !errors.As(err, &ce) || ce.ID != tt.council {
					t.Fatalf("claim past the budget with council %s: err = %v, want a *store.CouncilError naming it", tt.council, err)
				}
				if l := leaseOf(t, s, "index"); l != nil {
					t.Errorf("a refused claim left a lease: %+v", *l)
				}
				if n := len(events(t, s)); n != before {
					t.Errorf("a refused claim recorded %d events", n-before)
				}
				return
			}
			if err != nil {
				t.Fatalf("claim with granted council call: %v", err)
			}
			evs := events(t, s)
			if got, want := councilOf(evs), []string{"claim index cc-1"}; !slices.Equal(got, want) {
				t.Errorf("events citing a council call = %q, want %q", got, want)
			}
			sg := signalOf(t, s, "cc-1")
			if !sg.UsedAt.Equal(now) || sg.UsedFor != "claim index" || sg.Status(now) != "used" {
				t.Errorf("call after use: used_at %v, used_for %q, status %q; want %v, %q, used", sg.UsedAt, sg.UsedFor, sg.Status(now), now, "claim index")
			}
			// Once: the same call lifts nothing more.
			c = req("execution", "builder", now.Add(time.Second), time.Hour)
			c.Council = "cc-1"
			_, err = claim(t, s, c)
			var ce *store.CouncilError
			if !errors.As(err, &ce) {
				t.Fatalf("second claim with a spent call: err = %v, want *store.CouncilError", err)
			}
		})
	}
}

func TestClaimWithinBudgetDoesNotSpendCouncil(t *testing.T) {
	s := newLocal(t)
	grantedCall(t, s, "cc-1")
	c := req("schema", "builder", d0.Add(time.Minute), time.Hour)
	c.Council = "cc-1"
	mustClaim(t, s, c)
	if got := councilOf(events(t, s)); len(got) != 0 {
		t.Errorf("a claim within the budget recorded council use: %q", got)
	}
	if sg := signalOf(t, s, "cc-1"); !sg.UsedAt.IsZero() {
		t.Errorf("a claim within the budget spent the call (used for %q)", sg.UsedFor)
	}
}

func TestClaimWithoutCouncilPastBudget(t *testing.T) {
	s := newLocal(t)
	builderAtBudget(t, s)
	grantedCall(t, s, "cc-1")
	_, err := claim(t, s, req("index", "builder", d0.Add(time.Minute), time.Hour))
	var be *store.BudgetError
	if !errors.As(err, &be) || be.Budget != "change" || be.Limit != 2 {
		t.Fatalf("claim past the budget without council: err = %v, want a change *store.BudgetError", err)
	}
	if sg := signalOf(t, s, "cc-1"); !sg.UsedAt.IsZero() {
		t.Errorf("a claim that cited no call spent one")
	}
}

func TestMultiClaimCouncilSpentOnce(t *testing.T) {
	for _, tt := range []struct {
		name     string
		held     []string // builder's leases before
		claim    []string
		usedFor  string
		councils []string
	}{
		// The call is spent once, by the first claim past the budget; the
		// rest of the act records that it rode on it.
		{"all past the budget", []string{"schema", "storage"}, []string{"index", "execution"}, "claim index", []string{"claim index cc-1", "claim execution cc-1"}},
		{"the second past the budget", []string{"schema"}, []string{"index", "execution"}, "claim execution", []string{"claim execution cc-1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newLocal(t)
			for _, r := range tt.held {
				mustClaim(t, s, req(r, "builder", d0, time.Hour))
			}
			grantedCall(t, s, "cc-1")
			now := d0.Add(time.Minute)
			var cs []store.Claim
			for _, r := range tt.claim {
				c := req(r, "builder", now, time.Hour)
				c.Council = "cc-1"
				cs = append(cs, c)
			}
			res, err := s.Claim(cs)
			if err != nil {
				t.Fatalf("claim %v with a granted call: %v", tt.claim, err)
			}
			if len(res) != len(tt.claim) {
				t.Fatalf("claimed %d, want %d", len(res), len(tt.claim))
			}
			for _, r := range tt.claim {
				if leaseOf(t, s, r) == nil {
					t.Errorf("no lease on %s after the claim", r)
				}
			}
			if got := councilOf(events(t, s)); !slices.Equal(got, tt.councils) {
				t.Errorf("events citing the call = %q, want %q", got, tt.councils)
			}
			if sg := signalOf(t, s, "cc-1"); sg.UsedFor != tt.usedFor {
				t.Errorf("call used for %q, want %q", sg.UsedFor, tt.usedFor)
			}
			// And the budget holds again afterwards.
			_, err = claim(t, s, req("deployment", "builder", now.Add(time.Second), time.Hour))
			var be *store.BudgetError
			if !errors.As(err, &be) {
				t.Errorf("claim after the lifted one: err = %v, want *store.BudgetError", err)
			}
		})
	}
}

// guardianHolds: guardian holds index from d0 for an hour.
func guardianHolds(t *testing.T, s *store.Local) {
	t.Helper()
	mustClaim(t, s, req("index", "guardian", d0, time.Hour))
}

func TestReleaseForceCouncil(t *testing.T) {
	live, lapsed := d0.Add(10*time.Minute), d0.Add(2*time.Hour)
	builder := []string{"builder"}
	for _, tt := range []struct {
		name      string
		call      bool // a granted cc-1 exists
		spend     bool // and was spent before
		rel       store.Release
		wantErr   any // nil, or a pointer to the error type wanted
		force     bool
		council   string
		usedFor   string // what cc-1 is used for afterwards ("" unused)
		stillHeld bool
	}{
		{name: "another domain's live lease with a granted call", call: true,
			rel:   store.Release{Resource: "index", By: agentOf("builder"), Domains: builder, Force: true, Council: "cc-1", Now: live},
			force: true, council: "cc-1", usedFor: "release index"},
		{name: "force without a call", call: true,
			rel:       store.Release{Resource: "index", By: agentOf("builder"), Domains: builder, Force: true, Now: live},
			wantErr:   new(*store.NotHolderError),
			stillHeld: true},
		{name: "a call without force", call: true,
			rel:       store.Release{Resource: "index", By: agentOf("builder"), Domains: builder, Council: "cc-1", Now: live},
			wantErr:   new(*store.NotHolderError),
			stillHeld: true},
		{name: "force with an ungranted call",
			rel:       store.Release{Resource: "index", By: agentOf("builder"), Domains: builder, Force: true, Council: "cc-1", Now: live},
			wantErr:   new(*store.CouncilError),
			stillHeld: true},
		{name: "force with a spent call", call: true, spend: true,
			rel:       store.Release{Resource: "index", By: agentOf("builder"), Domains: builder, Force: true, Council: "cc-1", Now: live},
			wantErr:   new(*store.CouncilError),
			usedFor:   "claim deployment",
			stillHeld: true},
		{name: "the holder's own domain with force and a call spends nothing", call: true,
			rel: store.Release{Resource: "index", By: agentOf("guardian"), Domains: []string{"guardian"}, Force: true, Council: "cc-1", Now: live}},
		{name: "a lapsed lease by anyone",
			rel: store.Release{Resource: "index", By: "nobody@nowhere.example", Now: lapsed}},
		{name: "a lapsed lease with force and a call spends nothing", call: true,
			rel: store.Release{Resource: "index", By: agentOf("builder"), Domains: builder, Force: true, Council: "cc-1", Now: lapsed}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newLocal(t)
			guardianHolds(t, s)
			if tt.call {
				grantedCall(t, s, "cc-1")
			}
			if tt.spend {
				builderAtBudget(t, s)
				c := req("deployment", "builder", d0.Add(time.Minute), time.Hour)
				c.Council = "cc-1"
				mustClaim(t, s, c)
			}
			before := len(events(t, s))
			got, err := s.Release(tt.rel)
			if tt.wantErr != nil {
				if !errors.As(err, tt.wantErr) {
					t.Fatalf("release: err = %v (%T), want %T", err, err, tt.wantErr)
				}
				if n := len(events(t, s)); n != before {
					t.Errorf("a refused release recorded %d events", n-before)
				}
			} else {
				if err != nil {
					t.Fatalf("release: %v", err)
				}
				if got == nil || got.Resource != "index" || got.Domain != "guardian" || !got.ReleasedAt.Equal(tt.rel.Now) {
					t.Fatalf("release returned %+v, want guardian's index lease released at %v", got, tt.rel.Now)
				}
				evs := events(t, s)
				if len(evs) != before+1 {
					t.Fatalf("release recorded %d events, want 1", len(evs)-before)
				}
				e := evs[len(evs)-1]
				if e.Op != store.OpRelease || e.Force != tt.force || e.Council != tt.council || e.By != tt.rel.By {
					t.Errorf("release event: op %s force %v council %q by %s; want release, force %v, council %q, by %s",
						e.Op, e.Force, e.Council, e.By, tt.force, tt.council, tt.rel.By)
				}
			}
			if held := leaseOf(t, s, "index") != nil; held != tt.stillHeld {
				t.Errorf("index lease still on record: %v, want %v", held, tt.stillHeld)
			}
			if tt.call {
				if sg := signalOf(t, s, "cc-1"); sg.UsedFor != tt.usedFor {
					t.Errorf("cc-1 used for %q, want %q", sg.UsedFor, tt.usedFor)
				}
			}
		})
	}
}

func assignReq(id, domain string, budget int, council string, now time.Time) store.Assign {
	return store.Assign{ID: id, Owner: agentOf(domain), Domain: domain, Scope: []string{"deploy/**"}, By: agentOf(domain), Budget: budget, Council: council, Now: now}
}

func TestAssignAttentionBudget(t *testing.T) {
	s := newLocal(t)
	for _, id := range []string{"T-1", "T-2"} {
		c, err := s.Assign(assignReq(id, "builder", 2, "", d0))
		if err != nil {
			t.Fatalf("assign %s: %v", id, err)
		}
		if c.Status != policy.CapsuleInProgress || c.Domain != "builder" || !c.CreatedAt.Equal(d0) || !slices.Equal(c.Scope, []string{"deploy/**"}) {
			t.Errorf("assigned capsule %+v", c)
		}
	}
	// Past the budget: refused naming it and what uses it.
	_, err := s.Assign(assignReq("T-3", "builder", 2, "", d0.Add(time.Minute)))
	var be *store.BudgetError
	if !errors.As(err, &be) || be.Budget != "attention" || be.Domain != "builder" || be.Limit != 2 || !slices.Equal(be.Held, []string{"T-1", "T-2"}) {
		t.Fatalf("third assignment: err = %#v, want an attention *store.BudgetError for builder holding T-1, T-2", err)
	}
	// An ungranted call lifts nothing.
	sendSignal(t, s, "cc-1", policy.SignalCouncilCall, "builder", []string{"guardian", "scribe"}, nil, d0)
	ackAs(t, s, "cc-1", "guardian", d0.Add(time.Second))
	var ce *store.CouncilError
	if _, err := s.Assign(assignReq("T-3", "builder", 2, "cc-1", d0.Add(time.Minute))); !errors.As(err, &ce) {
		t.Fatalf("assignment with an ungranted call: err = %v, want *store.CouncilError", err)
	}
	// Granted: lifts it once.
	ackAs(t, s, "cc-1", "scribe", d0.Add(2*time.Second))
	if _, err := s.Assign(assignReq("T-3", "builder", 2, "cc-1", d0.Add(time.Minute))); err != nil {
		t.Fatalf("assignment with a granted call: %v", err)
	}
	evs := events(t, s)
	if e := evs[len(evs)-1]; e.Op != store.OpAssign || e.Council != "cc-1" || e.Capsule == nil || e.Capsule.ID != "T-3" {
		t.Errorf("last event %+v, want the assignment of T-3 citing cc-1", e)
	}
	if sg := signalOf(t, s, "cc-1"); sg.UsedFor != "assign T-3" {
		t.Errorf("cc-1 used for %q, want %q", sg.UsedFor, "assign T-3")
	}
	if _, err := s.Assign(assignReq("T-4", "builder", 2, "cc-1", d0.Add(2*time.Minute))); !errors.As(err, &ce) {
		t.Fatalf("reusing the call: err = %v, want *store.CouncilError", err)
	}
	// Another domain's attention budget is its own.
	if _, err := s.Assign(assignReq("G-1", "guardian", 2, "", d0.Add(time.Minute))); err != nil {
		t.Fatalf("guardian's first assignment: %v", err)
	}
	// Closing one frees a place.
	if _, err := s.Done(store.Done{ID: "T-1", By: agentOf("builder"), Domains: []string{"builder"}, Now: d0.Add(3 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Assign(assignReq("T-4", "builder", 2, "", d0.Add(4*time.Minute))); !errors.As(err, &be) {
		t.Fatalf("T-2, T-3 still in progress: err = %v, want *store.BudgetError", err)
	}
	if _, err := s.Done(store.Done{ID: "T-2", By: agentOf("builder"), Domains: []string{"builder"}, Now: d0.Add(3 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Assign(assignReq("T-4", "builder", 2, "", d0.Add(4*time.Minute))); err != nil {
		t.Fatalf("assignment after two were done: %v", err)
	}
}

func TestAssignExisting(t *testing.T) {
	s := newLocal(t)
	if _, err := s.Assign(assignReq("T-1", "builder", 2, "", d0)); err != nil {
		t.Fatal(err)
	}
	var ee *store.ExistsError
	_, err := s.Assign(assignReq("T-1", "guardian", 2, "", d0.Add(time.Second)))
	if !errors.As(err, &ee) || ee.ID != "T-1" || ee.Status != policy.CapsuleInProgress {
		t.Fatalf("duplicate id: err = %v, want *store.ExistsError in_progress", err)
	}
	if _, err := s.Done(store.Done{ID: "T-1", By: agentOf("builder"), Domains: []string{"builder"}, Now: d0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Assign(assignReq("T-1", "builder", 2, "", d0.Add(2*time.Minute))); !errors.As(err, &ee) || ee.Status != policy.CapsuleDone {
		t.Fatalf("reusing a closed capsule's id: err = %v, want *store.ExistsError done", err)
	}
	if _, err := s.Assign(assignReq("../x", "builder", 2, "", d0)); err == nil {
		t.Error("an id with a path separator was accepted")
	}
}

func TestDone(t *testing.T) {
	later := d0.Add(time.Hour)
	for _, tt := range []struct {
		name    string
		done    store.Done
		wantErr any
	}{
		{"the owner, of another domain", store.Done{ID: "T-1", By: "eve@guardian.example", Domains: []string{"guardian"}, Now: later}, nil},
		{"a member of the capsule's domain", store.Done{ID: "T-1", By: "bob@builder.example", Domains: []string{"builder"}, Now: later}, nil},
		{"a member of another domain", store.Done{ID: "T-1", By: "sam@scribe.example", Domains: []string{"scribe"}, Now: later}, new(*store.NotMemberError)},
		{"someone in no domain", store.Done{ID: "T-1", By: "x@nowhere.example", Now: later}, new(*store.NotMemberError)},
		{"an unknown capsule", store.Done{ID: "T-9", By: "bob@builder.example", Domains: []string{"builder"}, Now: later}, new(*store.UnknownError)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newLocal(t)
			// builder assigns T-1 to eve of guardian.
			if _, err := s.Assign(store.Assign{ID: "T-1", Owner: "eve@guardian.example", Domain: "builder", By: agentOf("builder"), Budget: 2, Now: d0}); err != nil {
				t.Fatal(err)
			}
			before := len(events(t, s))
			c, err := s.Done(tt.done)
			if tt.wantErr != nil {
				if !errors.As(err, tt.wantErr) {
					t.Fatalf("done: err = %v (%T), want %T", err, err, tt.wantErr)
				}
				if n := len(events(t, s)); n != before {
					t.Errorf("a refused done recorded %d events", n-before)
				}
				if cs := current(t, s).InProgress("", "builder", later); len(cs) != 1 {
					t.Errorf("T-1 no longer in progress after a refused done")
				}
				return
			}
			if err != nil {
				t.Fatalf("done: %v", err)
			}
			if c.Status != policy.CapsuleDone || !c.ClosedAt.Equal(later) {
				t.Errorf("closed capsule %+v, want done at %v", c, later)
			}
			evs := events(t, s)
			if e := evs[len(evs)-1]; e.Op != store.OpDone || e.By != tt.done.By {
				t.Errorf("last event %s by %s, want done by %s", e.Op, e.By, tt.done.By)
			}
			if cs := current(t, s).InProgress("", "builder", later); len(cs) != 0 {
				t.Errorf("still in progress after done: %+v", cs)
			}
			// Twice: the capsule exists, closed.
			var ee *store.ExistsError
			if _, err := s.Done(tt.done); !errors.As(err, &ee) || ee.Status != policy.CapsuleDone {
				t.Errorf("second done: err = %v, want *store.ExistsError done", err)
			}
		})
	}
}

func TestSignal(t *testing.T) {
	docs := []string{"docs/guide.md"}
	for _, tt := range []struct {
		name    string
		req     store.SignalRequest
		ok      bool
		wantErr any // a typed error wanted, if any
	}{
		{"missive to one domain naming files", store.SignalRequest{ID: "m-1", Kind: policy.SignalMissive, To: []string{"scribe"}, Files: docs}, true, nil},
		{"missive to two domains", store.SignalRequest{ID: "m-1", Kind: policy.SignalMissive, To: []string{"scribe", "guardian"}, Files: docs}, false, nil},
		{"missive to no domain", store.SignalRequest{ID: "m-1", Kind: policy.SignalMissive, Files: docs}, false, nil},
		{"missive without files", store.SignalRequest{ID: "m-1", Kind: policy.SignalMissive, To: []string{"scribe"}}, false, nil},
		{"council call to one domain", store.SignalRequest{ID: "cc-1", Kind: policy.SignalCouncilCall, To: []string{"scribe"}}, true, nil},
		{"council call to two domains", store.SignalRequest{ID: "cc-1", Kind: policy.SignalCouncilCall, To: []string{"scribe", "guardian"}}, true, nil},
		{"council call to nobody", store.SignalRequest{ID: "cc-1", Kind: policy.SignalCouncilCall}, false, nil},
		{"citing a capsule", store.SignalRequest{ID: "m-1", Kind: policy.SignalMissive, To: []string{"scribe"}, Files: docs, Capsule: "T-1"}, true, nil},
		{"citing a closed capsule", store.SignalRequest{ID: "m-1", Kind: policy.SignalMissive, To: []string{"scribe"}, Files: docs, Capsule: "T-2"}, true, nil},
		{"citing an unknown capsule", store.SignalRequest{ID: "m-1", Kind: policy.SignalMissive, To: []string{"scribe"}, Files: docs, Capsule: "T-9"}, false, new(*store.UnknownError)},
		{"an id that is no file name", store.SignalRequest{ID: "../m", Kind: policy.SignalCouncilCall, To: []string{"scribe"}}, false, nil},
		{"an id in use", store.SignalRequest{ID: "m-0", Kind: policy.SignalCouncilCall, To: []string{"scribe"}}, false, new(*store.ExistsError)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newLocal(t)
			for _, a := range []store.Assign{assignReq("T-1", "builder", 2, "", d0), assignReq("T-2", "builder", 2, "", d0)} {
				if _, err := s.Assign(a); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Done(store.Done{ID: "T-2", By: agentOf("builder"), Domains: []string{"builder"}, Now: d0}); err != nil {
				t.Fatal(err)
			}
			sendSignal(t, s, "m-0", policy.SignalMissive, "builder", []string{"scribe"}, docs, d0)
			before := len(events(t, s))
			r := tt.req
			r.From, r.By, r.Subject, r.Now = "builder", agentOf("builder"), "why", d0.Add(time.Minute)
			sg, err := s.Signal(r)
			if !tt.ok {
				if err == nil {
					t.Fatalf("signal accepted: %+v", sg)
				}
				if tt.wantErr != nil && !errors.As(err, tt.wantErr) {
					t.Errorf("err = %v (%T), want %T", err, err, tt.wantErr)
				}
				if n := len(events(t, s)); n != before {
					t.Errorf("a refused signal recorded %d events", n-before)
				}
				return
			}
			if err != nil {
				t.Fatalf("signal: %v", err)
			}
			got := signalOf(t, s, r.ID)
			if got.Kind != r.Kind || got.From != "builder" || !slices.Equal(got.To, r.To) || !slices.Equal(got.Files, r.Files) || got.Capsule != r.Capsule || got.Status(r.Now) != "open" || len(got.Acks) != 0 {
				t.Errorf("recorded signal %+v", got)
			}
			evs := events(t, s)
			if e := evs[len(evs)-1]; e.Op != store.OpSignal || e.Signal == nil || e.Signal.ID != r.ID {
				t.Errorf("last event %+v, want the signal", e)
			}
		})
	}
}

func TestAckMissive(t *testing.T) {
	s := newLocal(t)
	sendSignal(t, s, "m-1", policy.SignalMissive, "builder", []string{"scribe"}, []string{"docs/guide.md"}, d0)
	now := d0.Add(time.Minute)
	// Only the addressed domain may acknowledge: not the sender's, not a third.
	for _, ds := range [][]string{{"builder"}, {"guardian"}, nil} {
		var nm *store.NotMemberError
		if _, err := s.Ack(store.AckRequest{ID: "m-1", By: "x@example", Domains: ds, Now: now}); !errors.As(err, &nm) || nm.Domain != "scribe" {
			t.Errorf("ack by a member of %v: err = %v, want *store.NotMemberError naming scribe", ds, err)
		}
	}
	if sg := signalOf(t, s, "m-1"); len(sg.Acks) != 0 {
		t.Fatalf("refused acks were recorded: %+v", sg.Acks)
	}
	sg := ackAs(t, s, "m-1", "scribe", now)
	if sg.Status(now) != "acknowledged" || len(sg.Acks) != 1 || sg.Acks[0].Domain != "scribe" || sg.Acks[0].By != agentOf("scribe") || !sg.Acks[0].At.Equal(now) {
		t.Errorf("after the ack: status %q, acks %+v", sg.Status(now), sg.Acks)
	}
	// The handshake is what the judge sees.
	if done, _ := current(t, s).Handshake([]string{"builder"}, "scribe", "docs/guide.md", now); done == nil {
		t.Error("no handshake after scribe's ack")
	}
	// Again: no change, no event.
	n := len(events(t, s))
	sg = ackAs(t, s, "m-1", "scribe", now.Add(time.Minute))
	if len(sg.Acks) != 1 || !sg.Acks[0].At.Equal(now) {
		t.Errorf("second ack changed the acks: %+v", sg.Acks)
	}
	if got := len(events(t, s)); got != n {
		t.Errorf("second ack recorded %d events", got-n)
	}
	if got := signalOf(t, s, "m-1"); len(got.Acks) != 1 {
		t.Errorf("second ack changed the record: %+v", got.Acks)
	}
	var ue *store.UnknownError
	if _, err := s.Ack(store.AckRequest{ID: "m-404", By: agentOf("scribe"), Domains: []string{"scribe"}, Now: now}); !errors.As(err, &ue) {
		t.Errorf("ack of an unknown signal: err = %v, want *store.UnknownError", err)
	}
}

func TestAckCouncilCall(t *testing.T) {
	s := newLocal(t)
	sendSignal(t, s, "cc-1", policy.SignalCouncilCall, "builder", []string{"guardian", "scribe"}, nil, d0)
	t1, t2 := d0.Add(time.Minute), d0.Add(2*time.Minute)
	sg := ackAs(t, s, "cc-1", "guardian", t1)
	if sg.Status(t1) != "open" || current(t, s).Granted("cc-1", t1) != nil {
		t.Errorf("granted after one of two acks: status %q", sg.Status(t1))
	}
	sg = ackAs(t, s, "cc-1", "scribe", t2)
	if sg.Status(t2) != "granted" || current(t, s).Granted("cc-1", t2) == nil {
		t.Errorf("after both acks: status %q, want granted", sg.Status(t2))
	}
	// Granted from the last ack on, not before.
	if current(t, s).Granted("cc-1", t1) != nil {
		t.Error("granted at a time before scribe acknowledged")
	}
}

func TestAckCouncilCallByMemberOfBoth(t *testing.T) {
	s := newLocal(t)
	sendSignal(t, s, "cc-1", policy.SignalCouncilCall, "builder", []string{"guardian", "scribe"}, nil, d0)
	both := store.AckRequest{ID: "cc-1", By: "kim@both.example", Domains: []string{"scribe", "guardian"}, Now: d0.Add(time.Minute)}
	sg, err := s.Ack(both)
	if err != nil {
		t.Fatal(err)
	}
	if len(sg.Acks) != 1 || sg.Acks[0].Domain != "scribe" || sg.Status(both.Now) != "open" {
		t.Fatalf("first ack by a member of both: acks %+v, status %q; want scribe's only (the asker's first addressed domain), open", sg.Acks, sg.Status(both.Now))
	}
	// Each domain acknowledges separately: a second act for the second.
	both.Now = both.Now.Add(time.Minute)
	if sg, err = s.Ack(both); err != nil {
		t.Fatal(err)
	}
	if len(sg.Acks) != 2 || sg.Status(both.Now) != "granted" {
		t.Fatalf("second ack by a member of both: acks %+v, status %q; want both, granted", sg.Acks, sg.Status(both.Now))
	}
	n := len(events(t, s))
	if _, err = s.Ack(both); err != nil || len(events(t, s)) != n {
		t.Errorf("third ack: err %v, %d new events; want no change", err, len(events(t, s))-n)
	}
}

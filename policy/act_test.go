package policy_test

// Table tests of Decide: every act, each refusal of issue 12, expiry, all at
// a fixed clock and without git or files.

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

const actPolicy = `version: 1
domains:
  builder:
    members: ["*@builder.example", "two@both.example"]
    core: ["deploy/**"]
  guardian:
    members: ["*@guardian.example", "two@both.example"]
    core: ["secrets/**"]
  scribe:
    members: ["*@scribe.example"]
    core: ["docs/**"]
resources:
  schema:
    paths: ["schema/**"]
  a: {paths: ["a/**"]}
  b: {paths: ["b/**"]}
  c: {paths: ["c/**"]}
  d: {paths: ["d/**"]}
  broken: {paths: ["broken/**"]}
budgets:
  leases_per_domain: 2
  in_progress_per_domain: 1
  handshake_ttl: 1h
`

var a0 = time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)

const (
	ada = "ada@builder.example"
	bob = "bob@builder.example"
	eve = "eve@guardian.example"
	sam = "sam@scribe.example"
	two = "two@both.example"
)

// step is an act at a time after a0.
type step struct {
	at time.Duration
	a  policy.Act
}

func claimOf(by, domain string, ttl time.Duration, resources ...string) policy.Act {
	return policy.Act{Kind: policy.ActClaim, By: by, Domain: domain, Resources: resources, TTL: ttl}
}

func call(id, by, from string, to ...string) policy.Act {
	return policy.Act{Kind: policy.ActSignal, ID: id, Signal: policy.SignalCouncilCall, By: by, Domain: from, To: to, Subject: "why"}
}

func sendMissive(id, by, from, to string, capsule string, files ...string) policy.Act {
	return policy.Act{Kind: policy.ActSignal, ID: id, Signal: policy.SignalMissive, By: by, Domain: from, To: []string{to}, Files: files, Capsule: capsule, Subject: "why"}
}

func answer(kind, id, by string) policy.Act { return policy.Act{Kind: kind, ID: id, By: by} }

func release(by, resource, council string) policy.Act {
	return policy.Act{Kind: policy.ActRelease, By: by, Resources: []string{resource}, Force: council != "", Council: council}
}

func assign(id, by, domain, owner string, scope ...string) policy.Act {
	return policy.Act{Kind: policy.ActAssign, ID: id, By: by, Domain: domain, Owner: owner, Scope: scope}
}

// apply writes a decision into the state, as a store would.
func apply(st policy.State, d policy.Decision) policy.State {
	for _, c := range d.Claims {
		st = st.With(c.Lease)
	}
	if d.Lease != nil {
		if d.Lease.ReleasedAt.IsZero() {
			st = st.With(*d.Lease)
		} else {
			st.Leases = slices.DeleteFunc(slices.Clone(st.Leases), func(l policy.Lease) bool { return l.Resource == d.Lease.Resource })
		}
	}
	if d.Capsule != nil {
		st.Capsules = slices.DeleteFunc(slices.Clone(st.Capsules), func(c policy.Capsule) bool { return c.ID == d.Capsule.ID })
		st.Capsules = append(st.Capsules, *d.Capsule)
	}
	for _, s := range []*policy.Signal{d.Signal, d.Council} {
		if s != nil {
			st.Signals = slices.DeleteFunc(slices.Clone(st.Signals), func(x policy.Signal) bool { return x.ID == s.ID })
			st.Signals = append(st.Signals, *s)
		}
	}
	return st
}

// run decides steps in order on an empty state; each must pass.
func run(t *testing.T, p *policy.Policy, steps []step) policy.State {
	t.Helper()
	var st policy.State
	for i, s := range steps {
		d, err := p.Decide(s.a, st, a0.Add(s.at))
		if err != nil {
			t.Fatalf("setup step %d (%s by %s): %v", i, s.a.Kind, s.a.By, err)
		}
		st = apply(st, d)
	}
	return st
}

func loadAct(t *testing.T, src string) *policy.Policy {
	t.Helper()
	p, err := policy.Load("resources.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDecideRefusals(t *testing.T) {
	p := loadAct(t, actPolicy)
	granted := func(id string, to ...string) []step { // a call from builder, acked by every addressee
		out := []step{{0, call(id, ada, "builder", to...)}}
		for _, d := range to {
			out = append(out, step{time.Second, answer(policy.ActAck, id, map[string]string{"guardian": eve, "scribe": sam, "builder": bob}[d])})
		}
		return out
	}
	for _, tt := range []struct {
		name  string
		setup []step
		act   step
		code  string // the refusal; "" for a decision
		check func(t *testing.T, d policy.Decision, st policy.State)
	}{
		{
			name:  "a claim of another domain's live lease",
			setup: []step{{0, claimOf(eve, "guardian", time.Hour, "schema")}},
			act:   step{time.Minute, claimOf(ada, "builder", time.Hour, "schema")},
			code:  policy.CodeHeldByOther,
		},
		{
			name:  "a lease from a clock running ahead holds its resource",
			setup: []step{{time.Hour, claimOf(eve, "guardian", time.Hour, "schema")}},
			act:   step{0, claimOf(ada, "builder", time.Hour, "schema")},
			code:  policy.CodeHeldByOther,
		},
		{
			name:  "expiry: at its end another domain takes the lease over",
			setup: []step{{0, claimOf(eve, "guardian", time.Hour, "schema")}},
			act:   step{time.Hour, claimOf(ada, "builder", time.Hour, "schema")},
			check: func(t *testing.T, d policy.Decision, _ policy.State) {
				if len(d.Claims) != 1 || d.Claims[0].TookOver == nil || d.Claims[0].TookOver.Domain != "guardian" {
					t.Errorf("claims = %+v, want a takeover of guardian's lapsed lease", d.Claims)
				}
			},
		},
		{
			name: "a claim for a domain the asker is not in",
			act:  step{0, claimOf(ada, "guardian", time.Hour, "schema")},
			code: policy.CodeNotMember,
		},
		{
			name:  "the change budget",
			setup: []step{{0, claimOf(ada, "builder", time.Hour, "a", "b")}},
			act:   step{0, claimOf(bob, "builder", time.Hour, "c")},
			code:  policy.CodeBudgetChange,
		},
		{
			name:  "the attention budget",
			setup: []step{{0, assign("T-1", ada, "builder", ada)}},
			act:   step{0, assign("T-2", ada, "builder", bob)},
			code:  policy.CodeBudgetAttention,
		},
		{
			name: "a council call addressed only to the caller's domain",
			act:  step{0, call("cc-1", ada, "builder", "builder")},
			code: policy.CodeCouncilSelf,
		},
		{
			name: "a council call from a member of two domains to the other",
			act:  step{0, call("cc-1", two, "builder", "guardian")},
			code: policy.CodeCouncilSelf,
		},
		{
			name:  "an acknowledgement by the caller's own domain",
			setup: []step{{0, call("cc-1", ada, "builder", "scribe")}},
			act:   step{time.Second, answer(policy.ActAck, "cc-1", bob)},
			code:  policy.CodeNotMember,
		},
		{
			name: "a claim past the budget citing a call not every addressee acknowledged",
			setup: []step{
				{0, claimOf(ada, "builder", time.Hour, "a", "b")},
				{0, call("cc-1", ada, "builder", "scribe", "guardian")},
				{time.Second, answer(policy.ActAck, "cc-1", sam)},
			},
			act:  step{time.Minute, policy.Act{Kind: policy.ActClaim, By: ada, Domain: "builder", Resources: []string{"c"}, TTL: time.Hour, Council: "cc-1"}},
			code: policy.CodeCouncilNotGranted,
		},
		{
			name: "a claim of two past the budget spends one granted call",
			setup: append([]step{{0, claimOf(ada, "builder", time.Hour, "a", "b")}},
				granted("cc-1", "scribe")...),
			act: step{time.Minute, policy.Act{Kind: policy.ActClaim, By: ada, Domain: "builder", Resources: []string{"c", "d"}, TTL: time.Hour, Council: "cc-1"}},
			check: func(t *testing.T, d policy.Decision, _ policy.State) {
				if len(d.Claims) != 2 || d.Claims[0].Council != "cc-1" || d.Claims[1].Council != "cc-1" || d.Council == nil || d.Council.UsedFor != "claim c" {
					t.Errorf("decision = %+v, want both claims lifted by cc-1, spent once for claim c", d)
				}
			},
		},
		{
			name: "a spent call lifts nothing more",
			setup: append(append([]step{{0, claimOf(ada, "builder", time.Hour, "a", "b")}}, granted("cc-1", "scribe")...),
				step{time.Minute, policy.Act{Kind: policy.ActClaim, By: ada, Domain: "builder", Resources: []string{"c"}, TTL: time.Hour, Council: "cc-1"}}),
			act:  step{2 * time.Minute, policy.Act{Kind: policy.ActClaim, By: ada, Domain: "builder", Resources: []string{"d"}, TTL: time.Hour, Council: "cc-1"}},
			code: policy.CodeCouncilUsed,
		},
		{
			name: "a declined call is spent",
			setup: []step{
				{0, claimOf(ada, "builder", time.Hour, "a", "b")},
				{0, call("cc-1", ada, "builder", "scribe")},
				{time.Second, answer(policy.ActDecline, "cc-1", sam)},
			},
			act:  step{time.Minute, policy.Act{Kind: policy.ActClaim, By: ada, Domain: "builder", Resources: []string{"c"}, TTL: time.Hour, Council: "cc-1"}},
			code: policy.CodeCouncilDeclined,
		},
		{
			name:  "an acknowledgement after a decline",
			setup: []step{{0, call("cc-1", ada, "builder", "scribe", "guardian")}, {time.Second, answer(policy.ActDecline, "cc-1", sam)}},
			act:   step{time.Minute, answer(policy.ActAck, "cc-1", eve)},
			code:  policy.CodeSignalDeclined,
		},
		{
			name:  "a forced release without a council call",
			setup: []step{{0, claimOf(eve, "guardian", time.Hour, "schema")}},
			act:   step{time.Minute, release(ada, "schema", "")},
			code:  policy.CodeNotHolder,
		},
		{
			name:  "a forced release with a call the holder's domain did not acknowledge",
			setup: append([]step{{0, claimOf(eve, "guardian", time.Hour, "schema")}}, granted("cc-1", "scribe")...),
			act:   step{time.Minute, release(ada, "schema", "cc-1")},
			code:  policy.CodeCouncilNeedsHolder,
		},
		{
			name:  "a forced release the holder's domain consented to",
			setup: append([]step{{0, claimOf(eve, "guardian", time.Hour, "schema")}}, granted("cc-1", "scribe", "guardian")...),
			act:   step{time.Minute, release(ada, "schema", "cc-1")},
			check: func(t *testing.T, d policy.Decision, _ policy.State) {
				if !d.Forced || d.Lease == nil || d.Lease.Domain != "guardian" || d.Council == nil || d.Council.UsedFor != "release schema" {
					t.Errorf("decision = %+v, want guardian's lease ended by cc-1", d)
				}
			},
		},
		{
			name:  "a lapsed lease is anybody's to clear",
			setup: []step{{0, claimOf(eve, "guardian", time.Hour, "schema")}},
			act:   step{2 * time.Hour, release(sam, "schema", "")},
			check: func(t *testing.T, d policy.Decision, _ policy.State) {
				if d.Forced || d.Lease == nil || d.Council != nil {
					t.Errorf("decision = %+v, want a plain release", d)
				}
			},
		},
		{
			name:  "a renewal of another domain's lease",
			setup: []step{{0, claimOf(eve, "guardian", time.Hour, "schema")}},
			act:   step{time.Minute, policy.Act{Kind: policy.ActRenew, By: ada, Resources: []string{"schema"}, TTL: time.Hour}},
			code:  policy.CodeNotHolder,
		},
		{
			name:  "a renewal after the lease ended",
			setup: []step{{0, claimOf(ada, "builder", time.Hour, "schema")}},
			act:   step{time.Hour, policy.Act{Kind: policy.ActRenew, By: ada, Resources: []string{"schema"}, TTL: time.Hour}},
			code:  policy.CodeLapsed,
		},
		{
			name: "a capsule for another domain's member binds them only once they accept",
			act:  step{0, assign("T-1", ada, "builder", sam, "nothing/**")},
			check: func(t *testing.T, d policy.Decision, st policy.State) {
				if d.Capsule == nil || !d.Capsule.AwaitsConsent {
					t.Fatalf("capsule = %+v, want it awaiting consent", d.Capsule)
				}
				if got := st.InProgress(sam, "", a0.Add(time.Hour)); len(got) != 0 {
					t.Errorf("the unaccepted capsule binds sam: %+v", got)
				}
				if got := st.InProgress("", "builder", a0.Add(time.Hour)); len(got) != 1 {
					t.Errorf("builder's attention budget counts %d capsules, want the one it opened", len(got))
				}
			},
		},
		{
			name:  "a capsule accepted by someone outside the owner's domains",
			setup: []step{{0, assign("T-1", ada, "builder", sam, "docs/**")}},
			act:   step{time.Minute, answer(policy.ActAccept, "T-1", bob)},
			code:  policy.CodeNotMember,
		},
		{
			name:  "a capsule accepted by its owner binds from then",
			setup: []step{{0, assign("T-1", ada, "builder", sam, "docs/**")}},
			act:   step{time.Minute, answer(policy.ActAccept, "T-1", sam)},
			check: func(t *testing.T, d policy.Decision, st policy.State) {
				if got := st.InProgress(sam, "", a0.Add(30*time.Second)); len(got) != 0 {
					t.Errorf("the capsule binds sam before the consent: %+v", got)
				}
				if got := st.InProgress(sam, "", a0.Add(time.Minute)); len(got) != 1 {
					t.Errorf("the accepted capsule does not bind sam: %+v", got)
				}
			},
		},
		{
			name: "a capsule within the assigner's domain binds at once",
			act:  step{0, assign("T-1", ada, "builder", bob, "deploy/**")},
			check: func(t *testing.T, d policy.Decision, st policy.State) {
				if d.Capsule.AwaitsConsent || len(st.InProgress(bob, "", a0)) != 1 {
					t.Errorf("capsule = %+v, want it binding bob at once", d.Capsule)
				}
			},
		},
		{
			name:  "a capsule widened by someone not its owner",
			setup: []step{{0, assign("T-1", ada, "builder", bob, "deploy/**")}},
			act:   step{time.Minute, policy.Act{Kind: policy.ActWiden, ID: "T-1", By: ada, Scope: []string{"ops/**"}}},
			code:  policy.CodeNotMember,
		},
		{
			name:  "a capsule widened by its owner",
			setup: []step{{0, assign("T-1", ada, "builder", bob, "deploy/**")}},
			act:   step{time.Minute, policy.Act{Kind: policy.ActWiden, ID: "T-1", By: bob, Scope: []string{"ops/**", "deploy/**"}}},
			check: func(t *testing.T, d policy.Decision, _ policy.State) {
				if want := []string{"deploy/**", "ops/**"}; !slices.Equal(d.Capsule.Scope, want) {
					t.Errorf("scope = %v, want %v", d.Capsule.Scope, want)
				}
			},
		},
		{
			name:  "a capsule closed by a member of another domain",
			setup: []step{{0, assign("T-1", ada, "builder", bob)}},
			act:   step{time.Minute, answer(policy.ActDone, "T-1", eve)},
			code:  policy.CodeNotMember,
		},
		{
			name: "a missive naming files outside the addressee's core",
			act:  step{0, sendMissive("m-1", ada, "builder", "scribe", "", "docs/a.md", "deploy/x")},
			code: policy.CodeMissiveOutsideCore,
		},
		{
			name: "a claim of a resource the policy does not have (the server's replay refuses it too)",
			act:  step{0, claimOf(ada, "builder", time.Hour, "made-up")},
			code: policy.CodeUnknown,
		},
		{
			name: "a missive naming the policy file: consent to a redraw of the addressee's boundaries",
			act:  step{0, sendMissive("m-1", ada, "builder", "scribe", "", "resources.yaml")},
			check: func(t *testing.T, d policy.Decision, _ policy.State) {
				if d.Signal == nil || !slices.Equal(d.Signal.Files, []string{"resources.yaml"}) {
					t.Errorf("want the missive sent, got %+v", d)
				}
			},
		},
		{
			name: "a handshake ends after handshake_ttl",
			setup: []step{
				{0, sendMissive("m-1", ada, "builder", "scribe", "", "docs/a.md")},
				{time.Minute, answer(policy.ActAck, "m-1", sam)},
			},
			act: step{time.Minute, answer(policy.ActAck, "m-1", sam)}, // a second ack changes nothing
			check: func(t *testing.T, d policy.Decision, st policy.State) {
				if d.Changes() {
					t.Errorf("a second acknowledgement changed %+v", d)
				}
				if done, _ := st.Handshake([]string{"builder"}, "scribe", "docs/a.md", a0.Add(59*time.Minute), 0); done == nil {
					t.Error("no handshake within the hour")
				}
				if done, _ := st.Handshake([]string{"builder"}, "scribe", "docs/a.md", a0.Add(time.Hour), 0); done != nil {
					t.Error("the handshake outlives handshake_ttl")
				}
			},
		},
		{
			name: "a handshake ends when its capsule is done",
			setup: []step{
				{0, assign("T-1", ada, "builder", ada)},
				{0, sendMissive("m-1", ada, "builder", "scribe", "T-1", "docs/a.md")},
				{time.Minute, answer(policy.ActAck, "m-1", sam)},
			},
			act: step{10 * time.Minute, answer(policy.ActDone, "T-1", ada)},
			check: func(t *testing.T, d policy.Decision, st policy.State) {
				if done, _ := st.Handshake([]string{"builder"}, "scribe", "docs/a.md", a0.Add(9*time.Minute), 0); done == nil {
					t.Error("no handshake while the capsule is in progress")
				}
				if done, _ := st.Handshake([]string{"builder"}, "scribe", "docs/a.md", a0.Add(10*time.Minute), 0); done != nil {
					t.Error("the handshake outlives its capsule")
				}
			},
		},
		{
			name: "an acknowledgement of an unknown signal",
			act:  step{0, answer(policy.ActAck, "m-404", sam)},
			code: policy.CodeUnknown,
		},
		{
			name:  "a signal id in use",
			setup: []step{{0, call("cc-1", ada, "builder", "scribe")}},
			act:   step{0, call("cc-1", ada, "builder", "guardian")},
			code:  policy.CodeExists,
		},
		{
			name:  "an unreadable lease record",
			setup: nil,
			act:   step{0, claimOf(ada, "builder", time.Hour, "broken")},
			code:  policy.CodeBrokenRecord,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := run(t, p, tt.setup)
			if tt.code == policy.CodeBrokenRecord {
				st.Broken = []policy.BrokenLease{{Resource: "broken", Record: "leases/broken.yaml", File: "leases/broken.yaml", Cause: "bad"}}
			}
			d, err := p.Decide(tt.act.a, st, a0.Add(tt.act.at))
			var r *policy.Refusal
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("Decide: %v, want a decision", err)
			case tt.code != "" && (!errors.As(err, &r) || r.Code != tt.code):
				t.Fatalf("Decide = %+v, %v; want the refusal %s", d, err, tt.code)
			case tt.code != "":
				if d.Changes() || r.Message == "" || strings.Contains(r.Message, "\n") || r.Exit != 1 && r.Exit != 2 {
					t.Errorf("refusal %+v with decision %+v: want one line, an exit code, no records", r, d)
				}
				if r.Fix != nil {
					// The fix runs as written: a council call needs its subject.
					if slices.Contains(r.Fix.Argv, "council-call") && !slices.Contains(r.Fix.Argv, "--subject") {
						t.Errorf("fix %q: a council call without --subject does not run", r.Fix.Argv)
					}
					for _, w := range r.Fix.Argv {
						if w == "" || strings.Trim(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_.") == "" { // ID, WHY, DOMAIN...
							t.Errorf("fix %q has a placeholder %q: a value to choose goes in Choose", r.Fix.Argv, w)
						}
					}
				} else if strings.HasPrefix(r.Code, "council-") || strings.HasPrefix(r.Code, "budget-") || r.Code == policy.CodeHeldByOther {
					t.Errorf("refusal %s has no fix", r.Code)
				}
				return
			}
			if tt.check != nil {
				tt.check(t, d, apply(st, d))
			}
		})
	}
}

// TestDecideCouncilQuorum: with council: {domains, quorum}, only the seats'
// acknowledgements count, and enough of them.
func TestDecideCouncilQuorum(t *testing.T) {
	p := loadAct(t, actPolicy+"council:\n  domains: [guardian, scribe]\n  quorum: 2\n")
	steps := []step{
		{0, call("cc-1", ada, "builder", "scribe", "guardian")},
		{time.Second, answer(policy.ActAck, "cc-1", sam)},
	}
	st := run(t, p, steps)
	if p.Granted(st, "cc-1", a0.Add(time.Hour)) != nil {
		t.Error("one of a quorum of two granted the call")
	}
	st = run(t, p, append(steps, step{2 * time.Second, answer(policy.ActAck, "cc-1", eve)}))
	if p.Granted(st, "cc-1", a0.Add(time.Second)) != nil || p.Granted(st, "cc-1", a0.Add(2*time.Second)) == nil {
		t.Error("the call is not granted exactly when the second seat acknowledged it")
	}
	if _, err := p.Decide(call("cc-2", ada, "builder", "scribe"), st, a0); err == nil {
		t.Error("a call that can reach one seat of a quorum of two was sent")
	}
	for _, bad := range []string{"council:\n  domains: [nobody]\n", "council:\n  quorum: 4\n", "council:\n  seats: 1\n"} {
		if _, err := policy.Load("resources.yaml", []byte(actPolicy+bad)); err == nil {
			t.Errorf("policy with %q loaded", bad)
		}
	}
}

// TestHeldAtAgreesWithLeases: what blocks a claim is what is listed as live.
func TestHeldAtAgreesWithLeases(t *testing.T) {
	ahead := policy.Lease{Resource: "schema", Domain: "guardian", CreatedAt: a0.Add(time.Minute), ExpiresAt: a0.Add(time.Hour)}
	st := policy.State{Leases: []policy.Lease{ahead}}
	if !ahead.HeldAt(a0) || len(st.Held("guardian", a0)) != 1 {
		t.Error("a lease written by a clock running ahead is not held")
	}
	if ahead.HeldAt(a0.Add(time.Hour)) {
		t.Error("a lease is held at its end")
	}
}

// TestCouncilLiftsOnlyItsCaller: a granted call lifts a budget for the
// domain that raised it, not for a domain that acknowledged it.
func TestCouncilLiftsOnlyItsCaller(t *testing.T) {
	src := strings.Replace(actPolicy, "leases_per_domain: 2", "leases_per_domain: 1", 1) + "  risk_paths_per_commit: 2\n"
	p := loadAct(t, strings.Replace(src, "resources:\n", "resources:\n  index:\n    paths: [\"index/**\"]\n", 1))
	st := run(t, p, []step{
		{0, call("cc-1", ada, "builder", "guardian")},
		{time.Second, answer(policy.ActAck, "cc-1", eve)},
		{2 * time.Second, claimOf(eve, "guardian", time.Hour, "schema")},
	})
	over := claimOf(eve, "guardian", time.Hour, "index")
	over.Council = "cc-1"
	_, err := p.Decide(over, st, a0.Add(time.Minute))
	if r, ok := err.(*policy.Refusal); !ok || r.Code != policy.CodeCouncilNotCaller {
		t.Errorf("guardian spent builder's call: %v", err)
	}
	risky := func(committer string) bool {
		cs := policy.ChangeSet{Committer: committer, At: a0.Add(time.Minute), Council: []string{"cc-1"}, Paths: []string{"schema/a", "schema/b", "schema/c"}}
		return slices.ContainsFunc(p.Judge(cs, st), func(v policy.Violation) bool { return v.Rule == policy.RuleRiskBudget })
	}
	if !risky(eve) {
		t.Error("builder's call lifted guardian's risk budget")
	}
	if risky(ada) {
		t.Error("builder's call did not lift builder's risk budget")
	}
}

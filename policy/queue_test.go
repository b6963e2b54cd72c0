package policy_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

func waitOf(id, by, domain, resource string, beat time.Duration) policy.Act {
	return policy.Act{Kind: policy.ActWait, ID: id, By: by, Domain: domain, Resources: []string{resource}, TTL: beat}
}

// applyWait writes a wait or unwait decision into the state, as a store would.
func applyWait(st policy.State, d policy.Decision) policy.State {
	var ws []policy.Waiter
	for _, w := range st.Waiters {
		if d.Waiter == nil || w.ID != d.Waiter.ID {
			ws = append(ws, w)
		}
	}
	if d.Waiter != nil && !d.Unwait {
		ws = append(ws, *d.Waiter)
	}
	st.Waiters = ws
	return st
}

func ids(ws []policy.Waiter) string {
	var out []string
	for _, w := range ws {
		out = append(out, w.ID)
	}
	return strings.Join(out, " ")
}

func TestDecideQueue(t *testing.T) {
	p := loadAct(t, actPolicy)
	type act struct {
		at   time.Duration
		a    policy.Act
		code string // the refusal, or "" for a decision
	}
	tests := []struct {
		name  string
		acts  []act
		queue string // schema's live queue after the acts, at the last act's time
	}{
		{"first come, first served", []act{
			{0, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
			{time.Second, waitOf("w-sam", sam, "scribe", "schema", time.Minute), ""},
		}, "w-eve w-sam"},
		{"a heartbeat keeps the place", []act{
			{0, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
			{time.Second, waitOf("w-sam", sam, "scribe", "schema", time.Minute), ""},
			{50 * time.Second, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
			{70 * time.Second, waitOf("w-sam", sam, "scribe", "schema", time.Minute), ""}, // sam's place had lapsed: he joins anew
		}, "w-eve w-sam"},
		{"a lapsed place that beats again goes to the end", []act{
			{0, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
			{time.Second, waitOf("w-sam", sam, "scribe", "schema", 2*time.Minute), ""},
			{61 * time.Second, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
		}, "w-sam w-eve"},
		{"a place behind the last even when the clock runs behind", []act{
			{time.Second, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
			{0, waitOf("w-sam", sam, "scribe", "schema", time.Minute), ""},
		}, "w-eve w-sam"},
		{"another's place is not beaten", []act{
			{0, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
			{time.Second, waitOf("w-eve", ada, "builder", "schema", time.Minute), policy.CodeExists},
		}, "w-eve"},
		{"a place for a domain one is not in", []act{
			{0, waitOf("w-x", ada, "guardian", "schema", time.Minute), policy.CodeNotMember},
		}, ""},
		{"a place in the queue of no resource of the policy", []act{
			{0, waitOf("w-eve", eve, "guardian", "nothing", time.Minute), "error"},
		}, ""},
		{"a heartbeat past MaxBeat", []act{
			{0, waitOf("w-eve", eve, "guardian", "schema", policy.MaxBeat+time.Second), "error"},
		}, ""},
		{"unwait by its owner", []act{
			{0, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
			{time.Second, waitOf("w-sam", sam, "scribe", "schema", time.Minute), ""},
			{2 * time.Second, policy.Act{Kind: policy.ActUnwait, ID: "w-eve", By: eve}, ""},
		}, "w-sam"},
		{"unwait by another domain", []act{
			{0, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
			{time.Second, policy.Act{Kind: policy.ActUnwait, ID: "w-eve", By: sam}, policy.CodeNotMember},
		}, "w-eve"},
		{"a claim behind a live waiter is queued", []act{
			{0, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
			{time.Second, claimOf(ada, "builder", time.Hour, "schema"), policy.CodeQueued},
		}, "w-eve"},
		{"the head of the queue claims", []act{
			{0, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
			{time.Second, waitOf("w-ada", ada, "builder", "schema", time.Minute), ""},
			{2 * time.Second, claimOf(eve, "guardian", time.Hour, "schema"), ""},
		}, "w-eve w-ada"},
		{"a lapsed waiter holds nobody back", []act{
			{0, waitOf("w-eve", eve, "guardian", "schema", time.Minute), ""},
			{time.Minute, claimOf(ada, "builder", time.Hour, "schema"), ""},
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st policy.State
			var now time.Time
			for i, s := range tt.acts {
				now = a0.Add(s.at)
				d, err := p.Decide(s.a, st, now)
				var r *policy.Refusal
				switch {
				case s.code == "" && err != nil:
					t.Fatalf("act %d (%s by %s): %v", i, s.a.Kind, s.a.By, err)
				case s.code == "error" && (err == nil || errors.As(err, &r)):
					t.Fatalf("act %d: want an input error, got %v", i, err)
				case s.code != "" && s.code != "error" && (!errors.As(err, &r) || r.Code != s.code):
					t.Fatalf("act %d: want refusal %s, got %v", i, s.code, err)
				}
				if err == nil {
					st = applyWait(apply(st, d), d)
				}
			}
			if got := ids(st.Queue("schema", now)); got != tt.queue {
				t.Errorf("queue %q, want %q", got, tt.queue)
			}
		})
	}
}

// TestQueuedFixWaits: the refusal of a claim behind the queue says who is
// first and gives the claim with --wait, for the claimer's domain.
func TestQueuedFixWaits(t *testing.T) {
	p := loadAct(t, actPolicy)
	d, err := p.Decide(waitOf("w-eve", eve, "guardian", "schema", time.Minute), policy.State{}, a0)
	if err != nil {
		t.Fatal(err)
	}
	st := applyWait(policy.State{}, d)
	_, err = p.Decide(claimOf(ada, "builder", time.Hour, "schema"), st, a0.Add(time.Second))
	var r *policy.Refusal
	if !errors.As(err, &r) || r.Fix == nil || strings.Join(r.Fix.Argv, " ") != "oxygen claim schema --domain builder --wait" || !strings.Contains(r.Message, "first eve@guardian.example (guardian)") {
		t.Fatalf("got %#v", err)
	}
}

func TestDecideDeadEnd(t *testing.T) {
	p := loadAct(t, actPolicy)
	de := func(id, who string, at time.Duration) *policy.DeadEnd {
		return &policy.DeadEnd{ID: id, Hook: "pre-commit", Who: who, At: a0.Add(at), Paths: []string{"schema/a"}, Why: []string{"no lease"}}
	}
	var full policy.State
	for i := range policy.MaxDeadEnds {
		full.DeadEnds = append(full.DeadEnds, *de(fmt.Sprintf("d-%d", i), ada, 0))
	}
	tests := []struct {
		name string
		by   string
		d    *policy.DeadEnd
		st   policy.State
		code string // refusal code, "error" for bad input, "none" for no change, "" for a record
	}{
		{"its author carries it", ada, de("d-1", ada, -time.Hour), policy.State{}, ""},
		{"its author, spelt otherwise", "Ada@Builder.example", de("d-1", ada, -time.Hour), policy.State{}, ""},
		{"someone else's", eve, de("d-1", ada, -time.Hour), policy.State{}, policy.CodeNotMember},
		{"carried twice", ada, de("d-1", ada, -time.Hour), policy.State{DeadEnds: []policy.DeadEnd{*de("d-1", ada, -time.Hour)}}, "none"},
		{"from the future", ada, de("d-1", ada, 2*time.Minute), policy.State{}, "error"},
		{"past its retention", ada, de("d-1", ada, -policy.DeadEndRetention), policy.State{}, "error"},
		{"no id", ada, de("", ada, 0), policy.State{}, "error"},
		{"too many paths", ada, &policy.DeadEnd{ID: "d-1", Who: ada, At: a0, Paths: make([]string, 257)}, policy.State{}, "error"},
		{"too much text", ada, &policy.DeadEnd{ID: "d-1", Who: ada, At: a0, Paths: []string{strings.Repeat("p", 4<<10), strings.Repeat("p", 4<<10), strings.Repeat("p", 4<<10), strings.Repeat("p", 4<<10)}}, policy.State{}, "error"},
		{"the shared state is full", ada, de("d-new", ada, 0), full, policy.CodeDeadEndsFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Decide(policy.Act{Kind: policy.ActDeadEnd, By: tt.by, DeadEnd: tt.d}, tt.st, a0)
			var r *policy.Refusal
			switch tt.code {
			case "":
				if err != nil || d.DeadEnd == nil || d.DeadEnd.ID != tt.d.ID {
					t.Fatalf("got %+v, %v", d, err)
				}
			case "none":
				if err != nil || d.Changes() {
					t.Fatalf("got %+v, %v", d, err)
				}
			case "error":
				if err == nil || errors.As(err, &r) {
					t.Fatalf("want an input error, got %+v, %v", d, err)
				}
			default:
				if !errors.As(err, &r) || r.Code != tt.code {
					t.Fatalf("want refusal %s, got %v", tt.code, err)
				}
			}
		})
	}
}

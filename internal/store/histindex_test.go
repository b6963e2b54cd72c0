package store

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/policy"
)

// TestHistoryIndexJudgesAlike: histories the store really keeps (claims
// with random TTLs, renewals, releases forced and not, capsules assigned
// and done, owners in mixed case, decided by policy.Decide and read back
// with HistoryState from several starts, so through checkpoints) give
// every change the same violations indexed (policy.State.IndexHistory)
// as scanned.
func TestHistoryIndexJudgesAlike(t *testing.T) {
	p, err := policy.Load("resources.yaml", oxygen.ReferencePolicy)
	if err != nil {
		t.Fatal(err)
	}
	doms := []string{"builder", "scribe", "watcher", "guardian"}
	res := []string{"schema", "storage", "index", "execution", "deployment"}
	paths := []string{"store/blobs/x", "index/migrations/m.go", "schema/s.json", "src/a.go", "deploy/d.sh", "docs/x.md", "src/c1/x.go"}
	counts := map[string]int{}
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 5))
		start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		var times []time.Time
		acts := func(yield func(policy.Act, time.Time) bool) {
			at := start
			for i := range 2500 {
				at = at.Add(time.Duration(rng.Int64N(int64(3 * time.Minute))))
				times = append(times, at)
				d := doms[rng.IntN(len(doms))]
				by := fmt.Sprintf("%s%d@%s.example", []string{"ada", "ADA", "sam"}[rng.IntN(3)], rng.IntN(3), d)
				r := res[rng.IntN(len(res))]
				var a policy.Act
				switch rng.IntN(7) {
				case 0, 1:
					a = policy.Act{Kind: policy.ActClaim, By: by, Domain: d, Resources: []string{r}, TTL: time.Duration(1+rng.IntN(240)) * time.Minute, Reason: "x"}
				case 2, 3:
					a = policy.Act{Kind: policy.ActRelease, By: by, Resources: []string{r}, Force: rng.IntN(5) == 0}
				case 4:
					a = policy.Act{Kind: policy.ActRenew, By: by, Resources: []string{r}, TTL: time.Duration(1+rng.IntN(600)) * time.Minute}
				case 5:
					a = policy.Act{Kind: policy.ActAssign, By: by, Domain: d, ID: fmt.Sprint("c", i), Owner: by, Scope: []string{"src/c1/**"}}
				case 6:
					a = policy.Act{Kind: policy.ActDone, By: by, ID: fmt.Sprint("c", i-1-rng.IntN(20))}
				}
				if !yield(a, at) {
					return
				}
			}
		}
		s := OpenLocal(t.TempDir())
		rec, refused, err := s.Seed(p, acts)
		if err != nil {
			t.Fatal(err)
		}
		for _, back := range []int{0, 300, 1200, 2400} {
			since := times[back]
			st, err := s.HistoryState(since)
			if err != nil {
				t.Fatal(err)
			}
			indexed := st
			indexed.IndexHistory()
			for range 3000 {
				at := times[back+rng.IntN(len(times)-back)].Add(time.Duration(rng.IntN(600)-300) * time.Second).Truncate(time.Second)
				if at.Before(since) {
					continue
				}
				d := doms[rng.IntN(len(doms))]
				cs := policy.ChangeSet{Committer: fmt.Sprintf("%s%d@%s.example", []string{"ada", "Ada", "sam"}[rng.IntN(3)], rng.IntN(3), d), At: at, Skew: time.Duration(rng.IntN(4)) * 5 * time.Minute}
				for range 1 + rng.IntN(3) {
					cs.Paths = append(cs.Paths, paths[rng.IntN(len(paths))])
				}
				got, want := p.Judge(cs, indexed), p.Judge(cs, st)
				for _, v := range want {
					counts[v.Rule]++
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d: %+v: indexed %+v, want %+v", seed, cs, got, want)
				}
			}
		}
		if rec == 0 || refused == 0 {
			t.Fatalf("seed %d: %d acts recorded, %d refused: the history should hold both", seed, rec, refused)
		}
	}
	for _, rule := range []string{policy.RuleShadowEdit, policy.RuleHeldByOther, policy.RuleOutOfScope} {
		if counts[rule] == 0 {
			t.Errorf("no %s violation judged: the test should exercise it (%v)", rule, counts)
		}
	}
}

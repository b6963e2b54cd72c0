package policy_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oxygen-protocol/oxygen/policy"
)

// TestIndexHistoryJudgesAlike: a history indexed for judging gives every
// change the verdict the unindexed history gives, violation for violation
// (holders, capsules in progress and all), over random histories of
// leases (released early and not, created at one instant, ending before
// they start, lasting centuries) and capsules (owners in other cases and
// in the runes that fold to ASCII), judged at random times and skews;
// and a state changed after indexing (With, a record added) is judged
// as it now is. OXYGEN_SOAK=1 runs 2,000 histories, not 40.
func TestIndexHistoryJudgesAlike(t *testing.T) {
	seeds := uint64(40)
	if os.Getenv("OXYGEN_SOAK") != "" {
		seeds = 2000
	}
	p := reference(t)
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	resources := []string{"schema", "storage", "index", "execution", "deployment", "identity", "policy", "coordination"}
	domains := []string{"builder", "scribe", "watcher", "guardian", "gems"}
	paths := append(realisticPaths(12), "store/blobs/x", "index/migrations/m.go", "deploy/d.sh", "docs/a.md", "secrets/k", "schema/s.json")
	owners := func(rng *rand.Rand, dom string) string {
		name := []string{"ada", "sam", "ksenia", "ADA", "Sam", "\u017fam", "\u212asenia"}[rng.IntN(7)]
		return name + "@" + dom + ".example"
	}
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(seed, 7))
		at := func() time.Time { return t0.Add(time.Duration(rng.IntN(48*60)-24*60) * time.Minute) }
		var st policy.State
		for range rng.IntN(400) {
			dom := domains[rng.IntN(len(domains))]
			created := at()
			if rng.IntN(10) == 0 && len(st.Leases) > 0 {
				created = st.Leases[rng.IntN(len(st.Leases))].CreatedAt // the same instant
			}
			l := policy.Lease{Resource: resources[rng.IntN(len(resources))], Owner: owners(rng, dom), Domain: dom, TTL: 3600,
				CreatedAt: created, ExpiresAt: created.Add(time.Duration(rng.IntN(240)) * time.Minute)}
			switch rng.IntN(8) {
			case 0, 1, 2:
				l.ReleasedAt = created.Add(time.Duration(rng.IntN(120)) * time.Minute)
			case 3:
				l.ExpiresAt = created.Add(-time.Minute) // ends before it starts
			case 4:
				if rng.IntN(10) == 0 {
					l.ExpiresAt = created.AddDate(300, 0, 0) // past what a Duration holds
				}
			}
			st.Leases = append(st.Leases, l)
		}
		for i := range rng.IntN(60) {
			dom := domains[rng.IntN(len(domains))]
			c := policy.Capsule{ID: fmt.Sprint("c", i), Owner: owners(rng, dom), Domain: dom, Status: policy.CapsuleInProgress,
				Scope: [][]string{nil, {"docs/**"}, {"src/**", "store/**"}}[rng.IntN(3)], CreatedAt: at()}
			if rng.IntN(2) == 0 {
				c.Status, c.ClosedAt = policy.CapsuleDone, c.CreatedAt.Add(time.Duration(rng.IntN(600))*time.Minute)
			}
			if rng.IntN(4) == 0 {
				c.AwaitsConsent = true
				if rng.IntN(2) == 0 {
					c.Consent = &policy.Ack{Domain: dom, By: c.Owner, At: c.CreatedAt.Add(time.Duration(rng.IntN(60)) * time.Minute)}
				}
			}
			st.Capsules = append(st.Capsules, c)
		}
		indexed := st
		indexed.IndexHistory()
		changed := indexed.With(policy.Lease{Resource: "storage", Owner: "eve@guardian.example", Domain: "guardian", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		plain := st.With(policy.Lease{Resource: "storage", Owner: "eve@guardian.example", Domain: "guardian", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		for range 200 {
			dom := domains[rng.IntN(len(domains))]
			cs := policy.ChangeSet{Committer: owners(rng, dom), At: at().Add(time.Duration(rng.IntN(60)) * time.Second),
				Skew: time.Duration(rng.IntN(3)) * time.Minute}
			for range 1 + rng.IntN(4) {
				cs.Paths = append(cs.Paths, paths[rng.IntN(len(paths))])
			}
			if got, want := p.Judge(cs, indexed), p.Judge(cs, st); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, %+v: indexed %+v, want %+v", seed, cs, got, want)
			}
			if got, want := p.Judge(cs, changed), p.Judge(cs, plain); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, %+v, after With: indexed %+v, want %+v", seed, cs, got, want)
			}
			if got, want := indexed.InProgress(cs.Committer, "", cs.At), st.InProgress(cs.Committer, "", cs.At); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d: InProgress(%q, %v) indexed %+v, want %+v", seed, cs.Committer, cs.At, got, want)
			}
		}
		more := indexed // a capsule added after indexing is seen
		more.PutCapsule(policy.Capsule{ID: "late", Owner: "ada@builder.example", Domain: "builder", Status: policy.CapsuleInProgress, Scope: []string{"docs/**"}, CreatedAt: t0.Add(-48 * time.Hour)})
		if got := more.InProgress("ADA@builder.example", "", t0); len(got) == 0 || got[len(got)-1].ID != "late" {
			t.Fatalf("seed %d: a capsule put after indexing is not in progress: %+v", seed, got)
		}
	}
}

// TestIndexHistoryFolds: the index finds an owner's capsules by what
// strings.EqualFold calls equal, over strings of runes with many case
// forms, invalid bytes among them.
func TestIndexHistoryFolds(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"k", "K", "\u212a", "s", "S", "\u017f", "\u00df", "\u1e9e", "\u03c3", "\u03c2", "\u03a3", "i", "I", "\u0130", "\u0131", "\xff", "\xfe", "\ufffd", "a", "@"}
	word := func() string {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for range 2000 {
		owner, committer := word(), word()
		st := policy.State{Capsules: []policy.Capsule{{ID: "c", Owner: owner, Status: policy.CapsuleInProgress, CreatedAt: t0}}}
		st.IndexHistory()
		found := len(st.InProgress(committer, "", t0)) == 1
		if want := strings.EqualFold(owner, committer); found != want {
			t.Errorf("owner %q, committer %q (valid UTF-8: %v, %v): found %v, EqualFold %v", owner, committer, utf8.ValidString(owner), utf8.ValidString(committer), found, want)
		}
	}
}

// BenchmarkJudgeHistory: judging one commit against a day of a fleet's
// history (n leases over 24 hours, a capsule for every fifth), as a range
// check judges each of its commits, with and without IndexHistory.
func BenchmarkJudgeHistory(b *testing.B) {
	p := reference(b)
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	resources := []string{"schema", "storage", "index", "execution", "deployment", "identity", "policy", "coordination"}
	paths := []string{"store/blobs/x.go", "src/a.go", "index/migrations/y.go", "src/b.c", "daemons/z.go"}
	for _, n := range []int{1000, 10000, 30000} {
		var st policy.State
		for i := range n {
			dom := []string{"builder", "scribe", "watcher"}[i%3]
			owner := fmt.Sprintf("agent%d@%s.example", i%100, dom)
			at := now.Add(-time.Duration(i) * 24 * time.Hour / time.Duration(n))
			st.Leases = append(st.Leases, policy.Lease{Resource: resources[i%len(resources)], Owner: owner, Domain: dom, TTL: 600,
				CreatedAt: at, ExpiresAt: at.Add(10 * time.Minute), ReleasedAt: at.Add(5 * time.Minute)})
			if i%5 == 0 {
				st.Capsules = append(st.Capsules, policy.Capsule{ID: fmt.Sprint("c", i), Owner: owner, Domain: dom,
					Status: policy.CapsuleDone, CreatedAt: at, ClosedAt: at.Add(time.Minute)})
			}
		}
		indexed := st
		indexed.IndexHistory()
		for _, c := range []struct {
			name string
			st   policy.State
		}{{"scan", st}, {"indexed", indexed}} {
			b.Run(fmt.Sprintf("leases=%d/%s", n, c.name), func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					cs := policy.ChangeSet{Committer: "agent7@builder.example", At: now.Add(-time.Duration(i%1440) * time.Minute), Skew: 30 * time.Second, Paths: paths}
					p.Judge(cs, c.st)
				}
			})
		}
	}
}

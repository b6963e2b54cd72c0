package cli

import (
	"slices"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

const reportPolicy = `version: 1
domains:
  builder: {members: ["*@builder.example"]}
  scribe: {members: ["*@scribe.example"]}
budgets: {leases_per_domain: 2, in_progress_per_domain: 2}
`

var r0 = time.Date(2030, 1, 2, 10, 0, 0, 0, time.UTC)

// statusFixture: builder holds two leases, one written by a clock an hour
// ahead, and one lapsed; builder opened a capsule for sam of scribe, which
// waits for sam's consent; scribe has one of its own, owned by sam too.
func statusFixture() policy.State {
	lease := func(res string, from, to time.Duration) policy.Lease {
		return policy.Lease{Resource: res, Owner: "ada@builder.example", Domain: "builder", TTL: 3600, CreatedAt: r0.Add(from), ExpiresAt: r0.Add(to)}
	}
	return policy.State{
		Leases: []policy.Lease{lease("schema", -time.Minute, time.Hour), lease("ahead", time.Hour, 2*time.Hour), lease("old", -2*time.Hour, -time.Hour)},
		Capsules: []policy.Capsule{
			{ID: "T-1", Owner: "sam@scribe.example", Domain: "builder", Status: policy.CapsuleInProgress, CreatedAt: r0.Add(-time.Minute), By: "ada@builder.example", AwaitsConsent: true},
			{ID: "S-1", Owner: "sam@scribe.example", Domain: "scribe", Status: policy.CapsuleInProgress, CreatedAt: r0.Add(-time.Minute), By: "sam@scribe.example"},
		},
	}
}

func TestStatusOf(t *testing.T) {
	p, err := policy.Load("resources.yaml", []byte(reportPolicy))
	if err != nil {
		t.Fatal(err)
	}
	st := statusFixture()
	for _, tt := range []struct {
		who, domain string
		leases      int
		capsules    []string
		inProgress  int
	}{
		// Leases held are what the change budget counts: the one ahead too.
		{"ada@builder.example", "builder", 2, []string{"T-1"}, 1},
		// sam sees both capsules he owns, whoever opened them.
		{"sam@scribe.example", "scribe", 0, []string{"S-1", "T-1"}, 1},
	} {
		rep := statusOf(p, st, tt.who, []string{tt.domain}, r0)
		var ids []string
		for _, c := range rep.Capsules {
			ids = append(ids, c.ID)
		}
		slices.Sort(ids)
		b := rep.Budgets[0]
		if len(rep.Leases) != tt.leases || b.Leases != tt.leases || !slices.Equal(ids, tt.capsules) || b.InProgress != tt.inProgress {
			t.Errorf("status of %s: %d leases (budget %d), capsules %v, %d in progress; want %d, %v, %d",
				tt.who, len(rep.Leases), b.Leases, ids, b.InProgress, tt.leases, tt.capsules, tt.inProgress)
		}
	}
}

func TestAuditFindings(t *testing.T) {
	p, err := policy.Load("resources.yaml", []byte(reportPolicy))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range auditFindings(p, statusFixture(), nil, r0) {
		got = append(got, f.Kind+" "+f.Subject)
	}
	// The lapsed lease is reported; builder's budget counts the two it holds,
	// as claim counts them.
	want := []string{"lapsed-lease old", "change-budget builder"}
	if !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
}

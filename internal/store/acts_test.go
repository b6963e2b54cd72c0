package store_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
)

// testPolicy is the policy the store's tests act under: domains builder,
// guardian, scribe, gems, fresh, d0..d3 and d00..d15, each with members
// *@<name>.example, the protocol's eight resource types and a few more
// (r0..r2, fresh, a..c), and budgets of 2.
var testPolicy = policyWith(2)

// policyWith is that policy with a change budget of leases.
func policyWith(leases int) *policy.Policy {
	var b strings.Builder
	b.WriteString("version: 1\ndomains:\n")
	names := []string{"builder", "guardian", "scribe", "gems", "fresh", "d0", "d1", "d2", "d3"}
	for i := range 16 {
		names = append(names, fmt.Sprintf("d%02d", i))
	}
	for _, d := range names {
		fmt.Fprintf(&b, "  %s:\n    members: [\"*@%s.example\"]\n    core: []\n", d, d)
	}
	b.WriteString("resources:\n")
	for _, r := range []string{"schema", "storage", "index", "execution", "deployment", "identity", "policy", "coordination", "r0", "r1", "r2", "fresh", "a", "b", "c"} {
		fmt.Fprintf(&b, "  %s:\n    paths: [\"%s/**\"]\n", r, r)
	}
	fmt.Fprintf(&b, "budgets:\n  leases_per_domain: %d\n  in_progress_per_domain: 2\n", leases)
	p, err := policy.Load("test policy", []byte(b.String()))
	if err != nil {
		panic(err)
	}
	return p
}

func agentOf(domain string) string { return "agent@" + domain + ".example" }

// at is a clock stopped at t.
func at(t time.Time) func() time.Time { return func() time.Time { return t } }

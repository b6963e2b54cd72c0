package store

import (
	"testing"
	"time"
)

// TestBackoff: each pause lies in the upper half of a ceiling that doubles
// from backoffFirst to backoffMax, and the pauses a claim can take before
// giving up add up to the race budget, not to a fixed number of tries.
func TestBackoff(t *testing.T) {
	for attempt := 1; attempt <= 100; attempt++ {
		ceiling := min(backoffFirst<<min(attempt-1, 10), backoffMax)
		for range 50 {
			if p := backoff(attempt); p < ceiling/2 || p > ceiling {
				t.Fatalf("attempt %d: pause %s outside [%s, %s]", attempt, p, ceiling/2, ceiling)
			}
		}
	}
	var total time.Duration
	attempts := 0
	for ; total < raceBudget; attempts++ {
		total += backoff(attempts + 1)
	}
	if attempts < 50 {
		t.Errorf("only %d attempts fit in %s", attempts, raceBudget)
	}
}

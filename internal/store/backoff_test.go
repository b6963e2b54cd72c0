package store

import (
	"testing"
	"time"
)

// TestBackoff: each pause lies in a window that starts at the lost
// attempt's cost (at least backoffFirst) and doubles with each loss, up to
// backoffMax; and the pauses a claim can take before giving up add up to
// the race budget, not to a fixed number of tries.
func TestBackoff(t *testing.T) {
	for _, spent := range []time.Duration{0, time.Millisecond, 60 * time.Millisecond, 5 * time.Second} {
		for attempt := 1; attempt <= 100; attempt++ {
			window := min(max(spent, backoffFirst)<<min(attempt, 10), backoffMax)
			var most time.Duration
			for range 200 {
				p := backoff(attempt, spent)
				if p < 0 || p > window {
					t.Fatalf("spent %s, attempt %d: pause %s outside [0, %s]", spent, attempt, p, window)
				}
				most = max(most, p)
			}
			if most < window/2 {
				t.Fatalf("spent %s, attempt %d: 200 pauses all below %s: the window is not used", spent, attempt, window/2)
			}
		}
	}
	var total time.Duration
	attempts := 0
	for ; total < raceBudget; attempts++ {
		total += backoff(attempts+1, 60*time.Millisecond)
	}
	if attempts < 20 {
		t.Errorf("only %d attempts fit in %s", attempts, raceBudget)
	}
}

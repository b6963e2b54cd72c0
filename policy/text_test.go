package policy_test

import (
	"strings"
	"testing"

	"github.com/oxygen-protocol/oxygen/policy"
)

// TestValidText: a record's texts are one line of printable UTF-8, within
// bounds; OneLine makes any text one that ValidText takes.
func TestValidText(t *testing.T) {
	tests := []struct {
		text string
		ok   bool
	}{
		{"migrate the schema", true},
		{"ünïcödé and emoji 🙂", true},
		{" leading and trailing ", true},
		{"", true},
		{strings.Repeat("x", 4<<10), true},
		{strings.Repeat("x", 4<<10+1), false},
		{"two\nlines", false},
		{"\n 00", false},
		{"carriage\rreturn", false},
		{"a\ttab", false},
		{"del\x7f", false},
		{"next line\u0085", false},
		{"line\u2028separator", false},
		{"paragraph\u2029separator", false},
		{"bad \xff utf-8", false},
	}
	for _, tt := range tests {
		err := policy.ValidText([]string{tt.text})
		if (err == nil) != tt.ok {
			t.Errorf("ValidText(%q) = %v, want ok=%v", tt.text, err, tt.ok)
		}
		if lerr := policy.ValidText(nil, []string{"fine", tt.text}); (lerr == nil) != (err == nil) {
			t.Errorf("ValidText(list with %q) = %v, unlike the text alone (%v)", tt.text, lerr, err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("ValidText(%q): error of more than one line: %q", tt.text, err)
		}
		if one := policy.OneLine(tt.text); len(tt.text) <= 4<<9 && policy.ValidText([]string{one}) != nil {
			t.Errorf("OneLine(%q) = %q, which ValidText refuses", tt.text, one)
		} else if tt.ok && one != tt.text {
			t.Errorf("OneLine(%q) = %q, want it unchanged", tt.text, one)
		}
	}
}

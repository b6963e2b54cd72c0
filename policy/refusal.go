package policy

import (
	"fmt"
	"time"
)

// Fix is the one command that mends a refusal, ready to run as written.
// Argv never holds a placeholder: a value the caller must choose is named in
// Choose instead (flag -> what to put there), and what the command cannot do
// alone (another domain's acknowledgement) is said in Needs.
type Fix struct {
	Argv       []string          `json:"argv"`
	Needs      string            `json:"needs,omitempty"`
	Choose     map[string]string `json:"choose,omitempty"`
	RetryAfter time.Time         `json:"retry_after,omitzero"`
}

// Refusal is an act or a check the protocol refuses (exit 1), or an input it
// cannot take (exit 2), as data: a stable code, a one-line message, the lease
// in the way if any, and the fix.
type Refusal struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Exit    int    `json:"exit"`
	Holder  *Lease `json:"holder,omitempty"`
	Fix     *Fix   `json:"fix,omitempty"`
}

func (r *Refusal) Error() string { return r.Message }

// Refuse makes a protocol refusal (exit 1) with a formatted message.
func Refuse(code string, fix *Fix, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...), Exit: 1, Fix: fix}
}

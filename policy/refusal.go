package policy

import (
	"fmt"
	"time"
)

// Fix is the one command that mends a refusal, ready to run as written.
// Argv never holds a placeholder: where the caller may choose better than
// the value Argv carries, Choose names it (a flag, or the argument it would
// replace -> what to put there); what the command cannot do alone (another
// domain's acknowledgement) is said in Needs; RetryAfter is when it may
// succeed without anybody's help (a lease in the way ends).
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

// Refusal codes of the acts, stable for scripts and agents.
const (
	CodeHeldByOther        = "held-by-other"        // another domain's live lease
	CodeBudgetChange       = "budget-change"        // the domain holds leases_per_domain leases
	CodeBudgetAttention    = "budget-attention"     // the domain has in_progress_per_domain capsules
	CodeCouncilNotGranted  = "council-not-granted"  // the cited call is not (yet) granted
	CodeCouncilUsed        = "council-used"         // the cited call lifted another act already
	CodeCouncilDeclined    = "council-declined"     // an addressed domain declined the call
	CodeCouncilSelf        = "council-self"         // a call nobody outside the caller's domains could grant
	CodeCouncilNeedsHolder = "council-needs-holder" // a forced release the lease's domain did not acknowledge
	CodeCouncilNotCaller   = "council-not-caller"   // a call raised by a domain the act's author is not in
	CodeSignalDeclined     = "signal-declined"      // answering a declined signal
	CodeMissiveOutsideCore = "missive-outside-core" // a missive naming files the addressee does not own
	CodeExists             = "exists"               // a capsule or signal with that id exists (or is closed)
	CodeUnknown            = "unknown"              // no such capsule or signal (exit 2)
	CodeNotMember          = "not-member"           // the asker is not a member of the domain the act needs
	CodeNotHolder          = "not-holder"           // renew or release of another domain's lease
	CodeNotLeased          = "not-leased"           // renew of a free resource
	CodeLapsed             = "lapsed"               // renew of a lease that ended
	CodeBrokenRecord       = "broken-record"        // an unreadable record in the way (exit 2)
)

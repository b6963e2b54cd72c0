package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oxygen-protocol/oxygen/policy"
	"gopkg.in/yaml.v3"
)

// formatVersion is written into every lease file and event.
const formatVersion = 1

// maxLeaseTTL bounds what a lease file may claim; anything longer is not a
// lease someone meant to take.
const maxLeaseTTL = policy.LongestTTL

// FormatLease renders a lease file.
func FormatLease(l policy.Lease) []byte {
	type file struct {
		Version   int    `yaml:"version"`
		Resource  string `yaml:"resource"`
		Owner     string `yaml:"owner"`
		Domain    string `yaml:"domain"`
		TTL       int64  `yaml:"ttl"`
		CreatedAt string `yaml:"created_at"`
		ExpiresAt string `yaml:"expires_at"`
		Reason    string `yaml:"reason,omitempty"`
		Capsule   string `yaml:"capsule,omitempty"`
	}
	out, err := yaml.Marshal(file{
		Version: formatVersion, Resource: l.Resource, Owner: l.Owner, Domain: l.Domain, TTL: l.TTL,
		// RFC3339Nano, which ParseLease also reads: a hand-written time with
		// a fraction of a second survives a rewrite (a renewal) unchanged.
		CreatedAt: l.CreatedAt.UTC().Format(time.RFC3339Nano), ExpiresAt: l.ExpiresAt.UTC().Format(time.RFC3339Nano),
		Reason: l.Reason, Capsule: l.Capsule,
	})
	if err != nil {
		panic(err) // a struct of strings and numbers always marshals
	}
	return out
}

// ParseLease reads a lease file strictly: it must name the resource it is
// filed under, and its times must agree with each other and its TTL.
func ParseLease(resource string, data []byte) (policy.Lease, error) {
	var l policy.Lease
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return l, fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return l, errors.New("empty or not a mapping")
	}
	m := doc.Content[0]
	seen := map[string]bool{}
	var version int64
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			return l, fmt.Errorf("line %d: want key: value", k.Line)
		}
		if seen[k.Value] {
			return l, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
		}
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "version":
			version, err = strconv.ParseInt(v.Value, 10, 64)
		case "resource":
			l.Resource = v.Value
		case "owner":
			l.Owner = v.Value
		case "domain":
			l.Domain = v.Value
		case "ttl":
			l.TTL, err = strconv.ParseInt(v.Value, 10, 64)
		case "created_at":
			l.CreatedAt, err = time.Parse(time.RFC3339, v.Value)
		case "expires_at":
			l.ExpiresAt, err = time.Parse(time.RFC3339, v.Value)
		case "reason":
			l.Reason = v.Value
		case "capsule":
			l.Capsule = v.Value
		default:
			return l, fmt.Errorf("line %d: unknown key %q", k.Line, k.Value)
		}
		if err != nil {
			return l, fmt.Errorf("line %d: %s: %q is not valid", v.Line, k.Value, v.Value)
		}
	}
	for _, key := range []string{"version", "resource", "owner", "domain", "ttl", "created_at", "expires_at"} {
		if !seen[key] {
			return l, fmt.Errorf("missing %s", key)
		}
	}
	ttl := time.Duration(l.TTL) * time.Second
	switch {
	case version != formatVersion:
		return l, fmt.Errorf("format version %d: this oxygen reads version %d", version, formatVersion)
	case l.Resource != resource:
		return l, fmt.Errorf("names resource %q but is filed as %q", l.Resource, resource)
	case !policy.ValidName(l.Domain):
		return l, fmt.Errorf("domain %q is not a plain name", l.Domain)
	case l.Owner == "":
		return l, errors.New("owner is empty")
	case l.TTL < 1 || l.TTL > int64(maxLeaseTTL/time.Second): // not ttl: it overflows
		return l, fmt.Errorf("ttl %d is not between 1 second and a year", l.TTL)
	case !l.CreatedAt.Before(l.ExpiresAt):
		return l, errors.New("expires_at is not after created_at")
	case l.ExpiresAt.Sub(l.CreatedAt) < ttl:
		return l, fmt.Errorf("expires_at is less than ttl %ds after created_at", l.TTL)
	}
	l.CreatedAt, l.ExpiresAt = l.CreatedAt.UTC(), l.ExpiresAt.UTC()
	return l, plausible(l.CreatedAt, l.ExpiresAt)
}

// Operations recorded in the history.
const (
	OpClaim    = "claim"
	OpTakeover = "takeover" // a claim that replaced a lapsed lease of another
	OpRenew    = "renew"
	OpRelease  = "release"
	OpAssign   = "assign"   // a context capsule opened
	OpDone     = "done"     // and closed
	OpSignal   = "signal"   // a missive or council call sent
	OpAck      = "ack"      // and acknowledged by an addressed domain
	OpDecline  = "decline"  // or declined by one, which spends it
	OpAccept   = "accept"   // a capsule's owner consented to it
	OpWiden    = "widen"    // its owner widened its scope
	OpWait     = "wait"     // a claimer joined a resource's queue, or renewed its place's heartbeat
	OpUnwait   = "unwait"   // and left it
	OpDeadEnd  = "dead-end" // a hook's refusal in a clone, carried to the shared state
)

// Event is one line of the history.
type Event struct {
	V        int             `json:"v"`
	Op       string          `json:"op"`
	By       string          `json:"by"`
	At       time.Time       `json:"at"`
	Lease    policy.Lease    `json:"lease,omitzero"`     // the lease as the event left it
	Replaced *policy.Lease   `json:"replaced,omitempty"` // the lapsed lease a takeover replaced
	Capsule  *policy.Capsule `json:"capsule,omitempty"`  // the capsule as the event left it
	Signal   *policy.Signal  `json:"signal,omitempty"`   // the signal as the event left it
	Council  string          `json:"council,omitempty"`  // the granted council call the act used
	Force    bool            `json:"force,omitempty"`    // a release of another domain's lease
	Waiter   *policy.Waiter  `json:"waiter,omitempty"`   // the queue entry a wait or unwait changed
	DeadEnd  *policy.DeadEnd `json:"dead_end,omitempty"` // the refusal a dead-end carried
}

func encodeEvent(e Event) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("record the event: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseEvents reads the history. A last line without its newline is a write
// that a crash cut short: it was never acknowledged, so it is skipped.
func ParseEvents(r io.Reader, name string) ([]Event, error) { return parseEvents(r, name, 1) }

// parseEvents is ParseEvents of a part of the history that starts at line
// first.
func parseEvents(r io.Reader, name string, first int) ([]Event, error) {
	br := bufio.NewReader(r)
	var events []Event
	for n := first; ; n++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return events, nil // a torn or absent last line
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		e, err := parseEvent(line, name, n)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
}

// parseEvent reads line n of the history called name.
func parseEvent(line []byte, name string, n int) (Event, error) {
	var e Event
	if err := json.Unmarshal(line, &e); err != nil {
		return e, fmt.Errorf("%s:%d: not an event: %v", name, n, err)
	}
	if e.V != formatVersion {
		return e, fmt.Errorf("%s:%d: event format version %d: this oxygen reads version %d", name, n, e.V, formatVersion)
	}
	if err := e.check(); err != nil {
		return e, fmt.Errorf("%s:%d: %w", name, n, err)
	}
	return e, nil
}

// check says whether the event carries what its operation needs.
func (e Event) check() error {
	switch e.Op {
	case OpClaim, OpTakeover, OpRenew, OpRelease:
		if !policy.ValidName(e.Lease.Resource) {
			return fmt.Errorf("resource %q is not a plain name", e.Lease.Resource)
		}
	case OpAssign, OpDone, OpAccept, OpWiden:
		if e.Capsule == nil || !policy.ValidRecordID(e.Capsule.ID) {
			return fmt.Errorf("%s without a valid capsule", e.Op)
		}
	case OpSignal, OpAck, OpDecline:
		if e.Signal == nil || !policy.ValidRecordID(e.Signal.ID) {
			return fmt.Errorf("%s without a valid signal", e.Op)
		}
	case OpWait, OpUnwait:
		if e.Waiter == nil || !policy.ValidName(e.Waiter.Resource) || !policy.ValidRecordID(e.Waiter.ID) {
			return fmt.Errorf("%s without a valid waiter", e.Op)
		}
	case OpDeadEnd:
		if e.DeadEnd == nil || !policy.ValidRecordID(e.DeadEnd.ID) {
			return fmt.Errorf("%s without a valid dead end", e.Op)
		}
	default:
		return fmt.Errorf("unknown operation %q", e.Op)
	}
	return nil
}

// subject names what the event is about: a resource, capsule or signal.
func (e Event) subject() string {
	switch {
	case e.Capsule != nil:
		return e.Capsule.ID
	case e.Signal != nil:
		return e.Signal.ID
	case e.Waiter != nil:
		return e.Waiter.Resource
	case e.DeadEnd != nil:
		return e.DeadEnd.ID
	}
	return e.Lease.Resource
}

// Replay turns the history into every lease recorded, each with its final
// expiry and, if it was released early, when.
func Replay(events []Event) []policy.Lease {
	p := newPast(policy.State{})
	for _, e := range events {
		p.add(e)
	}
	return p.state().Leases
}

// capsuleFile and signalFile are the on-disk shapes: the record plus the
// format version.
type capsuleFile struct {
	Version        int `yaml:"version"`
	policy.Capsule `yaml:",inline"`
}

type signalFile struct {
	Version       int `yaml:"version"`
	policy.Signal `yaml:",inline"`
}

func marshal(v any) []byte {
	out, err := yaml.Marshal(v)
	if err != nil {
		panic(err) // records of strings, lists and times always marshal
	}
	return out
}

// FormatCapsule renders a capsule file.
func FormatCapsule(c policy.Capsule) []byte {
	return marshal(capsuleFile{Version: formatVersion, Capsule: c})
}

// FormatSignal renders a signal file.
func FormatSignal(s policy.Signal) []byte {
	return marshal(signalFile{Version: formatVersion, Signal: s})
}

// decodeStrict decodes one YAML document, refusing unknown and duplicate keys.
func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty")
		}
		return fmt.Errorf("not a valid record: %s", yamlCause(err))
	}
	return nil
}

// unknownField rewords yaml.v3's message, which names Go types. Compiled
// on first use: only a bad record needs it.
var unknownField = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`field (\S+) not found in type \S+`) })

// yamlCause is a YAML error on one line, in the file's own terms.
func yamlCause(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:")
	msg = unknownField().ReplaceAllString(msg, `unknown key "$1"`)
	return strings.Join(strings.Fields(msg), " ")
}

// plausible reports whether a recorded time is one RFC 3339 can write back:
// a year from 1 to 9999.
func plausible(ts ...time.Time) error {
	for _, t := range ts {
		if !t.IsZero() && (t.Year() < 1 || t.Year() > 9999) {
			return fmt.Errorf("time %s is out of range", t.Format(time.RFC3339))
		}
	}
	return nil
}

// ParseCapsule reads a capsule file filed under id.
func ParseCapsule(id string, data []byte) (policy.Capsule, error) {
	var f capsuleFile
	if err := decodeStrict(data, &f); err != nil {
		return f.Capsule, err
	}
	c := f.Capsule
	switch {
	case f.Version != formatVersion:
		return c, fmt.Errorf("format version %d: this oxygen reads version %d", f.Version, formatVersion)
	case c.ID != id:
		return c, fmt.Errorf("names capsule %q but is filed as %q", c.ID, id)
	case c.Owner == "" || !policy.ValidName(c.Domain):
		return c, errors.New("owner or domain missing")
	case c.Status != policy.CapsuleInProgress && c.Status != policy.CapsuleDone:
		return c, fmt.Errorf("status %q: want in_progress or done", c.Status)
	case c.Status == policy.CapsuleDone && c.ClosedAt.Before(c.CreatedAt):
		return c, errors.New("closed before it was created")
	case c.Status == policy.CapsuleInProgress && !c.ClosedAt.IsZero():
		return c, errors.New("in progress but closed")
	case c.Consent != nil && (!c.AwaitsConsent || c.Consent.By == "" || c.Consent.At.Before(c.CreatedAt)):
		return c, errors.New("a consent that does not fit the capsule")
	}
	c.CreatedAt, c.ClosedAt = c.CreatedAt.UTC(), utcOrZero(c.ClosedAt)
	times := []time.Time{c.CreatedAt, c.ClosedAt}
	if c.Consent != nil {
		c.Consent.At = c.Consent.At.UTC()
		times = append(times, c.Consent.At)
	}
	return c, plausible(times...)
}

// ParseSignal reads a signal file filed under id.
func ParseSignal(id string, data []byte) (policy.Signal, error) {
	var f signalFile
	if err := decodeStrict(data, &f); err != nil {
		return f.Signal, err
	}
	s := f.Signal
	switch {
	case f.Version != formatVersion:
		return s, fmt.Errorf("format version %d: this oxygen reads version %d", f.Version, formatVersion)
	case s.ID != id:
		return s, fmt.Errorf("names signal %q but is filed as %q", s.ID, id)
	case s.Kind != policy.SignalMissive && s.Kind != policy.SignalCouncilCall:
		return s, fmt.Errorf("kind %q: want missive or council_call", s.Kind)
	case !policy.ValidName(s.From) || s.By == "" || len(s.To) == 0:
		return s, errors.New("from, by or to missing")
	}
	for _, a := range s.Acks {
		if !slices.Contains(s.To, a.Domain) || a.By == "" || a.At.Before(s.CreatedAt) {
			return s, fmt.Errorf("an acknowledgement by %q of %s does not fit the signal", a.By, a.Domain)
		}
	}
	if d := s.Declined; d != nil && (!slices.Contains(s.To, d.Domain) || d.By == "" || d.At.Before(s.CreatedAt)) {
		return s, fmt.Errorf("a decline by %q of %s does not fit the signal", d.By, d.Domain)
	}
	s.CreatedAt, s.UsedAt, s.ExpiresAt = s.CreatedAt.UTC(), utcOrZero(s.UsedAt), utcOrZero(s.ExpiresAt)
	times := []time.Time{s.CreatedAt, s.UsedAt, s.ExpiresAt}
	if s.Declined != nil {
		s.Declined.At = s.Declined.At.UTC()
		times = append(times, s.Declined.At)
	}
	for i := range s.Acks {
		s.Acks[i].At = s.Acks[i].At.UTC()
		times = append(times, s.Acks[i].At)
	}
	return s, plausible(times...)
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

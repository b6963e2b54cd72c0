package store_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

var t0 = time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)

func sampleLease() policy.Lease {
	return policy.Lease{
		Resource: "schema", Owner: "ada@builder.example", Domain: "builder", TTL: 7200,
		CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour), Reason: "migrate plan registry schema",
	}
}

// sampleFile is FormatLease(sampleLease()), byte for byte.
const sampleFile = `version: 1
resource: schema
owner: ada@builder.example
domain: builder
ttl: 7200
created_at: "2026-11-28T15:00:00Z"
expires_at: "2026-11-28T17:00:00Z"
reason: migrate plan registry schema
`

// sameLease compares leases field by field, times by instant.
func sameLease(a, b policy.Lease) bool {
	return a.Resource == b.Resource && a.Owner == b.Owner && a.Domain == b.Domain && a.TTL == b.TTL &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresAt.Equal(b.ExpiresAt) && a.ReleasedAt.Equal(b.ReleasedAt) &&
		a.Reason == b.Reason && a.Capsule == b.Capsule
}

func TestFormatLease(t *testing.T) {
	if got := string(store.FormatLease(sampleLease())); got != sampleFile {
		t.Errorf("FormatLease =\n%s\nwant\n%s", got, sampleFile)
	}
}

func TestLeaseRoundTrip(t *testing.T) {
	with := func(f func(*policy.Lease)) policy.Lease { l := sampleLease(); f(&l); return l }
	tests := []struct {
		name string
		l    policy.Lease
	}{
		{"sample", sampleLease()},
		{"no reason", with(func(l *policy.Lease) { l.Reason = "" })},
		{"capsule", with(func(l *policy.Lease) { l.Capsule = "cap-42" })},
		{"reason with yaml syntax", with(func(l *policy.Lease) {
			l.Reason = `key: value # not a comment, "quoted" 'single' [list] {map} &a *b !tag`
		})},
		{"reason that looks like other types", with(func(l *policy.Lease) { l.Reason = "null" })},
		{"reason yes", with(func(l *policy.Lease) { l.Reason = "yes" })},
		{"reason a number", with(func(l *policy.Lease) { l.Reason = "0x10" })},
		{"reason a tilde", with(func(l *policy.Lease) { l.Reason = "~" })},
		{"reason a document marker", with(func(l *policy.Lease) { l.Reason = "---" })},
		{"multi-line reason", with(func(l *policy.Lease) { l.Reason = "line one\nline two\n" })},
		{"reason with spaces at the ends", with(func(l *policy.Lease) { l.Reason = "  padded  " })},
		{"unicode", with(func(l *policy.Lease) { l.Reason = "schéma ✓ 日本"; l.Owner = "zoë@builder.example" })},
		{"a year's ttl", with(func(l *policy.Lease) { l.TTL = 366 * 24 * 3600; l.ExpiresAt = l.CreatedAt.Add(366 * 24 * time.Hour) })},
		{"one second", with(func(l *policy.Lease) { l.TTL = 1; l.ExpiresAt = l.CreatedAt.Add(time.Second) })},
		{"renewed: expires long after ttl", with(func(l *policy.Lease) { l.ExpiresAt = l.CreatedAt.Add(30 * time.Hour) })},
		{"another time zone", with(func(l *policy.Lease) {
			z := time.FixedZone("X", 5*3600+1800)
			l.CreatedAt, l.ExpiresAt = l.CreatedAt.In(z), l.ExpiresAt.In(z)
		})},
		{"fractional seconds", with(func(l *policy.Lease) {
			l.CreatedAt = l.CreatedAt.Add(500 * time.Millisecond)
			l.ExpiresAt = l.ExpiresAt.Add(500 * time.Millisecond)
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := store.FormatLease(tt.l)
			got, err := store.ParseLease(tt.l.Resource, data)
			if err != nil {
				t.Fatalf("ParseLease(FormatLease(l)): %v\n%s", err, data)
			}
			if !sameLease(got, tt.l) {
				t.Errorf("round trip changed the lease:\n got %+v\nwant %+v\nfile:\n%s", got, tt.l, data)
			}
			if got.CreatedAt.Location() != time.UTC || got.ExpiresAt.Location() != time.UTC {
				t.Errorf("times come back in %v and %v, want UTC", got.CreatedAt.Location(), got.ExpiresAt.Location())
			}
			if !strings.HasPrefix(string(data), "version: 1\n") {
				t.Errorf("file does not start with its format version:\n%s", data)
			}
		})
	}
}

// parseLeaseErrors are lease files ParseLease must refuse (resource is what
// the file is filed under), with a substring of the cause.
var parseLeaseErrors = []struct {
	name     string
	resource string
	data     string
	msg      string
}{
	{"garbage bytes", "schema", "\x00\xff\xfe\x01garbage", "not valid YAML"},
	{"binary", "schema", "\x89PNG\r\n\x1a\n\x00\x00", "not valid YAML"},
	{"empty", "schema", "", "empty or not a mapping"},
	{"a list", "schema", "- a\n- b\n", "empty or not a mapping"},
	{"a scalar", "schema", "schema\n", "empty or not a mapping"},
	{"truncated in a value", "schema", unquoted[:strings.Index(unquoted, "15:00")], `line 6: created_at: "2026-11-28T" is not valid`},
	{"truncated after a line", "schema", sampleFile[:strings.Index(sampleFile, "created_at")], "missing created_at"},
	{"truncated in a quoted string", "schema", sampleFile[:strings.Index(sampleFile, "17:00")], "not valid YAML"},
	{"unknown key", "schema", sampleFile + "holder: x\n", `line 9: unknown key "holder"`},
	{"duplicate key", "schema", sampleFile + "owner: eve@x.example\n", `line 9: duplicate key "owner"`},
	{"value a list", "schema", strings.Replace(sampleFile, "owner: ada@builder.example", "owner: [ada]", 1), "line 3: want key: value"},
	{"value a mapping", "schema", strings.Replace(sampleFile, "ttl: 7200", "ttl: {s: 7200}", 1), "line 5: want key: value"},
	{"missing version", "schema", drop(sampleFile, "version"), "missing version"},
	{"missing resource", "schema", drop(sampleFile, "resource"), "missing resource"},
	{"missing owner", "schema", drop(sampleFile, "owner"), "missing owner"},
	{"missing domain", "schema", drop(sampleFile, "domain"), "missing domain"},
	{"missing ttl", "schema", drop(sampleFile, "ttl"), "missing ttl"},
	{"missing created_at", "schema", drop(sampleFile, "created_at"), "missing created_at"},
	{"missing expires_at", "schema", drop(sampleFile, "expires_at"), "missing expires_at"},
	{"resource mismatch", "storage", sampleFile, `names resource "schema" but is filed as "storage"`},
	{"expires before created", "schema", set(sampleFile, "expires_at", "2026-11-28T14:00:00Z"), "expires_at is not after created_at"},
	{"expires at created", "schema", set(sampleFile, "expires_at", "2026-11-28T15:00:00Z"), "expires_at is not after created_at"},
	{"ttl 0", "schema", set(sampleFile, "ttl", "0"), "ttl 0 is not between 1 second and a year"},
	{"ttl negative", "schema", set(sampleFile, "ttl", "-7200"), "ttl -7200 is not between"},
	{"ttl over a year", "schema", set(set(sampleFile, "ttl", "31622401"), "expires_at", "2028-11-28T17:00:00Z"), "ttl 31622401 is not between"},
	{"ttl that overflows nanoseconds", "schema", set(set(sampleFile, "ttl", "18446744074"), "expires_at", "2099-11-28T17:00:00Z"), "ttl 18446744074 is not between"},
	{"ttl beyond int64", "schema", set(sampleFile, "ttl", "99999999999999999999"), `ttl: "99999999999999999999" is not valid`},
	{"ttl a duration", "schema", set(sampleFile, "ttl", "2h"), `ttl: "2h" is not valid`},
	{"expires - created < ttl", "schema", set(sampleFile, "ttl", "7201"), "expires_at is less than ttl 7201s after created_at"},
	{"created_at not a time", "schema", set(sampleFile, "created_at", "yesterday"), `line 6: created_at: "yesterday" is not valid`},
	{"created_at without a zone", "schema", set(sampleFile, "created_at", "2026-11-28T15:00:00"), "created_at"},
	{"version 2", "schema", set(sampleFile, "version", "2"), "format version 2: this oxygen reads version 1"},
	{"version 0", "schema", set(sampleFile, "version", "0"), "format version 0"},
	{"version a word", "schema", set(sampleFile, "version", "one"), `version: "one" is not valid`},
	{"empty owner", "schema", set(sampleFile, "owner", `""`), "owner is empty"},
	{"null owner", "schema", set(sampleFile, "owner", ""), "owner is empty"},
	{"bad domain", "schema", set(sampleFile, "domain", "Builder"), `domain "Builder" is not a plain name`},
	{"domain with ..", "schema", set(sampleFile, "domain", "../x"), `domain "../x" is not a plain name`},
	{"empty domain", "schema", set(sampleFile, "domain", `""`), `domain "" is not a plain name`},
	{"alias", "schema", "version: &v 1\nresource: schema\nowner: *v\n", "want key: value"},
}

// unquoted is sampleFile with its times unquoted, as a person writes them.
var unquoted = strings.ReplaceAll(sampleFile, `"`, "")

// set replaces the value of key in a lease file.
func set(file, key, value string) string {
	lines := strings.Split(file, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, key+":") {
			lines[i] = key + ": " + value
		}
	}
	return strings.Join(lines, "\n")
}

// drop removes the line of key from a lease file.
func drop(file, key string) string {
	var out []string
	for _, l := range strings.SplitAfter(file, "\n") {
		if !strings.HasPrefix(l, key+":") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

func TestParseLease(t *testing.T) {
	l, err := store.ParseLease("schema", []byte(sampleFile))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(l, sampleLease()) {
		t.Errorf("ParseLease(sample) = %+v, want %+v", l, sampleLease())
	}
	// The spec's example, without the version line, is not a lease file of
	// this format: the version is required.
	if _, err := store.ParseLease("schema", []byte(drop(sampleFile, "version"))); err == nil {
		t.Error("a lease file without a version parsed")
	}
	// Keys in any order.
	shuffled := "expires_at: 2026-11-28T17:00:00Z\nttl: 7200\nreason: migrate plan registry schema\nowner: ada@builder.example\n" +
		"created_at: 2026-11-28T16:00:00+01:00\nversion: 1\ndomain: builder\nresource: schema\n"
	if l, err := store.ParseLease("schema", []byte(shuffled)); err != nil || !reflect.DeepEqual(l, sampleLease()) {
		t.Errorf("ParseLease(shuffled) = %+v, %v; want %+v", l, err, sampleLease())
	}
}

func TestParseLeaseErrors(t *testing.T) {
	for _, tt := range parseLeaseErrors {
		t.Run(tt.name, func(t *testing.T) {
			l, err := store.ParseLease(tt.resource, []byte(tt.data))
			if err == nil {
				t.Fatalf("ParseLease succeeded with %+v, want an error containing %q\n%s", l, tt.msg, tt.data)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
		})
	}
}

func eventLine(t testing.TB, e store.Event) string {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func ev(op string, at time.Time, l policy.Lease) store.Event {
	return store.Event{V: 1, Op: op, By: l.Owner, At: at, Lease: l}
}

func TestParseEvents(t *testing.T) {
	l := sampleLease()
	claim := eventLine(t, ev(store.OpClaim, t0, l))
	renewed := l
	renewed.ExpiresAt = t0.Add(5 * time.Hour)
	renew := eventLine(t, ev(store.OpRenew, t0.Add(time.Hour), renewed))
	release := eventLine(t, ev(store.OpRelease, t0.Add(2*time.Hour), renewed))
	tests := []struct {
		name string
		data string
		ops  []string
		err  string
	}{
		{"empty", "", nil, ""},
		{"one", claim, []string{"claim"}, ""},
		{"three", claim + renew + release, []string{"claim", "renew", "release"}, ""},
		{"torn last line", claim + renew + release[:len(release)/2], []string{"claim", "renew"}, ""},
		{"whole last line without its newline", claim + strings.TrimSuffix(renew, "\n"), []string{"claim"}, ""},
		{"only a torn line", claim[:10], nil, ""},
		{"CRLF", strings.ReplaceAll(claim+renew, "\n", "\r\n"), []string{"claim", "renew"}, ""},
		{"bad middle line", claim + "garbage\n" + release, nil, "events.jsonl:2: not an event"},
		{"blank middle line", claim + "\n" + release, nil, "events.jsonl:2: not an event"},
		{"torn middle line", claim + release[:20] + "\n" + release, nil, "events.jsonl:2: not an event"},
		{"bad first line", "{\n" + claim, nil, "events.jsonl:1: not an event"},
		{"version 2", claim + strings.Replace(renew, `"v":1`, `"v":2`, 1), nil, "events.jsonl:2: event format version 2"},
		{"no version", strings.Replace(claim, `"v":1,`, "", 1), nil, "events.jsonl:1: event format version 0"},
		{"unknown op", strings.Replace(claim, `"op":"claim"`, `"op":"steal"`, 1), nil, `events.jsonl:1: unknown operation "steal"`},
		{"bad resource", strings.Replace(claim, `"resource":"schema"`, `"resource":"../x"`, 1), nil, `events.jsonl:1: resource "../x" is not a plain name`},
		{"bad time", strings.Replace(claim, `"at":"2026-11-28T15:00:00Z"`, `"at":"noon"`, 1), nil, "events.jsonl:1: not an event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := store.ParseEvents(strings.NewReader(tt.data), "events.jsonl")
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("ParseEvents error = %v, want one starting %q", err, tt.err)
				}
				if events != nil {
					t.Errorf("events %v with the error", events)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, e := range events {
				ops = append(ops, e.Op)
			}
			if !reflect.DeepEqual(ops, tt.ops) {
				t.Errorf("ops = %q, want %q", ops, tt.ops)
			}
		})
	}
	// The decoded event carries the lease as recorded.
	events, err := store.ParseEvents(strings.NewReader(claim+renew), "events.jsonl")
	if err != nil || len(events) != 2 {
		t.Fatalf("ParseEvents = %v, %v", events, err)
	}
	if e := events[1]; e.V != 1 || e.By != l.Owner || !e.At.Equal(t0.Add(time.Hour)) || !sameLease(e.Lease, renewed) {
		t.Errorf("event = %+v, want the renewal of %+v", e, renewed)
	}
}

func TestReplay(t *testing.T) {
	schema := sampleLease() // builder, t0 .. t0+2h
	renewed := schema
	renewed.TTL, renewed.ExpiresAt = 10800, t0.Add(4*time.Hour)
	storageB := policy.Lease{Resource: "storage", Owner: "bob@builder.example", Domain: "builder", TTL: 3600, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	storageS := policy.Lease{Resource: "storage", Owner: "sue@scribe.example", Domain: "scribe", TTL: 3600, CreatedAt: t0.Add(2 * time.Hour), ExpiresAt: t0.Add(3 * time.Hour)}
	takeover := ev(store.OpTakeover, storageS.CreatedAt, storageS)
	takeover.Replaced = &storageB
	stale := schema
	stale.CreatedAt = t0.Add(-time.Hour)
	endAt := func(l policy.Lease, released time.Time) policy.Lease { l.ReleasedAt = released; return l }
	tests := []struct {
		name   string
		events []store.Event
		want   []policy.Lease
	}{
		{"nothing", nil, nil},
		{"claim", []store.Event{ev(store.OpClaim, t0, schema)}, []policy.Lease{schema}},
		{"claim, renew", []store.Event{ev(store.OpClaim, t0, schema), ev(store.OpRenew, t0.Add(time.Hour), renewed)}, []policy.Lease{renewed}},
		{
			"claim, renew, release",
			[]store.Event{ev(store.OpClaim, t0, schema), ev(store.OpRenew, t0.Add(time.Hour), renewed), ev(store.OpRelease, t0.Add(90*time.Minute), renewed)},
			[]policy.Lease{endAt(renewed, t0.Add(90*time.Minute))},
		},
		{
			"release, then claim again",
			[]store.Event{ev(store.OpClaim, t0, schema), ev(store.OpRelease, t0.Add(time.Hour), schema), func() store.Event {
				l := schema
				l.CreatedAt, l.ExpiresAt = t0.Add(2*time.Hour), t0.Add(4*time.Hour)
				return ev(store.OpClaim, l.CreatedAt, l)
			}()},
			[]policy.Lease{endAt(schema, t0.Add(time.Hour)), func() policy.Lease {
				l := schema
				l.CreatedAt, l.ExpiresAt = t0.Add(2*time.Hour), t0.Add(4*time.Hour)
				return l
			}()},
		},
		{
			"takeover of a lapsed lease",
			[]store.Event{ev(store.OpClaim, t0, storageB), takeover},
			[]policy.Lease{storageB, storageS},
		},
		{
			"release after a takeover ends the new lease only",
			[]store.Event{ev(store.OpClaim, t0, storageB), takeover, ev(store.OpRelease, t0.Add(150*time.Minute), storageS)},
			[]policy.Lease{storageB, endAt(storageS, t0.Add(150*time.Minute))},
		},
		{
			"a release of the replaced lease after the takeover changes nothing",
			[]store.Event{ev(store.OpClaim, t0, storageB), takeover, ev(store.OpRelease, t0.Add(150*time.Minute), storageB)},
			[]policy.Lease{storageB, storageS},
		},
		{"renew of another lease is ignored", []store.Event{ev(store.OpClaim, t0, schema), ev(store.OpRenew, t0, func() policy.Lease { l := stale; l.ExpiresAt = t0.Add(9 * time.Hour); return l }())}, []policy.Lease{schema}},
		{"renew with nothing open is ignored", []store.Event{ev(store.OpRenew, t0, renewed)}, nil},
		{"release with nothing open is ignored", []store.Event{ev(store.OpRelease, t0, schema)}, nil},
		{
			"sorted by resource, then start",
			[]store.Event{ev(store.OpClaim, t0, storageB), takeover, ev(store.OpClaim, t0, schema)},
			[]policy.Lease{schema, storageB, storageS},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := store.Replay(tt.events)
			if len(got) != len(tt.want) {
				t.Fatalf("Replay = %d leases %+v, want %d %+v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				if !sameLease(got[i], tt.want[i]) {
					t.Errorf("lease %d:\n got %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func ExampleFormatLease() {
	fmt.Print(string(store.FormatLease(sampleLease())))
	// Output:
	// version: 1
	// resource: schema
	// owner: ada@builder.example
	// domain: builder
	// ttl: 7200
	// created_at: "2026-11-28T15:00:00Z"
	// expires_at: "2026-11-28T17:00:00Z"
	// reason: migrate plan registry schema
}

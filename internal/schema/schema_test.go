package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/policy"
	"gopkg.in/yaml.v3"
)

// TestCheckedIn fails when schema/resources.schema.json is not what the
// generator writes.
func TestCheckedIn(t *testing.T) {
	want, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(Path)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: run go generate ./internal/schema", Path)
	}
}

// TestAgreesWithLoad judges documents with the schema (by a validator for
// the keywords the generator writes) and with policy.Load, and wants the
// same verdict, except where a rule cannot be said in a schema.
func TestAgreesWithLoad(t *testing.T) {
	data, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		doc string
		gap string // why the schema and Load disagree, if they do
	}{
		{doc: string(oxygen.ReferencePolicy)},
		{doc: "version: 1"},
		{doc: "version: 2"},
		{doc: "domains: {}"},
		{doc: "version: 1\nextra: 1"},
		{doc: "version: 1\ndomains: {builder: {members: ['*@b.example'], core: [deploy/**]}}"},
		{doc: "version: 1\ndomains: {builder: {owners: []}}"},
		{doc: "version: 1\ndomains: {Builder: {}}"},
		{doc: "version: 1\ndomains: {builder: {members: ['']}}"},
		{doc: "version: 1\nresources: {schema: {description: d, paths: [a/b.yaml]}}"},
		{doc: "version: 1\nresources: {schema: {globs: [a]}}"},
		{doc: "version: 1\nresources: {a/b: {}}"},
		{doc: "version: 1\nresources: {" + strings.Repeat("a", 64) + ": {}}"},
		{doc: "version: 1\nresources: {" + strings.Repeat("a", 65) + ": {}}"},
		{doc: "version: 1\nresources: {x: {paths: [.github/**, ..x/y, a/.b, 'a...']}}"},
		{doc: "version: 1\nresources: {x: {paths: [/abs]}}"},
		{doc: "version: 1\nresources: {x: {paths: [./a]}}"},
		{doc: "version: 1\nresources: {x: {paths: [a/]}}"},
		{doc: "version: 1\nresources: {x: {paths: [a//b]}}"},
		{doc: "version: 1\nresources: {x: {paths: [a/../b]}}"},
		{doc: "version: 1\nresources: {x: {paths: [a/./b]}}"},
		{doc: "version: 1\nresources: {x: {paths: a}}"},
		{doc: "version: 1\nbudgets: {leases_per_domain: 5, in_progress_per_domain: 1, risk_paths_per_commit: 1000000}"},
		{doc: "version: 1\nbudgets: {leases_per_domian: 5}"},
		{doc: "version: 1\nbudgets: {leases_per_domain: 0}"},
		{doc: "version: 1\nbudgets: {risk_paths_per_commit: 1000001}"},
		{doc: "version: 1\nbudgets: {leases_per_domain: '2'}"},
		{doc: "version: 1\nbudgets: {default_ttl: 90m, max_ttl: 1.5h, clock_skew: 0}"},
		{doc: "version: 1\nbudgets: {default_ttl: +1h30m, clock_skew: 0s}"},
		{doc: "version: 1\nbudgets: {default_ttl: 2 hours}"},
		{doc: "version: 1\nbudgets: {clock_skew: -1s}"},
		{doc: "version: 1\nbudgets: {max_ttl: 90}"},
		{doc: "version: 1\nbudgets: {handshake_ttl: 1h}"},
		{doc: "version: 1\nbudgets: {handshake_ttl: 0s}", gap: "a minimum duration"},
		{doc: "version: 1\ndomains: {a: {}, b: {}}\ncouncil: {domains: [a, b], quorum: 2}"},
		{doc: "version: 1\ncouncil: {quorum: 0}"},
		{doc: "version: 1\ncouncil: {seats: 1}"},
		{doc: "version: 1\ncouncil: {domains: [A]}"},
		{doc: "version: 1\ncouncil: {domains: [a]}", gap: "a council domain the policy defines"},
		{doc: "version: 1\nstore: {kind: git, remote: upstream, ref: refs/oxygen/state.v2}"},
		{doc: "version: 1\nstore: {kind: s3}"},
		{doc: "version: 1\nstore: {remote: -x}"},
		{doc: "version: 1\nstore: {ref: heads/x}"},
		{doc: "version: 1\nstore: {ref: refs/a..b}"},
		{doc: "version: 1\nstore: {ref: 'refs/a b'}"},
		{doc: "version: 1\nstore: {url: x}"},

		{doc: "version: 1\nbudgets: {default_ttl: 0s}", gap: "a minimum duration"},
		{doc: "version: 1\nbudgets: {default_ttl: 48h}", gap: "default_ttl against max_ttl"},
		{doc: "version: 1\nbudgets: {max_ttl: 9000h}", gap: "a maximum duration"},
		{doc: "version: 1\nresources: {x: {paths: ['a/[b']}}", gap: "doublestar's syntax"},
		{doc: "version: 1\nresources: {x: &a {}, y: *a}", gap: "YAML anchors and aliases"},
		{doc: "version: 1\nresources: {x: {description: 42}}", gap: "Load reads any scalar as a string"},
	}
	for _, c := range cases {
		_, loadErr := policy.Load("test.yaml", []byte(c.doc))
		var doc any
		if err := yaml.Unmarshal([]byte(c.doc), &doc); err != nil {
			t.Fatalf("%q: %v", c.doc, err)
		}
		schemaErr := validate(s, doc, "")
		agree := (loadErr == nil) == (schemaErr == nil)
		switch {
		case c.gap == "" && !agree:
			t.Errorf("%q:\n  Load: %v\n  schema: %v", c.doc, loadErr, schemaErr)
		case c.gap != "" && agree:
			t.Errorf("%q: marked as a gap (%s), but both say %v", c.doc, c.gap, loadErr == nil)
		}
	}
}

// validate checks v against the subset of JSON Schema that the generator
// writes; it returns the first problem.
func validate(s map[string]any, v any, at string) error {
	if alts, ok := s["anyOf"].([]any); ok {
		var errs []string
		for _, alt := range alts {
			err := validate(alt.(map[string]any), v, at)
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, err.Error())
		}
		if errs != nil {
			return fmt.Errorf("%s: none of: %s", at, strings.Join(errs, "; "))
		}
	}
	if want, ok := s["const"]; ok && fmt.Sprint(want) != fmt.Sprint(v) {
		return fmt.Errorf("%s: want %v", at, want)
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object", at)
		}
		for _, key := range list(s["required"]) {
			if _, ok := m[key.(string)]; !ok {
				return fmt.Errorf("%s: missing %s", at, key)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for key, val := range m {
			if names, ok := s["propertyNames"].(map[string]any); ok {
				if err := validate(names, key, at+"/"+key); err != nil {
					return err
				}
			}
			sub, ok := props[key].(map[string]any)
			if !ok {
				switch extra := s["additionalProperties"].(type) {
				case bool:
					if !extra {
						return fmt.Errorf("%s: unknown key %s", at, key)
					}
					continue
				case map[string]any:
					sub = extra
				}
			}
			if err := validate(sub, val, at+"/"+key); err != nil {
				return err
			}
		}
	case "array":
		items, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: want an array", at)
		}
		for i, item := range items {
			if err := validate(s["items"].(map[string]any), item, fmt.Sprintf("%s/%d", at, i)); err != nil {
				return err
			}
		}
	case "integer":
		n, ok := v.(int)
		if !ok {
			return fmt.Errorf("%s: want an integer", at)
		}
		if lo, ok := s["minimum"].(float64); ok && float64(n) < lo {
			return fmt.Errorf("%s: below %v", at, lo)
		}
		if hi, ok := s["maximum"].(float64); ok && float64(n) > hi {
			return fmt.Errorf("%s: above %v", at, hi)
		}
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: want a string", at)
		}
	}
	if str, ok := v.(string); ok {
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			return fmt.Errorf("%s: %q does not match %s", at, str, p)
		}
		if enum := list(s["enum"]); enum != nil && !slices.Contains(enum, any(str)) {
			return fmt.Errorf("%s: %q not in %v", at, str, enum)
		}
	}
	return nil
}

func list(v any) []any { l, _ := v.([]any); return l }

// Package schema builds the JSON Schema of resources.yaml, for editors
// (yaml-language-server) and validators. It derives the schema by
// reflection from Go types shaped like the file, whose tags carry the rules
// policy.Load enforces; a test holds the two together.
package schema

//go:generate go run ./genschema ../../schema/resources.schema.json

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Path is where the generated schema is kept, relative to the repository root.
const Path = "schema/resources.schema.json"

// The file's shape. Field tags: json names the key; doc describes it;
// schema holds rules, comma-separated: required, const=N, min=N, max=N,
// enum=a|b, pattern=NAME (one of the patterns below), zero (the integer 0
// is allowed as well: YAML reads an unquoted 0 as a number).
type (
	policyFile struct {
		Version   int                 `json:"version" schema:"required,const=1" doc:"Format version of this file; this oxygen reads version 1."`
		Domains   map[string]domain   `json:"domains" doc:"The owning teams, keyed by a plain name (lower-case letters, digits, - and _)."`
		Resources map[string]resource `json:"resources" doc:"The shared-resource types, keyed by a plain id. A commit that changes a path of one needs a live lease on it."`
		Budgets   budgets             `json:"budgets" doc:"The balance law's limits."`
		Council   council             `json:"council" doc:"Who grants council calls (default: any domain, quorum 1)."`
		Store     store               `json:"store" doc:"Where leases and their history live."`
	}
	domain struct {
		Members []string `json:"members" schema:"pattern=glob" doc:"Committer e-mail globs (or host user names) of the domain's members, like *@builder.example."`
		Core    []string `json:"core" schema:"pattern=pathGlob" doc:"Path globs of the domain's core surfaces, relative to the repository root, like deploy/**."`
	}
	resource struct {
		Description string   `json:"description" doc:"What the resource is, in a line."`
		Paths       []string `json:"paths" schema:"pattern=pathGlob" doc:"Path globs that belong to this resource, relative to the repository root (doublestar syntax)."`
	}
	budgets struct {
		LeasesPerDomain     int    `json:"leases_per_domain" schema:"min=1,max=1000000" doc:"Change budget: live leases one domain may hold at once (default 2)."`
		InProgressPerDomain int    `json:"in_progress_per_domain" schema:"min=1,max=1000000" doc:"Attention budget: in-progress work items one domain may own (default 2)."`
		RiskPathsPerCommit  int    `json:"risk_paths_per_commit" schema:"min=1,max=1000000" doc:"Risk budget: shared-resource paths one commit may change (default 20)."`
		DefaultTTL          string `json:"default_ttl" schema:"pattern=duration" doc:"Lease length when a claim names none, a Go duration like 2h (default 2h, at least 1s, at most max_ttl)."`
		MaxTTL              string `json:"max_ttl" schema:"pattern=duration" doc:"Longest lease, a Go duration (default 24h, at least 1s, at most 8784h)."`
		ClockSkew           string `json:"clock_skew" schema:"pattern=duration,zero" doc:"Clock difference allowed at both ends of a lease, a Go duration (default 30s, at most 15m)."`
		HandshakeTTL        string `json:"handshake_ttl" schema:"pattern=duration" doc:"How long an acknowledged missive lets the sender change its files, at most (it also ends when the missive's capsule is done), a Go duration (default 24h, at least 1s, at most 720h)."`
	}
	council struct {
		Domains []string `json:"domains" schema:"pattern=name" doc:"The domains whose acknowledgements count towards the quorum (default: every domain). A caller's own domains never count."`
		Quorum  int      `json:"quorum" schema:"min=1,max=1000000" doc:"How many of them must acknowledge a call, besides every domain it addresses (default 1; at most the number of seats)."`
	}
	store struct {
		Kind      string `json:"kind" schema:"enum=local|git" doc:"local: leases live in this clone; git: on a ref of a remote, shared by every clone (default local)."`
		Remote    string `json:"remote" schema:"pattern=remote" doc:"The git store's remote (default origin)."`
		Ref       string `json:"ref" schema:"pattern=ref" doc:"The git store's ref (default refs/oxygen/state)."`
		Sequenced bool   `json:"sequenced" doc:"The git store's remote runs oxygen's server hooks (oxygen install --repo), which decide each act: clones send acts, not state (default false)."`
	}
)

// The string rules. Each is an RE2 and an ECMA-262 regular expression
// alike, so that Go's tests and editors read it the same way.
var patterns = map[string]struct{ pattern, doc string }{
	// policy.ValidName: it becomes a file name in the store.
	"name": {`^[a-z][a-z0-9_-]{0,63}$`, "A plain name: a lower-case letter, then lower-case letters, digits, - and _; at most 64."},
	// time.ParseDuration without a minus: no duration may be negative.
	"duration": {`^\+?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`, "A Go duration: 90s, 30m, 2h, 1h30m."},
	// Relative and clean, as git names paths: no leading / or ./, no
	// trailing /, no empty, . or .. segment.
	"pathGlob": {`^` + segment + `(/` + segment + `)*$`, "A doublestar glob relative to the repository root, like store/blobs/** (no leading / or ./, no trailing /, no . or .. segment)."},
	"glob":     {`^.+$`, "A doublestar glob; * and ? stop at /, ** crosses it."},
	"remote":   {`^[^-]`, "A git remote name, like origin."},
	"ref":      {`^refs/([^ ~^:?*\[\\.]|\.[^ ~^:?*\[\\.])*\.?$`, "A full ref name, like refs/oxygen/state (no .., spaces or ~^:?*[\\)."},
}

// segment is one path segment other than "", "." and "..".
const segment = `([^/.][^/]*|\.[^/.][^/]*|\.\.[^/]+)`

// JSON returns the schema, indented, with a final newline.
func JSON() ([]byte, error) {
	root, err := typeSchema(reflect.TypeFor[policyFile]())
	if err != nil {
		return nil, err
	}
	root["title"] = "oxygen policy (resources.yaml)"
	root["description"] = "The Oxygen Protocol's policy: domains, shared resources and the paths that belong to them, budgets, the council and the store. oxygen reads it strictly; YAML anchors and aliases are refused."
	return encode(root)
}

// Of returns the schema of what a Go type marshals to, titled, for the
// JSON oxygen prints.
func Of(t reflect.Type, title, description string) ([]byte, error) {
	root, err := typeSchema(t)
	if err != nil {
		return nil, err
	}
	root["title"], root["description"] = title, description
	return encode(root)
}

// encode writes a schema, indented, with a final newline.
func encode(root map[string]any) ([]byte, error) {
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// typeSchema is the schema of one Go type of the file's shape, or of
// oxygen's JSON output: the json tags name the keys (embedded structs lend
// theirs, "-" hides a field), times are RFC 3339 strings, and maps of
// records are keyed by plain names.
func typeSchema(t reflect.Type) (map[string]any, error) {
	if t == reflect.TypeFor[time.Time]() {
		return map[string]any{"type": "string", "format": "date-time"}, nil
	}
	switch t.Kind() {
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for i := range t.NumField() {
			f := t.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if key == "-" || !f.IsExported() {
				continue
			}
			if f.Anonymous && key == "" {
				inner, err := typeSchema(f.Type)
				if err != nil {
					return nil, err
				}
				maps.Copy(props, inner["properties"].(map[string]any))
				continue
			}
			s, err := typeSchema(f.Type)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
			}
			if doc := f.Tag.Get("doc"); doc != "" {
				s["description"] = doc
			}
			req, err := applyRules(s, f.Tag.Get("schema"))
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
			}
			if req {
				required = append(required, key)
			}
			props[key] = s
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s, nil
	case reflect.Map:
		items, err := typeSchema(t.Elem())
		if err != nil || t.Elem().Kind() != reflect.Struct {
			return map[string]any{"type": "object", "additionalProperties": items}, err
		}
		names := map[string]any{"pattern": patterns["name"].pattern}
		return map[string]any{"type": "object", "propertyNames": names, "additionalProperties": items}, nil
	case reflect.Pointer:
		return typeSchema(t.Elem())
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int64:
		return map[string]any{"type": "integer"}, nil
	case reflect.Interface:
		return map[string]any{}, nil // any JSON value
	case reflect.Slice:
		items, err := typeSchema(t.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "items": items}, nil
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Int:
		return map[string]any{"type": "integer"}, nil
	}
	return nil, fmt.Errorf("no schema for %s", t)
}

// applyRules applies a field's schema tag to s, and says whether the key
// is required. A pattern rule applies to a list's items.
func applyRules(s map[string]any, tag string) (required bool, err error) {
	target := s
	if items, ok := s["items"].(map[string]any); ok {
		target = items
	}
	for _, rule := range strings.Split(tag, ",") {
		name, val, _ := strings.Cut(rule, "=")
		switch name {
		case "":
		case "required":
			required = true
		case "const", "min", "max":
			n, err := strconv.Atoi(val)
			if err != nil {
				return false, fmt.Errorf("rule %q: %w", rule, err)
			}
			key := map[string]string{"const": "const", "min": "minimum", "max": "maximum"}[name]
			target[key] = n
		case "enum":
			target["enum"] = strings.Split(val, "|")
		case "pattern":
			p, ok := patterns[val]
			if !ok {
				return false, fmt.Errorf("rule %q: no such pattern", rule)
			}
			target["pattern"] = p.pattern
			if _, ok := target["description"]; !ok {
				target["description"] = p.doc
			}
		case "zero":
			alt := map[string]any{}
			for k, v := range target {
				if k != "description" {
					alt[k] = v
					delete(target, k)
				}
			}
			target["anyOf"] = []any{alt, map[string]any{"const": 0}}
		default:
			return false, fmt.Errorf("unknown rule %q", rule)
		}
	}
	return required, nil
}

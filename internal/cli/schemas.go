package cli

import (
	"reflect"

	"github.com/oxygen-protocol/oxygen/internal/schema"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

//go:generate go run ./genoutputs ../../schema/output

// outputs are the JSON shapes of the commands' --json output, by the name
// of their schema file in schema/output.
var outputs = []struct {
	name, title string
	t           reflect.Type
}{
	{"error", "oxygen COMMAND --json, when it refuses or fails (any exit but 0)", reflect.TypeFor[ErrorOutput]()},
	{"act", "oxygen claim|renew|release --json", reflect.TypeFor[ActOutput]()},
	{"leases", "oxygen leases [--all] --json", reflect.TypeFor[LeasesOutput]()},
	{"run", "oxygen run --json: one line when the command starts, one when it ends", reflect.TypeFor[RunOutput]()},
	{"event", "oxygen events --json: one line per event", reflect.TypeFor[store.Numbered]()},
	{"check", "oxygen check --json: the violations", reflect.TypeFor[[]policy.Violation]()},
	{"signal", "oxygen signal missive|council-call|ack --json, and each item of oxygen signals --json", reflect.TypeFor[SignalOutput]()},
	{"explain", "oxygen explain --json", reflect.TypeFor[[]explained]()},
	{"status", "oxygen status --json", reflect.TypeFor[statusReport]()},
	{"audit", "oxygen audit --json: the findings", reflect.TypeFor[[]finding]()},
	{"capsule", "oxygen assign|done|capsules accept|capsules widen --json, and each item of oxygen capsules --json", reflect.TypeFor[policy.Capsule]()},
	{"lint", "oxygen policy lint --json: the findings", reflect.TypeFor[[]policy.Finding]()},
	{"policy-diff", "oxygen policy diff --json", reflect.TypeFor[policyDiff]()},
	{"init", "oxygen init --json", reflect.TypeFor[initReport]()},
	{"report", "oxygen report --json", reflect.TypeFor[reportJSON]()},
}

// OutputSchemas returns the JSON Schema of every command's --json output,
// by file name.
func OutputSchemas() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, o := range outputs {
		data, err := schema.Of(o.t, o.title, "Generated from oxygen's Go types; JSON contract version 2 (schema_version).")
		if err != nil {
			return nil, err
		}
		out[o.name+".schema.json"] = data
	}
	return out, nil
}

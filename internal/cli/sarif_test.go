package cli

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/oxygen-protocol/oxygen/policy"
)

// TestSARIF checks the log against what SARIF 2.1.0 requires and GitHub
// code scanning reads: version and $schema; per run a tool.driver with a
// name; per result a message text, a ruleId whose ruleIndex points at that
// rule, and a location with an artifact URI and a start line of at least 1.
func TestSARIF(t *testing.T) {
	vs := []policy.Violation{
		{Commit: "c0ffee", Path: "store/blobs/a b#1.bin", Resource: "storage", Rule: policy.RuleShadowEdit, Reason: "no live lease on storage", Fix: "oxygen claim storage"},
		{Commit: "c0ffee", Path: "resources.yaml", Domain: "gems", Rule: policy.RuleCoreBoundary, Reason: "redraws gems", Fix: "oxygen signal missive --to gems --file resources.yaml --subject WHY"},
		{Path: "store/x", Resource: "storage", Rule: policy.RuleShadowEdit, Reason: "no live lease on storage", Fix: "oxygen claim storage"},
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, sarif(vs)); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string
					Rules []struct{ ID string }
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex *int
				Level     string
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI, URIBaseID string }
						Region           struct{ StartLine int }
					}
				}
				PartialFingerprints map[string]string
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || log.Schema == "" || len(log.Runs) != 1 {
		t.Fatalf("version %q schema %q runs %d", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "oxygen" {
		t.Errorf("driver name %q", run.Tool.Driver.Name)
	}
	if len(run.Tool.Driver.Rules) != 2 {
		t.Errorf("%d rules, want one per oxygen rule that occurs (2)", len(run.Tool.Driver.Rules))
	}
	if len(run.Results) != len(vs) {
		t.Fatalf("%d results, want %d", len(run.Results), len(vs))
	}
	wantURI := []string{"store/blobs/a%20b%231.bin", "resources.yaml", "store/x"}
	for i, r := range run.Results {
		if r.RuleIndex == nil || *r.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[*r.RuleIndex].ID != r.RuleID || r.RuleID != vs[i].Rule {
			t.Errorf("result %d: ruleId %q ruleIndex %v do not agree", i, r.RuleID, r.RuleIndex)
		}
		if r.Level != "error" || r.Message.Text == "" || !bytes.Contains([]byte(r.Message.Text), []byte(vs[i].Fix)) {
			t.Errorf("result %d: level %q message %q, want an error that says the fix", i, r.Level, r.Message.Text)
		}
		if len(r.Locations) != 1 {
			t.Fatalf("result %d: %d locations", i, len(r.Locations))
		}
		loc := r.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != wantURI[i] || loc.ArtifactLocation.URIBaseID != "%SRCROOT%" || loc.Region.StartLine != 1 {
			t.Errorf("result %d: location %+v", i, loc)
		}
		if r.PartialFingerprints["oxygen/v1"] == "" {
			t.Errorf("result %d: no fingerprint", i)
		}
	}
	if a, b := run.Results[0].PartialFingerprints["oxygen/v1"], run.Results[2].PartialFingerprints["oxygen/v1"]; a == b {
		t.Error("two violations share a fingerprint")
	}
	// No violations: still a valid log, with empty lists rather than null.
	buf.Reset()
	if err := writeJSON(&buf, sarif(nil)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"results": []`)) || !bytes.Contains(buf.Bytes(), []byte(`"rules": []`)) {
		t.Errorf("empty log: %s", buf.Bytes())
	}
}

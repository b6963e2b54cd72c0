package cli

import (
	"net/url"
	"strings"

	"github.com/oxygen-protocol/oxygen/policy"
)

// SARIF 2.1.0, as GitHub code scanning reads it: only the fields oxygen fills.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID               string       `json:"id"`
		ShortDescription sarifMessage `json:"shortDescription"`
		HelpURI          string       `json:"helpUri"`
	}
	sarifMessage struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifMessage      `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          map[string]string `json:"properties,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI       string `json:"uri"`
				URIBaseID string `json:"uriBaseId"`
			} `json:"artifactLocation"`
			Region struct {
				StartLine int `json:"startLine"`
			} `json:"region"`
		} `json:"physicalLocation"`
	}
)

const (
	sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"
	projectURI  = "https://github.com/oxygen-protocol/oxygen"
)

// sarif turns violations into a SARIF log: one rule per oxygen rule that
// occurs, one result per violation on line 1 of its path (a rule is about
// the whole file), its fix in the message.
func sarif(vs []policy.Violation) sarifLog {
	driver := sarifDriver{Name: "oxygen", Version: buildVersion(), InformationURI: projectURI, Rules: []sarifRule{}}
	index := map[string]int{}
	results := make([]sarifResult, 0, len(vs))
	for _, v := range vs {
		i, ok := index[v.Rule]
		if !ok {
			i = len(driver.Rules)
			index[v.Rule] = i
			driver.Rules = append(driver.Rules, sarifRule{ID: v.Rule,
				ShortDescription: sarifMessage{Text: "oxygen: " + v.Rule},
				HelpURI:          projectURI + "#the-rule"})
		}
		q := codeQuality([]policy.Violation{v})[0] // the same text and fingerprint as for GitLab
		r := sarifResult{RuleID: v.Rule, RuleIndex: i, Level: "error", Message: sarifMessage{Text: q.Description},
			PartialFingerprints: map[string]string{"oxygen/v1": q.Fingerprint}}
		if v.Commit != "" {
			r.Properties = map[string]string{"commit": v.Commit}
		}
		var loc sarifLocation
		loc.PhysicalLocation.ArtifactLocation.URI = pathURI(v.Path)
		loc.PhysicalLocation.ArtifactLocation.URIBaseID = "%SRCROOT%"
		loc.PhysicalLocation.Region.StartLine = 1
		r.Locations = []sarifLocation{loc}
		results = append(results, r)
	}
	return sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{{Tool: sarifTool{Driver: driver}, Results: results}}}
}

// pathURI is a repository path as a relative URI reference: each segment
// escaped, so that spaces, '#' and '%' survive.
func pathURI(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

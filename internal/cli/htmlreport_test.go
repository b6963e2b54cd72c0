package cli

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
)

var reportPNG = flag.String("report.png", "", "also copy the browser's screenshot of the report to `FILE` (docs/report.png)")

// threeDomains makes a day's history of builder, guardian and scribe in a
// real local store, at fixed times, and reads it back as the report does.
func threeDomains(t *testing.T) reportInput {
	t.Helper()
	p, err := policy.Load("resources.yaml", oxygen.ReferencePolicy)
	if err != nil {
		t.Fatal(err)
	}
	s := store.OpenLocal(t.TempDir())
	t0 := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return t0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	act := func(when time.Time, a policy.Act) {
		t.Helper()
		if _, err := s.Act(p, a, func() time.Time { return when }); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(res, who, domain string, ttl time.Duration, when time.Time, reason string) {
		t.Helper()
		act(when, policy.Act{Kind: policy.ActClaim, By: who, Domain: domain, Resources: []string{res}, TTL: ttl, Reason: reason})
	}
	release := func(res, who string, when time.Time) {
		t.Helper()
		act(when, policy.Act{Kind: policy.ActRelease, By: who, Resources: []string{res}})
	}
	claim("storage", "ada@builder.example", "builder", 2*time.Hour, at(0, 0), "refresh the model blob")
	claim("schema", "sam@scribe.example", "scribe", time.Hour, at(0, 20), "plan registry v3")
	claim("identity", "eve@guardian.example", "guardian", 9*time.Hour, at(1, 0), "rotate the deploy keys")
	release("storage", "ada@builder.example", at(1, 30))
	claim("schema", "eve@guardian.example", "guardian", 2*time.Hour, at(2, 0), "signal format for quarantine") // a takeover
	claim("deployment", "bob@builder.example", "builder", 4*time.Hour, at(3, 0), "image build")
	release("schema", "eve@guardian.example", at(3, 30))
	act(at(4, 10), policy.Act{Kind: policy.ActSignal, ID: "c-7f3a21", Signal: policy.SignalCouncilCall, Domain: "guardian", By: "eve@guardian.example",
		To: []string{"builder", "scribe"}, Subject: "stop the image build: it bakes in a key"})
	act(at(4, 20), policy.Act{Kind: policy.ActAck, ID: "c-7f3a21", By: "ada@builder.example"})
	act(at(4, 30), policy.Act{Kind: policy.ActAck, ID: "c-7f3a21", By: "sam@scribe.example"})
	act(at(5, 0), policy.Act{Kind: policy.ActRelease, By: "eve@guardian.example", Resources: []string{"deployment"}, Force: true, Council: "c-7f3a21"})
	claim("index", "sam@scribe.example", "scribe", 3*time.Hour, at(6, 0), "rebuild after the migration")
	act(at(6, 10), policy.Act{Kind: policy.ActAssign, ID: "T-42", Owner: "ada@builder.example", Domain: "builder", Scope: []string{"store/blobs/**", "docs/guide.md"}, By: "ada@builder.example"})
	act(at(6, 15), policy.Act{Kind: policy.ActAssign, ID: "DOC-7", Owner: "sam@scribe.example", Domain: "scribe", Scope: []string{"docs/**"}, By: "sam@scribe.example"})
	claim("storage", "ada@builder.example", "builder", 2*time.Hour, at(6, 30), "model v2")
	act(at(7, 0), policy.Act{Kind: policy.ActSignal, ID: "m-a1b2c3", Signal: policy.SignalMissive, Domain: "builder", By: "ada@builder.example",
		To: []string{"scribe"}, Files: []string{"docs/guide.md"}, Subject: "the guide names the old blob", Capsule: "T-42"})
	for _, d := range []store.DeadEnd{
		{Hook: "pre-commit", Who: "bob@builder.example", At: at(3, 40), Paths: []string{"tools/plan-registry/schema.yaml"}, Resources: []string{"schema"},
			Why: []string{"no live lease on schema for builder"}, Fix: []string{"oxygen claim schema"}},
		{Hook: "pre-push", Who: "eve@guardian.example", At: at(7, 20), Paths: []string{"store/blobs/model.bin"}, Resources: []string{"storage"},
			Why: []string{"storage is leased by builder (ada@builder.example)"}, Fix: []string{"ask ada@builder.example to run oxygen release storage"}},
	} {
		if err := s.RecordDeadEnd(d); err != nil {
			t.Fatal(err)
		}
	}
	in := reportInput{Title: "plan-registry", Now: at(8, 0), Window: 7 * 24 * time.Hour, Policy: p, PolicySrc: "HEAD:resources.yaml"}
	if in.State, err = s.Current(); err != nil {
		t.Fatal(err)
	}
	if in.Past, err = s.HistoryState(time.Time{}); err != nil {
		t.Fatal(err)
	}
	in.History = in.Past.Leases
	if in.DeadEnds, err = s.DeadEnds(); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestRenderReport(t *testing.T) {
	in := threeDomains(t)
	page, err := renderReport(in)
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, want := range []string{
		`<svg id="timeline"`,
		`data-resource="schema"`, `data-resource="coordination"`, // every resource has its row
		"takeover: guardian took schema over from scribe&#39;s lapsed lease",
		"forced release of builder&#39;s lease, with council call c-7f3a21",
		`<td class="code">m-a1b2c3</td><td>missive</td><td>builder</td><td>scribe</td>`,
		`<td class="code">T-42</td><td>builder</td>`,
		"<span>1 of 2 leases</span>",
		"<span>1 of 2 capsules in progress</span>",
		"storage is leased by builder (ada@builder.example)",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Count(html, `class="takeover"`) != 1 || strings.Count(html, `class="forced"`) != 1 {
		t.Errorf("want one takeover and one forced release marked")
	}
	// Self-contained: nothing loaded from anywhere, no scripts.
	for _, bad := range []string{"<script", " src=", " href=", "url(", "@import"} {
		if strings.Contains(html, bad) {
			t.Errorf("the page has %q: it must need nothing but itself", bad)
		}
	}
	again, _ := renderReport(in)
	if !bytes.Equal(page, again) {
		t.Error("the same input drew two different pages")
	}
}

// TestReportInBrowser opens the page in headless Debian chromium: it must
// lay out and keep its elements in the browser's DOM. .ci/run installs
// chromium; `-report.png docs/report.png` refreshes the README's picture.
func TestReportInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("needs Debian's chromium (apt-get install chromium)")
	}
	dir := t.TempDir()
	page, err := renderReport(threeDomains(t))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.png")
	browse := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(chromium, append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=1400,900"}, append(args, "file://"+file)...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	browse("--screenshot=" + shot)
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
		t.Fatalf("the screenshot is not a picture of a page (%d bytes)", len(png))
	}
	dom := string(browse("--dump-dom"))
	for _, want := range []string{`<svg id="timeline"`, `class="takeover"`, `class="forced"`, `data-domain="scribe"`, `id="signals"`, `id="refusals"`, "m-a1b2c3"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the browser's DOM lacks %q", want)
		}
	}
	if *reportPNG != "" {
		if err := os.WriteFile(*reportPNG, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

package cli

import (
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/store"
	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// reportOptions are the flags of `oxygen report`.
type reportOptions struct {
	html   string        // the file to write
	json   bool          // print the same state as JSON
	window time.Duration // how far back the timeline reaches
}

func (a *app) reportCommand() *cobra.Command {
	opts := reportOptions{}
	c := &cobra.Command{
		Use:   "report (--html FILE | --json)",
		Short: "Write the team's state as one self-contained HTML page",
		Long: `Write one HTML page, with no external assets and no scripts, that shows the
state of the protocol at a glance: a timeline of the leases of each resource
(who held what and when, takeovers and forced releases marked), the capsules
in progress and the signals waiting for an acknowledgement, the budgets each
domain uses, and the recent refusals (dead ends) the hooks recorded here.
--json prints the same state for scripts.`,
		Example: "  oxygen report --html state.html\n  oxygen report --html - --window 24h > state.html",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opts.html == "" && !opts.json {
				return fmt.Errorf("report: name the page to write: oxygen report --html FILE")
			}
			if opts.window <= 0 {
				return fmt.Errorf("report: --window %s: want a positive duration such as 24h", opts.window)
			}
			return a.reportRun(opts)
		},
	}
	c.Flags().StringVar(&opts.html, "html", "", "write the page to `FILE` (- for standard output)")
	c.Flags().BoolVar(&opts.json, "json", false, "print the state the page shows as JSON")
	c.Flags().DurationVar(&opts.window, "window", 7*24*time.Hour, "how far back the lease timeline reaches")
	return c
}

func (a *app) reportRun(opts reportOptions) error {
	r, st, err := a.openState()
	if err != nil {
		return err
	}
	now := a.now()
	past, err := r.store.HistoryState(now.Add(-opts.window))
	if err != nil {
		return err
	}
	deadEnds, err := store.DeadEndsOf(r.store, storeRoot(r.dirs))
	if err != nil {
		return err
	}
	in := reportInput{
		Title: filepath.Base(strings.TrimSuffix(storeRoot(r.dirs), ".git")), Now: now, Window: opts.window,
		Policy: r.policy, PolicySrc: r.policySrc, Freshness: r.store.Freshness(now),
		State: st, History: past.Leases, Past: past, DeadEnds: deadEnds,
	}
	if opts.json {
		return writeJSON(a.stdout, reportState(in))
	}
	page, err := renderReport(in)
	if err != nil {
		return err
	}
	if opts.html == "-" {
		_, err = a.stdout.Write(page)
		return err
	}
	if err := os.WriteFile(opts.html, page, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(a.stderr, "wrote %s\n", opts.html)
	return nil
}

// reportInput is everything the page shows, read before it is drawn.
type reportInput struct {
	Title     string
	Now       time.Time
	Window    time.Duration
	Policy    *policy.Policy
	PolicySrc string
	Freshness string
	State     policy.State
	History   []policy.Lease
	Past      policy.State // the history's records, the pruned ones too (store.HistoryState)
	DeadEnds  []store.DeadEnd
}

// reportJSON is what `oxygen report --json` prints: what the page shows.
type reportJSON struct {
	Leases         []policy.Lease   `json:"leases"` // every lease of the window, the live ones too
	Budgets        []domainBudget   `json:"budgets"`
	SignalsWaiting []policy.Signal  `json:"signals_waiting"` // not yet acknowledged by every addressed domain
	Capsules       []policy.Capsule `json:"capsules"`        // in progress
	DeadEnds       []store.DeadEnd  `json:"dead_ends"`
}

func reportState(in reportInput) reportJSON {
	now := in.Now
	out := reportJSON{Leases: []policy.Lease{}, Budgets: budgets(in, now), SignalsWaiting: []policy.Signal{}, Capsules: []policy.Capsule{}, DeadEnds: in.DeadEnds}
	for _, l := range in.History {
		if l.End().After(now.Add(-in.Window)) {
			out.Leases = append(out.Leases, l)
		}
	}
	for _, s := range in.State.Signals {
		if !s.Complete(now) {
			out.SignalsWaiting = append(out.SignalsWaiting, s)
		}
	}
	for _, c := range in.State.Capsules {
		if c.InProgressAt(now) {
			out.Capsules = append(out.Capsules, c)
		}
	}
	if out.DeadEnds == nil {
		out.DeadEnds = []store.DeadEnd{}
	}
	return out
}

// budgets says how much of its budgets each domain of the policy uses now.
func budgets(in reportInput, now time.Time) []domainBudget {
	var out []domainBudget
	for _, d := range in.Policy.Domains {
		b := domainBudget{Domain: d.Name, LeasesLimit: in.Policy.Budgets.LeasesPerDomain, InProgressLimit: in.Policy.Budgets.InProgressPerDomain}
		for _, l := range in.State.Leases {
			if l.Domain == d.Name && l.LiveAt(now, 0) {
				b.Leases++
			}
		}
		b.InProgress = len(in.State.InProgress("", d.Name, now))
		out = append(out, b)
	}
	return out
}

// Geometry of the timeline, in SVG user units.
const (
	tlLabel  = 150 // the resource names' column
	tlWidth  = 1000
	tlRow    = 30
	tlAxis   = 28
	maxShown = 20 // dead ends listed, newest first
)

// domainColors are told apart by people with the common colour-vision
// deficiencies (Okabe and Ito's palette), in policy order.
var domainColors = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"}

type (
	reportPage struct {
		reportInput
		Generated string
		Domains   []reportDomain
		Timeline  reportTimeline
		Waiting   []reportSignal
		Capsules  []reportCapsule
		Refusals  []reportRefusal
		More      int // dead ends not listed
	}
	reportDomain struct {
		domainBudget
		Color string
	}
	reportTimeline struct {
		Width, Height, NowX, PlotRight int
		From, To                       string
		Ticks                          []reportTick
		Rows                           []reportRow
	}
	reportTick struct {
		X     int
		Label string
	}
	reportRow struct {
		Resource string
		Y        int
		Bars     []reportBar
	}
	reportBar struct {
		X, W, Y, TextX, TextY int
		LiveX, LiveW          int // the part still to come, drawn paler
		Color, Label, Title   string
		Takeover              string // the marker's path where the lease took over a lapsed one
		TakeoverTitle         string
		ForcedX, ForcedY      int // where a forced release ended it (0: it was not)
		ForcedTitle           string
	}
	reportSignal struct {
		ID, Kind, From, To, Waiting, Subject, Files, Age string
	}
	reportCapsule struct {
		ID, Domain, Owner, Scope, Age string
	}
	reportRefusal struct {
		At, Hook, Who, Paths, Resources, Why, Fix string
	}
)

// renderReport draws the page. It is pure: the same input gives the same bytes.
func renderReport(in reportInput) ([]byte, error) {
	now := in.Now.UTC()
	p := reportPage{reportInput: in, Generated: now.Format("2006-01-02 15:04 UTC")}
	colors := map[string]string{}
	for i, b := range budgets(in, now) {
		colors[b.Domain] = domainColors[i%len(domainColors)]
		p.Domains = append(p.Domains, reportDomain{domainBudget: b, Color: colors[b.Domain]})
	}
	p.Timeline = timeline(in, now, colors)
	for _, s := range in.State.Signals {
		if s.Complete(now) {
			continue
		}
		var waiting []string
		for _, d := range s.To {
			if !s.AckedBy(d, now) {
				waiting = append(waiting, d)
			}
		}
		p.Waiting = append(p.Waiting, reportSignal{ID: s.ID, Kind: strings.ReplaceAll(s.Kind, "_", " "), From: s.From, To: strings.Join(s.To, ", "),
			Waiting: strings.Join(waiting, ", "), Subject: s.Subject, Files: strings.Join(s.Files, " "), Age: ago(now, s.CreatedAt)})
	}
	for _, c := range in.State.Capsules {
		if c.InProgressAt(now) {
			p.Capsules = append(p.Capsules, reportCapsule{ID: c.ID, Domain: c.Domain, Owner: c.Owner, Scope: orAnywhere(c.Scope), Age: ago(now, c.CreatedAt)})
		}
	}
	for i := len(in.DeadEnds) - 1; i >= 0; i-- {
		if len(p.Refusals) == maxShown {
			p.More = i + 1
			break
		}
		d := in.DeadEnds[i]
		p.Refusals = append(p.Refusals, reportRefusal{At: d.At.UTC().Format("01-02 15:04"), Hook: d.Hook, Who: whoRefused(d),
			Paths: strings.Join(d.Paths, " "), Resources: strings.Join(d.Resources, ", "), Why: strings.Join(d.Why, "; "), Fix: strings.Join(d.Fix, "; ")})
	}
	var b bytes.Buffer
	if err := reportTemplate().Execute(&b, p); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return b.Bytes(), nil
}

// timeline lays out every lease of the window, one row per resource: the
// policy's resources in file order, then any other the history names.
func timeline(in reportInput, now time.Time, colors map[string]string) reportTimeline {
	from, to := now.Add(-in.Window), now
	first := now
	for _, l := range in.History {
		if l.End().After(from) && l.CreatedAt.Before(first) {
			first = l.CreatedAt
		}
		if l.LiveAt(now, 0) && l.ExpiresAt.After(to) {
			to = l.ExpiresAt
		}
	}
	if first.After(from) {
		from = first
	}
	if span := to.Sub(from); span < time.Hour {
		from = to.Add(-time.Hour)
	}
	from = from.Add(-to.Sub(from) / 50) // a margin before the first lease
	x := func(t time.Time) int {
		return tlLabel + int(float64(tlWidth)*float64(t.Sub(from))/float64(to.Sub(from)))
	}
	var resources []string
	for _, r := range in.Policy.Resources {
		resources = append(resources, r.ID)
	}
	byResource := map[string][]policy.Lease{}
	for _, l := range in.History {
		if !slices.Contains(resources, l.Resource) {
			resources = append(resources, l.Resource)
		}
		byResource[l.Resource] = append(byResource[l.Resource], l)
	}
	tl := reportTimeline{Width: tlLabel + tlWidth + 20, Height: tlAxis + len(resources)*tlRow + 10, NowX: x(now), PlotRight: tlLabel + tlWidth,
		From: from.Format("2006-01-02 15:04"), To: to.Format("2006-01-02 15:04 UTC")}
	for _, tk := range ticks(from, to, x) {
		if tk.X < tl.NowX-30 || tk.X > tl.NowX+30 { // the "now" label is there
			tl.Ticks = append(tl.Ticks, tk)
		}
	}
	for i, res := range resources {
		row := reportRow{Resource: res, Y: tlAxis + i*tlRow}
		leases := byResource[res]
		slices.SortStableFunc(leases, func(a, b policy.Lease) int { return a.CreatedAt.Compare(b.CreatedAt) })
		for j, l := range leases {
			end := l.End()
			if !end.After(from) {
				continue
			}
			start := l.CreatedAt
			if start.Before(from) {
				start = from
			}
			bar := reportBar{X: x(start), Y: row.Y + 5, Color: colors[l.Domain], Label: l.Domain}
			bar.TextX, bar.TextY = bar.X+6, bar.Y+14
			if bar.Color == "" {
				bar.Color = "#777777"
			}
			bar.W = max(x(end)-bar.X, 2)
			if end.After(now) {
				bar.LiveX = x(now)
				bar.LiveW = max(x(end)-bar.LiveX, 1)
			}
			bar.Title = fmt.Sprintf("%s: %s (%s), %s to %s", res, l.Domain, l.Owner, l.CreatedAt.UTC().Format("01-02 15:04"), end.UTC().Format("01-02 15:04"))
			switch {
			case end.After(now):
				bar.Title += ", live"
			case !l.ReleasedAt.IsZero() && l.ReleasedAt.Before(l.ExpiresAt):
				bar.Title += ", released"
			default:
				bar.Title += ", lapsed"
			}
			if l.Reason != "" {
				bar.Title += ": " + l.Reason
			}
			// A claim that replaced a lapsed lease never released is a takeover.
			if j > 0 && leases[j-1].ReleasedAt.IsZero() && !leases[j-1].ExpiresAt.After(l.CreatedAt) {
				bar.Takeover = fmt.Sprintf("M%d,%d h12 l-6,8 z", bar.X-6, bar.Y-4)
				bar.TakeoverTitle = fmt.Sprintf("takeover: %s took %s over from %s's lapsed lease", l.Domain, res, leases[j-1].Domain)
			}
			// A forced release spent a council call on it, at its time
			// (a call the live records may have dropped since).
			for _, s := range in.Past.Signals {
				if !l.ReleasedAt.IsZero() && s.UsedFor == "release "+res && s.UsedAt.Equal(l.ReleasedAt) {
					bar.ForcedX, bar.ForcedY = x(end), bar.Y+10
					bar.ForcedTitle = fmt.Sprintf("forced release of %s's lease, with council call %s: %s", l.Domain, s.ID, s.Subject)
				}
			}
			if bar.W < 70 {
				bar.Label = ""
			}
			row.Bars = append(row.Bars, bar)
		}
		tl.Rows = append(tl.Rows, row)
	}
	return tl
}

// ticks marks the time axis at a round step that gives at most ten marks.
func ticks(from, to time.Time, x func(time.Time) int) []reportTick {
	steps := []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
		3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if to.Sub(from)/s <= 10 {
			step = s
			break
		}
	}
	layout := "15:04"
	if to.Sub(from) > 24*time.Hour {
		layout = "01-02 15:04"
	}
	var out []reportTick
	for t := from.Truncate(step).Add(step); t.Before(to); t = t.Add(step) {
		out = append(out, reportTick{X: x(t), Label: t.UTC().Format(layout)})
	}
	return out
}

// ago says how long before now t was, to the minute.
func ago(now, t time.Time) string {
	d := now.Sub(t).Round(time.Minute)
	if d < time.Minute {
		return "just now"
	}
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm ago", m)
	case m == 0:
		return fmt.Sprintf("%dh ago", h)
	}
	return fmt.Sprintf("%dh%02dm ago", h, m)
}

// reportTemplate is parsed on first use, not at every start: the commit
// hook runs the same binary and never draws a report.
var reportTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"pct": func(n, of int) int {
			if of <= 0 {
				return 0
			}
			return min(100, n*100/of)
		},
		"add": func(a, b int) int { return a + b },
	}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>oxygen: {{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:20px 28px;color:#1b1f24;background:#fff}
h1{font-size:20px;margin:0 0 2px}
h2{font-size:16px;margin:22px 0 8px;border-bottom:1px solid #d8dee4;padding-bottom:3px}
.meta{color:#57606a;font-size:12.5px}
.budgets{display:flex;flex-wrap:wrap;gap:10px}
.budget{border:1px solid #d8dee4;border-radius:6px;padding:7px 10px;min-width:150px}
.budget b{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
.meter{height:7px;background:#eaeef2;border-radius:4px;margin:3px 0 5px;overflow:hidden}
.meter i{display:block;height:100%;background:#2da44e}
.meter i.full{background:#cf222e}
.budget span{font-size:12px;color:#57606a}
svg text{font:12px system-ui,sans-serif;fill:#1b1f24}
svg .tick{fill:#57606a;font-size:11px}
svg .bar text{fill:#fff;font-size:11px;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.code,code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
.empty{color:#57606a;font-style:italic}
.legend{font-size:12px;color:#57606a;margin-top:4px}
.legend span{margin-right:14px}
</style>
</head>
<body>
<h1>oxygen: {{.Title}}</h1>
<div class="meta">generated {{.Generated}} · policy: {{.PolicySrc}}{{with .Freshness}} · {{.}}{{end}}</div>

<h2>Budgets in use</h2>
<div class="budgets" id="budgets">
{{range .Domains}}<div class="budget" data-domain="{{.Domain}}"><b style="background:{{.Color}}"></b><strong>{{.Domain}}</strong>
<div class="meter"><i class="{{if ge .Leases .LeasesLimit}}full{{end}}" style="width:{{pct .Leases .LeasesLimit}}%"></i></div><span>{{.Leases}} of {{.LeasesLimit}} leases</span>
<div class="meter"><i class="{{if ge .InProgress .InProgressLimit}}full{{end}}" style="width:{{pct .InProgress .InProgressLimit}}%"></i></div><span>{{.InProgress}} of {{.InProgressLimit}} capsules in progress</span>
</div>
{{end}}</div>

<h2>Leases, {{.Timeline.From}} to {{.Timeline.To}}</h2>
<svg id="timeline" width="{{.Timeline.Width}}" height="{{.Timeline.Height}}" viewBox="0 0 {{.Timeline.Width}} {{.Timeline.Height}}" role="img" aria-label="lease timeline">
{{range .Timeline.Ticks}}<line x1="{{.X}}" x2="{{.X}}" y1="18" y2="{{$.Timeline.Height}}" stroke="#eaeef2"/><text class="tick" x="{{.X}}" y="13" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .Timeline.Rows}}<g class="row" data-resource="{{.Resource}}"><text x="4" y="{{add .Y 19}}">{{.Resource}}</text><line x1="{{$.Timeline.PlotRight}}" x2="150" y1="{{add .Y 30}}" y2="{{add .Y 30}}" stroke="#f0f2f4"/>
{{range .Bars}}<g class="bar"><title>{{.Title}}</title><rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="20" rx="3" fill="{{.Color}}"/>{{if .LiveW}}<rect x="{{.LiveX}}" y="{{.Y}}" width="{{.LiveW}}" height="20" fill="#fff" fill-opacity="0.5"/>{{end}}{{if .Label}}<text x="{{.TextX}}" y="{{.TextY}}">{{.Label}}</text>{{end}}</g>
{{if .Takeover}}<path class="takeover" d="{{.Takeover}}" fill="#1b1f24"><title>{{.TakeoverTitle}}</title></path>{{end}}{{if .ForcedX}}<g class="forced"><title>{{.ForcedTitle}}</title><circle cx="{{.ForcedX}}" cy="{{.ForcedY}}" r="7" fill="#cf222e" stroke="#fff"/><text x="{{.ForcedX}}" y="{{add .ForcedY 4}}" text-anchor="middle" style="fill:#fff;font-size:11px;font-weight:700">!</text></g>{{end}}
{{end}}</g>
{{end}}<line id="now" x1="{{.Timeline.NowX}}" x2="{{.Timeline.NowX}}" y1="16" y2="{{.Timeline.Height}}" stroke="#cf222e" stroke-dasharray="4 3"/><text x="{{.Timeline.NowX}}" y="13" text-anchor="middle" style="fill:#cf222e;font-weight:600">now</text>
</svg>
<div class="legend">{{range .Domains}}<span><b style="display:inline-block;width:10px;height:10px;background:{{.Color}}"></b> {{.Domain}}</span>{{end}}<span>▼ takeover of a lapsed lease</span><span style="color:#cf222e">● forced release (council call)</span><span>paler: still to come</span></div>

<h2>Waiting</h2>
<table id="signals">
<tr><th>signal</th><th>kind</th><th>from</th><th>waiting on</th><th>subject</th><th>files</th><th>sent</th></tr>
{{range .Waiting}}<tr><td class="code">{{.ID}}</td><td>{{.Kind}}</td><td>{{.From}}</td><td>{{.Waiting}}</td><td>{{.Subject}}</td><td class="code">{{.Files}}</td><td>{{.Age}}</td></tr>
{{else}}<tr><td colspan="7" class="empty">no signal waits for an acknowledgement</td></tr>
{{end}}</table>
<table id="capsules" style="margin-top:10px">
<tr><th>capsule in progress</th><th>domain</th><th>owner</th><th>scope</th><th>opened</th></tr>
{{range .Capsules}}<tr><td class="code">{{.ID}}</td><td>{{.Domain}}</td><td>{{.Owner}}</td><td class="code">{{.Scope}}</td><td>{{.Age}}</td></tr>
{{else}}<tr><td colspan="5" class="empty">no capsule in progress</td></tr>
{{end}}</table>

<h2>Recent refusals</h2>
<table id="refusals">
<tr><th>when</th><th>gate</th><th>who</th><th>paths</th><th>why</th><th>fix</th></tr>
{{range .Refusals}}<tr><td>{{.At}}</td><td>{{.Hook}}</td><td>{{.Who}}</td><td class="code">{{.Paths}}{{with .Resources}} ({{.}}){{end}}</td><td>{{.Why}}</td><td class="code">{{.Fix}}</td></tr>
{{else}}<tr><td colspan="6" class="empty">no refusal recorded in this clone</td></tr>
{{end}}</table>
{{if .More}}<p class="meta">and {{.More}} older (oxygen audit lists them all)</p>{{end}}
</body></html>
`))
})

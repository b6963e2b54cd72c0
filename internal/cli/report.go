package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/oxygen-protocol/oxygen/policy"
)

// maxPathsShown bounds the paths listed under one problem.
const maxPathsShown = 10

// printViolations writes violations for a person: grouped so that each
// problem (one commit, rule, resource and fix) is said once, with its paths
// under it. Every violation is printed; the caller fails once afterwards.
func printViolations(w io.Writer, vs []policy.Violation, color bool, refsOf map[string][]string) {
	type group struct {
		v     policy.Violation
		paths []string
	}
	var groups []*group
	index := map[string]*group{}
	for _, v := range vs {
		key := strings.Join([]string{v.Commit, v.Rule, v.Resource, v.Reason, v.Fix}, "\x00")
		g, ok := index[key]
		if !ok {
			g = &group{v: v}
			index[key] = g
			groups = append(groups, g)
		}
		g.paths = append(g.paths, v.Path)
	}
	red, bold, reset := "", "", ""
	if color {
		red, bold, reset = "\x1b[31m", "\x1b[1m", "\x1b[0m"
	}
	head := "commit refused: " + count(len(groups), "problem")
	if vs[0].Commit != "" {
		commits := map[string]bool{}
		for _, v := range vs {
			commits[v.Commit] = true
		}
		head = fmt.Sprintf("refused: %s in %s", count(len(groups), "problem"), count(len(commits), "commit"))
	}
	fmt.Fprintf(w, "%soxygen: %s%s\n", red+bold, head, reset)
	lastCommit := ""
	for _, g := range groups {
		v := g.v
		if v.Commit != "" && v.Commit != lastCommit {
			on := ""
			if refs := refsOf[v.Commit]; len(refs) > 0 {
				on = " on " + strings.Join(refs, ", ")
			}
			fmt.Fprintf(w, "\ncommit %s %s%s\n", shortID(v.Commit), quoteSubject(v.Subject), on)
			lastCommit = v.Commit
		}
		subject := v.Resource
		if subject == "" {
			subject = v.Domain
		}
		if subject == "" {
			subject = v.Rule
		}
		fmt.Fprintf(w, "\n  %s%s%s: %s [%s]\n", bold, subject, reset, v.Reason, v.Rule)
		for i, p := range g.paths {
			if i == maxPathsShown {
				fmt.Fprintf(w, "      ... and %d more\n", len(g.paths)-maxPathsShown)
				break
			}
			fmt.Fprintf(w, "      %s\n", displayPath(p))
		}
		fmt.Fprintf(w, "    fix: %s\n", v.Fix)
	}
}

// printAnnotations writes GitHub Actions workflow commands, so that each
// violation shows on the file in the pull request.
func printAnnotations(w io.Writer, vs []policy.Violation) {
	prop := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	msg := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	for _, v := range vs {
		text := v.Reason + ". Fix: " + v.Fix
		if v.Commit != "" {
			text = "commit " + shortID(v.Commit) + ": " + text
		}
		fmt.Fprintf(w, "::error file=%s,title=%s::%s\n", prop.Replace(v.Path), prop.Replace("oxygen "+v.Rule), msg.Replace(text))
	}
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func quoteSubject(s string) string {
	if len(s) > 72 {
		s = s[:72] + "..."
	}
	return strconv.Quote(s)
}

// displayPath prints a path as it is unless it holds bytes a terminal would
// misread (newlines, control characters, invalid UTF-8) or a quote or
// backslash that would make that quoting ambiguous: then Go-quoted.
func displayPath(p string) string {
	if !utf8.ValidString(p) || strings.ContainsAny(p, `"\`) || strings.ContainsFunc(p, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) {
		return strconv.Quote(p)
	}
	return p
}

// colorOn: colour only on a terminal, and never when NO_COLOR is set.
func (a *app) colorOn(w io.Writer) bool {
	if _, set := a.lookupEnv("NO_COLOR"); set {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// codeQualityIssue is one entry of a GitLab Code Quality report.
type codeQualityIssue struct {
	Description string `json:"description"`
	CheckName   string `json:"check_name"`
	Fingerprint string `json:"fingerprint"`
	Severity    string `json:"severity"`
	Location    struct {
		Path  string `json:"path"`
		Lines struct {
			Begin int `json:"begin"`
		} `json:"lines"`
	} `json:"location"`
}

// codeQuality turns violations into a GitLab Code Quality report, so that a
// merge request shows each on its file.
func codeQuality(vs []policy.Violation) []codeQualityIssue {
	out := make([]codeQualityIssue, 0, len(vs))
	for _, v := range vs {
		var q codeQualityIssue
		q.Description = v.Reason + ". Fix: " + v.Fix
		if v.Commit != "" {
			q.Description = "commit " + shortID(v.Commit) + ": " + q.Description
		}
		q.CheckName = "oxygen/" + v.Rule
		sum := sha256.Sum256([]byte(v.Commit + "\x00" + v.Path + "\x00" + v.Rule + "\x00" + v.Resource + "\x00" + v.Domain))
		q.Fingerprint = hex.EncodeToString(sum[:16])
		q.Severity = "blocker" // the commit may not land
		q.Location.Path = v.Path
		q.Location.Lines.Begin = 1
		out = append(out, q)
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

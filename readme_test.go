package oxygen_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// walkthrough names the README sections that a reader pastes, block by
// block, into a shell.
var walkthrough = []string{"## Five minutes with oxygen", "## Bypassing, and why it does not help"}

// step is one command of the walkthrough and what the README says of it.
type step struct {
	line int    // in README.md
	cmd  string // as pasted
	exit int    // a "# exit N" comment, else 0
	keys []string
}

var (
	exitMark = regexp.MustCompile(`#\s*exit (\d+)\s*$`)
	ruleTag  = regexp.MustCompile(`\[[a-z-]+\]`)
)

// readWalkthrough reads the commands of the walkthrough's sh and console
// blocks, in order. In a console block a command starts with "$ " and the
// lines under it are its output; of that output the test holds the run to
// the stable parts: the rule tags ("[shadow-edit]") and the fix lines.
func readWalkthrough(file string) ([]step, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		steps        []step
		in, fenced   bool
		kind         string
		sc           = bufio.NewScanner(f)
		n, sectionsN int
	)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = false
			for _, w := range walkthrough {
				if line == w {
					in = true
					sectionsN++
				}
			}
		case !in:
		case strings.HasPrefix(line, "```") && !fenced:
			fenced, kind = true, strings.TrimPrefix(line, "```")
		case strings.HasPrefix(line, "```"):
			fenced = false
		case !fenced || kind != "sh" && kind != "console":
		case kind == "sh" && strings.TrimSpace(line) != "" && !strings.HasPrefix(strings.TrimSpace(line), "#"):
			steps = append(steps, step{line: n, cmd: line})
		case kind == "console" && strings.HasPrefix(line, "$ "):
			steps = append(steps, step{line: n, cmd: strings.TrimPrefix(line, "$ ")})
		case kind == "console" && len(steps) > 0:
			s := &steps[len(steps)-1]
			s.keys = append(s.keys, ruleTag.FindAllString(line, -1)...)
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "fix: ") {
				s.keys = append(s.keys, t)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if sectionsN != len(walkthrough) {
		return nil, fmt.Errorf("%s: found %d of the walkthrough's sections %q", file, sectionsN, walkthrough)
	}
	for i, s := range steps {
		if m := exitMark.FindStringSubmatch(s.cmd); m != nil {
			steps[i].exit, _ = strconv.Atoi(m[1])
		}
	}
	return steps, nil
}

// TestReadmeWalkthrough pastes the README's walkthrough into one shell, as a
// fresh reader would: a private HOME whose identity and default branch are
// not the README's, oxygen on PATH, real git.
func TestReadmeWalkthrough(t *testing.T) {
	steps, err := readWalkthrough("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 10 {
		t.Fatalf("README.md: only %d commands in the walkthrough", len(steps))
	}
	root := t.TempDir()
	s := newSh(t, filepath.Join(root, "home"))
	writeFile(t, filepath.Join(root, "home", ".gitconfig"), "[user]\n\tname = A Reader\n\temail = reader@example.com\n[init]\n\tdefaultBranch = master\n")
	out := filepath.Join(root, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(root, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	// One shell for all: cd and variables carry over, as in a terminal.
	var script strings.Builder
	for i, st := range steps {
		fmt.Fprintf(&script, "{ %s\n} >%s 2>&1; echo $? >%s\n", st.cmd,
			filepath.Join(out, strconv.Itoa(i)+".out"), filepath.Join(out, strconv.Itoa(i)+".rc"))
	}
	writeFile(t, filepath.Join(root, "walkthrough.sh"), script.String())
	s.with("TMPDIR="+tmp).ok("sh", filepath.Join(root, "walkthrough.sh"))

	for i, st := range steps {
		rc, err := os.ReadFile(filepath.Join(out, strconv.Itoa(i)+".rc"))
		if err != nil {
			t.Fatalf("README.md:%d: %s: never ran (%v)", st.line, st.cmd, err)
		}
		got := readFile(t, filepath.Join(out, strconv.Itoa(i)+".out"))
		if code, _ := strconv.Atoi(strings.TrimSpace(string(rc))); code != st.exit {
			t.Errorf("README.md:%d: %s: exit %d, the README says %d\n%s", st.line, st.cmd, code, st.exit, got)
			continue
		}
		for _, k := range st.keys {
			if !strings.Contains(got, k) {
				t.Errorf("README.md:%d: %s: the output lacks %q that the README shows:\n%s", st.line, st.cmd, k, got)
			}
		}
	}
}

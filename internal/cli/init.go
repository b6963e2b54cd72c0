package cli

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/policy"
	"github.com/spf13/cobra"
)

// initReport is what `oxygen init --json` prints.
type initReport struct {
	File      string           `json:"file"`
	Written   bool             `json:"written"`   // false: a policy was there, and is kept
	Gitignore []string         `json:"gitignore"` // the lines added to .gitignore
	Notes     []string         `json:"notes"`     // what was done, for people
	Findings  []policy.Finding `json:"findings"`  // the lint of the policy
}

func (a *app) initCommand() *cobra.Command {
	var asJSON, reference bool
	c := &cobra.Command{
		Use:   "init",
		Short: "Write a starter resources.yaml fitted to this clone's files, and say how to adopt oxygen",
		Long: `Write a starter resources.yaml at the root of this clone: the protocol's
eight resource types, each with the globs of common layouts that match files
git tracks here (a type that matches nothing gets an example in a comment),
domains left for you to fill in, and a comment on every key.

It also makes sure git ignores .substrate/ (the clone's own state) and does
not ignore resources.yaml, fixing .gitignore where needed and saying so;
lints the policy; and prints the steps to adopt oxygen in a clone, in CI and
on a server.

With --reference it writes the built-in reference policy instead (five
domains, eight resource types, for the protocol's own layout): a quick way
to try oxygen in a throwaway repository.

An existing resources.yaml is never overwritten: it is kept, and the rest
runs as usual, so running init twice changes nothing (exit 0). A policy
that does not load is exit 2, with its position.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			dirs, err := a.git.Dirs()
			if err != nil {
				return err
			}
			if dirs.Bare {
				return errors.New("oxygen init writes the policy in a clone, not a bare repository (a server needs only: oxygen install --repo DIR)")
			}
			top, err := a.topLevel()
			if err != nil {
				return err
			}
			g := a.git
			g.Dir = top
			rep := initReport{File: filepath.Join(top, policy.FileName)}
			if rep.Written, err = a.writeStarter(g, rep.File, reference, &rep.Notes); err != nil {
				return err
			}
			p, _, err := filePolicy(rep.File, false)
			if err != nil {
				return err
			}
			if rep.Gitignore, err = fixIgnores(g, top, &rep.Notes); err != nil {
				return err
			}
			l := policy.NewLinter(p)
			tracked := false
			if err := g.EachTrackedFile(func(f string) { tracked = tracked || f == policy.FileName; l.Add(f) }); err != nil {
				return err
			}
			if !tracked {
				l.Add(policy.FileName) // it will be
			}
			rep.Findings = l.Findings()
			if asJSON {
				return writeJSON(a.stdout, rep)
			}
			for _, n := range rep.Notes {
				fmt.Fprintln(a.stdout, n)
			}
			if len(rep.Findings) > 0 {
				fmt.Fprintf(a.stdout, "\noxygen policy lint resources.yaml says:\n")
				a.printFindings(rep.Findings)
			}
			_, statErr := os.Stat(filepath.Join(top, ".gitignore"))
			a.printAdoption(statErr == nil)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print what was done, and the lint's findings, as JSON")
	c.Flags().BoolVar(&reference, "reference", false, "write the built-in reference policy, not one fitted to the tree")
	return c
}

// writeStarter writes the starter policy (or the reference one) unless
// there is one already, and says what it did in notes.
func (a *app) writeStarter(g git.Runner, file string, reference bool, notes *[]string) (bool, error) {
	if _, err := os.Lstat(file); err == nil {
		*notes = append(*notes, policy.FileName+" exists: kept as it is (oxygen init never overwrites a policy)")
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	s := newStarter()
	// The reference file's first line points editors at the schema beside
	// it in oxygen's source, which is not there in another repository.
	_, content, _ := bytes.Cut(oxygen.ReferencePolicy, []byte("\n"))
	if !reference {
		if err := g.EachTrackedFile(s.add); err != nil {
			return false, err
		}
		email, _ := a.git.CommitterEmail()
		content = s.render(email)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return false, err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	if reference {
		*notes = append(*notes, "wrote "+policy.FileName+": the built-in reference policy")
		return true, nil
	}
	var found []string
	for _, t := range starterTypes {
		if n := s.globsFound(t.id); n > 0 {
			found = append(found, fmt.Sprintf("%s (%s)", t.id, count(n, "glob")))
		}
	}
	*notes = append(*notes, fmt.Sprintf("wrote %s from %s: %s; the domains are yours to fill in",
		policy.FileName, count(s.files, "tracked file"), orNothing(found)))
	return true, nil
}

// fixIgnores makes sure git ignores .substrate/ and not resources.yaml,
// appending to the root .gitignore where needed, and says so in notes. It
// returns the lines it added.
func fixIgnores(g git.Runner, top string, notes *[]string) ([]string, error) {
	add := []string{}
	state, _, err := ignored(g, ".substrate/state/events.jsonl")
	if err != nil {
		return nil, err
	}
	if !state {
		add = append(add, "# oxygen's state of this clone: never committed", "/.substrate/")
		*notes = append(*notes, "fixed .gitignore: git now ignores .substrate/ (this clone's own oxygen state)")
	}
	pol, why, err := ignored(g, policy.FileName)
	if err != nil {
		return nil, err
	}
	if pol {
		add = append(add, "# the Oxygen Protocol's policy is committed, whatever the patterns above say", "!/"+policy.FileName)
		*notes = append(*notes, fmt.Sprintf("fixed .gitignore: %s was ignored (by %s); added !/%s", policy.FileName, why, policy.FileName))
	}
	if len(add) == 0 {
		return add, nil
	}
	file := filepath.Join(top, ".gitignore")
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	text := strings.Join(add, "\n") + "\n"
	if len(old) > 0 && old[len(old)-1] != '\n' {
		text = "\n" + text
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if still, why, err := ignored(g, policy.FileName); err != nil || still {
		return add, cmp.Or(err, fmt.Errorf("%s is still ignored (by %s): remove that pattern, or git add -f %s", policy.FileName, why, policy.FileName))
	}
	return add, nil
}

// ignored asks git whether it ignores path (from the worktree's root), and
// by which pattern (source:line:pattern).
func ignored(g git.Runner, path string) (bool, string, error) {
	out, err := g.Run(nil, "check-ignore", "--no-index", "-v", "--", path)
	var gerr *git.Error
	if errors.As(err, &gerr) && gerr.Code == 1 {
		return false, "", nil // not ignored
	}
	if err != nil {
		return false, "", err
	}
	// With -v, a path whose last matching pattern is a negation is listed
	// too: it is not ignored.
	src, _, _ := strings.Cut(strings.TrimRight(string(out), "\n"), "\t")
	parts := strings.SplitN(src, ":", 3)
	if len(parts) == 3 && strings.HasPrefix(parts[2], "!") {
		return false, "", nil
	}
	return true, src, nil
}

// printAdoption says the steps; gitignore: there is a .gitignore to commit.
func (a *app) printAdoption(gitignore bool) {
	add := "git add " + policy.FileName
	if gitignore {
		add += " .gitignore"
	}
	fmt.Fprintf(a.stdout, `
To adopt oxygen:
  1. Fill in the domains in %[1]s (who is in each, and the core surface each
     owns), check the resource globs, then run: oxygen policy lint %[1]s
  2. In this clone, install the hooks, commit the policy and push it. The
     commit that adopts is not judged (no policy was in force before it);
     from the next one on, an edit of %[1]s needs the coordination lease:
       oxygen install
       %[2]s
       git commit -m "Adopt the Oxygen Protocol"
       git push
  3. In CI, judge every pull request's commits (BASE is the target branch):
       oxygen check --range "origin/$BASE..HEAD"
     or, on GitHub, the oxygen action (action.yml in oxygen's source).
  4. For a team, set store.kind to git (the leases then live on the remote's
     refs/oxygen/state), and install the gate in the server's bare repository:
       oxygen install --repo /path/to/project.git
`, policy.FileName, add)
}

// starterType is one resource type with the globs of common layouts that
// hold such files.
type starterType struct {
	id, description string
	globs           []string
	example         string // for a tree where none matches
}

var starterTypes = []starterType{
	{"schema", "schemas, interface definitions and data contracts",
		[]string{"**/*.proto", "**/*.graphql", "**/*.avsc", "**/*.schema.json", "**/schema.*", "**/schema/**", "**/schemas/**", "**/openapi.{yaml,yml,json}", "**/swagger.{yaml,yml,json}"},
		`["api/**/*.proto", "schema/**"]`},
	{"storage", "stored data, blobs and backups",
		[]string{"store/**", "storage/**", "data/**", "backups/**", "**/*.sqlite", "**/*.db", "**/*.parquet"},
		`["data/**", "backups/**"]`},
	{"index", "databases' migrations, indexes and rebuild procedures",
		[]string{"**/migrations/**", "**/migrate/**", "**/*.sql", "index/**", "**/indexes/**"},
		`["migrations/**", "**/*.sql"]`},
	{"execution", "daemons, cron jobs, services and other long-running processes",
		[]string{"**/*.service", "**/*.timer", "**/crontab", "**/cron/**", "daemons/**", "services/**", "**/Procfile", "**/supervisord.conf", "**/systemd/**"},
		`["services/**", "**/*.service", "cron/**"]`},
	{"deployment", "builds, images, releases, CI and install scripts",
		[]string{"deploy/**", "deployment/**", "**/Dockerfile", "**/Dockerfile.*", "**/docker-compose*.{yml,yaml}", ".github/workflows/**", ".gitlab-ci.yml", ".circleci/**", "Jenkinsfile", "helm/**", "charts/**", "k8s/**", "kubernetes/**", "**/*.tf", "install.sh", ".goreleaser.{yml,yaml}"},
		`["deploy/**", "**/Dockerfile", ".github/workflows/**"]`},
	{"identity", "users, permissions and the access model",
		[]string{"**/CODEOWNERS", "**/OWNERS", "MAINTAINERS*", "access/**", "**/rbac/**", "**/*.pub", "**/authorized_keys"},
		`["CODEOWNERS", "access/**"]`},
	{"policy", "security policy, secret handling and quarantine rules",
		[]string{"SECURITY.md", ".github/SECURITY.md", "**/*.rego", "**/policies/**", ".gitleaks.toml", ".sops.yaml", "secrets/**", "quarantine/**"},
		`["SECURITY.md", "secrets/**"]`},
	{"coordination", "this policy, how work is assigned, handed over and reviewed",
		[]string{policy.FileName, "CONTRIBUTING.md", "AGENTS.md", "GOVERNANCE.md", "docs/agents/**", ".github/PULL_REQUEST_TEMPLATE.md", ".github/pull_request_template.md", ".github/ISSUE_TEMPLATE/**"},
		`["resources.yaml", "CONTRIBUTING.md"]`},
}

// starter counts which of the starter globs match a tree, and the tree's
// top-level directories, one path at a time.
type starter struct {
	files int
	hits  [][]int    // per type, per glob: matching paths
	first [][]string // per type, per glob: the first of them
	tops  map[string]int
}

func newStarter() *starter {
	s := &starter{hits: make([][]int, len(starterTypes)), first: make([][]string, len(starterTypes)), tops: map[string]int{}}
	for i, t := range starterTypes {
		s.hits[i], s.first[i] = make([]int, len(t.globs)), make([]string, len(t.globs))
	}
	return s
}

func (s *starter) add(path string) {
	s.files++
	if dir, _, ok := strings.Cut(path, "/"); ok {
		s.tops[dir]++
	}
	for i, t := range starterTypes {
		for j, g := range t.globs {
			if doublestar.MatchUnvalidated(g, path) {
				if s.hits[i][j]++; s.hits[i][j] == 1 {
					s.first[i][j] = path
				}
			}
		}
	}
}

// globsFound is how many of a type's globs match something.
func (s *starter) globsFound(id string) int {
	n := 0
	for i, t := range starterTypes {
		if t.id == id {
			for j := range t.globs {
				if s.hits[i][j] > 0 || t.globs[j] == policy.FileName {
					n++
				}
			}
		}
	}
	return n
}

// render writes the starter policy. email, the committer's, shapes the
// example domain.
func (s *starter) render(email string) []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(`# The Oxygen Protocol's policy for this repository, written by oxygen init
# from the files git tracks here. Read it, fill in the domains, then run:
#   oxygen policy lint resources.yaml
# Globs are doublestar patterns from the repository root (docs/** is
# everything under docs/). Changing this file needs a lease on coordination.
version: 1   # the policy's format: this oxygen reads version 1

# domains: the owning teams or agents. members: committer e-mail globs (or
# user names, where the git server names the pusher). core: the domain's
# core surface: another domain changes those paths only with its handshake
# (oxygen signal missive, acknowledged by the owner).
`)
	if tops := s.topDirs(12); len(tops) > 0 {
		w("# The top-level directories here, candidates for core surfaces:\n#   %s\n", strings.Join(tops, ", "))
	}
	domain := "*@example.com"
	if _, host, ok := strings.Cut(email, "@"); ok && host != "" && !strings.ContainsAny(host, "\"\\\n*?[{") {
		domain = "*@" + host
	}
	w(`domains: {}   # replace {} with entries like these:
#   platform:
#     members: [%q]
#     core: ["deploy/**", "ops/**"]
#   docs:
#     members: ["writer@example.com"]
#     core: ["docs/**"]

# resources: the protocol's eight shared-resource types. A commit that
# changes a path under one needs a live lease on it held by the committer's
# domain (oxygen claim TYPE). A path may belong to several types.
resources:
`, domain)
	for i, t := range starterTypes {
		w("  %s:\n    description: %s\n", t.id, t.description)
		var lines []string
		for j, g := range t.globs {
			switch {
			case s.hits[i][j] > 0:
				lines = append(lines, fmt.Sprintf("      - %q   # %s, like %s", g, count(s.hits[i][j], "tracked file"), displayPath(s.first[i][j])))
			case g == policy.FileName:
				lines = append(lines, fmt.Sprintf("      - %q   # this file", g))
			}
		}
		if len(lines) == 0 {
			w("    paths: []   # nothing here looks like one yet; for example:\n    # paths: %s\n", t.example)
			continue
		}
		w("    paths:\n%s\n", strings.Join(lines, "\n"))
	}
	w(`
# budgets: the balance law. Going past one needs a granted council call.
budgets:
  leases_per_domain: 2        # change budget: live leases one domain may hold at once
  in_progress_per_domain: 2   # attention budget: capsules in progress per domain
  risk_paths_per_commit: 20   # risk budget: shared-resource paths one commit may change
  default_ttl: 2h             # a lease's length when oxygen claim names none
  max_ttl: 24h                # the longest lease
  clock_skew: 30s             # how far apart clocks may be when a commit's time is judged

# store: where leases, capsules and signals live. local: in this clone's
# .substrate/state (one clone, zero set-up). git: on a ref of the remote
# everyone pushes to, for a team, CI and a server gate. sequenced: the
# remote runs oxygen install --repo and decides each act (a busy fleet).
store:
  kind: local
  # kind: git
  # remote: origin
  # ref: refs/oxygen/state
  # sequenced: true
`)
	return []byte(b.String())
}

// topDirs lists up to n top-level directories, the biggest first.
func (s *starter) topDirs(n int) []string {
	dirs := make([]string, 0, len(s.tops))
	for d := range s.tops {
		dirs = append(dirs, d)
	}
	slices.SortFunc(dirs, func(x, y string) int { return cmp.Or(s.tops[y]-s.tops[x], strings.Compare(x, y)) })
	if len(dirs) > n {
		dirs = dirs[:n]
	}
	for i, d := range dirs {
		dirs[i] = fmt.Sprintf("%s/ (%s)", displayPath(d), count(s.tops[d], "file"))
	}
	return dirs
}

package oxygen_test

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sh runs commands in one directory with one environment, as a user at a
// terminal would, and keeps what each printed.
type sh struct {
	t   *testing.T
	dir string
	env []string
}

// newSh gives a test the isolated git of the testscript scripts: a private
// HOME with ada's identity, no system config, no prompts, nothing inherited
// from the caller's git or oxygen.
func newSh(t *testing.T, home string) *sh {
	t.Helper()
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	config := "[user]\n\tname = Oxygen Test\n\temail = ada@builder.example\n[init]\n\tdefaultBranch = main\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "GIT_") && !strings.HasPrefix(name, "OXYGEN") && name != "HOME" && name != "XDG_CONFIG_HOME" {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "LC_ALL=C", "TZ=UTC", "NO_COLOR=1")
	return &sh{t: t, dir: home, env: env}
}

// run runs argv in the shell's directory and returns its exit code and
// combined output; it fails the test only when the command cannot start.
func (s *sh) run(argv ...string) (int, string) {
	s.t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = s.dir, s.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	case err != nil:
		s.t.Fatalf("%s: %v", strings.Join(argv, " "), err)
	}
	return 0, out.String()
}

// ok runs argv and fails the test unless it exits 0.
func (s *sh) ok(argv ...string) string {
	s.t.Helper()
	code, out := s.run(argv...)
	if code != 0 {
		s.t.Fatalf("%s: exit %d\n%s", strings.Join(argv, " "), code, out)
	}
	return out
}

// refused runs argv and fails the test unless it exits non-zero with
// output that has every one of want in it.
func (s *sh) refused(argv []string, want ...string) {
	s.t.Helper()
	code, out := s.run(argv...)
	if code == 0 {
		s.t.Fatalf("%s: accepted, want a refusal\n%s", strings.Join(argv, " "), out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			s.t.Fatalf("%s: exit %d, output lacks %q:\n%s", strings.Join(argv, " "), code, w, out)
		}
	}
}

func (s *sh) write(name, content string) {
	s.t.Helper()
	file := filepath.Join(s.dir, name)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// in is the shell in another directory.
func (s *sh) in(dir string) *sh {
	return &sh{t: s.t, dir: dir, env: s.env}
}

// with is the shell with more environment variables.
func (s *sh) with(kv ...string) *sh {
	return &sh{t: s.t, dir: s.dir, env: append(slices.Clip(s.env), kv...)}
}

// hostPolicy is the policy of the real-host tests: member globs name the
// host's user names as well as addresses.
const hostPolicy = `version: 1
domains:
  builder:
    members: ["*@builder.example", "ada"]
    core: []
  guardian:
    members: ["*@guardian.example", "eve"]
    core: []
resources:
  storage:
    paths: ["store/**"]
  coordination:
    paths: ["resources.yaml"]
store:
  kind: git
`

// TestHTTPBackend serves a bare repository with oxygen's pre-receive through
// git http-backend (smart HTTP) behind a net/http CGI handler that
// authenticates the pusher and names them in REMOTE_USER, as a web server does.
func TestHTTPBackend(t *testing.T) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skipf("git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skipf("no git http-backend in this git: %v", err)
	}
	root := t.TempDir()
	s := newSh(t, filepath.Join(root, "home"))
	srv := s.in(root)
	srv.ok("git", "init", "-q", "--bare", "project.git")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback listener: %v", err)
	}
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || pass != "secret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		h := &cgi.Handler{Path: backend, Root: "/git", Dir: root,
			Env: append(s.env, "GIT_PROJECT_ROOT="+root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER="+user)}
		h.ServeHTTP(w, r)
	}))
	server.Listener.Close()
	server.Listener = l
	server.Start()
	defer server.Close()
	url := func(user string) string {
		return "http://" + user + ":secret@" + l.Addr().String() + "/git/project.git"
	}

	s.ok("git", "clone", "-q", url("ada"), "ada")
	ada := s.in(filepath.Join(s.dir, "ada"))
	ada.write("resources.yaml", hostPolicy)
	ada.ok("git", "add", "resources.yaml")
	ada.ok("oxygen", "claim", "coordination")
	ada.ok("git", "commit", "-q", "-m", "adopt oxygen")
	ada.ok("git", "push", "-q", "origin", "main")
	// The server's gate goes in once the policy is there (the bootstrap
	// order is another test's business).
	srv.ok("oxygen", "install", "--repo", "project.git")

	// A shadow edit is refused by the server.
	ada.write("store/a", "a\n")
	ada.ok("git", "add", "store/a")
	ada.ok("git", "commit", "-q", "-m", "shadow blob")
	ada.refused([]string{"git", "push", "origin", "main"}, "remote: oxygen: refused", "[shadow-edit]")

	// Leased, it is accepted: the claim itself went over HTTP as ada.
	ada.ok("oxygen", "claim", "storage")
	ada.ok("git", "commit", "-q", "--amend", "--no-edit")
	ada.ok("git", "push", "-q", "origin", "main")

	// The same commit sent by eve is judged as eve, whom REMOTE_USER names.
	ada.write("store/b", "b\n")
	ada.ok("git", "add", "store/b")
	ada.ok("git", "commit", "-q", "-m", "blob b")
	ada.refused([]string{"git", "push", url("eve"), "main"},
		"judged as eve, who pushes them", "[held-by-other]")
	ada.ok("git", "push", "-q", "origin", "main")

	// A hand-written lease on the state ref is refused.
	ada.ok("git", "fetch", "-q", "origin", "refs/oxygen/state:refs/forge")
	ada.ok("git", "worktree", "add", "-q", "../forge", "refs/forge")
	forge := s.in(filepath.Join(s.dir, "forge"))
	lease := forge.ok("cat", "leases/storage.yaml")
	forge.write("leases/storage.yaml", strings.Replace(lease, "domain: builder", "domain: guardian", 1))
	forge.ok("git", "commit", "-q", "-a", "-m", "forge")
	forge.refused([]string{"git", "push", url("eve"), "HEAD:refs/oxygen/state"}, "remote: oxygen: refused: refs/oxygen/state")

	// The server decides the acts once the policy says so: each travels
	// over HTTP as a push option, and its answer comes back.
	ada.write("resources.yaml", sequencedPolicy)
	ada.ok("git", "commit", "-q", "-am", "the server decides acts")
	ada.ok("git", "push", "-q", "origin", "main")
	// Without the server's routing, the server refuses the act undecided
	// (so it went there), and the clone decides it itself.
	srv.ok("git", "--git-dir", "project.git", "config", "--unset", "receive.procReceiveRefs")
	if out := ada.ok("oxygen", "release", "storage"); !strings.Contains(out, "this server decides no acts") {
		t.Fatalf("an act the server did not decide, decided in the clone, says nothing of it:\n%s", out)
	}
	srv.ok("git", "--git-dir", "project.git", "config", "--add", "receive.procReceiveRefs", "refs/oxygen/acts")
	if out := ada.ok("oxygen", "claim", "storage"); strings.Contains(out, "warning") {
		t.Fatalf("an act the server decided warns:\n%s", out)
	}
	if got := srv.ok("git", "--git-dir", "project.git", "log", "-1", "--format=%s", "refs/oxygen/state"); !strings.Contains(got, "claim storage by ada@builder.example") {
		t.Fatalf("the server's state ref ends with %q, want ada's claim", got)
	}
	// eve, pushing as herself, cannot act as ada through the server either.
	asEve := ada.with("GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=remote.origin.pushurl", "GIT_CONFIG_VALUE_0="+url("eve"), "GIT_COMMITTER_EMAIL=ada@builder.example")
	asEve.refused([]string{"oxygen", "claim", "storage"}, "pushed by eve, but recorded as ada@builder.example")
}

// sequencedPolicy is hostPolicy with a server that decides the acts.
var sequencedPolicy = strings.Replace(hostPolicy, "  kind: git\n", "  kind: git\n  sequenced: true\n", 1)

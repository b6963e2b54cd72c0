package oxygen_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	oxygen "github.com/oxygen-protocol/oxygen"
	"github.com/oxygen-protocol/oxygen/internal/cli"
	"github.com/oxygen-protocol/oxygen/internal/mcpserver"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"oxygen":     func() { os.Exit(cli.MainAt(testClock())) },
		"oxygen-mcp": func() { os.Exit(mcpserver.Main(testClock())) },
	})
}

// testClock is the clock a script sets with OXYGEN_TEST_NOW: an RFC 3339
// time, or an offset from the real clock such as +2h (the commits git makes
// keep the real time). Only this test binary reads it: an expiry is tested
// by moving the clock, never by sleeping.
func testClock() func() time.Time {
	v := os.Getenv("OXYGEN_TEST_NOW")
	if v == "" {
		return time.Now
	}
	if d, err := time.ParseDuration(v); err == nil {
		return func() time.Time { return time.Now().Add(d) }
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "OXYGEN_TEST_NOW=%q: want an RFC 3339 time or an offset like +2h\n", v)
		os.Exit(2)
	}
	return func() time.Time { return t }
}

// TestScript runs testdata/script/*.txtar: real git, real repositories, the
// real oxygen main in-process.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup:               isolateGit,
		Cmds:                scriptCmds,
	})
}

// adopt [DIR] commits the built-in reference policy as the resources.yaml
// of DIR (default: the current directory): the commit that adopts oxygen,
// which nothing judges. Scripts about the protocol start from there.
func adopt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: adopt [DIR]")
	}
	dir := "."
	if len(args) == 1 {
		dir = args[0]
	}
	ts.Check(os.WriteFile(filepath.Join(ts.MkAbs(dir), "resources.yaml"), oxygen.ReferencePolicy, 0o644))
	ts.Check(ts.Exec("git", "-C", dir, "add", "resources.yaml"))
	ts.Check(ts.Exec("git", "-C", dir, "commit", "-q", "--no-verify", "-m", "adopt oxygen"))
}

// isolateGit gives every script a git of its own: a private HOME with an
// identity, no system config, no prompts, stable output.
func isolateGit(env *testscript.Env) error {
	home := filepath.Join(env.WorkDir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	config := "[user]\n\tname = Oxygen Test\n\temail = ada@builder.example\n" +
		"[init]\n\tdefaultBranch = main\n" +
		"[advice]\n\tdetachedHead = false\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(config), 0o644); err != nil {
		return err
	}
	for k, v := range map[string]string{
		"HOME":                home,
		"XDG_CONFIG_HOME":     filepath.Join(home, ".config"),
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_TERMINAL_PROMPT": "0",
		"LC_ALL":              "C",
		"TZ":                  "UTC",
		"NO_COLOR":            "1",
	} {
		env.Setenv(k, v)
	}
	// Nothing from the caller's git or oxygen may leak into a script.
	vars := env.Vars[:0]
	for _, kv := range env.Vars {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "GIT_") && !strings.HasPrefix(name, "OXYGEN") || name == "GIT_CONFIG_NOSYSTEM" || name == "GIT_TERMINAL_PROMPT" {
			vars = append(vars, kv)
		}
	}
	env.Vars = vars
	// Scripts that run the project's own files (scripts/action-check.sh)
	// find them here: the package directory is the repository's root.
	src, err := os.Getwd()
	if err != nil {
		return err
	}
	env.Setenv("OXYGEN_SRC", src)
	return nil
}

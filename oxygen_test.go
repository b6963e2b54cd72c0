package oxygen_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oxygen-protocol/oxygen/internal/cli"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"oxygen": func() { os.Exit(cli.Main()) },
	})
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
	return nil
}

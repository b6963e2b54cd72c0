package oxygen_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestActionWiring reads action.yml as GitHub does and checks what the
// testscript of scripts/action-check.sh cannot: the action builds oxygen
// from its own source, runs that script, uses every input it declares, and
// passes the script exactly the variables the script reads.
func TestActionWiring(t *testing.T) {
	data, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Name, Description string
		Inputs            map[string]struct {
			Description string
			Default     *string
		}
		Runs struct {
			Using string
			Steps []struct {
				Uses, Run, Shell, ID string
				WorkingDirectory     string `yaml:"working-directory"`
				Env                  map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if action.Name == "" || action.Description == "" || action.Runs.Using != "composite" {
		t.Fatalf("want a named composite action, got %q %q", action.Name, action.Runs.Using)
	}
	var setupGo, built bool
	var scriptEnv map[string]string
	for _, s := range action.Runs.Steps {
		if s.Run != "" && s.Shell == "" {
			t.Errorf("a composite run step needs a shell: %q", s.Run)
		}
		switch {
		case strings.HasPrefix(s.Uses, "actions/setup-go@"):
			setupGo = true
		case strings.Contains(s.Run, "go build") && strings.Contains(s.WorkingDirectory, "github.action_path") && strings.Contains(s.Run, "./cmd/oxygen"):
			built = setupGo
		case strings.Contains(s.Run, `"$GITHUB_ACTION_PATH/scripts/action-check.sh"`):
			scriptEnv = s.Env
		}
	}
	if !built {
		t.Error("action.yml must set up Go, then go build ./cmd/oxygen in github.action_path")
	}
	if scriptEnv == nil {
		t.Fatal("no step runs scripts/action-check.sh from the action's path")
	}
	for name, in := range action.Inputs {
		if in.Description == "" || in.Default == nil {
			t.Errorf("input %s: want a description and a default", name)
		}
		if !strings.Contains(string(data), "inputs."+name+" }}") {
			t.Errorf("input %s is never used", name)
		}
	}
	script, err := os.ReadFile("scripts/action-check.sh")
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{?(OXYGEN_[A-Z_]+)`).FindAllStringSubmatch(string(script), -1) {
		read[m[1]] = true
	}
	for name := range scriptEnv {
		if !read[name] {
			t.Errorf("action.yml passes %s, which the script never reads", name)
		}
	}
	for name := range read {
		if _, ok := scriptEnv[name]; !ok {
			t.Errorf("the script reads %s, which action.yml does not pass", name)
		}
	}
	if fi, err := os.Stat("scripts/action-check.sh"); err != nil || fi.Mode()&0o111 == 0 {
		t.Error("scripts/action-check.sh must be executable")
	}
	if !slices.Contains([]string{"text", "sarif"}, *action.Inputs["format"].Default) {
		t.Errorf("format's default %q", *action.Inputs["format"].Default)
	}
}

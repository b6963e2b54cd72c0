package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/oxygen-protocol/oxygen/internal/git"
	"github.com/oxygen-protocol/oxygen/policy"
)

func TestAsRefusal(t *testing.T) {
	held := policy.Refuse(policy.RuleHeldByOther, &policy.Fix{Argv: []string{"oxygen", "claim", "x", "--wait"}}, "x is leased")
	cases := []struct {
		name string
		err  error
		code string
		exit int
	}{
		{"a refusal keeps its code and fix", fmt.Errorf("claim x: %w", held), policy.RuleHeldByOther, 1},
		{"a refusal of bad input keeps its exit", &policy.Refusal{Code: "bad", Message: "m", Exit: 2}, "bad", 2},
		{"a usage error", &usageError{errors.New("accepts 1 arg(s)")}, codeUsage, 2},
		{"an unknown command", errors.New(`unknown command "clam" for "oxygen"`), codeUsage, 2},
		{"a broken policy", fmt.Errorf("load: %w", &policy.Error{File: "resources.yaml", Line: 3, Msg: "bad"}), codeConfig, 2},
		{"git failed", &git.Error{Args: []string{"fetch"}, Code: 128, Stderr: "fatal: no"}, codeGit, 2},
		{"no git", git.ErrNoGit, codeGit, 2},
		{"a chained hook's refusal", &chainedHookError{file: ".git/hooks/pre-commit.chained", code: 3}, codeHook, 1},
		{"anything else", errors.New("disk full"), codeInternal, 2},
	}
	for _, c := range cases {
		r := asRefusal(c.err)
		if r.Code != c.code || r.Exit != c.exit || r.Exit != exitCode(c.err) || r.Message != oneLine(c.err.Error()) {
			t.Errorf("%s: %+v, want code %s, exit %d", c.name, r, c.code, c.exit)
		}
	}
	if r := asRefusal(fmt.Errorf("claim x: %w", held)); r.Fix == nil || r.Message != "claim x: x is leased" || held.Message != "x is leased" {
		t.Errorf("the refusal lost its fix or context, or the original changed: %+v", r)
	}
}

func TestWantsJSON(t *testing.T) {
	cases := []struct {
		args []string
		want bool
	}{
		{[]string{"claim", "x", "--json"}, true},
		{[]string{"check", "--format=json"}, true},
		{[]string{"claim", "x"}, false},
		{[]string{"run", "--claim", "x", "--", "tool", "--json"}, false},
		{[]string{"run", "--json", "--claim", "x", "--", "tool"}, true},
	}
	// A command line that parsed: its own flag decides, not a word of the
	// command oxygen run starts.
	root := newApp(nil, nil, nil).rootCommand()
	c, args, err := root.Find([]string{"run", "--claim", "x", "tool", "--json"})
	if err != nil || c.ParseFlags(args) != nil {
		t.Fatal(err)
	}
	if wantsJSON(c, []string{"run", "--claim", "x", "tool", "--json"}, errors.New("refused")) {
		t.Error("a --json of the command run starts asked oxygen for JSON")
	}
	for _, c := range cases {
		if got := wantsJSON(nil, c.args, &usageError{errors.New("bad flag")}); got != c.want {
			t.Errorf("wantsJSON(%q) = %v", c.args, got)
		}
	}
}

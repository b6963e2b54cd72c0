package git

import (
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

// TestCommitterEmailFromEnv: where GIT_COMMITTER_EMAIL is set, the
// committer's e-mail is what git var says it is, whether it is read from
// the environment (no git process: where git records it as it is) or
// asked of git (where git would change it: crud at its ends, '<', '>' or a
// newline within, empty). Values over an alphabet heavy in what git
// strips, and the runner's own Env beats the inherited one.
func TestCommitterEmailFromEnv(t *testing.T) {
	dir, _ := indexRepo(t) // user.email ada@example.com
	values := []string{
		"bob@example.com", "Bob.Smith+tag@example.co.uk", "x", "é@ü.example",
		"", " bob@example.com", "bob@example.com ", ".bob@example.com", "bob@example.com.",
		"<bob@example.com>", "bob<@example.com", "bob@exa>mple.com", "bob\n@example.com",
		"'bob'", `"bob"`, `bob\`, ",bob", "bob;", ":bob", "bob\t", "\x01bob",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab@.,:;<>\"\\' \t\n\x01é"
	for range 200 {
		var b strings.Builder
		for range 1 + rng.IntN(6) {
			b.WriteString(string([]rune(alphabet)[rng.IntN(len([]rune(alphabet)))]))
		}
		values = append(values, b.String())
	}
	for _, v := range values {
		var ran []string
		r := Runner{Dir: dir, Env: []string{"GIT_COMMITTER_EMAIL=someone@else.example", "GIT_COMMITTER_EMAIL=" + v}}
		r.Exec = func(cmd *exec.Cmd) error { ran = append(ran, cmd.Args[1]); return cmd.Run() }
		got, err := r.CommitterEmail()
		git := exec.Command("git", "-C", dir, "var", "GIT_COMMITTER_IDENT")
		git.Env = append(git.Environ(), "GIT_COMMITTER_EMAIL="+v)
		out, werr := git.Output()
		if werr != nil {
			// git refuses the identity; so must oxygen, or read it as given.
			if err == nil && len(ran) > 0 {
				t.Errorf("GIT_COMMITTER_EMAIL=%q: %q, where git var fails: %s", v, got, out)
			}
			continue
		}
		want, _ := ParseIdentEmail(string(out))
		switch {
		case err != nil:
			t.Errorf("GIT_COMMITTER_EMAIL=%q: %v, want %q", v, err, want)
		case got != want:
			t.Errorf("GIT_COMMITTER_EMAIL=%q: %q, want git's %q", v, got, want)
		case TakenAsIs(v) != (len(ran) == 0):
			t.Errorf("GIT_COMMITTER_EMAIL=%q: git ran %q (taken as is: %v)", v, ran, TakenAsIs(v))
		}
	}
}

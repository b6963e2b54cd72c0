package cli

import (
	"strings"
	"testing"
)

// TestPusher: who the host says pushes, its most exact word per host; two
// hosts' variables that disagree are refused, not guessed.
func TestPusher(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
		err  string
	}{
		{name: "no host names anyone", env: nil},
		{name: "gitolite", env: map[string]string{"GL_USER": "ada"}, want: "ada"},
		{name: "Gitea: the address before the name", env: map[string]string{"GITEA_PUSHER_NAME": "ada", "GITEA_PUSHER_EMAIL": "ada@builder.example"}, want: "ada@builder.example"},
		{name: "gitolite behind smart HTTP: one user twice", env: map[string]string{"GL_USER": "ada", "REMOTE_USER": "Ada"}, want: "ada"},
		{name: "a client's variable beside the host's", env: map[string]string{"GL_USER": "eve", "GITEA_PUSHER_EMAIL": "ada@builder.example"},
			err: "the host names two pushers, ada@builder.example (GITEA_PUSHER_EMAIL) and eve (GL_USER)"},
		{name: "an empty variable names nobody", env: map[string]string{"GL_USERNAME": "", "REMOTE_USER": "sam"}, want: "sam"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newApp(nil, nil, nil)
			a.lookupEnv = func(name string) (string, bool) { v, ok := c.env[name]; return v, ok }
			got, err := a.pusher()
			if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
				t.Errorf("pusher() = %q, %v; want %q, %q", got, err, c.want, c.err)
			}
		})
	}
}

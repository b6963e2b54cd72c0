package oxygen_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/cli"
)

// TestGitolite runs the server gate on a real git host: Debian's gitolite3
// behind an sshd this test starts on a free port of 127.0.0.1, for a user it
// creates. oxygen's pre-receive goes in through gitolite's own mechanism (a
// repo-specific hook from LOCAL_CODE, switched on in gitolite.conf), and
// gitolite names the pusher in GL_USER. .ci/run installs the packages.
func TestGitolite(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: it creates the user that sshd and gitolite run as")
	}
	var missing []string
	for _, tool := range []string{"gitolite", "/usr/sbin/sshd", "ssh", "ssh-keygen", "useradd", "userdel", "usermod", "runuser"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		t.Skipf("needs gitolite3 and openssh-server (apt-get install gitolite3 openssh-server); missing: %s", strings.Join(missing, ", "))
	}
	self, err := exec.LookPath("oxygen")
	if err != nil {
		t.Fatal(err)
	}

	// The host's user, with a home it owns that sshd may read.
	b := make([]byte, 4)
	rand.Read(b)
	user := "oxgl" + hex.EncodeToString(b)
	home, err := os.MkdirTemp("", "oxygen-gitolite-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	keys := filepath.Join(root, "keys")
	s := newSh(t, filepath.Join(root, "home"))
	s.ok("useradd", "-M", "-d", home, "-s", "/bin/sh", user)
	t.Cleanup(func() { exec.Command("userdel", user).Run() })
	s.ok("usermod", "-p", "*", user) // no password, but not locked: sshd refuses locked accounts
	host := s.in(home)
	copyFile(t, self, filepath.Join(home, "bin", "oxygen"), 0o755)
	shim, _ := cli.Shim("pre-receive")
	host.write("local/hooks/repo-specific/oxygen", string(shim))
	if err := os.Chmod(filepath.Join(home, "local/hooks/repo-specific/oxygen"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(keys, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"admin", "ada", "eve", "sshd"} {
		s.ok("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", who, "-f", filepath.Join(keys, who))
	}
	copyFile(t, filepath.Join(keys, "admin.pub"), filepath.Join(home, "admin.pub"), 0o644)
	s.ok("chown", "-R", user+":", home)
	asHost := func(argv ...string) string {
		return host.ok(append([]string{"runuser", "-u", user, "--", "env", "HOME=" + home, "PATH=/usr/bin:/bin"}, argv...)...)
	}
	asHost("gitolite", "setup", "-pk", filepath.Join(home, "admin.pub"))

	// Switch on repo-specific hooks from LOCAL_CODE, and give the hooks the
	// oxygen binary on their PATH.
	rcFile := filepath.Join(home, ".gitolite.rc")
	rc, err := os.ReadFile(rcFile)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.NewReplacer(
		`# LOCAL_CODE                =>  "$ENV{HOME}/local",`, `LOCAL_CODE                =>  "$ENV{HOME}/local",`,
		`# 'repo-specific-hooks',`, `'repo-specific-hooks',`,
	).Replace(string(rc))
	if edited == string(rc) || strings.Count(edited, "# LOCAL_CODE") != 1 {
		t.Fatalf("%s: gitolite's rc has not the lines this test switches on", rcFile)
	}
	host.write(".gitolite.rc", "$ENV{PATH} = \"$ENV{HOME}/bin:$ENV{PATH}\";\n"+edited)

	port := sshd(t, keys, user)
	sshAs := func(who string) string {
		return "GIT_SSH_COMMAND=ssh -i " + filepath.Join(keys, who) + " -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
	}
	url := func(repo string) string { return fmt.Sprintf("ssh://%s@127.0.0.1:%d/%s", user, port, repo) }

	// The host's administrator makes the project, and later switches the gate on.
	admin := s.in(root).with(sshAs("admin"))
	admin.ok("git", "clone", "-q", url("gitolite-admin"), "admin")
	admin = admin.in(filepath.Join(root, "admin"))
	admin.write("keydir/ada.pub", readFile(t, filepath.Join(keys, "ada.pub")))
	admin.write("keydir/eve.pub", readFile(t, filepath.Join(keys, "eve.pub")))
	conf := "repo gitolite-admin\n    RW+ = admin\nrepo project\n    RW+ = ada eve\n"
	admin.write("conf/gitolite.conf", conf)
	admin.ok("git", "add", "-A")
	admin.ok("git", "commit", "-q", "-m", "project for ada and eve")
	admin.ok("git", "push", "-q", "origin", "master")

	// The state ref is verified under the policy of the repository's HEAD:
	// point it at the branch the project uses (gitolite's git made master).
	asHost("git", "--git-dir", "repositories/project.git", "symbolic-ref", "HEAD", "refs/heads/main")

	ada := s.in(root).with(sshAs("ada"))
	ada.ok("git", "clone", "-q", url("project"), "ada")
	ada = ada.in(filepath.Join(root, "ada"))
	ada.write("resources.yaml", hostPolicy)
	ada.ok("git", "add", "resources.yaml")
	ada.ok("oxygen", "claim", "coordination")
	ada.ok("git", "commit", "-q", "-m", "adopt oxygen")
	ada.ok("git", "push", "-q", "origin", "main")

	admin.write("conf/gitolite.conf", conf+"    option hook.pre-receive = oxygen\n")
	admin.ok("git", "commit", "-q", "-a", "-m", "oxygen judges project's pushes")
	admin.ok("git", "push", "-q", "origin", "master")
	if target, err := os.Readlink(filepath.Join(home, "repositories/project.git/hooks/pre-receive.h00-oxygen")); err != nil || !strings.HasSuffix(target, "repo-specific/oxygen") {
		t.Fatalf("gitolite did not install oxygen's pre-receive: %q %v", target, err)
	}

	// A shadow edit is refused, whatever the client hooks did.
	ada.write("store/a", "a\n")
	ada.ok("git", "add", "store/a")
	ada.ok("git", "commit", "-q", "--no-verify", "-m", "shadow blob")
	ada.refused([]string{"git", "push", "origin", "main"}, "remote: oxygen: refused: 1 problem in 1 commit", "[shadow-edit]", "pre-receive hook declined")

	// Leased, the same change is accepted.
	ada.ok("oxygen", "claim", "storage")
	ada.ok("git", "commit", "-q", "--amend", "--no-edit")
	ada.ok("git", "push", "-q", "origin", "main")

	// eve pushes a commit that says ada made it: gitolite's GL_USER names
	// eve, and eve's domain holds nothing.
	ada.write("store/b", "b\n")
	ada.ok("git", "add", "store/b")
	ada.ok("git", "commit", "-q", "-m", "blob b")
	eve := ada.with(sshAs("eve"))
	eve.refused([]string{"git", "push", "origin", "main"}, "judged as eve, who pushes them", "[held-by-other]")
	ada.ok("git", "push", "-q", "origin", "main")

	// The state ref is guarded: eve cannot write herself a lease, nor
	// delete the ref.
	ada.ok("git", "fetch", "-q", "origin", "refs/oxygen/state:refs/forge")
	ada.ok("git", "worktree", "add", "-q", "../forge", "refs/forge")
	forge := eve.in(filepath.Join(root, "forge"))
	forge.write("leases/storage.yaml", strings.Replace(forge.ok("cat", "leases/storage.yaml"), "domain: builder", "domain: guardian", 1))
	forge.ok("git", "commit", "-q", "-a", "-m", "forge")
	forge.refused([]string{"git", "push", "origin", "HEAD:refs/oxygen/state"}, "remote: oxygen: refused: refs/oxygen/state")
	forge.refused([]string{"git", "push", "origin", ":refs/oxygen/state"}, "the state ref may not be deleted")

	// The honest path still works, as ada.
	ada.ok("oxygen", "release", "storage")
	// A claim is decided as the pusher too: eve, with her key, cannot claim
	// for builder by calling herself ada.
	eve.with("GIT_COMMITTER_EMAIL=ada@builder.example").refused([]string{"oxygen", "claim", "storage"},
		"pushed by eve, but recorded as ada@builder.example")
	if got := asHost("git", "--git-dir", "repositories/project.git", "log", "-1", "--format=%s", "refs/oxygen/state"); !strings.Contains(got, "release storage") {
		t.Fatalf("the host's state ref ends with %q, want the release", got)
	}

	// The server decides the acts. gitolite takes no repo-specific
	// proc-receive hook, so the host installs oxygen's in the repository
	// itself, with the two settings install makes.
	procReceive, _ := cli.Shim("proc-receive")
	host.write("repositories/project.git/hooks/proc-receive", string(procReceive))
	if err := os.Chmod(filepath.Join(home, "repositories/project.git/hooks/proc-receive"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.ok("chown", "-R", user+":", filepath.Join(home, "repositories/project.git/hooks"))
	asHost("git", "--git-dir", "repositories/project.git", "config", "--add", "receive.procReceiveRefs", "refs/oxygen/acts")
	asHost("git", "--git-dir", "repositories/project.git", "config", "receive.advertisePushOptions", "true")
	ada.ok("oxygen", "claim", "coordination")
	ada.write("resources.yaml", sequencedPolicy)
	ada.ok("git", "commit", "-q", "-am", "the server decides acts")
	ada.ok("git", "push", "-q", "origin", "main")
	ada.ok("oxygen", "claim", "storage")
	if got := asHost("git", "--git-dir", "repositories/project.git", "log", "-1", "--format=%s", "refs/oxygen/state"); !strings.Contains(got, "claim storage by ada@builder.example") {
		t.Fatalf("the host's state ref ends with %q, want ada's claim", got)
	}
	if refs := asHost("git", "--git-dir", "repositories/project.git", "for-each-ref", "refs/oxygen/acts"); refs != "" {
		t.Fatalf("the act left a ref: %s", refs)
	}
	// gitolite names eve in GL_USER for the sequencer too.
	eve.with("GIT_COMMITTER_EMAIL=ada@builder.example").refused([]string{"oxygen", "release", "storage"},
		"pushed by eve, but recorded as ada@builder.example")
}

// sshd starts an sshd on a free port of 127.0.0.1 that lets only user in,
// by key, and stops it when the test ends.
func sshd(t *testing.T, dir, user string) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback listener: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // its privilege separation directory
		t.Fatal(err)
	}
	config := filepath.Join(dir, "sshd_config")
	writeFile(t, config, fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
AllowUsers %s
LogLevel ERROR
`, port, filepath.Join(dir, "sshd"), user))
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", config)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd said:\n%s", log.String())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", l.Addr().String())
		if err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on %d: %v\n%s", port, err, log.String())
		}
		time.Sleep(20 * time.Millisecond) // sshd starting, not a clock under test
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

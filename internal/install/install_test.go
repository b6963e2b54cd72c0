package install

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestInstallBesideEndlessHook: a hook that is a symlink to an endless file
// (a committed hooks folder can hold one) is chained, never read.
func TestInstallBesideEndlessHook(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "pre-commit")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Install(dir, map[string][]byte{"pre-commit": []byte("#!/bin/sh\n# oxygen-hook v1\n")}, []string{"pre-commit"})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Install read the symlink to /dev/zero")
	}
	if target, err := os.Readlink(filepath.Join(dir, "pre-commit"+ChainedSuffix)); err != nil || target != "/dev/zero" {
		t.Fatalf("the foreign hook was not kept as %s: %q, %v", ChainedSuffix, target, err)
	}
}

// TestOurs: only a hook file holding oxygen's fingerprint is oxygen's; a
// missing one, another's, or a symlink to an endless file is not.
func TestOurs(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"ours": "#!/bin/sh\n# oxygen-hook v1\nexec oxygen hook proc-receive\n", "theirs": "#!/bin/sh\nexit 0\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "endless")); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"ours": true, "theirs": false, "missing": false, "endless": false} {
		if got, err := Ours(dir, name); err != nil || got != want {
			t.Errorf("Ours(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
}

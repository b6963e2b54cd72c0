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

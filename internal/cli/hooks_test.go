package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestShimsCheckedIn: hooks/ holds exactly the shims the table writes (run
// go generate ./internal/cli after changing the table).
func TestShimsCheckedIn(t *testing.T) {
	files, err := filepath.Glob("../../hooks/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(allHookNames()) {
		t.Errorf("hooks/ has %d files, the table %d hooks: run go generate ./internal/cli", len(files), len(allHookNames()))
	}
	for _, name := range allHookNames() {
		want, _ := Shim(name)
		got, err := os.ReadFile(filepath.Join("../../hooks", name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("hooks/%s is stale (%v): run go generate ./internal/cli", name, err)
		}
	}
}

// TestShims: every shim fails closed without the binary and hands git's
// arguments through; only the clone's hooks honour OXYGEN=0.
func TestShims(t *testing.T) {
	for _, h := range gitHooks {
		shim, ok := Shim(h.name)
		if !ok {
			t.Fatalf("no shim for %s", h.name)
		}
		for _, want := range []string{"#!/bin/sh\n", "exit 1\n", `exec oxygen hook ` + h.name + ` "$@"`} {
			if !bytes.Contains(shim, []byte(want)) {
				t.Errorf("%s's shim lacks %q", h.name, want)
			}
		}
		if skips := bytes.Contains(shim, []byte(`"${OXYGEN:-}" = 0`)); skips == h.bare {
			t.Errorf("%s's shim: honours OXYGEN=0 = %v, want %v", h.name, skips, !h.bare)
		}
	}
	if _, ok := Shim("post-commit"); ok {
		t.Error("a shim for a hook oxygen does not run as")
	}
}

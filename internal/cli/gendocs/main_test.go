package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestDocsInStep regenerates the reference into a temporary folder and
// wants docs/cli to be exactly that: the same files, byte for byte.
func TestDocsInStep(t *testing.T) {
	fresh := t.TempDir()
	if err := generate(fresh); err != nil {
		t.Fatal(err)
	}
	checkedIn := filepath.Join("..", "..", "..", "docs", "cli")
	want, got := mdFiles(t, fresh), mdFiles(t, checkedIn)
	if !slices.Equal(got, want) {
		t.Fatalf("docs/cli has %v, the command tree gives %v: run go generate ./internal/cli", got, want)
	}
	for _, name := range want {
		w, _ := os.ReadFile(filepath.Join(fresh, name))
		g, _ := os.ReadFile(filepath.Join(checkedIn, name))
		if !bytes.Equal(g, w) {
			t.Errorf("docs/cli/%s is out of date: run go generate ./internal/cli", name)
		}
	}
}

func mdFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestOutputSchemasCheckedIn fails when schema/output is not what the
// generator writes from the Go types.
func TestOutputSchemasCheckedIn(t *testing.T) {
	want, err := OutputSchemas()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "schema", "output")
	files, _ := filepath.Glob(filepath.Join(dir, "*.schema.json"))
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("schema/output/%s is out of date: run go generate ./internal/cli", name)
		}
		if i := slices.Index(names, name); i >= 0 {
			names = slices.Delete(names, i, i+1)
		}
	}
	if len(names) > 0 {
		t.Errorf("schema/output has %q, which no command prints: run go generate ./internal/cli", names)
	}
}

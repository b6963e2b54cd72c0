// Command genoutputs writes the JSON Schema of every command's --json
// output into the folder its argument names; go generate runs it (see
// package cli).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/oxygen-protocol/oxygen/internal/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genoutputs DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "genoutputs: %v\n", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	schemas, err := cli.OutputSchemas()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.schema.json"))
	for _, f := range old {
		if _, ok := schemas[filepath.Base(f)]; !ok {
			os.Remove(f)
		}
	}
	for name, data := range schemas {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Command genhooks writes the hook shims, one file per git hook oxygen runs
// as, into the folder its argument names, from the hook table in
// internal/cli (go generate runs it; a test keeps hooks/ in step). The files
// are for people and hook managers to read: oxygen install writes the same
// text from the table itself.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/oxygen-protocol/oxygen/internal/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genhooks DIR")
		os.Exit(2)
	}
	for _, name := range cli.HookNames() {
		shim, _ := cli.Shim(name)
		if err := os.WriteFile(filepath.Join(os.Args[1], name), shim, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "genhooks: %v\n", err)
			os.Exit(1)
		}
	}
}

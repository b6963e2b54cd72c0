package cli

import (
	"os"

	"github.com/spf13/cobra"
)

//go:generate go run ./gendocs ../../docs/cli

// Command returns oxygen's command tree, wired to the process's standard
// streams, for tools that read the tree rather than run it: the generator of
// the reference in docs/cli.
func Command() *cobra.Command {
	return newApp(os.Stdin, os.Stdout, os.Stderr).rootCommand()
}

// Command gendocs writes the command reference, one Markdown file per
// command, from oxygen's command tree into the folder its argument names,
// replacing the Markdown files there. go generate runs it (see
// internal/cli/docs.go); a test keeps docs/cli in step with the tree.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/oxygen-protocol/oxygen/internal/cli"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// header opens every generated file.
const header = "<!-- Generated from oxygen's command tree by `go generate ./internal/cli`; edit the commands' help, not this file. -->\n\n"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs DIR")
		os.Exit(2)
	}
	if err := generate(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
}

// generate writes the reference into dir, removing the Markdown files of
// commands that are gone.
func generate(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	root := cli.Command()
	root.InitDefaultCompletionCmd() // cobra adds it only when the program runs
	stable(root)
	prepend := func(string) string { return header }
	link := func(name string) string { return name }
	return doc.GenMarkdownTreeCustom(root, dir, prepend, link)
}

// stable drops the date cobra stamps on each page, so that the output
// depends on the commands alone.
func stable(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		stable(sub)
	}
}

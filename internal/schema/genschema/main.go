// Command genschema writes the JSON Schema of resources.yaml to the file its
// argument names; go generate runs it (see package schema).
package main

import (
	"fmt"
	"os"

	"github.com/oxygen-protocol/oxygen/internal/schema"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genschema FILE")
		os.Exit(2)
	}
	data, err := schema.JSON()
	if err == nil {
		err = os.WriteFile(os.Args[1], data, 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "genschema: %v\n", err)
		os.Exit(1)
	}
}

// Command oxygen-mcp serves oxygen's commands as Model Context Protocol
// tools over stdio; `oxygen mcp` hands over to it.
package main

import (
	"os"
	"time"

	"github.com/oxygen-protocol/oxygen/internal/mcpserver"
)

func main() { os.Exit(mcpserver.Main(time.Now)) }

package main

import (
	"os"

	"github.com/oxygen-protocol/oxygen/internal/cli"
)

func main() { os.Exit(cli.Main()) }

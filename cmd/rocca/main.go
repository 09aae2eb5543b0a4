// Command rocca is Rocca's one binary: the server (`rocca serve`), the installer, and the CLI that
// administers a running server through its admin socket. This package is wiring only: flags,
// subcommands, and the construction of every part; the parts do the work.
package main

import (
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	os.Exit(newCLI(os.Stdin, os.Stdout, os.Stderr, os.Environ()).run(os.Args[1:]))
}

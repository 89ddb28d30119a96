// Command fastop shows network traffic by host pair, like iftop, from a live
// interface or a capture file.
package main

import (
	"os"

	"github.com/fastop/fastop/cmd"
)

func main() { os.Exit(cmd.Main()) }

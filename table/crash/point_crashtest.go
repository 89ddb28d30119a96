//go:build fastop_crashtest

package crash

import "os"

// Point panics when $FASTOP_CRASH is name and, if $FASTOP_CRASH_ARM names
// a file, once that file exists (so a test can let the screen come up
// first). This file is only in binaries built with -tags fastop_crashtest,
// for the end-to-end tests of the terminal's restore
// (cmd/screen_e2e_test.go); fastop itself never has it.
func Point(name string) {
	if os.Getenv("FASTOP_CRASH") != name {
		return
	}
	if arm := os.Getenv("FASTOP_CRASH_ARM"); arm != "" {
		if _, err := os.Stat(arm); err != nil {
			return
		}
	}
	panic("crash test: a panic in the " + name + " goroutine")
}

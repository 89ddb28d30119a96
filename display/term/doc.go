// Package term is fastop's terminal toolkit, with no curses and no
// terminfo: a [Grid] of cells, a [Painter] that brings the terminal from one
// grid to the next with the fewest bytes (raw ANSI, the small set in
// ansi.go), the controlling terminal in raw mode ([OpenTTY]), a [KeyReader]
// that turns the bytes keys send into [Key] values, the one-line [Editor],
// and [AppendClean], which makes untrusted text safe to write to a
// terminal.
package term

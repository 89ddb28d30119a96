// Package screen is fastop's full screen, iftop's screen: [Run] draws table
// snapshots on a terminal and applies iftop's keys until q. A frame is a
// pure function of the snapshot, the [UIState] and the terminal's size
// (render.go), so it is tested with golden files; the keys are a pure state
// machine over UIState (state.go); the loop in screen.go owns the terminal.
package screen

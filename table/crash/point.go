//go:build !fastop_crashtest

package crash

// Point marks a place where the end-to-end tests make a goroutine panic. In
// a normal build it does nothing (and compiles to nothing); built with
// -tags fastop_crashtest it panics when $FASTOP_CRASH names it.
func Point(name string) {}

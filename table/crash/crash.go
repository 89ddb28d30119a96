// Package crash puts the terminal back when the process dies of a panic in
// any goroutine, or of SIGQUIT. The code that takes the terminal over (the
// screen, in cmd) registers a restore function with Register; every
// long-lived goroutine (ring readers, the merger, file workers and replay,
// the resolver) starts with
//
//	defer crash.Guard()
//
// which, while a panic unwinds, runs the registered functions and then
// panics again with the same value, so Go still prints the panic and its
// goroutine's stack and exits with status 2. Without it a panic outside the
// screen's goroutine would leave the shell on the alternate screen, with no
// cursor and no echo.
//
// The package imports nothing of fastop, so ring and table need not know
// about display.
package crash

import "sync"

var (
	mu    sync.Mutex
	next  int
	hooks = map[int]func(){}
)

// Register adds restore to what runs before the process dies of a panic in
// a guarded goroutine or of SIGQUIT (see RelayQuit). It returns a function
// that removes it again; each registered function runs at most once, and
// must not call Register or the function it returned.
func Register(restore func()) (unregister func()) {
	mu.Lock()
	defer mu.Unlock()
	id := next
	next++
	hooks[id] = restore
	return func() {
		mu.Lock()
		defer mu.Unlock()
		delete(hooks, id)
	}
}

// Run runs every registered function once and forgets them. Guard and
// RelayQuit call it; a restore function that panics itself is passed over.
// A second Run while the first is running waits for it: when several
// goroutines panic at once, none may end the process before the terminal
// is restored.
func Run() {
	mu.Lock()
	defer mu.Unlock()
	for id, f := range hooks {
		delete(hooks, id)
		func() {
			defer func() { recover() }()
			f()
		}()
	}
}

// Guard, deferred first thing in a goroutine, runs the registered functions
// when a panic unwinds it and then panics again with the same value. It must
// be deferred directly (defer crash.Guard()), as recover works only there.
func Guard() {
	if r := recover(); r != nil {
		Run()
		panic(r)
	}
}

//go:build !unix

package crash

// RelayQuit does nothing where there is no SIGQUIT.
func RelayQuit() (stop func()) { return func() {} }

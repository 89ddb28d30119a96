//go:build unix

package crash

import (
	"os"
	"os/signal"
	"syscall"
)

// RelayQuit makes SIGQUIT run the registered functions first: it catches
// the signal, runs them, then sends SIGQUIT again with Go's own handling
// back in place, which prints every goroutine's stack and exits with status
// 2. stop undoes it.
func RelayQuit() (stop func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, syscall.SIGQUIT)
	go func() {
		select {
		case <-ch:
			Run()
			signal.Reset(syscall.SIGQUIT)
			syscall.Kill(os.Getpid(), syscall.SIGQUIT)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

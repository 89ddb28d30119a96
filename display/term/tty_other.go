//go:build !unix

package term

import (
	"errors"
	"runtime"
)

// TTY is the terminal; it exists only on Unix systems.
type TTY struct{}

// OpenTTY fails: the full screen needs a Unix terminal.
func OpenTTY() (*TTY, error) {
	return nil, errors.New("the full screen is not supported on " + runtime.GOOS + "; use -t or --json")
}

// Read fails.
func (t *TTY) Read([]byte) (int, error) { return 0, errors.ErrUnsupported }

// Write fails.
func (t *TTY) Write([]byte) (int, error) { return 0, errors.ErrUnsupported }

// Resized never delivers.
func (t *TTY) Resized() <-chan struct{} { return nil }

// Size fails.
func (t *TTY) Size() (int, int, error) { return 0, 0, errors.ErrUnsupported }

// Suspend fails.
func (t *TTY) Suspend() error { return errors.ErrUnsupported }

// Abandon does nothing.
func (t *TTY) Abandon(string) {}

// Restore does nothing.
func (t *TTY) Restore() error { return nil }

// Close does nothing.
func (t *TTY) Close() error { return nil }

//go:build unix

package term

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/term"
)

// TTY is the controlling terminal (/dev/tty) in raw mode: no echo, no line
// editing, no signals from keys (so Ctrl-C arrives as byte 3 and the screen
// quits on it), no output processing (so frames position every row with
// CUP). It watches SIGWINCH. Close (or Restore) puts the terminal back as
// it was.
type TTY struct {
	f       *os.File
	state   *term.State
	winch   chan os.Signal
	resized chan struct{}
	stop    chan struct{}
	once    sync.Once
	restErr error
}

// OpenTTY opens /dev/tty and puts it in raw mode. It fails, with an error
// that says so, when the process has no terminal.
func OpenTTY() (*TTY, error) { return openTTY("/dev/tty") }

func openTTY(path string) (*TTY, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open the terminal: %w (the full screen needs one; use -t or --json)", err)
	}
	t := &TTY{f: f, resized: make(chan struct{}, 1), stop: make(chan struct{}), winch: make(chan os.Signal, 1)}
	var rawErr error
	if err := t.control(func(fd int) { t.state, rawErr = term.MakeRaw(fd) }); err != nil {
		f.Close()
		return nil, err
	}
	if rawErr != nil {
		f.Close()
		return nil, fmt.Errorf("put the terminal in raw mode: %w", rawErr)
	}
	signal.Notify(t.winch, syscall.SIGWINCH)
	go t.watch()
	return t, nil
}

// control runs fn with the descriptor without taking it out of the
// runtime's poller (File.Fd would make it blocking, and then Close could
// not wake a pending Read).
func (t *TTY) control(fn func(fd int)) error {
	rc, err := t.f.SyscallConn()
	if err != nil {
		return fmt.Errorf("terminal descriptor: %w", err)
	}
	if err := rc.Control(func(fd uintptr) { fn(int(fd)) }); err != nil {
		return fmt.Errorf("terminal descriptor: %w", err)
	}
	return nil
}

// watch turns SIGWINCH into a non-blocking send on a one-slot channel.
func (t *TTY) watch() {
	for {
		select {
		case <-t.winch:
			select {
			case t.resized <- struct{}{}:
			default:
			}
		case <-t.stop:
			return
		}
	}
}

// Read reads the bytes keys send.
func (t *TTY) Read(p []byte) (int, error) { return t.f.Read(p) }

// Write writes to the terminal.
func (t *TTY) Write(p []byte) (int, error) { return t.f.Write(p) }

// Resized delivers a value after SIGWINCH.
func (t *TTY) Resized() <-chan struct{} { return t.resized }

// Size returns the terminal's size, or $COLUMNS and $LINES when the
// terminal does not say.
func (t *TTY) Size() (w, h int, err error) {
	var sizeErr error
	if err := t.control(func(fd int) { w, h, sizeErr = term.GetSize(fd) }); err != nil {
		return 0, 0, err
	}
	if sizeErr == nil && w > 0 && h > 0 {
		return w, h, nil
	}
	cw, err1 := strconv.Atoi(os.Getenv("COLUMNS"))
	ch, err2 := strconv.Atoi(os.Getenv("LINES"))
	if err1 == nil && err2 == nil && cw > 0 && ch > 0 {
		return cw, ch, nil
	}
	if sizeErr == nil {
		sizeErr = errors.New("the terminal reports a size of 0")
	}
	return 0, 0, sizeErr
}

// Restore puts the terminal back in the mode it had before OpenTTY and
// stops watching SIGWINCH. Only the first call does anything.
func (t *TTY) Restore() error {
	t.once.Do(func() {
		signal.Stop(t.winch)
		close(t.stop)
		if err := t.control(func(fd int) { t.restErr = term.Restore(fd, t.state) }); err != nil {
			t.restErr = err
		}
	})
	return t.restErr
}

// Close restores the terminal and closes it, which ends a pending Read.
func (t *TTY) Close() error {
	err := t.Restore()
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	return err
}

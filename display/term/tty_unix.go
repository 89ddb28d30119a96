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

	"github.com/fastop/fastop/table/crash"
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

	wmu  sync.Mutex // Write against Abandon
	gone bool       // Abandon ran: writes go nowhere
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
	signal.Notify(t.winch, syscall.SIGWINCH, syscall.SIGCONT)
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

// watch turns SIGWINCH into a non-blocking send on a one-slot channel; so
// does SIGCONT, since after a stop (kill -STOP, then fg) the screen must
// be drawn again in full.
func (t *TTY) watch() {
	defer crash.Guard()
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

// Write writes to the terminal. After Abandon it never returns: the
// process is dying of a panic or SIGQUIT, and an error here would let the
// screen's goroutine end the process with status 1 before Go prints the
// panic (seen in CI).
func (t *TTY) Write(p []byte) (int, error) {
	t.wmu.Lock()
	if t.gone {
		t.wmu.Unlock()
		select {}
	}
	defer t.wmu.Unlock()
	return t.f.Write(p)
}

// Abandon gives the terminal back from any goroutine while the process
// dies (a panic elsewhere, SIGQUIT): it writes last (LeaveScreen), restores
// the mode, and makes every later Write wait for the end, so that no frame
// drawn in the meantime lands on the shell's screen.
func (t *TTY) Abandon(last string) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if !t.gone {
		t.gone = true
		t.f.Write([]byte(last))
	}
	t.Restore()
}

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

// Suspend stops the process, as Ctrl-Z does in a shell (in raw mode the
// key is only a byte, so the screen calls this): the terminal goes back to
// the mode it had, the process stops with SIGSTOP, and once continued (fg,
// SIGCONT) the terminal is put in raw mode again. The caller leaves the
// alternate screen before and redraws everything after.
func (t *TTY) Suspend() error {
	var err error
	if cerr := t.control(func(fd int) { err = term.Restore(fd, t.state) }); cerr != nil {
		return cerr
	}
	if err != nil {
		return fmt.Errorf("restore the terminal: %w", err)
	}
	// kill returns before every thread has stopped, so the raw mode is
	// taken again only once SIGCONT says the process was continued.
	cont := make(chan os.Signal, 1)
	signal.Notify(cont, syscall.SIGCONT)
	defer signal.Stop(cont)
	if err := syscall.Kill(os.Getpid(), syscall.SIGSTOP); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	<-cont
	if cerr := t.control(func(fd int) { _, err = term.MakeRaw(fd) }); cerr != nil {
		return cerr
	}
	if err != nil {
		return fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	return nil
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

//go:build linux

package term

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the master (the "terminal
// emulator" side) and the path of the slave (what fastop opens).
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatal(err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

func termios(t *testing.T, path string) *unix.Termios {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio
}

// TestTTY opens a pseudo-terminal as the screen does: raw mode (no echo,
// no line editing, no signals from keys, no output processing), its size
// and SIGWINCH, reads and writes, a Close that ends a pending Read, and the
// mode restored afterwards.
func TestTTY(t *testing.T) {
	master, slave := openPTY(t)
	before := termios(t, slave)
	tty, err := openTTY(slave)
	if err != nil {
		t.Fatal(err)
	}
	raw := termios(t, slave)
	if raw.Lflag&(unix.ECHO|unix.ICANON|unix.ISIG) != 0 || raw.Oflag&unix.OPOST != 0 {
		t.Errorf("not raw: lflag %#x oflag %#x", raw.Lflag, raw.Oflag)
	}
	if w, h, err := tty.Size(); err != nil || w != 80 || h != 24 {
		t.Errorf("size %dx%d, %v", w, h, err)
	}

	// SIGWINCH after a resize.
	unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 100})
	syscall.Kill(os.Getpid(), syscall.SIGWINCH)
	select {
	case <-tty.Resized():
	case <-time.After(2 * time.Second):
		t.Error("no resize after SIGWINCH")
	}
	if w, h, _ := tty.Size(); w != 100 || h != 30 {
		t.Errorf("size after resize %dx%d", w, h)
	}

	// Ctrl-C arrives as a byte, not as SIGINT.
	master.Write([]byte{3, 'q'})
	buf := make([]byte, 8)
	n, err := tty.Read(buf)
	if err != nil || string(buf[:n]) != "\x03q" {
		t.Errorf("read %q, %v", buf[:n], err)
	}
	// Output goes out as written: no \n → \r\n.
	tty.Write([]byte("a\nb"))
	n, _ = master.Read(buf)
	if string(buf[:n]) != "a\nb" {
		t.Errorf("master read %q", buf[:n])
	}

	// Close ends a Read that waits.
	done := make(chan error, 1)
	go func() {
		_, err := tty.Read(buf)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := tty.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("the pending Read returned no error")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end the pending Read")
	}
	if err := tty.Restore(); err != nil {
		t.Errorf("a second Restore: %v", err)
	}
	after := termios(t, slave)
	if after.Lflag != before.Lflag || after.Iflag != before.Iflag || after.Oflag != before.Oflag || after.Cflag != before.Cflag {
		t.Errorf("mode not restored:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestOpenTTYNoTerminal checks the one-line error when the process has no
// terminal.
func TestOpenTTYNoTerminal(t *testing.T) {
	_, err := openTTY("/nonexistent/tty")
	if err == nil || err.Error() != "open the terminal: open /nonexistent/tty: no such file or directory (the full screen needs one; use -t or --json)" {
		t.Errorf("error %v", err)
	}
}

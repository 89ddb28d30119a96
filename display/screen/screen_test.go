package screen

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/internal/vt"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
)

// fakeTerm is a Terminal for Run: keys come from a pipe, frames are
// applied to a vt and announced on frames.
type fakeTerm struct {
	t        *testing.T
	in       *io.PipeReader
	keys     *io.PipeWriter
	mu       sync.Mutex
	emu      *vt.VT
	w, h     int
	sizeErr  error
	resized  chan struct{}
	restores int
	out      bytes.Buffer
	writes   int
	frames   chan int // bytes of each write
	err      error    // the first thing the emulator did not expect
}

func newFakeTerm(t *testing.T, w, h int) *fakeTerm {
	r, wr := io.Pipe()
	return &fakeTerm{t: t, in: r, keys: wr, emu: vt.New(w, h), w: w, h: h, resized: make(chan struct{}, 1), frames: make(chan int, 1000)}
}

func (f *fakeTerm) Read(p []byte) (int, error) { return f.in.Read(p) }
func (f *fakeTerm) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out.Write(p)
	f.writes++
	if err := f.emu.Apply(p); err != nil && f.err == nil {
		f.err = err
	}
	f.frames <- len(p)
	return len(p), nil
}
func (f *fakeTerm) Size() (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w, f.h, f.sizeErr
}
func (f *fakeTerm) Resized() <-chan struct{} { return f.resized }
func (f *fakeTerm) Restore() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restores++
	return nil
}

// screenText returns what the emulated terminal shows.
func (f *fakeTerm) screenText() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := term.Grid{W: f.emu.W, H: f.emu.H, Cells: f.emu.Cells}
	return g.String()
}

// waitScreen waits until the terminal shows what ok wants.
func (f *fakeTerm) waitScreen(what string, ok func(string) bool) string {
	f.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		f.mu.Lock()
		err := f.err
		f.mu.Unlock()
		if err != nil {
			f.t.Fatalf("bad output: %v", err)
		}
		if s := f.screenText(); ok(s) {
			return s
		}
		select {
		case <-f.frames:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			f.t.Fatalf("timed out waiting for %s; the screen shows:\n%s", what, f.screenText())
		}
	}
}

func (f *fakeTerm) send(s string) {
	if _, err := f.keys.Write([]byte(s)); err != nil {
		f.t.Fatal(err)
	}
}

// runFake runs Run on a fake terminal in the background.
func runFake(t *testing.T, f *fakeTerm, snaps chan *table.Snapshot, cfg Config) (context.CancelFunc, <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, f, snaps, cfg) }()
	t.Cleanup(func() {
		cancel()
		f.keys.Close()
	})
	return cancel, done
}

func waitDone(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func testSnapshot(cum uint64) *table.Snapshot {
	s := &table.Snapshot{Window: win40, Flows: []table.Flow{
		flow("10.0.0.1", 40000, "10.0.0.2", 80, 250000, 2500),
		flow("10.0.0.1", 5353, "10.0.0.3", 53, 2000, 0),
	}}
	s.TX.Bytes, s.RX.Bytes = cum, cum/10
	s.TX.Win = [3]uint64{252000, 5 * 252000, 20 * 252000}
	s.RX.Win = [3]uint64{2500, 5 * 2500, 20 * 2500}
	return s
}

func numericConfig() Config {
	st := DefaultUIState()
	st.DNS, st.PortNames = false, false
	st.View.Ports = table.PortsOn
	return Config{State: st, Listening: "Listening on eth0", Version: "test"}
}

func TestRunScreenSession(t *testing.T) {
	f := newFakeTerm(t, 80, 24)
	snaps := make(chan *table.Snapshot)
	cfg := numericConfig()
	var installed []string
	cfg.SetFilter = func(expr string) error {
		installed = append(installed, expr)
		if expr == "port foo" {
			return errors.New("unknown port 'foo'")
		}
		return nil
	}
	cfg.EndMsg = "End of test.pcap"
	_, done := runFake(t, f, snaps, cfg)

	f.waitScreen("the first frame", func(s string) bool { return strings.HasPrefix(s, " Listening on eth0 ") })
	if !bytes.HasPrefix(f.out.Bytes(), []byte(term.EnterScreen)) {
		t.Errorf("the session does not start with the alternate screen: %q", f.out.String()[:20])
	}
	snaps <- testSnapshot(1 << 20)
	f.waitScreen("the rows", func(s string) bool { return strings.Contains(s, "10.0.0.1:40000             => 10.0.0.2:80") })

	// Nothing changes: nothing is written.
	f.mu.Lock()
	before := f.writes
	f.mu.Unlock()
	snaps <- testSnapshot(1 << 20)
	f.send("\x0c") // ^L: a full repaint is written
	f.waitScreen("the repaint", func(string) bool { f.mu.Lock(); defer f.mu.Unlock(); return f.writes > before })
	f.mu.Lock()
	if f.writes != before+1 {
		t.Errorf("an identical snapshot wrote %d frames, want none", f.writes-before-1)
	}
	f.mu.Unlock()

	f.send("T")
	f.waitScreen("the cumulative column", func(s string) bool {
		return strings.HasPrefix(s, " Show cumulative totals ") && strings.Contains(s, "10.0.0.1:40000         => 10.0.0.2:80            4.77MB")
	})
	f.send("t")
	f.waitScreen("one line per host", func(s string) bool { return strings.Contains(s, "<=> ") })

	// Pause: rows stay, cum goes on.
	f.send("P")
	f.waitScreen("pause", func(s string) bool { return strings.HasPrefix(s, " Display paused ") })
	moved := testSnapshot(3 << 20)
	moved.Flows[0].Sent.Win = [3]uint64{1, 1, 1}
	snaps <- moved
	f.waitScreen("cum while paused", func(s string) bool {
		return strings.Contains(s, "cum:   3.00MB") && strings.Contains(s, " 986Kb   986Kb") && strings.HasPrefix(s, " Display paused ")
	})
	f.send("P")
	f.waitScreen("unpaused rows", func(s string) bool { return strings.Contains(s, " 7.81Kb") && !strings.Contains(s, " 986Kb   986Kb") })

	// The capture filter.
	f.send("f")
	f.waitScreen("the prompt", func(s string) bool { return strings.HasPrefix(s, "Net filter>\n") })
	if !f.emu.CursorOn {
		t.Error("no cursor in the prompt")
	}
	f.send("port foo\r")
	f.waitScreen("the filter error", func(s string) bool { return strings.HasPrefix(s, " unknown port 'foo' ") })
	f.send("f\x15udp\r")
	f.waitScreen("the new filter", func(s string) bool { return strings.HasPrefix(s, " Installed new filter ") })
	if strings.Join(installed, ",") != "port foo,udp" {
		t.Errorf("installed %q", installed)
	}
	if f.emu.CursorOn {
		t.Error("cursor left on after the prompt")
	}
	f.send("f\t")
	f.waitScreen("a beep", func(string) bool { f.mu.Lock(); defer f.mu.Unlock(); return f.emu.Bells == 1 })
	f.send("\x1b")
	time.Sleep(2 * term.EscTimeout) // a lone Esc is a key after the timeout
	f.waitScreen("the prompt to close", func(s string) bool { return !strings.HasPrefix(s, "Net filter>") })

	// Resize: drawn again at the new size.
	f.mu.Lock()
	f.w, f.h = 100, 30
	f.emu.Resize(100, 30)
	f.mu.Unlock()
	f.resized <- struct{}{}
	f.waitScreen("the 100x30 frame", func(s string) bool {
		rows := strings.Split(s, "\n")
		return len(rows) == 31 && strings.HasPrefix(rows[29], "TOTAL:") && strings.Index(rows[27], "rates:") == 68
	})
	f.mu.Lock()
	f.w, f.h = 30, 5
	f.emu.Resize(30, 5)
	f.mu.Unlock()
	f.resized <- struct{}{}
	f.waitScreen("the notice", func(s string) bool { return strings.HasPrefix(s, "terminal too small") })

	// The end of the file: the last frame stays, with a hint.
	f.mu.Lock()
	f.w, f.h = 80, 24
	f.emu.Resize(80, 24)
	f.mu.Unlock()
	f.resized <- struct{}{}
	close(snaps)
	f.waitScreen("the end hint", func(s string) bool {
		return strings.HasPrefix(s, " End of test.pcap ") && strings.Contains(s, "TOTAL:")
	})

	f.send("q")
	if err := waitDone(t, done); err != nil {
		t.Fatalf("q: %v", err)
	}
	if !bytes.HasSuffix(f.out.Bytes(), []byte(term.LeaveScreen)) || f.restores != 1 {
		t.Errorf("not restored: ends %q, %d restores", f.out.String()[f.out.Len()-30:], f.restores)
	}
	if f.emu.Alt || !f.emu.CursorOn || !f.emu.Wrap || f.emu.Sync {
		t.Errorf("terminal left with alt %v cursor %v wrap %v sync %v", f.emu.Alt, f.emu.CursorOn, f.emu.Wrap, f.emu.Sync)
	}
}

func TestRunScreenExits(t *testing.T) {
	t.Run("ctrl-c", func(t *testing.T) {
		f := newFakeTerm(t, 80, 24)
		_, done := runFake(t, f, nil, numericConfig())
		f.send("\x03")
		if err := waitDone(t, done); err != nil || f.restores != 1 {
			t.Errorf("err %v, restores %d", err, f.restores)
		}
	})
	t.Run("context", func(t *testing.T) {
		f := newFakeTerm(t, 80, 24)
		cancel, done := runFake(t, f, nil, numericConfig())
		f.waitScreen("a frame", func(s string) bool { return strings.Contains(s, "TOTAL:") })
		cancel()
		if err := waitDone(t, done); err != nil || f.restores != 1 || f.emu.Alt {
			t.Errorf("err %v, restores %d, alt %v", err, f.restores, f.emu.Alt)
		}
	})
	t.Run("closed terminal", func(t *testing.T) {
		f := newFakeTerm(t, 80, 24)
		_, done := runFake(t, f, nil, numericConfig())
		f.keys.Close()
		err := waitDone(t, done)
		if err == nil || !strings.Contains(err.Error(), "terminal was closed") || f.restores != 1 {
			t.Errorf("err %v, restores %d", err, f.restores)
		}
	})
	t.Run("read error", func(t *testing.T) {
		f := newFakeTerm(t, 80, 24)
		_, done := runFake(t, f, nil, numericConfig())
		f.keys.CloseWithError(errors.New("input/output error"))
		err := waitDone(t, done)
		if err == nil || err.Error() != "read from the terminal: input/output error" {
			t.Errorf("err %v", err)
		}
	})
	t.Run("no size", func(t *testing.T) {
		f := newFakeTerm(t, 80, 24)
		f.sizeErr = errors.New("inappropriate ioctl for device")
		_, done := runFake(t, f, nil, numericConfig())
		err := waitDone(t, done)
		if err == nil || !strings.HasPrefix(err.Error(), "read the terminal size: ") || f.out.Len() != 0 || f.restores != 1 {
			t.Errorf("err %v, wrote %q, restores %d", err, f.out.String(), f.restores)
		}
	})
	t.Run("panic", func(t *testing.T) {
		f := newFakeTerm(t, 80, 24)
		snaps := make(chan *table.Snapshot, 1)
		snaps <- testSnapshot(1)
		cfg := numericConfig()
		cfg.State.DNS = true
		cfg.Namer = panicNamer{}
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			Run(context.Background(), f, snaps, cfg)
		}()
		if recovered == nil {
			t.Fatal("no panic")
		}
		if !bytes.HasSuffix(f.out.Bytes(), []byte(term.LeaveScreen)) || f.restores != 1 || f.emu.Alt {
			t.Errorf("a panic left the terminal as it was: restores %d, alt %v", f.restores, f.emu.Alt)
		}
		f.keys.Close()
	})
}

type panicNamer struct{}

func (panicNamer) Name(netip.Addr) (string, bool) { panic("namer") }

// TestRunScreenMessageExpiry checks that a hint goes after msgTime and a
// sticky one stays.
func TestRunScreenMessageExpiry(t *testing.T) {
	f := newFakeTerm(t, 80, 24)
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	cfg := numericConfig()
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	runFake(t, f, nil, cfg)
	f.waitScreen("the hint", func(s string) bool { return strings.HasPrefix(s, " Listening on eth0 ") })
	mu.Lock()
	now = now.Add(msgTime)
	mu.Unlock()
	f.waitScreen("the hint to go", func(s string) bool { return !strings.HasPrefix(s, " Listening") })
	f.send("o")
	f.waitScreen("a sticky hint", func(s string) bool { return strings.HasPrefix(s, " Order frozen ") })
	mu.Lock()
	now = now.Add(10 * msgTime)
	mu.Unlock()
	time.Sleep(500 * time.Millisecond) // two expiry checks
	if s := f.screenText(); !strings.HasPrefix(s, " Order frozen ") {
		t.Errorf("the sticky hint went:\n%s", s)
	}
}

// TestRunScreenNoChangeBytes measures what a redraw with nothing new
// costs on the terminal: nothing at all.
func TestRunScreenNoChangeBytes(t *testing.T) {
	f := newFakeTerm(t, 300, 100)
	snaps := make(chan *table.Snapshot)
	cfg := numericConfig()
	cfg.Listening = ""
	runFake(t, f, snaps, cfg)
	s := displaytest.BigSnapshot(100_000)
	snaps <- s
	snaps <- s // the second tick: no drops in it (the first counts them all)
	f.waitScreen("the big frame", func(s string) bool {
		return strings.Contains(s, "TOTAL:") && len(s) > 2000 && !strings.Contains(s, "(+")
	})
	for len(f.frames) > 0 {
		<-f.frames
	}
	f.mu.Lock()
	before := f.out.Len()
	f.mu.Unlock()
	for range 3 {
		snaps <- s
	}
	snaps <- s // the loop has taken the three before when it takes this one
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := f.out.Len() - before; n != 0 {
		t.Errorf("redrawing an unchanged 300x100 screen wrote %d bytes, want 0: %q", n, f.out.Bytes()[before:])
	}
}

// suspendTerm is a fakeTerm that can stop the process (TTY.Suspend); it
// records what the terminal showed when asked to.
type suspendTerm struct {
	*fakeTerm
	suspends  int
	altThen   bool // the alternate screen was on at Suspend
	cursorOff bool // the cursor was hidden at Suspend
}

func (s *suspendTerm) Suspend() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suspends++
	s.altThen, s.cursorOff = s.emu.Alt, !s.emu.CursorOn
	return nil
}

// TestRunScreenSuspend checks Ctrl-Z: the screen leaves the alternate
// screen and shows the cursor before it stops, and once continued takes
// the alternate screen again and draws everything.
func TestRunScreenSuspend(t *testing.T) {
	f := &suspendTerm{fakeTerm: newFakeTerm(t, 80, 24)}
	snaps := make(chan *table.Snapshot, 1)
	snaps <- testSnapshot(1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, f, snaps, numericConfig()) }()
	defer f.keys.Close()
	rows := func(s string) bool { return strings.Contains(s, "10.0.0.1:40000             => 10.0.0.2:80") }
	f.waitScreen("the rows", rows)
	f.send("\x1a")
	f.waitScreen("the rows after the suspend", func(s string) bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.suspends == 1 && f.emu.Alt && rows(s)
	})
	f.mu.Lock()
	if f.altThen || f.cursorOff {
		t.Errorf("at the stop: alternate screen %v, cursor hidden %v; want the shell's screen and cursor", f.altThen, f.cursorOff)
	}
	f.mu.Unlock()
	f.send("q")
	if err := waitDone(t, done); err != nil || f.restores != 1 {
		t.Errorf("err %v, restores %d", err, f.restores)
	}
}

package display

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fastop/fastop/table"
)

// vt is a small terminal emulator for the sequences the screen writes (and
// nothing else: an unknown sequence fails the test). Applying the painter's
// output to it must give back the grid.
type vt struct {
	w, h     int
	cells    []Cell
	x, y     int
	attr     Attr
	cursorOn bool
	alt      bool
	wrap     bool
	sync     bool
	bells    int
}

func newVT(w, h int) *vt {
	v := &vt{w: w, h: h, cursorOn: true, wrap: true}
	v.cells = make([]Cell, w*h)
	v.clear()
	return v
}

func (v *vt) clear() {
	for i := range v.cells {
		v.cells[i] = blankCell
	}
}

func (v *vt) resize(w, h int) {
	v.w, v.h = w, h
	v.cells = make([]Cell, w*h)
	v.clear()
}

func (v *vt) write(t *testing.T, b []byte) {
	t.Helper()
	if err := v.apply(b); err != nil {
		t.Fatal(err)
	}
}

// apply interprets b; it reports the first thing it does not expect.
func (v *vt) apply(b []byte) error {
	for len(b) > 0 {
		switch {
		case b[0] == 0x1b:
			if len(b) < 2 || b[1] != '[' {
				return fmt.Errorf("unexpected escape %q", b)
			}
			i := 2
			for i < len(b) && (b[i] < 0x40 || b[i] > 0x7e) {
				i++
			}
			if i == len(b) {
				return fmt.Errorf("cut sequence %q", b)
			}
			if err := v.csi(string(b[2:i]), b[i]); err != nil {
				return err
			}
			b = b[i+1:]
		case b[0] == '\a':
			v.bells++
			b = b[1:]
		case b[0] < 0x20 || b[0] == 0x7f:
			return fmt.Errorf("control byte %#x written", b[0])
		default:
			r, n := utf8.DecodeRune(b)
			if v.x < v.w && v.y < v.h {
				v.cells[v.y*v.w+v.x] = Cell{R: r, A: v.attr}
			}
			if v.x < v.w-1 {
				v.x++
			} else if v.wrap {
				return errors.New("wrote the last column with autowrap on")
			}
			b = b[n:]
		}
	}
	return nil
}

func (v *vt) csi(params string, final byte) error {
	switch {
	case final == 'H':
		v.x, v.y = 0, 0
		if params != "" {
			r, c, ok := strings.Cut(params, ";")
			row, err1 := strconv.Atoi(r)
			col, err2 := strconv.Atoi(c)
			if !ok || err1 != nil || err2 != nil || row < 1 || col < 1 || row > v.h || col > v.w {
				return fmt.Errorf("bad CUP %q on %dx%d", params, v.w, v.h)
			}
			v.x, v.y = col-1, row-1
		}
	case final == 'J' && params == "2":
		v.clear()
	case final == 'm' && params == "0":
		v.attr = AttrNormal
	case final == 'm' && params == "7":
		v.attr = AttrReverse
	case final == 'h' || final == 'l':
		on := final == 'h'
		switch params {
		case "?25":
			v.cursorOn = on
		case "?1049":
			v.alt = on
			v.clear()
		case "?7":
			v.wrap = on
		case "?2026":
			if on && v.sync {
				return errors.New("synchronized output begun twice")
			}
			v.sync = on // an end without a begin is harmless (screenLeave)
		default:
			return fmt.Errorf("unknown mode %q", params)
		}
	default:
		return fmt.Errorf("unknown sequence CSI %q %c", params, final)
	}
	return nil
}

func (v *vt) equal(g *Grid) bool {
	if v.w != g.W || v.h != g.H {
		return false
	}
	for i, c := range g.Cells {
		if v.cells[i] != c {
			return false
		}
	}
	return true
}

// randomGrid fills g with random text, some glyphs and reverse runs.
func randomGrid(r *rand.Rand, g *Grid, density float64) {
	runes := []rune("abc 01.:─└┴")
	for i := range g.Cells {
		if r.Float64() < density {
			g.Cells[i] = Cell{R: runes[r.IntN(len(runes))], A: Attr(r.IntN(2))}
		}
	}
}

// TestPainter applies random frames, and random changes of them, through
// the painter to the emulator, which must then show exactly the last frame.
// A frame equal to the last one writes nothing.
func TestPainter(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, size := range [][2]int{{80, 24}, {40, 10}, {300, 100}, {1, 1}} {
		w, h := size[0], size[1]
		var p painter
		v := newVT(w, h)
		v.write(t, []byte(screenEnter))
		g := NewGrid(w, h)
		for i := range 40 {
			if i%10 == 0 {
				g.Clear()
				randomGrid(r, g, 0.7)
			} else {
				randomGrid(r, g, 0.02) // a few cells change
			}
			cursor := i%7 == 3
			out := p.frame(g, cursor, i%w, i%h)
			v.write(t, out)
			if !v.equal(g) {
				t.Fatalf("%dx%d frame %d: the terminal differs from the grid", w, h, i)
			}
			if v.cursorOn != cursor || (cursor && (v.x != i%w || v.y != i%h)) {
				t.Fatalf("frame %d: cursor on %v at (%d, %d), want %v at (%d, %d)", i, v.cursorOn, v.x, v.y, cursor, i%w, i%h)
			}
			if len(out) > 0 && (!bytes.HasPrefix(out, []byte(ansiSyncBegin)) || !bytes.HasSuffix(out, []byte(ansiSyncEnd))) {
				t.Fatalf("frame %d is not one synchronized update", i)
			}
			if again := p.frame(g, cursor, i%w, i%h); len(again) != 0 {
				t.Fatalf("an unchanged frame wrote %q", again)
			}
		}
		// After invalidate, everything is drawn again from a clear screen.
		p.invalidate()
		v.clear()
		v.write(t, p.frame(g, false, 0, 0))
		if !v.equal(g) {
			t.Fatal("repaint after invalidate differs")
		}
	}
}

// TestPainterMinimal checks that one changed cell costs one CUP and one
// character, and that a few unchanged cells are rewritten rather than
// skipped with a CUP.
func TestPainterMinimal(t *testing.T) {
	var p painter
	g := NewGrid(80, 24)
	p.frame(g, false, 0, 0)
	g.Set(10, 5, 'x')
	out := string(p.frame(g, false, 0, 0))
	if want := ansiSyncBegin + "\x1b[6;11Hx" + ansiSyncEnd; out != want {
		t.Errorf("one cell: %q, want %q", out, want)
	}
	g.Set(11, 5, 'y')
	g.Set(14, 5, 'z')
	out = string(p.frame(g, false, 0, 0))
	if want := ansiSyncBegin + "y  z" + ansiSyncEnd; out != want {
		t.Errorf("a short gap: %q, want %q", out, want)
	}
	g.SetAttr(0, 3, 7, AttrReverse)
	out = string(p.frame(g, false, 0, 0))
	if want := ansiSyncBegin + "\x1b[8;1H\x1b[7m   " + ansiSyncEnd; out != want {
		t.Errorf("reverse run: %q, want %q", out, want)
	}
}

// fakeTerm is a Terminal for RunScreen: keys come from a pipe, frames are
// applied to a vt and announced on frames.
type fakeTerm struct {
	t        *testing.T
	in       *io.PipeReader
	keys     *io.PipeWriter
	mu       sync.Mutex
	vt       *vt
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
	return &fakeTerm{t: t, in: r, keys: wr, vt: newVT(w, h), w: w, h: h, resized: make(chan struct{}, 1), frames: make(chan int, 1000)}
}

func (f *fakeTerm) Read(p []byte) (int, error) { return f.in.Read(p) }
func (f *fakeTerm) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.out.Write(p)
	f.writes++
	if err := f.vt.apply(p); err != nil && f.err == nil {
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
	g := Grid{W: f.vt.w, H: f.vt.h, Cells: f.vt.cells}
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

// runFake runs RunScreen on a fake terminal in the background.
func runFake(t *testing.T, f *fakeTerm, snaps chan *table.Snapshot, cfg ScreenConfig) (context.CancelFunc, <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- RunScreen(ctx, f, snaps, cfg) }()
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
		t.Fatal("RunScreen did not return")
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

func numericConfig() ScreenConfig {
	st := DefaultUIState()
	st.DNS, st.PortNames = false, false
	st.View.Ports = table.PortsOn
	return ScreenConfig{State: st, Listening: "Listening on eth0", Version: "test"}
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
	if !bytes.HasPrefix(f.out.Bytes(), []byte(screenEnter)) {
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
	if !f.vt.cursorOn {
		t.Error("no cursor in the prompt")
	}
	f.send("port foo\r")
	f.waitScreen("the filter error", func(s string) bool { return strings.HasPrefix(s, " unknown port 'foo' ") })
	f.send("f\x15udp\r")
	f.waitScreen("the new filter", func(s string) bool { return strings.HasPrefix(s, " Installed new filter ") })
	if strings.Join(installed, ",") != "port foo,udp" {
		t.Errorf("installed %q", installed)
	}
	if f.vt.cursorOn {
		t.Error("cursor left on after the prompt")
	}
	f.send("f\t")
	f.waitScreen("a beep", func(string) bool { f.mu.Lock(); defer f.mu.Unlock(); return f.vt.bells == 1 })
	f.send("\x1b")
	time.Sleep(2 * EscTimeout) // a lone Esc is a key after the timeout
	f.waitScreen("the prompt to close", func(s string) bool { return !strings.HasPrefix(s, "Net filter>") })

	// Resize: drawn again at the new size.
	f.mu.Lock()
	f.w, f.h = 100, 30
	f.vt.resize(100, 30)
	f.mu.Unlock()
	f.resized <- struct{}{}
	f.waitScreen("the 100x30 frame", func(s string) bool {
		rows := strings.Split(s, "\n")
		return len(rows) == 31 && strings.HasPrefix(rows[29], "TOTAL:") && strings.Index(rows[27], "rates:") == 68
	})
	f.mu.Lock()
	f.w, f.h = 30, 5
	f.vt.resize(30, 5)
	f.mu.Unlock()
	f.resized <- struct{}{}
	f.waitScreen("the notice", func(s string) bool { return strings.HasPrefix(s, "terminal too small") })

	// The end of the file: the last frame stays, with a hint.
	f.mu.Lock()
	f.w, f.h = 80, 24
	f.vt.resize(80, 24)
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
	if !bytes.HasSuffix(f.out.Bytes(), []byte(screenLeave)) || f.restores != 1 {
		t.Errorf("not restored: ends %q, %d restores", f.out.String()[f.out.Len()-30:], f.restores)
	}
	if f.vt.alt || !f.vt.cursorOn || !f.vt.wrap || f.vt.sync {
		t.Errorf("terminal left with alt %v cursor %v wrap %v sync %v", f.vt.alt, f.vt.cursorOn, f.vt.wrap, f.vt.sync)
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
		if err := waitDone(t, done); err != nil || f.restores != 1 || f.vt.alt {
			t.Errorf("err %v, restores %d, alt %v", err, f.restores, f.vt.alt)
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
			RunScreen(context.Background(), f, snaps, cfg)
		}()
		if recovered == nil {
			t.Fatal("no panic")
		}
		if !bytes.HasSuffix(f.out.Bytes(), []byte(screenLeave)) || f.restores != 1 || f.vt.alt {
			t.Errorf("a panic left the terminal as it was: restores %d, alt %v", f.restores, f.vt.alt)
		}
		f.keys.Close()
	})
}

type panicNamer struct{}

func (panicNamer) Name(netip.Addr) (string, bool) { panic("namer") }

// TestRunScreenMessageExpiry checks that a hint goes after MsgTime and a
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
	now = now.Add(MsgTime)
	mu.Unlock()
	f.waitScreen("the hint to go", func(s string) bool { return !strings.HasPrefix(s, " Listening") })
	f.send("o")
	f.waitScreen("a sticky hint", func(s string) bool { return strings.HasPrefix(s, " Order frozen ") })
	mu.Lock()
	now = now.Add(10 * MsgTime)
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
	s := bigSnapshot(100_000)
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

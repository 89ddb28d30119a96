package screen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/crash"
	"github.com/fastop/fastop/table/group"
)

// Terminal is what the screen draws on: a terminal in raw mode (TTY), or a
// fake in tests. Reads return the bytes keys send; each frame is one Write.
type Terminal interface {
	io.ReadWriter
	// Size returns the terminal's columns and rows.
	Size() (w, h int, err error)
	// Resized delivers a value after the terminal changed size (SIGWINCH);
	// several changes may arrive as one.
	Resized() <-chan struct{}
	// Restore takes the terminal out of raw mode. Run calls it on
	// every way out; it must be safe to call more than once.
	Restore() error
}

// Config configures Run.
type Config struct {
	State        UIState          // the state at start, from the options and ~/.iftoprc
	MaxBandwidth float64          // -m: a fixed scale in bits/s; 0: automatic
	Bytes        bool             // -B
	Namer        naming.Namer     // host names while State.DNS (a *Resolver); nil: addresses only
	Services     *naming.Services // service names while State.PortNames; nil: numeric
	Prefixes     group.Prefixes   // --group-prefix: network rows' prefix lengths; zero: /24 and /64
	ASCII        bool             // draw rules in ASCII (the locale is not UTF-8; see UTF8Locale)
	Live         bool             // a live capture: always show the drop counter
	Version      string           // on the help screen

	// Listening is the first status hint ("Listening on eth0"); it goes
	// away after msgTime like any other.
	Listening string
	// EndMsg is shown, until replaced, when snaps is closed (the end of a
	// capture file); "" shows nothing.
	EndMsg string
	// SetFilter installs a new capture filter for the f key, keeping the
	// counts; its error text is shown as the status hint. nil: the filter
	// cannot change, and f says so.
	SetFilter func(expr string) error
	// Redraw asks for a new frame without a new snapshot: a host name
	// arrived (Resolver.Updated). nil: never.
	Redraw <-chan struct{}
	// Export says how an exporter fares (IPFIX's errors); the screen asks
	// at every snapshot and notes errors on the health rule. nil: none.
	Export func() ExportStatus

	// Now is the clock for status hints; nil means time.Now.
	Now func() time.Time
}

// errNoFilterChange is the f key's answer when the capture cannot take a new
// filter.
var errNoFilterChange = errors.New("the filter cannot be changed on this capture")

// Run shows the full screen on t until q, Ctrl-C, the end of ctx, or
// an error on the terminal. Snapshots arrive on snaps, one per tick; when
// snaps is closed the last one stays up until q. It writes the alternate
// screen and hides the cursor at start, and on every way out (a panic
// included) shows the cursor, leaves the alternate screen and restores the
// terminal's mode. One goroutine (the caller's) owns the terminal; another
// only reads keys.
func Run(ctx context.Context, t Terminal, snaps <-chan *table.Snapshot, cfg Config) error {
	w, h, err := t.Size()
	if err != nil {
		t.Restore()
		return fmt.Errorf("read the terminal size: %w", err)
	}
	s := newScreen(t, cfg, w, h)
	defer func() {
		// Deferred calls run while a panic unwinds, so this covers panics
		// on this goroutine too.
		t.Write([]byte(term.LeaveScreen))
		t.Restore()
	}()
	if _, err := t.Write([]byte(term.EnterScreen)); err != nil {
		return fmt.Errorf("write to the terminal: %w", err)
	}

	done := make(chan struct{})
	defer close(done)
	keys := make(chan []byte, 16)
	readErr := make(chan error, 1)
	go readTerminal(t, keys, readErr, done)

	ticker := time.NewTicker(200 * time.Millisecond)
	defer ticker.Stop()
	esc := time.NewTimer(time.Hour)
	esc.Stop()
	defer esc.Stop()
	var kbuf []term.Key

	for {
		if s.dirty && len(keys) == 0 {
			if err := s.draw(); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case snap, ok := <-snaps:
			if !ok {
				snaps = nil
				if cfg.EndMsg != "" {
					s.st.Msg, s.st.MsgSticky = cfg.EndMsg, true
					s.dirty = true
				}
				continue
			}
			s.onSnapshot(snap)
		case b := <-keys:
			kbuf = s.kr.Feed(kbuf[:0], b)
			if s.kr.Pending() {
				esc.Reset(term.EscTimeout)
			}
			if s.onKeys(kbuf) {
				return nil
			}
		case <-esc.C:
			if s.onKeys(s.kr.Flush(kbuf[:0])) {
				return nil
			}
		case err := <-readErr:
			if errors.Is(err, io.EOF) {
				return errors.New("the terminal was closed")
			}
			return fmt.Errorf("read from the terminal: %w", err)
		case <-t.Resized():
			if w, h, err := t.Size(); err == nil {
				s.grid.Resize(w, h)
			}
			s.p.Invalidate()
			s.dirty = true
		case <-cfg.Redraw:
			s.dirty = true
		case <-ticker.C:
			s.onTimer()
		}
	}
}

// readTerminal sends what t reads to keys until an error or done.
func readTerminal(t Terminal, keys chan<- []byte, readErr chan<- error, done <-chan struct{}) {
	defer crash.Guard()
	for {
		buf := make([]byte, 256)
		n, err := t.Read(buf)
		if n > 0 {
			select {
			case keys <- buf[:n]:
			case <-done:
				return
			}
		}
		if err != nil {
			select {
			case readErr <- err:
			case <-done:
			}
			return
		}
	}
}

// screen is the state of Run's loop.
type screen struct {
	t      Terminal
	cfg    Config
	now    func() time.Time
	st     UIState
	latest *table.Snapshot // the newest snapshot
	shown  *table.Snapshot // what the rows show: latest, or the one P paused on
	frozen []table.Key
	scale  autoScale
	drops  uint64 // dropped in the last tick
	export ExportStatus
	expNew bool // export.Errors rose at the last snapshot
	msgAt  time.Time
	kr     term.KeyReader
	r      renderer
	grid   term.Grid
	p      term.Painter
	dirty  bool
	tick   bool // a new snapshot: move the automatic scale after drawing it
	info   renderInfo
}

func newScreen(t Terminal, cfg Config, w, h int) *screen {
	s := &screen{t: t, cfg: cfg, now: cfg.Now, st: cfg.State, dirty: true}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.Listening != "" {
		s.st.Msg, s.st.MsgSticky = cfg.Listening, false
		s.msgAt = s.now()
	}
	s.grid.Resize(w, h)
	return s
}

func (s *screen) frame() frame {
	return frame{
		Snap:         s.shown,
		Totals:       s.latest,
		State:        &s.st,
		Scale:        s.scale.Max(),
		MaxBandwidth: s.cfg.MaxBandwidth,
		Bytes:        s.cfg.Bytes,
		Frozen:       s.frozen,
		Namer:        s.cfg.Namer,
		Services:     s.cfg.Services,
		Prefixes:     s.cfg.Prefixes,
		ASCII:        s.cfg.ASCII,
		Live:         s.cfg.Live,
		DroppedTick:  s.drops,
		Version:      s.cfg.Version,
		Export:       s.export,
		ExportNew:    s.expNew,
	}
}

// draw renders the state and writes what changed.
func (s *screen) draw() error {
	f := s.frame()
	s.info = s.r.Render(&s.grid, &f)
	if s.tick {
		s.tick = false
		next := s.scale.Tick(s.info.Need)
		changed := next.Max() != s.scale.Max()
		s.scale = next
		if changed && s.cfg.MaxBandwidth <= 0 {
			f.Scale = s.scale.Max()
			s.info = s.r.Render(&s.grid, &f)
		}
	}
	if last := max(s.info.Rows-1, 0); s.st.Scroll > last {
		s.st.Scroll = last
	}
	out := s.p.Frame(&s.grid, s.info.Cursor, s.info.CursorX, s.info.CursorY)
	s.dirty = false
	if len(out) == 0 {
		return nil
	}
	if _, err := s.t.Write(out); err != nil {
		return fmt.Errorf("write to the terminal: %w", err)
	}
	return nil
}

func (s *screen) onSnapshot(snap *table.Snapshot) {
	if s.latest != nil && snap.Dropped >= s.latest.Dropped {
		s.drops = snap.Dropped - s.latest.Dropped
	} else {
		s.drops = snap.Dropped
	}
	s.latest = snap
	if s.cfg.Export != nil {
		e := s.cfg.Export()
		s.expNew = e.Errors > s.export.Errors
		s.export = e
	}
	if !s.st.Paused || s.shown == nil {
		s.shown = snap
	}
	s.tick = true
	s.dirty = true
}

// onKeys applies keys; it reports whether to quit.
func (s *screen) onKeys(keys []term.Key) bool {
	for _, k := range keys {
		wasPaused := s.st.Paused
		var a action
		s.st, a = s.st.key(k)
		if a.Quit {
			return true
		}
		if a.Suspend {
			s.suspend()
		}
		if a.CycleLink {
			s.st, a = s.st.cycleLink(s.linkNames())
		}
		if a.SetFilter {
			err := errNoFilterChange
			if s.cfg.SetFilter != nil {
				err = s.cfg.SetFilter(a.Filter)
			}
			s.st, a = s.st.filterResult(a.Filter, err)
		}
		if a.NewMsg {
			s.msgAt = s.now()
		}
		if wasPaused && !s.st.Paused {
			s.shown = s.latest
		}
		if a.Freeze {
			f := s.frame()
			s.frozen = s.r.Order(&f)
		} else if !s.st.Frozen {
			s.frozen = nil
		}
		if a.Repaint {
			s.p.Invalidate()
		}
		if a.Beep {
			s.t.Write([]byte(term.Bell))
		}
		s.dirty = true
	}
	return false
}

// linkNames lists the links of the latest snapshot, for the I key.
func (s *screen) linkNames() []string {
	if s.latest == nil {
		return nil
	}
	names := make([]string, len(s.latest.Interfaces))
	for i := range s.latest.Interfaces {
		names[i] = s.latest.Interfaces[i].Name
	}
	return names
}

// suspender is a Terminal that can stop the process (TTY.Suspend).
type suspender interface {
	Suspend() error
}

// suspend is Ctrl-Z: leave the alternate screen, stop until continued,
// then take the screen again and draw it in full. A terminal that cannot
// stop the process keeps the screen as it is.
func (s *screen) suspend() {
	sp, ok := s.t.(suspender)
	if !ok {
		return
	}
	s.t.Write([]byte(term.LeaveScreen))
	if err := sp.Suspend(); err != nil {
		s.st.Msg, s.st.MsgSticky = "Cannot suspend: "+err.Error(), false
		s.msgAt = s.now()
	}
	s.t.Write([]byte(term.EnterScreen))
	if w, h, err := s.t.Size(); err == nil {
		s.grid.Resize(w, h)
	}
	s.p.Invalidate()
}

func (s *screen) onTimer() {
	if s.st.Msg != "" && !s.st.MsgSticky && s.now().Sub(s.msgAt) >= msgTime {
		s.st = s.st.expireMsg()
		s.dirty = true
	}
}

// Package vt is a test helper: a terminal emulator for exactly the
// sequences display/term writes, so tests can check that the bytes a
// painter or the screen wrote show the intended grid.
package vt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fastop/fastop/display/term"
)

// VT is a small terminal emulator for the sequences the screen writes (and
// nothing else: an unknown sequence fails the test). Applying the painter's
// output to it must give back the grid.
type VT struct {
	W, H     int
	Cells    []term.Cell
	X, Y     int // the cursor
	Attr     term.Attr
	CursorOn bool // DECTCEM
	Alt      bool // the alternate screen
	Wrap     bool // DECAWM
	Sync     bool // inside a synchronized update
	Bells    int
}

// New returns a w×h terminal as it starts: blank, cursor shown, autowrap on.
func New(w, h int) *VT {
	v := &VT{W: w, H: h, CursorOn: true, Wrap: true}
	v.Cells = make([]term.Cell, w*h)
	v.Clear()
	return v
}

// Clear blanks every cell (ED 2).
func (v *VT) Clear() {
	for i := range v.Cells {
		v.Cells[i] = term.Cell{R: ' '}
	}
}

// Resize makes the terminal w×h and blank.
func (v *VT) Resize(w, h int) {
	v.W, v.H = w, h
	v.Cells = make([]term.Cell, w*h)
	v.Clear()
}

// Write applies b and fails the test at the first thing it does not expect.
func (v *VT) Write(t testing.TB, b []byte) {
	t.Helper()
	if err := v.Apply(b); err != nil {
		t.Fatal(err)
	}
}

// Apply interprets b; it reports the first thing it does not expect.
func (v *VT) Apply(b []byte) error {
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
			v.Bells++
			b = b[1:]
		case b[0] < 0x20 || b[0] == 0x7f:
			return fmt.Errorf("control byte %#x written", b[0])
		default:
			r, n := utf8.DecodeRune(b)
			if v.X < v.W && v.Y < v.H {
				v.Cells[v.Y*v.W+v.X] = term.Cell{R: r, A: v.Attr}
			}
			if v.X < v.W-1 {
				v.X++
			} else if v.Wrap {
				return errors.New("wrote the last column with autowrap on")
			}
			b = b[n:]
		}
	}
	return nil
}

func (v *VT) csi(params string, final byte) error {
	switch {
	case final == 'H':
		v.X, v.Y = 0, 0
		if params != "" {
			r, c, ok := strings.Cut(params, ";")
			row, err1 := strconv.Atoi(r)
			col, err2 := strconv.Atoi(c)
			if !ok || err1 != nil || err2 != nil || row < 1 || col < 1 || row > v.H || col > v.W {
				return fmt.Errorf("bad CUP %q on %dx%d", params, v.W, v.H)
			}
			v.X, v.Y = col-1, row-1
		}
	case final == 'J' && params == "2":
		v.Clear()
	case final == 'm' && params == "0":
		v.Attr = term.AttrNormal
	case final == 'm' && params == "7":
		v.Attr = term.AttrReverse
	case final == 'h' || final == 'l':
		on := final == 'h'
		switch params {
		case "?25":
			v.CursorOn = on
		case "?1049":
			v.Alt = on
			v.Clear()
		case "?7":
			v.Wrap = on
		case "?2026":
			if on && v.Sync {
				return errors.New("synchronized output begun twice")
			}
			v.Sync = on // an end without a begin is harmless (screenLeave)
		default:
			return fmt.Errorf("unknown mode %q", params)
		}
	default:
		return fmt.Errorf("unknown sequence CSI %q %c", params, final)
	}
	return nil
}

// Equal reports whether the terminal shows exactly g.
func (v *VT) Equal(g *term.Grid) bool {
	if v.W != g.W || v.H != g.H {
		return false
	}
	for i, c := range g.Cells {
		if v.Cells[i] != c {
			return false
		}
	}
	return true
}

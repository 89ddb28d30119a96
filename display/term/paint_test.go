package term_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/fastop/fastop/display/internal/vt"
	"github.com/fastop/fastop/display/term"
)

// The synchronized-output brackets every frame must be wrapped in.
const (
	syncBegin = "\x1b[?2026h"
	syncEnd   = "\x1b[?2026l"
)

// randomGrid fills g with random text, some glyphs and reverse runs.
func randomGrid(r *rand.Rand, g *term.Grid, density float64) {
	runes := []rune("abc 01.:─└┴")
	for i := range g.Cells {
		if r.Float64() < density {
			g.Cells[i] = term.Cell{R: runes[r.IntN(len(runes))], A: term.Attr(r.IntN(2))}
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
		var p term.Painter
		v := vt.New(w, h)
		v.Write(t, []byte(term.EnterScreen))
		g := term.NewGrid(w, h)
		for i := range 40 {
			if i%10 == 0 {
				g.Clear()
				randomGrid(r, g, 0.7)
			} else {
				randomGrid(r, g, 0.02) // a few cells change
			}
			cursor := i%7 == 3
			out := p.Frame(g, cursor, i%w, i%h)
			v.Write(t, out)
			if !v.Equal(g) {
				t.Fatalf("%dx%d frame %d: the terminal differs from the grid", w, h, i)
			}
			if v.CursorOn != cursor || (cursor && (v.X != i%w || v.Y != i%h)) {
				t.Fatalf("frame %d: cursor on %v at (%d, %d), want %v at (%d, %d)", i, v.CursorOn, v.X, v.Y, cursor, i%w, i%h)
			}
			if len(out) > 0 && (!bytes.HasPrefix(out, []byte(syncBegin)) || !bytes.HasSuffix(out, []byte(syncEnd))) {
				t.Fatalf("frame %d is not one synchronized update", i)
			}
			if again := p.Frame(g, cursor, i%w, i%h); len(again) != 0 {
				t.Fatalf("an unchanged frame wrote %q", again)
			}
		}
		// After invalidate, everything is drawn again from a clear screen.
		p.Invalidate()
		v.Clear()
		v.Write(t, p.Frame(g, false, 0, 0))
		if !v.Equal(g) {
			t.Fatal("repaint after invalidate differs")
		}
	}
}

// TestPainterMinimal checks that one changed cell costs one CUP and one
// character, and that a few unchanged cells are rewritten rather than
// skipped with a CUP.
func TestPainterMinimal(t *testing.T) {
	var p term.Painter
	g := term.NewGrid(80, 24)
	p.Frame(g, false, 0, 0)
	g.Set(10, 5, 'x')
	out := string(p.Frame(g, false, 0, 0))
	if want := syncBegin + "\x1b[6;11Hx" + syncEnd; out != want {
		t.Errorf("one cell: %q, want %q", out, want)
	}
	g.Set(11, 5, 'y')
	g.Set(14, 5, 'z')
	out = string(p.Frame(g, false, 0, 0))
	if want := syncBegin + "y  z" + syncEnd; out != want {
		t.Errorf("a short gap: %q, want %q", out, want)
	}
	g.SetAttr(0, 3, 7, term.AttrReverse)
	out = string(p.Frame(g, false, 0, 0))
	if want := syncBegin + "\x1b[8;1H\x1b[7m   " + syncEnd; out != want {
		t.Errorf("reverse run: %q, want %q", out, want)
	}
}

// TestPaintUnchangedAllocs checks that painting an unchanged frame costs
// no allocation (and no bytes).
func TestPaintUnchangedAllocs(t *testing.T) {
	g := term.NewGrid(300, 100)
	randomGrid(newRand(), g, 0.8)
	var p term.Painter
	p.Frame(g, false, 0, 0)
	allocs := testing.AllocsPerRun(100, func() {
		if len(p.Frame(g, false, 0, 0)) != 0 {
			t.Fatal("bytes written")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per unchanged frame", allocs)
	}
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(9, 9)) }

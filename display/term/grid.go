package term

import "unicode/utf8"

// Attr is the video attribute of a cell. The screen uses only reverse video,
// as iftop does (bars, the status hint).
type Attr uint8

// Values of Attr.
const (
	AttrNormal  Attr = 0
	AttrReverse Attr = 1
)

// Cell is one character cell: a rune that takes one column (ASCII or a
// box-drawing glyph; names are cleaned to ASCII before they get here) and
// its attribute.
type Cell struct {
	R rune
	A Attr
}

var blankCell = Cell{R: ' '}

// Grid is a frame: W×H cells, row-major. Render fills one; the painter
// compares it with the previous one and writes only what changed.
type Grid struct {
	W, H  int
	Cells []Cell
}

// NewGrid returns a blank w×h grid.
func NewGrid(w, h int) *Grid {
	g := &Grid{}
	g.Resize(w, h)
	return g
}

// Resize makes g w×h and blank, reusing its memory.
func (g *Grid) Resize(w, h int) {
	w, h = max(w, 0), max(h, 0)
	g.W, g.H = w, h
	if cap(g.Cells) < w*h {
		g.Cells = make([]Cell, w*h)
	}
	g.Cells = g.Cells[:w*h]
	g.Clear()
}

// Clear makes every cell a blank in normal video.
func (g *Grid) Clear() {
	for i := range g.Cells {
		g.Cells[i] = blankCell
	}
}

// At returns the cell at (x, y); a blank outside the grid.
func (g *Grid) At(x, y int) Cell {
	if x < 0 || y < 0 || x >= g.W || y >= g.H {
		return blankCell
	}
	return g.Cells[y*g.W+x]
}

// Row returns row y's cells (nil outside the grid).
func (g *Grid) Row(y int) []Cell {
	if y < 0 || y >= g.H {
		return nil
	}
	return g.Cells[y*g.W : (y+1)*g.W]
}

// Set puts r at (x, y), keeping the attribute; outside the grid it does
// nothing.
func (g *Grid) Set(x, y int, r rune) {
	if x < 0 || y < 0 || x >= g.W || y >= g.H {
		return
	}
	g.Cells[y*g.W+x].R = r
}

// PutBytes writes text from (x, y) rightwards, clipped to the grid. The
// text is expected to be ASCII; any other byte shows as '?', so nothing
// that reaches the terminal can act as a control sequence.
func (g *Grid) PutBytes(x, y int, b []byte) {
	row := g.Row(y)
	for i, c := range b {
		if x+i < 0 {
			continue
		}
		if x+i >= len(row) {
			return
		}
		if c < 0x20 || c >= 0x7f {
			c = '?'
		}
		row[x+i].R = rune(c)
	}
}

// PutString is PutBytes for a string.
func (g *Grid) PutString(x, y int, s string) {
	row := g.Row(y)
	for i := 0; i < len(s); i++ {
		if x+i < 0 {
			continue
		}
		if x+i >= len(row) {
			return
		}
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			c = '?'
		}
		row[x+i].R = rune(c)
	}
}

// Fill puts r in the cells [x0, x1) of row y.
func (g *Grid) Fill(x0, x1, y int, r rune) {
	row := g.Row(y)
	x0, x1 = max(x0, 0), min(x1, len(row))
	for x := x0; x < x1; x++ {
		row[x].R = r
	}
}

// SetAttr gives the cells [x0, x1) of row y the attribute a.
func (g *Grid) SetAttr(x0, x1, y int, a Attr) {
	row := g.Row(y)
	x0, x1 = max(x0, 0), min(x1, len(row))
	for x := x0; x < x1; x++ {
		row[x].A = a
	}
}

// ClearRow blanks row y.
func (g *Grid) ClearRow(y int) {
	row := g.Row(y)
	for i := range row {
		row[i] = blankCell
	}
}

// AppendText appends the grid as text, one line per row with trailing
// blanks trimmed (as tmux capture-pane prints a pane). When marks is set,
// reverse-video spans are wrapped in the visible text "^[[7m" and "^[[0m",
// the way cat -v shows the escape sequences, so golden files stay readable
// and diffable.
func (g *Grid) AppendText(dst []byte, marks bool) []byte {
	for y := 0; y < g.H; y++ {
		row := g.Row(y)
		end := len(row)
		for end > 0 && row[end-1] == blankCell {
			end--
		}
		rev := false
		for x := 0; x < end; x++ {
			c := row[x]
			if marks && (c.A == AttrReverse) != rev {
				rev = !rev
				if rev {
					dst = append(dst, "^[[7m"...)
				} else {
					dst = append(dst, "^[[0m"...)
				}
			}
			dst = utf8.AppendRune(dst, c.R)
		}
		if rev {
			dst = append(dst, "^[[0m"...)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// String returns the grid as plain text (AppendText without marks).
func (g *Grid) String() string { return string(g.AppendText(nil, false)) }

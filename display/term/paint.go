package term

import "unicode/utf8"

// Painter turns frames into the bytes that bring the terminal from the
// previous frame to the next: it keeps the cells the terminal shows (front)
// and writes only the cells that differ, moving the cursor with CUP only
// where the next change is not where the cursor already is and changing SGR
// only where the attribute changes. A frame that changes nothing writes
// nothing; any other is wrapped in synchronized output.
type Painter struct {
	front      Grid
	valid      bool // front is what the terminal shows
	buf        []byte
	attr       Attr // the terminal's SGR state
	cx, cy     int  // the cursor, when known
	known      bool
	cursorOn   bool // the cursor is visible
	curX, curY int  // where it was shown
}

// Invalidate makes the next frame clear the terminal and draw every cell
// (after a resize, ^L, or when the terminal's contents are unknown). The
// zero Painter starts invalid.
func (p *Painter) Invalidate() { p.valid = false }

// maxGap is the longest run of unchanged cells rewritten rather than
// skipped with a CUP (which costs at least 6 bytes).
const maxGap = 4

// Frame returns the bytes that show back, with the cursor shown at
// (cx, cy) when cursor is set and hidden otherwise. The slice is reused by
// the next call.
func (p *Painter) Frame(back *Grid, cursor bool, cx, cy int) []byte {
	p.buf = append(p.buf[:0], ansiSyncBegin...)
	head := len(p.buf)
	if !p.valid || p.front.W != back.W || p.front.H != back.H {
		p.front.Resize(back.W, back.H)
		p.buf = append(p.buf, ansiReset+ansiClear...)
		p.attr, p.known, p.valid = AttrNormal, false, true
		p.cursorOn = true // unknown: state it again below
	}
	w := back.W
	for y := 0; y < back.H; y++ {
		brow, frow := back.Row(y), p.front.Row(y)
		for x := 0; x < w; x++ {
			c := brow[x]
			if c == frow[x] {
				continue
			}
			p.moveTo(x, y, brow, frow)
			p.put(c)
			frow[x] = c
			if p.cx >= w {
				p.known = false // the cursor sits in the pending-wrap state
			}
		}
	}
	switch {
	case cursor:
		if !p.cursorOn || p.curX != cx || p.curY != cy || len(p.buf) > head {
			p.buf = appendCUP(p.buf, cx, cy)
			p.cx, p.cy, p.known = cx, cy, true
			if !p.cursorOn {
				p.buf = append(p.buf, ansiShowCursor...)
			}
			p.cursorOn, p.curX, p.curY = true, cx, cy
		}
	case p.cursorOn:
		p.buf = append(p.buf, ansiHideCursor...)
		p.cursorOn = false
	}
	if len(p.buf) == head {
		return p.buf[:0]
	}
	return append(p.buf, ansiSyncEnd...)
}

// moveTo brings the cursor to (x, y): nothing when it is there, a rewrite
// of a few unchanged cells on the same row when that is shorter than a CUP,
// else a CUP.
func (p *Painter) moveTo(x, y int, brow, frow []Cell) {
	if p.known && p.cy == y && p.cx == x {
		return
	}
	if p.known && p.cy == y && p.cx < x && x-p.cx <= maxGap {
		ok := true
		for i := p.cx; i < x; i++ {
			if brow[i].A != p.attr || brow[i].R >= utf8.RuneSelf {
				ok = false
				break
			}
		}
		if ok {
			for i := p.cx; i < x; i++ {
				p.buf = append(p.buf, byte(brow[i].R))
				frow[i] = brow[i]
			}
			p.cx = x
			return
		}
	}
	p.buf = appendCUP(p.buf, x, y)
	p.cx, p.cy, p.known = x, y, true
}

// put writes one cell at the cursor.
func (p *Painter) put(c Cell) {
	if c.A != p.attr {
		if c.A == AttrReverse {
			p.buf = append(p.buf, ansiReverse...)
		} else {
			p.buf = append(p.buf, ansiReset...)
		}
		p.attr = c.A
	}
	if c.R < utf8.RuneSelf {
		p.buf = append(p.buf, byte(c.R))
	} else {
		p.buf = utf8.AppendRune(p.buf, c.R)
	}
	p.cx++
}

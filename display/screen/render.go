package screen

import (
	"math"
	"strconv"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

// Screen size limits. Any size from minWidth×minHeight up is laid out as
// iftop lays it out; a smaller terminal shows one line saying so.
const (
	minWidth  = 40
	minHeight = 10
	// maxHostWidth caps a host field, as iftop does.
	maxHostWidth = 256
)

// tooSmall is the notice shown on a terminal below minWidth×minHeight.
const tooSmall = "terminal too small: fastop needs 40x10"

// frame is everything one frame is drawn from. Render is a function of it
// and the grid's size alone.
type frame struct {
	Snap   *table.Snapshot // rows, rates and peaks; nil before the first tick
	Totals *table.Snapshot // cumulative totals and capture health: the latest snapshot, newer than Snap while paused; nil: Snap
	State  *UIState        // nil: DefaultUIState

	Scale        float64     // the automatic scale's maximum (autoScale.Max), bits/s
	MaxBandwidth float64     // a fixed scale (-m), bits/s; 0: automatic
	Bytes        bool        // -B: rates and scale in bytes
	Frozen       []table.Key // the kept order while State.Frozen; nil: sort

	Namer    naming.Namer     // host names while State.DNS
	Services *naming.Services // service names while State.PortNames; nil: numeric
	Prefixes group.Prefixes   // network rows' prefix lengths (State.Group); zero: /24 and /64

	ASCII       bool   // rules drawn with - and + (a terminal that is not UTF-8)
	Live        bool   // a live capture: the drop counter is always shown
	DroppedTick uint64 // frames the kernel dropped in the last tick
	Version     string // on the help screen

	Export    ExportStatus // an exporter's errors, for the health note
	ExportNew bool         // its error count rose in the last tick
}

// renderInfo is what the screen loop learns from a frame.
type renderInfo struct {
	Rows    int     // rows that pass the screen filter; the scroll stops at the last
	Need    float64 // the largest bar value, bits/s: what the automatic scale must hold
	Max     float64 // the scale maximum the frame used, bits/s
	Cursor  bool    // the line editor is open: show the cursor at (CursorX, CursorY)
	CursorX int
	CursorY int
}

// glyphs are the rule characters: what iftop's ACS characters look like on
// a UTF-8 terminal, or their ASCII stand-ins.
type glyphs struct{ h, corner, tee rune }

var (
	utf8Glyphs  = glyphs{'─', '└', '┴'}
	asciiGlyphs = glyphs{'-', '+', '+'}
)

// renderer draws frames. It keeps scratch memory between frames (the rows
// of a large table are aggregated into the same slice every time); the
// picture depends only on the frame and the grid size. A renderer is not
// safe for concurrent use.
type renderer struct {
	rows   []table.Flow
	frozen []table.Flow
	index  map[table.Key]int
	buf    []byte

	// The rows of aggSnap aggregated under aggView: a key that changes
	// neither (T, L, b, j …) redraws without aggregating again.
	agg     []table.Flow
	aggSnap *table.Snapshot
	aggView table.View
	aggRows group.Config
	aggLink int

	// The one-link view and the rows' link tags (links.go).
	lflows    []table.Flow
	linkSnap  table.Snapshot
	splitSnap *table.Snapshot
	split     bool
	masks     []uint64
	rowIndex  map[table.Key]int
	tbuf      []byte
}

// aggregate returns a copy of s's rows under st's view and row type, which
// the caller may reorder and filter: of every link, or (link ≥ 0) each
// flow's part on that link, without the flows it did not carry.
func (r *renderer) aggregate(s *table.Snapshot, st *UIState, f *frame, link int) []table.Flow {
	v, c := st.View, f.rows(st)
	if s != r.aggSnap || v != r.aggView || c != r.aggRows || link != r.aggLink || r.agg == nil {
		src := s
		if link >= 0 {
			r.linkSnap = table.Snapshot{Window: s.Window, Flows: r.linkFlows(s, link), Interfaces: s.Interfaces}
			src = &r.linkSnap
		}
		r.agg = group.Rows(src, v, c, r.agg)
		r.aggSnap, r.aggView, r.aggRows, r.aggLink = s, v, c, link
	}
	r.rows = append(r.rows[:0], r.agg...)
	return r.rows
}

// hostWidth is iftop's L: (COLS − 28) / 2, 4 less with the cumulative
// column, at most 256.
func hostWidth(w int, totals bool) int {
	l := (w - 24 - 4) / 2
	if totals {
		l -= 4
	}
	return max(min(l, maxHostWidth), 1)
}

// hostStart is the first row of the host area.
func hostStart(bars bool) int {
	if bars {
		return 2
	}
	return 1
}

// pairCapacity is how many pairs fit: a pair starts only while its first
// row is above LINES−5, so a two-line pair may use row LINES−5 and a
// one-line one may not (iftop: 9 two-line or 17 one-line pairs at 24 rows).
func pairCapacity(h, start int, mode table.LineMode) int {
	rows := h - 5 - start
	if rows <= 0 {
		return 0
	}
	if mode == table.TwoLine {
		return (rows + 1) / 2
	}
	return rows
}

// hostFormat returns the formatter for the visible rows, and one that only
// reads names already known (for sorting and filtering every row without
// asking for a lookup of each).
func (f *frame) hostFormat(st *UIState) (show, peek display.HostFormat) {
	if st.DNS && f.Namer != nil {
		show.Namer = f.Namer
		peek.Namer = f.Namer
		if c, ok := f.Namer.(interface{ Cached() naming.Namer }); ok {
			peek.Namer = c.Cached()
		}
	}
	if st.PortNames {
		show.Services, peek.Services = f.Services, f.Services
	}
	show.Group, peek.Group = st.Group, st.Group
	if f.Snap != nil {
		show.Links, peek.Links = f.Snap.Interfaces, f.Snap.Interfaces
	}
	return show, peek
}

var emptySnapshot table.Snapshot

// Render draws f on g (already sized to the terminal) and returns what the
// screen loop needs to know about the frame.
func (r *renderer) Render(g *term.Grid, f *frame) renderInfo {
	g.Clear()
	var info renderInfo
	w, h := g.W, g.H
	if w < minWidth || h < minHeight {
		g.PutString(0, 0, tooSmall)
		return info
	}
	st := f.State
	if st == nil {
		d := DefaultUIState()
		st = &d
	}
	snap := f.Snap
	if snap == nil {
		snap = &emptySnapshot
	}
	tot := f.Totals
	if tot == nil {
		tot = snap
	}
	gl := utf8Glyphs
	if f.ASCII {
		gl = asciiGlyphs
	}
	unit := display.Bits
	if f.Bytes {
		unit = display.Bytes
	}
	show, peek := f.hostFormat(st)
	start := hostStart(st.Bars)
	hw := hostWidth(w, st.Totals)
	// The link strip takes rows above the totals' rule; the flows keep
	// the rows above it (fh is the height they are laid out in).
	strip := stripLines(snap, st, h, start)
	fh := h
	if strip > 0 {
		fh -= strip + 1
	}
	capacity := pairCapacity(fh, start, st.Mode)
	sel := linkIndex(snap, st.Link)
	noRows := sel >= 0 && len(snap.Flows) > 0 && !r.hasSplit(snap)
	if noRows {
		capacity = 0
	}

	rows, total := r.selectRows(snap, st, f, &peek, hw, capacity, sel)
	info.Rows = total

	// The scale must hold every bar this frame draws.
	need := math.Max(barBits(snap, &snap.TX, st.BarWin), barBits(snap, &snap.RX, st.BarWin))
	for i := range rows {
		fl := &rows[i]
		switch st.Mode {
		case table.TwoLine:
			need = math.Max(need, math.Max(barBits(snap, &fl.Sent, st.BarWin), barBits(snap, &fl.Recv, st.BarWin)))
		case table.OneLineBoth:
			need = math.Max(need, barBits(snap, &fl.Sent, st.BarWin)+barBits(snap, &fl.Recv, st.BarWin))
		case table.OneLineRecv:
			need = math.Max(need, barBits(snap, &fl.Recv, st.BarWin))
		case table.OneLineSent:
			need = math.Max(need, barBits(snap, &fl.Sent, st.BarWin))
		}
	}
	info.Need = need
	scaleMax := f.MaxBandwidth
	if scaleMax <= 0 {
		scaleMax = fitScale(math.Max(f.Scale, scaleSteps[0]), need)
	}
	info.Max = scaleMax

	if st.Bars {
		r.drawScale(g, scaleMax, st.Log, unit, gl)
	} else {
		g.Fill(0, w, 0, gl.h)
	}
	if sel >= 0 && !st.Help && !st.Bonds {
		// Which link the flow list shows, on the scale's rule.
		r.buf = append(r.buf[:0], " flows on "...)
		r.buf = term.AppendClean(r.buf, snap.Interfaces[sel].Name, maxLinkName)
		r.buf = append(r.buf, ' ')
		g.PutBytes(2, start-1, r.buf)
	}

	switch {
	case st.Help:
		drawHelp(g, start, h-5, f.Version)
	case st.Bonds:
		r.drawBonds(g, snap, start, fh-5)
	case noRows:
		g.PutString(0, start, noSplit)
	default:
		var tags []uint64
		if st.Group == group.Host {
			// Rows of another type (g) are not host pairs: no tags.
			tags = r.rowLinks(snap, rows, st.View, sel)
		}
		r.drawRows(g, rows, tags, snap, st, &show, unit, start, fh-5, hw, scaleMax)
	}
	if strip > 0 {
		r.drawStrip(g, snap, st, unit, gl, fh-4, strip, sel)
	}

	r.drawTotals(g, snap, tot, st, unit, scaleMax)
	r.drawHealth(g, tot, f, gl)
	drawRowType(g, st, gl)

	switch {
	case st.Edit != EditNone:
		g.ClearRow(0)
		line, cur := st.Editor.View(w)
		g.PutString(0, 0, line)
		info.Cursor, info.CursorX, info.CursorY = true, min(cur, w-1), 0
	case st.Msg != "":
		r.buf = append(r.buf[:0], ' ')
		r.buf = term.AppendClean(r.buf, st.Msg, w-2)
		r.buf = append(r.buf, ' ')
		n := min(len(r.buf), w)
		g.PutBytes(0, 0, r.buf[:n])
		g.SetAttr(0, n, 0, term.AttrReverse)
	}
	return info
}

// barBits returns a bar's value: the window the bars show, in bits/s.
func barBits(s *table.Snapshot, st *table.Stat, win int) float64 {
	return s.Rate(win, st.Win[win]) * 8
}

// selectRows returns the rows to draw (at most capacity, after the scroll)
// and how many rows pass the screen filter. Rows are aggregated under the
// view, kept in the frozen order or sorted, filtered, and scrolled; only
// the top rows are sorted (SortLimit), so a frame costs O(n log k) for n
// flows. Unlike iftop, the scroll counts the rows that pass the filter.
func (r *renderer) selectRows(s *table.Snapshot, st *UIState, f *frame, peek *display.HostFormat, hw, capacity, link int) ([]table.Flow, int) {
	rows := r.aggregate(s, st, f, link)
	if st.Frozen && f.Frozen != nil {
		rows = r.frozenRows(rows, f.Frozen)
	}
	if st.Filter != nil {
		n := 0
		for i := range rows {
			k := &rows[i].Key
			r.buf = peek.AppendEndpoint(r.buf[:0], k, display.Src, hw)
			ok := st.Filter.Match(r.buf)
			if !ok {
				r.buf = peek.AppendEndpoint(r.buf[:0], k, display.Dst, hw)
				ok = st.Filter.Match(r.buf)
			}
			if ok {
				rows[n] = rows[i]
				n++
			}
		}
		rows = rows[:n]
	}
	total := len(rows)
	// Scrolling past the end keeps the last row on screen (iftop shows
	// nothing, and k must be pressed as often as j was to come back).
	scroll := min(max(st.Scroll, 0), max(total-1, 0))
	if !(st.Frozen && f.Frozen != nil) {
		rows = display.SortLimit(rows, st.Order, st.Mode, peek, scroll+capacity)
	}
	rows = rows[scroll:]
	return rows[:min(len(rows), capacity)], total
}

// frozenRows lists rows in the frozen order: a row that has gone shows as
// zeros, a row that is new is not shown (iftop's o).
func (r *renderer) frozenRows(rows []table.Flow, order []table.Key) []table.Flow {
	if r.index == nil {
		r.index = make(map[table.Key]int, len(rows))
	}
	clear(r.index)
	for i := range rows {
		r.index[rows[i].Key] = i
	}
	r.frozen = r.frozen[:0]
	for _, k := range order {
		if i, ok := r.index[k]; ok {
			r.frozen = append(r.frozen, rows[i])
		} else {
			r.frozen = append(r.frozen, table.Flow{Key: k})
		}
	}
	return r.frozen
}

// Order returns the keys of every row of f in the order the screen shows
// them now: what the o key freezes.
func (r *renderer) Order(f *frame) []table.Key {
	st := f.State
	if st == nil {
		d := DefaultUIState()
		st = &d
	}
	snap := f.Snap
	if snap == nil {
		return []table.Key{}
	}
	_, peek := f.hostFormat(st)
	rows := r.aggregate(snap, st, f, linkIndex(snap, st.Link))
	display.SortRows(rows, st.Order, st.Mode, &peek)
	keys := make([]table.Key, len(rows))
	for i := range rows {
		keys[i] = rows[i].Key
	}
	return keys
}

// drawScale draws the scale header on rows 0 and 1
// (docs/iftop.md#scale-header): labels at the ticks, "└" at the left, "┴" at
// each tick inside the screen; a label that would not fit is pushed flush
// right.
func (r *renderer) drawScale(g *term.Grid, max float64, log bool, unit display.Unit, gl glyphs) {
	w := g.W
	g.Fill(0, w, 1, gl.h)
	tick := func(v float64, x int, base float64) {
		if x < w {
			g.Set(x, 1, gl.tee)
		}
		if unit == display.Bytes {
			v /= 8
		}
		r.buf = display.AppendReadable(r.buf[:0], v, unit, base)
		lbl := r.buf
		for len(lbl) > 0 && lbl[0] == ' ' {
			lbl = lbl[1:]
		}
		if x+len(lbl) > w {
			x = w - len(lbl)
		}
		g.PutBytes(x, 0, lbl)
	}
	if log {
		m := logMax(max)
		interval := 10.0
		if m > 1e8 {
			interval = 100
		}
		lnMax := math.Log(m)
		for v := 10.0; v <= m; v *= interval {
			tick(v, int(math.Log(v)/lnMax*float64(w)), display.Base1000)
		}
	} else {
		for i := 1; i <= 5; i++ {
			tick(max*float64(i)/5, i*w/5, display.Base1024)
		}
	}
	g.Set(0, 1, gl.corner)
}

// drawRows draws the host pairs from row start to the row above end
// (docs/iftop.md#geometry): host fields of width hw at columns 0 and hw+4
// with the arrow between, the optional cumulative column at COLS−32, the
// three rates at COLS−24, −16 and −8, and the bars. tags, when not nil, are
// the links that carried each row (rowLinks): named on a two-line pair's
// <= row, in the destination field's blank; at the end of the destination
// field in one-line modes.
func (r *renderer) drawRows(g *term.Grid, rows []table.Flow, tags []uint64, s *table.Snapshot, st *UIState, hf *display.HostFormat, unit display.Unit, start, end, hw int, scaleMax float64) {
	y := start
	for i := range rows {
		if y >= end {
			break
		}
		fl := &rows[i]
		var tag uint64
		if tags != nil {
			tag = tags[i]
		}
		r.buf = hf.AppendEndpoint(r.buf[:0], &fl.Key, display.Src, hw)
		g.PutBytes(0, y, r.buf)
		dw := hw
		r.tbuf = r.tbuf[:0]
		if tag != 0 && st.Mode != table.TwoLine {
			// "[eth0,eth1]" takes the end of the destination field, while
			// the host keeps 8 columns.
			r.tbuf = append(r.tbuf, '[')
			r.tbuf = appendLinkTag(r.tbuf, s, tag, hw-11)
			r.tbuf = append(r.tbuf, ']')
			if len(r.tbuf) <= hw-9 {
				dw = hw - len(r.tbuf) - 1
			} else {
				r.tbuf = r.tbuf[:0]
			}
		}
		r.buf = hf.AppendEndpoint(r.buf[:0], &fl.Key, display.Dst, dw)
		g.PutBytes(hw+4, y, r.buf)
		if len(r.tbuf) > 0 {
			g.PutBytes(hw+4+hw-len(r.tbuf), y, r.tbuf)
		}
		switch st.Mode {
		case table.TwoLine:
			g.PutString(hw, y, " => ")
			g.PutString(hw, y+1, " <= ")
			if tag != 0 {
				r.buf = append(r.buf[:0], "via "...)
				if r.buf = appendLinkTag(r.buf, s, tag, hw-4); len(r.buf) > 4 {
					g.PutBytes(hw+4, y+1, r.buf)
				}
			}
			r.drawValues(g, y, s, &fl.Sent, st.Totals, unit)
			r.drawValues(g, y+1, s, &fl.Recv, st.Totals, unit)
			r.drawBar(g, y, barBits(s, &fl.Sent, st.BarWin), scaleMax, st)
			r.drawBar(g, y+1, barBits(s, &fl.Recv, st.BarWin), scaleMax, st)
			y += 2
			continue
		case table.OneLineBoth:
			g.PutString(hw, y, "<=> ")
			sum := fl.Sent
			sum.Add(&fl.Recv)
			r.drawValues(g, y, s, &sum, st.Totals, unit)
			r.drawBar(g, y, barBits(s, &sum, st.BarWin), scaleMax, st)
		case table.OneLineRecv:
			g.PutString(hw, y, " <= ")
			r.drawValues(g, y, s, &fl.Recv, st.Totals, unit)
			r.drawBar(g, y, barBits(s, &fl.Recv, st.BarWin), scaleMax, st)
		case table.OneLineSent:
			g.PutString(hw, y, " => ")
			r.drawValues(g, y, s, &fl.Sent, st.Totals, unit)
			r.drawBar(g, y, barBits(s, &fl.Sent, st.BarWin), scaleMax, st)
		}
		y++
	}
}

// drawValues writes one direction's numbers on row y.
func (r *renderer) drawValues(g *term.Grid, y int, s *table.Snapshot, st *table.Stat, totals bool, unit display.Unit) {
	w := g.W
	if totals {
		r.buf = display.AppendTotal(r.buf[:0], st.Bytes)
		g.PutBytes(w-32, y, r.buf)
	}
	for i := range 3 {
		r.buf = display.AppendRate(r.buf[:0], s.Rate(i, st.Win[i]), unit)
		g.PutBytes(w-24+8*i, y, r.buf)
	}
}

// drawBar reverses the start of row y for a value of bits/s
// (docs/iftop.md#bars).
func (r *renderer) drawBar(g *term.Grid, y int, bits, scaleMax float64, st *UIState) {
	if !st.Bars {
		return
	}
	if n := barCells(bits, scaleMax, g.W, st.Log); n > 0 {
		g.SetAttr(0, n, y, term.AttrReverse)
	}
}

// drawTotals draws the bottom block (docs/iftop.md#totals): the rule, then
// TX, RX and TOTAL with cum (bytes), peak and the three rates. Below 78
// columns, where iftop's fields overlap, the "rates:" label goes first, then
// the peaks (below 70), then the cumulative totals (below 53); the rates
// stay.
func (r *renderer) drawTotals(g *term.Grid, s, tot *table.Snapshot, st *UIState, unit display.Unit, scaleMax float64) {
	w, h := g.W, g.H
	showRatesLabel := w >= 78
	showPeak := w >= 70
	showCum := w >= 53
	type line struct {
		label string
		cum   uint64
		peak  float64
		rates table.Stat
	}
	total := s.TX
	total.Add(&s.RX)
	lines := [3]line{
		{"TX:", tot.TX.Bytes, s.Peak.Sent, s.TX},
		{"RX:", tot.RX.Bytes, s.Peak.Recv, s.RX},
		{"TOTAL:", tot.TX.Bytes + tot.RX.Bytes, s.Peak.Total, total},
	}
	for i, l := range lines {
		y := h - 3 + i
		g.PutString(0, y, l.label)
		if showCum {
			if i == 0 {
				g.PutString(16, y, "cum:")
			}
			r.buf = display.AppendTotal(r.buf[:0], l.cum)
			g.PutBytes(22, y, r.buf)
		}
		if showPeak {
			if i == 0 {
				g.PutString(32, y, "peak:")
			}
			r.buf = display.AppendRate(r.buf[:0], l.peak, unit)
			g.PutBytes(39, y, r.buf)
		}
		if showRatesLabel && i == 0 {
			g.PutString(w-32, y, "rates:")
		}
		for j := range 3 {
			r.buf = display.AppendRate(r.buf[:0], s.Rate(j, l.rates.Win[j]), unit)
			g.PutBytes(w-24+8*j, y, r.buf)
		}
	}
	r.drawBar(g, h-3, barBits(s, &s.TX, st.BarWin), scaleMax, st)
	r.drawBar(g, h-2, barBits(s, &s.RX, st.BarWin), scaleMax, st)
}

// drawHealth draws the rule above the totals, and on its right end what
// iftop never shows: frames the kernel dropped since the start (and in the
// last tick), the fanout width, flows folded into the "other" row,
// interfaces that are down, what the links say (appendLinkNotes) and an
// exporter's errors. Shown in reverse video while something is wrong now
// (drops in the last tick, an interface down, the exporter failing).
func (r *renderer) drawHealth(g *term.Grid, tot *table.Snapshot, f *frame, gl glyphs) {
	w, y := g.W, g.H-4
	g.Fill(0, w, y, gl.h)
	b := r.buf[:0]
	sep := func() {
		if len(b) > 0 {
			b = append(b, ", "...)
		}
	}
	alarm := f.DroppedTick > 0
	if f.Live || tot.Dropped > 0 {
		b = strconv.AppendUint(b, tot.Dropped, 10)
		b = append(b, " dropped"...)
		if f.DroppedTick > 0 {
			b = append(b, " (+"...)
			b = strconv.AppendUint(b, f.DroppedTick, 10)
			b = append(b, ')')
		}
	}
	if f.Live && tot.Members > 1 {
		sep()
		b = append(b, "fanout "...)
		b = strconv.AppendInt(b, int64(tot.Members), 10)
	}
	if tot.Folded > 0 {
		sep()
		b = strconv.AppendUint(b, tot.Folded, 10)
		b = append(b, " folded"...)
	}
	for i := range tot.Interfaces {
		if tot.Interfaces[i].Down {
			sep()
			b = term.AppendClean(b, tot.Interfaces[i].Name, 32)
			b = append(b, " down"...)
			alarm = true
		}
	}
	if e := &f.Export; e.Errors > 0 {
		sep()
		b = appendExportNote(b, e)
		alarm = alarm || f.ExportNew
	}
	sepNote := func(b []byte) []byte {
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		return b
	}
	b = appendLinkNotes(b, tot, sepNote)
	b = appendBondNotes(b, tot, sepNote)
	r.buf = b
	if len(b) == 0 {
		return
	}
	room := w - 4
	if len(b) > room-2 {
		b = b[:room-2]
	}
	x := w - 2 - (len(b) + 2)
	g.Set(x, y, ' ')
	g.PutBytes(x+1, y, b)
	g.Set(x+1+len(b), y, ' ')
	if alarm {
		g.SetAttr(x, x+len(b)+2, y, term.AttrReverse)
	}
}

// helpText is iftop's help screen (docs/iftop.md#help-screen; iftop's own is
// testdata/iftop-screens/help.txt), line for line, with fastop's link keys
// in its empty right-hand corner, then fastop's other keys; the last line
// names fastop. At 24 rows the lines after iftop's fall under the TX row,
// as in iftop.
var helpText = [...]string{
	"Host display:                          General:",
	" n - toggle DNS host resolution         P - pause display",
	" s - toggle show source host            h - toggle this help display",
	" d - toggle show destination host       b - toggle bar graph display",
	" t - cycle line display mode            B - cycle bar graph average",
	"                                        T - toggle cumulative line totals",
	"Port display:                           j/k - scroll display",
	" N - toggle service resolution          f - edit filter code",
	" S - toggle show source port            l - set screen filter",
	" D - toggle show destination port       L - lin/log scales",
	" p - toggle port display                ! - shell command",
	"                                        q - quit",
	"Sorting:                               Links (fastop):",
	" 1/2/3 - sort by 1st/2nd/3rd column     i - toggle the link strip",
	" < - sort by source name                I - flows of all links/one link",
	" > - sort by dest name",
	" o - freeze current order",
	"",
	"",
	"fastop:",
	" g - cycle rows: host pairs, services, src/dst networks, VLANs, links",
	" w - bonds: transmit links as predicted, if layer3+4, if a link fails",
}

// drawHelp draws the help text on rows [start, end].
func drawHelp(g *term.Grid, start, end int, version string) {
	y := start
	for _, l := range helpText {
		if y > end {
			return
		}
		g.PutString(0, y, l)
		y++
	}
	if y <= end {
		if version == "" {
			version = "dev"
		}
		g.PutString(0, y, "fastop, version "+version)
	}
}

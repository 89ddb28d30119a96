package screen

import (
	"strconv"
	"strings"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
)

// The link strip: with two or more links captured (a bond's members, or
// -i a,b), one line per link above the rule of the totals, under a header
// line that says how evenly the traffic is spread. The rates are the
// window the bars show (B: 10 s by default), so the strip and the bars
// tell the same story.

const (
	// minFlowRows is what the flow list keeps, at least, below the scale:
	// the strip gives way to it on a short terminal (two two-line pairs).
	minFlowRows = 4
	// maxLinkName caps a link's name in the strip (IFNAMSIZ − 1).
	maxLinkName = 15
	// maxLinkState caps a link's state ("left bond0", "active agg 2").
	maxLinkState = 24
	// maxStripBar caps the cells of a strip bar.
	maxStripBar = 25
	// maxTaggedLinks is how many links a row's tag can tell apart: a bit
	// each in a uint64.
	maxTaggedLinks = 64
)

// noSplit is shown in place of the rows when the flow list is set to one
// link but the snapshot says nothing of which link carried each flow.
const noSplit = "No per-link split of the flows in this capture: I shows all links again"

// stripLines returns how many link lines the strip shows in a frame (its
// height is one more, for the header), 0 when it is not shown: fewer than
// two links, the strip toggled off, the help screen up, or no room above
// minFlowRows rows of flows.
func stripLines(s *table.Snapshot, st *UIState, h, start int) int {
	n := len(s.Interfaces)
	if n < 2 || !st.Strip || st.Help {
		return 0
	}
	room := h - 4 - start - minFlowRows - 1 // rows start … h−5 less the flows' share and the header
	return max(min(n, room), 0)
}

// linkIndex returns the index in s.Interfaces of the link the flow list
// shows alone, or -1 for all links (none chosen, or not in s).
func linkIndex(s *table.Snapshot, name string) int {
	if name == "" || len(s.Interfaces) < 2 {
		return -1
	}
	for i := range s.Interfaces {
		if s.Interfaces[i].Name == name {
			return i
		}
	}
	return -1
}

// hasSplit reports whether s tells which link carried each flow: some flow
// has Links (the table fills them when it captures several links).
func (r *renderer) hasSplit(s *table.Snapshot) bool {
	if s != r.splitSnap {
		r.splitSnap, r.split = s, false
		for i := range s.Flows {
			if s.Flows[i].Links != nil {
				r.split = true
				break
			}
		}
	}
	return r.split
}

// carried reports whether a link's part of a flow holds any traffic.
func carried(l *table.FlowLink) bool {
	return l.Sent.Bytes+l.Recv.Bytes+l.Sent.Win[table.Win40s]+l.Recv.Win[table.Win40s] > 0
}

// linkFlows returns the flows of s as link carried them: each flow's part
// on that link (its Links, that part alone, so rows by link still know the
// link), and none of the flows it did not carry.
func (r *renderer) linkFlows(s *table.Snapshot, link int) []table.Flow {
	r.lflows = r.lflows[:0]
	for i := range s.Flows {
		f := &s.Flows[i]
		for j := range f.Links {
			if l := &f.Links[j]; l.Link == link && carried(l) {
				r.lflows = append(r.lflows, table.Flow{Key: f.Key, Sent: l.Sent, Recv: l.Recv, Links: f.Links[j : j+1]})
				break
			}
		}
	}
	return r.lflows
}

// rowLinks returns, for each row, the links that carried it as bits
// (link i is bit i), or nil when there is nothing to tag: one link, the
// flow list showing one link, or no split in s. Rows aggregated under a
// view gather the links of every flow folded into them.
func (r *renderer) rowLinks(s *table.Snapshot, rows []table.Flow, v table.View, sel int) []uint64 {
	if len(s.Interfaces) < 2 || sel >= 0 || len(rows) == 0 || !r.hasSplit(s) {
		return nil
	}
	r.masks = append(r.masks[:0], make([]uint64, len(rows))...)
	bits := func(f *table.Flow) uint64 {
		var m uint64
		for j := range f.Links {
			if l := &f.Links[j]; l.Link >= 0 && l.Link < maxTaggedLinks && carried(l) {
				m |= 1 << l.Link
			}
		}
		return m
	}
	if v == (table.View{Ports: table.PortsOn}) {
		// Rows are the flows themselves, with their Links.
		for i := range rows {
			r.masks[i] = bits(&rows[i])
		}
		return r.masks
	}
	if r.rowIndex == nil {
		r.rowIndex = make(map[table.Key]int, len(rows))
	}
	clear(r.rowIndex)
	for i := range rows {
		r.rowIndex[rows[i].Key] = i
	}
	for i := range s.Flows {
		f := &s.Flows[i]
		if f.Links == nil {
			continue
		}
		if j, ok := r.rowIndex[v.DisplayKey(f.Key)]; ok {
			r.masks[j] |= bits(f)
		}
	}
	return r.masks
}

// appendLinkTag appends the names of the links in mask, comma-separated,
// or "N links" when that would be wider than width; nothing for no link or
// when even that is too wide.
func appendLinkTag(dst []byte, s *table.Snapshot, mask uint64, width int) []byte {
	if mask == 0 {
		return dst
	}
	start := len(dst)
	n := 0
	for i := range min(len(s.Interfaces), maxTaggedLinks) {
		if mask&(1<<i) == 0 {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = term.AppendClean(dst, s.Interfaces[i].Name, maxLinkName)
		n++
	}
	if len(dst)-start <= width {
		return dst
	}
	dst = strconv.AppendInt(dst[:start], int64(n), 10)
	dst = append(dst, " links"...)
	if n == 1 {
		dst = dst[:len(dst)-1]
	}
	if len(dst)-start > width {
		return dst[:start]
	}
	return dst
}

// linkState is a link's state as the strip shows it: the state sysfs gave
// ("?" when none), "down" while its capture says so, and its 802.3ad
// aggregator.
func appendLinkState(dst []byte, l *table.Interface) []byte {
	start := len(dst)
	switch {
	case l.Down && !strings.HasPrefix(l.State, "down"):
		dst = append(dst, "down"...)
	case l.State == "":
		dst = append(dst, '?')
	default:
		dst = term.AppendClean(dst, l.State, maxLinkState)
	}
	if l.Aggregator > 0 {
		dst = append(dst, " agg "...)
		dst = strconv.AppendInt(dst, int64(l.Aggregator), 10)
	}
	if len(dst)-start > maxLinkState {
		dst = dst[:start+maxLinkState]
	}
	return dst
}

// appendSpeed appends a link speed (bits/s) compactly, in the decimal
// units drivers state it in: 100M, 2.5G, 10G; "?" when unknown.
func appendSpeed(dst []byte, bits int64) []byte {
	switch {
	case bits <= 0:
		return append(dst, '?')
	case bits >= 1_000_000_000:
		dst = strconv.AppendFloat(dst, float64(bits)/1e9, 'f', -1, 64)
		return append(dst, 'G')
	default:
		dst = strconv.AppendFloat(dst, float64(bits)/1e6, 'f', -1, 64)
		return append(dst, 'M')
	}
}

// stripLayout is the strip's columns in a frame: widths of the name, state
// and speed columns (0: left out) and of each bar (0: none).
type stripLayout struct {
	name, state, speed, bar int
}

// Widths of a direction's block: "TX" and the rate (7), " 100%" (5), and
// with a bar " [" … "]".
const (
	dirRateW = 2 + 7
	dirPctW  = 5
)

func (l stripLayout) width() int {
	w := l.name + 2 + 2*(dirRateW+dirPctW) + 2 // name, TX block, RX block, gaps
	if l.state > 0 {
		w += 1 + l.state
	}
	if l.speed > 0 {
		w += 1 + l.speed
	}
	if l.bar > 0 {
		w += 2 * (l.bar + 3)
	}
	return w
}

// layoutStrip fits the strip's columns to w: bars as wide as the room
// allows (4 to maxStripBar cells), else none; then the speed, then the
// state, give way; a name is cut last.
func (r *renderer) layoutStrip(s *table.Snapshot, w int) stripLayout {
	var l stripLayout
	states, speeds := false, false
	for i := range s.Interfaces {
		in := &s.Interfaces[i]
		r.buf = term.AppendClean(r.buf[:0], in.Name, maxLinkName)
		l.name = max(l.name, len(r.buf))
		r.buf = appendLinkState(r.buf[:0], in)
		l.state = max(l.state, len(r.buf))
		r.buf = appendSpeed(r.buf[:0], in.Speed)
		l.speed = max(l.speed, len(r.buf))
		states = states || in.State != "" || in.Down || in.Aggregator > 0
		speeds = speeds || in.Speed > 0
	}
	// Columns that would say "?" on every line are left out; bars, which
	// show a share of the speed, need one speed at least.
	if !states {
		l.state = 0
	}
	if !speeds {
		l.speed = 0
	} else if room := w - l.width(); room >= 2*(4+3) {
		l.bar = min(room/2-3, maxStripBar)
		return l
	}
	if l.width() <= w {
		return l
	}
	l.speed = 0
	if l.width() <= w {
		return l
	}
	l.state = 0
	if over := l.width() - w; over > 0 {
		l.name = max(l.name-over, 1)
	}
	return l
}

// drawStrip draws the strip: the header on row y, then lines link lines
// (the first lines links of s). sel is the link the flow list shows alone
// (-1: all); its name is reversed.
func (r *renderer) drawStrip(g *term.Grid, s *table.Snapshot, st *UIState, unit display.Unit, gl glyphs, y, lines, sel int) {
	r.drawStripHeader(g, s, st.BarWin, gl, y, lines)
	l := r.layoutStrip(s, g.W)
	for i := range lines {
		in := &s.Interfaces[i]
		row := y + 1 + i
		x := 0
		r.buf = term.AppendClean(r.buf[:0], in.Name, l.name)
		g.PutBytes(x, row, r.buf)
		if i == sel {
			g.SetAttr(x, x+len(r.buf), row, term.AttrReverse)
		}
		x += l.name + 1
		if l.state > 0 {
			r.buf = appendLinkState(r.buf[:0], in)
			g.PutBytes(x, row, r.buf)
			x += l.state + 1
		}
		if l.speed > 0 {
			r.buf = appendSpeed(r.buf[:0], in.Speed)
			g.PutBytes(x+l.speed-len(r.buf), row, r.buf)
			x += l.speed + 1
		}
		x++
		for d, st2 := range [2]*table.Stat{&in.TX, &in.RX} {
			x = r.drawLinkDir(g, s, st2, in.Speed, st.BarWin, unit, [2]string{"TX", "RX"}[d], x, row, l.bar)
			x += 2
		}
	}
}

// drawLinkDir draws one direction of a link from column x: the label, the
// rate, the % of the link's speed and a bar of that %; with the speed
// unknown, neither % nor bar (never a wrong one). It returns the column
// after the block.
func (r *renderer) drawLinkDir(g *term.Grid, s *table.Snapshot, st *table.Stat, speed int64, win int, unit display.Unit, label string, x, y, bar int) int {
	g.PutString(x, y, label)
	rate := s.Rate(win, st.Win[win])
	r.buf = display.AppendRate(r.buf[:0], rate, unit)
	g.PutBytes(x+dirRateW-len(r.buf), y, r.buf)
	x += dirRateW
	if speed > 0 {
		pct := rate * 8 * 100 / float64(speed)
		r.buf = appendPct(r.buf[:0], pct)
		g.PutBytes(x+dirPctW-len(r.buf), y, r.buf)
	}
	x += dirPctW
	if bar > 0 {
		if speed > 0 {
			g.Set(x+1, y, '[')
			n := 0
			if pct := rate * 8 / float64(speed); pct > 0 {
				n = min(int(pct*float64(bar)), bar)
			}
			for i := range n {
				g.Set(x+2+i, y, '#')
			}
			g.Set(x+2+bar, y, ']')
		}
		x += bar + 3
	}
	return x
}

// appendPct appends a share as a whole %, at most 999%.
func appendPct(dst []byte, pct float64) []byte {
	if !(pct > 0) {
		pct = 0
	}
	dst = strconv.AppendFloat(dst, min(pct, 999), 'f', 0, 64)
	return append(dst, '%')
}

// usable reports whether a link can carry its share of the traffic: not
// down, not a backup, not out of the bond or outside its active 802.3ad
// aggregator. The even split is over these.
func usable(l *table.Interface) bool {
	switch {
	case l.Down, l.State == "down", l.State == "backup", strings.HasPrefix(l.State, "left "):
		return false
	case l.Aggregator > 0 && l.ActiveAggregator > 0 && l.Aggregator != l.ActiveAggregator:
		return false
	}
	return true
}

// drawStripHeader draws the strip's first line: a rule with the imbalance
// on it: per direction, the busiest link and its share of all the links'
// traffic in the window, against an even split over the usable links.
//
//	── links, 10s: TX eth0 62%, RX eth1 55%, even split 50% ──────────
func (r *renderer) drawStripHeader(g *term.Grid, s *table.Snapshot, win int, gl glyphs, y, lines int) {
	g.Fill(0, g.W, y, gl.h)
	b := append(r.buf[:0], ' ')
	n := len(s.Interfaces)
	if lines < n {
		b = strconv.AppendInt(b, int64(lines), 10)
		b = append(b, " of "...)
	}
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, " links, "...)
	b = append(b, [3]string{"2s", "10s", "40s"}[win]...)
	b = append(b, ':')
	ok := 0
	for i := range s.Interfaces {
		if usable(&s.Interfaces[i]) {
			ok++
		}
	}
	for d, label := range [2]string{" TX ", ", RX "} {
		var sum, top uint64
		busiest := -1
		for i := range s.Interfaces {
			in := &s.Interfaces[i]
			v := in.TX.Win[win]
			if d == 1 {
				v = in.RX.Win[win]
			}
			sum += v
			if v > top {
				top, busiest = v, i
			}
		}
		b = append(b, label...)
		if busiest < 0 {
			b = append(b, "idle"...)
			continue
		}
		b = term.AppendClean(b, s.Interfaces[busiest].Name, maxLinkName)
		b = append(b, ' ')
		b = appendPct(b, float64(top)*100/float64(sum))
	}
	if ok == 0 {
		b = append(b, ", no usable link "...)
	} else {
		b = append(b, ", even split "...)
		b = appendPct(b, 100/float64(ok))
		b = append(b, ' ')
	}
	if len(b) > g.W-4 {
		b = append(b[:max(g.W-5, 0)], ' ')
	}
	r.buf = b
	g.PutBytes(2, y, b)
}

// appendLinkNotes appends to the health note what the links say that is
// worth a look, briefly (the rule is short): a backup member receiving
// traffic in the last 10 s ("backup eth2 receives"), a member outside its
// bond's active 802.3ad aggregator ("eth1 not in agg 1"), links of one bond
// (or of -i's list) at different known speeds ("mixed speeds", with the
// bond's name when links of several bonds are captured). sep is called
// before each note.
func appendLinkNotes(b []byte, s *table.Snapshot, sep func([]byte) []byte) []byte {
	ifs := s.Interfaces
	if len(ifs) < 2 {
		return b
	}
	severalMasters := false
	for i := range ifs {
		severalMasters = severalMasters || ifs[i].Master != ifs[0].Master
	}
	for i := range ifs {
		l := &ifs[i]
		if l.State == "backup" && l.RX.Win[table.Win10s] > 0 {
			b = sep(b)
			b = append(b, "backup "...)
			b = term.AppendClean(b, l.Name, maxLinkName)
			b = append(b, " receives"...)
		}
		if l.Aggregator > 0 && l.ActiveAggregator > 0 && l.Aggregator != l.ActiveAggregator {
			b = sep(b)
			b = term.AppendClean(b, l.Name, maxLinkName)
			b = append(b, " not in agg "...)
			b = strconv.AppendInt(b, int64(l.ActiveAggregator), 10)
		}
	}
	// Mixed speeds, once per bond (or once for the links given as they are).
	for i := range ifs {
		first := true
		for j := range i {
			if ifs[j].Master == ifs[i].Master {
				first = false
				break
			}
		}
		if !first {
			continue
		}
		var speed int64
		mixed := false
		for j := i; j < len(ifs); j++ {
			if ifs[j].Master != ifs[i].Master || ifs[j].Speed <= 0 {
				continue
			}
			if speed != 0 && ifs[j].Speed != speed {
				mixed = true
			}
			speed = ifs[j].Speed
		}
		if mixed {
			b = sep(b)
			b = append(b, "mixed speeds"...)
			if severalMasters && ifs[i].Master != "" {
				b = append(b, " in "...)
				b = term.AppendClean(b, ifs[i].Master, maxLinkName)
			}
		}
	}
	return b
}

package screen

import (
	"bytes"
	"strconv"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
)

// noBonds is what the bond view (w) says when no bond's links are captured.
const noBonds = " No bond's links captured (-i BOND captures them)"

// drawBonds is the bond view (w), on rows [y, end]: per bond, its mode,
// policy and kernel formula and how many of the bytes it transmitted in
// the last 40 s left by the link the formula names; per link the bytes
// seen leaving, the share of them that agreed, and as bars the link's
// share of what was seen, of what the formula predicts and of what
// layer3+4 would give; then, per link that can transmit, where the bytes
// would go if it failed.
func (r *renderer) drawBonds(g *term.Grid, s *table.Snapshot, y, end int) {
	if len(s.Bonds) == 0 {
		g.PutString(0, y, noBonds)
		return
	}
	for i := range s.Bonds {
		if y > end {
			return
		}
		y = r.drawBond(g, &s.Bonds[i], y, end) + 1
	}
}

// drawBond draws one bond from row y and returns the row after it.
func (r *renderer) drawBond(g *term.Grid, b *table.BondView, y, end int) int {
	var num [24]byte
	buf := append(r.buf[:0], ' ')
	buf = term.AppendClean(buf, b.Master, maxLinkName)
	buf = append(buf, ": "...)
	buf = term.AppendClean(buf, b.Mode, maxLinkName)
	if b.Policy != "" {
		buf = append(buf, ", "...)
		buf = term.AppendClean(buf, b.Policy, maxLinkName)
	}
	if b.Why != "" {
		g.PutBytes(0, y, buf)
		if y < end {
			buf = append(buf[:0], "  not predicted: "...)
			buf = term.AppendClean(buf, b.Why, g.W)
			g.PutBytes(0, y+1, buf)
		}
		r.buf = buf
		return y + 2
	}
	buf = append(buf, ", kernel "...)
	buf = append(buf, b.Variant...)
	buf = append(buf, " formula"...)
	g.PutBytes(0, y, buf)
	y++
	if y > end {
		r.buf = buf
		return y
	}
	checked := b.Agree.Bytes + b.Disagree.Bytes
	buf = append(buf[:0], "  "...)
	buf = appendShare(buf, b.Agree.Bytes, checked)
	buf = append(buf, " of "...)
	buf = append(buf, bytesTotal(num[:0], checked)...)
	buf = append(buf, " left as predicted, "...)
	buf = appendShare(buf, b.Disagree.Bytes, checked)
	buf = append(buf, " not; "...)
	buf = append(buf, bytesTotal(num[:0], b.Unknown.Bytes)...)
	buf = append(buf, " unknown"...)
	if b.UnknownWhy != "" && b.Unknown.Bytes > 0 {
		buf = append(buf, " ("...)
		buf = term.AppendClean(buf, b.UnknownWhy, g.W)
		buf = append(buf, ')')
	}
	g.PutBytes(0, y, buf)
	if b.Disagrees() {
		g.SetAttr(2, min(len(buf), g.W), y, term.AttrReverse)
	}
	y++

	// Columns: name, sent, agree, then three bars.
	name := len("link")
	for i := range b.Links {
		name = max(name, min(len(b.Links[i].Name), maxLinkName))
	}
	const sentW, agreeW = 8, 7
	x0 := 2 + name + 1 + sentW + 1 + agreeW + 1
	col := max((g.W-x0)/3, 0)
	var seen, pred, l34 uint64
	for i := range b.Links {
		seen += b.Links[i].Observed
		pred += b.Links[i].Predicted
		l34 += b.Links[i].IfLayer34
	}
	if y > end {
		return y
	}
	buf = append(buf[:0], "  "...)
	buf = appendPadRight(buf, "link", name+1)
	buf = appendPadLeft(buf, []byte("sent"), sentW)
	buf = appendPadLeft(buf, []byte("agree"), agreeW+1)
	g.PutBytes(0, y, buf)
	for c, h := range [3]string{"share", "predicted", "if layer3+4"} {
		g.PutString(x0+c*col+1, y, h[:max(min(len(h), col-1), 0)])
	}
	y++
	for i := range b.Links {
		if y > end {
			r.buf = buf
			return y
		}
		l := &b.Links[i]
		buf = append(buf[:0], "  "...)
		n := len(buf)
		buf = term.AppendClean(buf, l.Name, name)
		for len(buf) < n+name+1 {
			buf = append(buf, ' ')
		}
		buf = appendPadLeft(buf, bytesTotal(num[:0], l.Observed), sentW)
		buf = append(buf, ' ')
		buf = appendPadLeft(buf, appendShare(num[:0], l.Agree.Bytes, l.Agree.Bytes+l.Disagree.Bytes), agreeW)
		g.PutBytes(0, y, buf)
		if l.Disagree.Bytes*100 > l.Agree.Bytes+l.Disagree.Bytes && l.Disagree.Bytes > 0 {
			g.SetAttr(2+name+1+sentW+1, 2+name+1+sentW+1+agreeW, y, term.AttrReverse)
		}
		for c, v := range [3][2]uint64{{l.Observed, seen}, {l.Predicted, pred}, {l.IfLayer34, l34}} {
			r.drawShare(g, x0+c*col+1, y, col-2, v[0], v[1])
		}
		y++
	}
	for f := range b.IfFails {
		if y > end {
			break
		}
		row := b.IfFails[f]
		if row == nil {
			continue
		}
		var all uint64
		for _, v := range row {
			all += v
		}
		buf = append(buf[:0], "  if "...)
		buf = term.AppendClean(buf, b.Links[f].Name, maxLinkName)
		buf = append(buf, " fails:"...)
		for j, v := range row {
			if j == f || !b.Links[j].Usable {
				continue
			}
			buf = append(buf, ' ')
			buf = term.AppendClean(buf, b.Links[j].Name, maxLinkName)
			buf = append(buf, ' ')
			buf = appendShare(buf, v, all)
		}
		g.PutBytes(0, y, buf)
		y++
	}
	r.buf = buf
	return y
}

// drawShare draws v as a % of all and a reverse-video bar of up to w
// cells for it, from x.
func (r *renderer) drawShare(g *term.Grid, x, y, w int, v, all uint64) {
	var num [16]byte
	p := appendPadLeft(nil, appendShare(num[:0], v, all), 6)
	g.PutBytes(x, y, p)
	if all == 0 || w <= 7 {
		return
	}
	cells := int(float64(v) * float64(w-7) / float64(all))
	g.SetAttr(x+7, x+7+cells, y, term.AttrReverse)
}

// appendBondNotes appends to the health note each bond whose transmit
// links disagree with the kernel's formula for more than 1% of the
// predicted bytes ("bond0 hash 12% off"): the formula does not describe
// it (a backported kernel, offloads, links that just changed).
func appendBondNotes(b []byte, s *table.Snapshot, sep func([]byte) []byte) []byte {
	for i := range s.Bonds {
		bv := &s.Bonds[i]
		if !bv.Disagrees() {
			continue
		}
		b = sep(b)
		b = term.AppendClean(b, bv.Master, maxLinkName)
		b = append(b, " hash "...)
		b = strconv.AppendUint(b, (bv.Disagree.Bytes*100+(bv.Agree.Bytes+bv.Disagree.Bytes)/2)/(bv.Agree.Bytes+bv.Disagree.Bytes), 10)
		b = append(b, "% off"...)
	}
	return b
}

// appendPct appends part as a % of whole, one decimal ("-" for no whole).
func appendShare(b []byte, part, whole uint64) []byte {
	if whole == 0 {
		return append(b, '-')
	}
	b = strconv.AppendFloat(b, float64(part)*100/float64(whole), 'f', 1, 64)
	return append(b, '%')
}

// bytesTotal is display.AppendTotal without its padding.
func bytesTotal(b []byte, n uint64) []byte {
	return bytes.TrimLeft(display.AppendTotal(b, n), " ")
}

func appendPadLeft(b, s []byte, w int) []byte {
	for i := len(s); i < w; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

func appendPadRight(b []byte, s string, w int) []byte {
	b = append(b, s...)
	for i := len(s); i < w; i++ {
		b = append(b, ' ')
	}
	return b
}

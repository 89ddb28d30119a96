package report

import (
	"bytes"
	"strconv"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
)

// appendJSONBonds appends the "bonds" field: per bond whose links are
// captured, the check of its transmit links and the two what-ifs over the
// 40 s window (JSON.md, "Bond").
func appendJSONBonds(dst []byte, s *table.Snapshot) []byte {
	dst = append(dst, `,"bonds":[`...)
	for i := range s.Bonds {
		b := &s.Bonds[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"master":`...)
		dst = appendJSONString(dst, b.Master)
		dst = append(dst, `,"mode":`...)
		dst = appendJSONString(dst, b.Mode)
		dst = appendJSONStringOrNull(dst, `,"policy":`, b.Policy)
		dst = appendJSONStringOrNull(dst, `,"variant":`, b.Variant)
		dst = appendJSONStringOrNull(dst, `,"why":`, b.Why)
		dst = append(dst, `,"window":`...)
		dst = strconv.AppendFloat(dst, float64(s.Window[table.Win40s])/1e9, 'f', -1, 64)
		dst = appendJSONBondCounts(dst, &b.Agree, &b.Disagree, &b.Unknown)
		dst = appendJSONStringOrNull(dst, `,"unknown_why":`, b.UnknownWhy)
		dst = append(dst, `,"disagrees":`...)
		dst = strconv.AppendBool(dst, b.Disagrees())
		dst = append(dst, `,"links":[`...)
		for j := range b.Links {
			l := &b.Links[j]
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"name":`...)
			dst = appendJSONString(dst, l.Name)
			dst = append(dst, `,"usable":`...)
			dst = strconv.AppendBool(dst, l.Usable)
			dst = append(dst, `,"observed":`...)
			dst = strconv.AppendUint(dst, l.Observed, 10)
			dst = appendJSONBondCounts(dst, &l.Agree, &l.Disagree, &l.Unknown)
			dst = append(dst, `,"predicted":`...)
			dst = strconv.AppendUint(dst, l.Predicted, 10)
			dst = append(dst, `,"if_layer34":`...)
			dst = strconv.AppendUint(dst, l.IfLayer34, 10)
			dst = append(dst, `,"if_fails":`...)
			if j < len(b.IfFails) && b.IfFails[j] != nil {
				dst = append(dst, '[')
				for k, v := range b.IfFails[j] {
					if k > 0 {
						dst = append(dst, ',')
					}
					dst = strconv.AppendUint(dst, v, 10)
				}
				dst = append(dst, ']')
			} else {
				dst = append(dst, "null"...)
			}
			dst = append(dst, '}')
		}
		dst = append(dst, "]}"...)
	}
	return append(dst, ']')
}

func appendJSONBondCounts(dst []byte, agree, disagree, unknown *table.Counter) []byte {
	for _, c := range [...]struct {
		name string
		c    *table.Counter
	}{{`,"agree":`, agree}, {`,"disagree":`, disagree}, {`,"unknown":`, unknown}} {
		dst = append(dst, c.name...)
		dst = append(dst, `{"bytes":`...)
		dst = strconv.AppendUint(dst, c.c.Bytes, 10)
		dst = append(dst, `,"packets":`...)
		dst = strconv.AppendUint(dst, c.c.Packets, 10)
		dst = append(dst, '}')
	}
	return dst
}

// appendBondBlocks appends, after the link blocks, a block per bond whose
// transmit links were checked (40 s window):
//
//	Bond bond0: 802.3ad, layer3+4, kernel 5.18: 99.5% of 1.20MB as predicted, 0.5% not, 0B unknown
//	  eth0: sent 600KB, 100.0% as predicted; predicted 600KB; layer3+4 600KB; if eth1 fails 1.20MB
//	  eth1: sent 600KB,  99.0% as predicted; predicted 600KB; layer3+4 600KB; if eth0 fails 1.20MB
//
// "if X fails" is what the link would carry with X down. A bond whose
// mode or policy fastop does not predict says why instead. A blank line
// ends each block.
func appendBondBlocks(dst []byte, s *table.Snapshot) []byte {
	var buf [24]byte
	for i := range s.Bonds {
		b := &s.Bonds[i]
		dst = append(dst, "Bond "...)
		dst = term.AppendClean(dst, b.Master, naming.MaxNameLen)
		dst = append(dst, ": "...)
		dst = term.AppendClean(dst, b.Mode, naming.MaxNameLen)
		if b.Policy != "" {
			dst = append(dst, ", "...)
			dst = term.AppendClean(dst, b.Policy, naming.MaxNameLen)
		}
		if b.Why != "" {
			dst = append(dst, ": no prediction: "...)
			dst = append(dst, b.Why...)
			dst = append(dst, "\n\n"...)
			continue
		}
		dst = append(dst, ", kernel "...)
		dst = append(dst, b.Variant...)
		checked := b.Agree.Bytes + b.Disagree.Bytes
		dst = append(dst, ": "...)
		dst = appendPercent(dst, b.Agree.Bytes, checked)
		dst = append(dst, " of "...)
		dst = append(dst, total(buf[:0], checked)...)
		dst = append(dst, " as predicted, "...)
		dst = appendPercent(dst, b.Disagree.Bytes, checked)
		dst = append(dst, " not, "...)
		dst = append(dst, total(buf[:0], b.Unknown.Bytes)...)
		dst = append(dst, " unknown"...)
		if b.UnknownWhy != "" {
			dst = append(dst, " ("...)
			dst = append(dst, b.UnknownWhy...)
			dst = append(dst, ')')
		}
		dst = append(dst, '\n')
		for j := range b.Links {
			l := &b.Links[j]
			dst = append(dst, "  "...)
			dst = term.AppendClean(dst, l.Name, naming.MaxNameLen)
			if !l.Usable {
				dst = append(dst, " (not transmitting)"...)
			}
			dst = append(dst, ": sent "...)
			dst = append(dst, total(buf[:0], l.Observed)...)
			dst = append(dst, ", "...)
			dst = appendPercent(dst, l.Agree.Bytes, l.Agree.Bytes+l.Disagree.Bytes)
			dst = append(dst, " as predicted; predicted "...)
			dst = append(dst, total(buf[:0], l.Predicted)...)
			dst = append(dst, "; layer3+4 "...)
			dst = append(dst, total(buf[:0], l.IfLayer34)...)
			for f := range b.IfFails {
				if b.IfFails[f] == nil || f == j || !l.Usable {
					continue
				}
				dst = append(dst, "; if "...)
				dst = term.AppendClean(dst, b.Links[f].Name, naming.MaxNameLen)
				dst = append(dst, " fails "...)
				dst = append(dst, total(buf[:0], b.IfFails[f][j])...)
			}
			dst = append(dst, '\n')
		}
		dst = append(dst, '\n')
	}
	return dst
}

// total is display.AppendTotal without its padding.
func total(dst []byte, n uint64) []byte {
	return bytes.TrimLeft(display.AppendTotal(dst, n), " ")
}

// appendPercent appends part as a % of whole, one decimal; "-" when whole
// is 0.
func appendPercent(dst []byte, part, whole uint64) []byte {
	if whole == 0 {
		return append(dst, '-')
	}
	dst = strconv.AppendFloat(dst, float64(part)*100/float64(whole), 'f', 1, 64)
	return append(dst, '%')
}

package report

import (
	"io"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

// JSONOptions configure the --json report. The zero value writes every row,
// hosts only (no ports), sorted by the 10 s column.
type JSONOptions struct {
	View      table.View    // ports and hidden hosts, as on the screen
	Sort      display.Order // row order
	Limit     int           // rows per report; ≤ 0 means all (fastop passes -L, DefaultJSONLimit without it)
	Interface string        // "" means the names in Snapshot.Interfaces, comma-joined
	Group     group.Config  // what a row is (--group); other than host pairs, rows are group rows (JSON.md)
}

// jsonChunk is how much writeJSON buffers before it writes: a report of
// 100k rows is about 30 MB, which need not be held at once.
const jsonChunk = 64 << 10

// WriteJSON writes one report for s as a single line of JSON (NDJSON). The
// schema is in JSON.md. It is written by hand in one pass, in writes of about
// 64 KiB, so 100k rows cost one sort and a few appends each. The caller
// flushes w after each report.
func (r *Reporter) WriteJSON(w io.Writer, s *table.Snapshot, o *JSONOptions) error {
	var err error
	r.buf, r.rows, err = appendJSON(r.buf[:0], r.rows, s, o, w)
	return err
}

// writeJSON writes one JSON report with a fresh Reporter.
func writeJSON(w io.Writer, s *table.Snapshot, o *JSONOptions) error {
	var r Reporter
	return r.WriteJSON(w, s, o)
}

// AppendJSON appends the line writeJSON writes, newline included.
func AppendJSON(dst []byte, s *table.Snapshot, o *JSONOptions) []byte {
	dst, _, _ = appendJSON(dst, nil, s, o, nil)
	return dst
}

// appendJSON appends the report to dst; when w is not nil it writes dst out
// whenever it passes jsonChunk and at the end, and returns dst emptied.
func appendJSON(dst []byte, scratch []table.Flow, s *table.Snapshot, o *JSONOptions, w io.Writer) ([]byte, []table.Flow, error) {
	if o == nil {
		o = &JSONOptions{}
	}
	hf := display.HostFormat{Group: o.Group.By, Links: s.Interfaces} // numeric, for sorting by name
	limit := o.Limit
	if limit <= 0 {
		limit = -1
	}
	rows, scratch := display.TopRows(s, o.View, o.Group, o.Sort, table.TwoLine, &hf, limit, scratch)
	if w == nil {
		dst = slices.Grow(dst, 512+len(rows)*jsonFlowSize)
	}

	dst = append(dst, `{"time":`...)
	dst = appendJSONTime(dst, s.Time)
	dst = append(dst, `,"start":`...)
	dst = appendJSONTime(dst, s.Start)
	dst = append(dst, `,"interface":`...)
	if o.Interface != "" || len(s.Interfaces) == 0 {
		dst = appendJSONString(dst, o.Interface)
	} else {
		var names []byte
		for i := range s.Interfaces {
			if i > 0 {
				names = append(names, ',')
			}
			names = append(names, s.Interfaces[i].Name...)
		}
		dst = appendJSONString(dst, string(names))
	}

	dst = append(dst, `,"flows":[`...)
	for i := range rows {
		if i > 0 {
			dst = append(dst, ',')
		}
		if o.Group.By != group.Host {
			dst = appendJSONGroupRow(dst, s, &rows[i], &o.Group)
		} else {
			dst = appendJSONFlow(dst, s, &rows[i], o.View)
		}
		if w != nil && len(dst) >= jsonChunk {
			if _, err := w.Write(dst); err != nil {
				return dst[:0], scratch, err
			}
			dst = dst[:0]
		}
	}
	dst = append(dst, `],"totals":{"sent":`...)
	dst = appendJSONStat(dst, s, &s.TX)
	dst = append(dst, `,"recv":`...)
	dst = appendJSONStat(dst, s, &s.RX)
	dst = append(dst, `,"peak":{"sent":`...)
	dst = strconv.AppendUint(dst, display.BitsPerSecond(s.Peak.Sent), 10)
	dst = append(dst, `,"recv":`...)
	dst = strconv.AppendUint(dst, display.BitsPerSecond(s.Peak.Recv), 10)
	dst = append(dst, `,"total":`...)
	dst = strconv.AppendUint(dst, display.BitsPerSecond(s.Peak.Total), 10)
	dst = append(dst, `}},"capture":`...)
	dst = appendJSONCapture(dst, &s.Capture)
	if len(s.Interfaces) > 0 {
		dst = append(dst, `,"interfaces":[`...)
		for i := range s.Interfaces {
			ifc := &s.Interfaces[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"name":`...)
			dst = appendJSONString(dst, ifc.Name)
			dst = append(dst, `,"down":`...)
			dst = strconv.AppendBool(dst, ifc.Down)
			dst = append(dst, `,"speed":`...)
			if ifc.Speed > 0 {
				dst = strconv.AppendInt(dst, ifc.Speed, 10)
			} else {
				dst = append(dst, "null"...)
			}
			dst = appendJSONStringOrNull(dst, `,"master":`, ifc.Master)
			dst = appendJSONStringOrNull(dst, `,"state":`, ifc.State)
			dst = append(dst, `,"sent":`...)
			dst = appendJSONStat(dst, s, &ifc.TX)
			dst = append(dst, `,"recv":`...)
			dst = appendJSONStat(dst, s, &ifc.RX)
			dst = append(dst, `,"capture":`...)
			dst = appendJSONCapture(dst, &ifc.Capture)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = appendJSONBonds(dst, s)
	dst = append(dst, "}\n"...)
	if w != nil {
		_, err := w.Write(dst)
		return dst[:0], scratch, err
	}
	return dst, scratch, nil
}

// appendJSONStringOrNull appends field and s as a JSON string, or null when
// s is empty.
func appendJSONStringOrNull(dst []byte, field, s string) []byte {
	dst = append(dst, field...)
	if s == "" {
		return append(dst, "null"...)
	}
	return appendJSONString(dst, s)
}

// jsonFlowSize is about what one row takes, to size the output once.
const jsonFlowSize = 330

func appendJSONFlow(dst []byte, s *table.Snapshot, f *table.Flow, v table.View) []byte {
	k := &f.Key
	if k.IsOther() {
		dst = append(dst, `{"src":"other","dst":"other","family":null,"src_port":null,"dst_port":null,"proto":null,"vlan":null`...)
	} else {
		dst = append(dst, `{"src":`...)
		dst = appendJSONAddr(dst, k, display.Src)
		dst = append(dst, `,"dst":`...)
		dst = appendJSONAddr(dst, k, display.Dst)
		dst = append(dst, `,"family":`...)
		dst = strconv.AppendUint(dst, uint64(k.Family), 10)
		dst = append(dst, `,"src_port":`...)
		dst = appendJSONPort(dst, k.APort)
		dst = append(dst, `,"dst_port":`...)
		dst = appendJSONPort(dst, k.BPort)
		dst = append(dst, `,"proto":`...)
		if v.Ports == table.PortsOff {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, '"')
			dst = append(dst, naming.ProtoName(k.Proto)...)
			dst = append(dst, '"')
		}
		dst = append(dst, `,"vlan":`...)
		if k.VLAN == 0 {
			dst = append(dst, "null"...)
		} else {
			dst = strconv.AppendUint(dst, uint64(k.VLAN), 10)
		}
	}
	dst = append(dst, `,"sent":`...)
	dst = appendJSONStat(dst, s, &f.Sent)
	dst = append(dst, `,"recv":`...)
	dst = appendJSONStat(dst, s, &f.Recv)
	dst = append(dst, `,"links":`...)
	if f.Links == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range f.Links {
			l := &f.Links[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"name":`...)
			name := ""
			if l.Link >= 0 && l.Link < len(s.Interfaces) {
				name = s.Interfaces[l.Link].Name
			}
			dst = appendJSONString(dst, name)
			dst = append(dst, `,"sent":`...)
			dst = appendJSONStat(dst, s, &l.Sent)
			dst = append(dst, `,"recv":`...)
			dst = appendJSONStat(dst, s, &l.Recv)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// appendJSONAddr writes the address of one side as a string, or null when
// it was aggregated away.
func appendJSONAddr(dst []byte, k *table.Key, side display.Side) []byte {
	a := k.AAddr()
	if side == display.Dst {
		a = k.BAddr()
	}
	if !a.IsValid() {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = a.AppendTo(dst)
	return append(dst, '"')
}

// appendJSONPort writes a port, or null for 0: the view hid it or the
// protocol has none (decode never yields port 0 for TCP or UDP).
func appendJSONPort(dst []byte, p uint16) []byte {
	if p == 0 {
		return append(dst, "null"...)
	}
	return strconv.AppendUint(dst, uint64(p), 10)
}

func appendJSONStat(dst []byte, s *table.Snapshot, st *table.Stat) []byte {
	dst = append(dst, `{"rate_2s":`...)
	dst = strconv.AppendUint(dst, display.BitsPerSecond(s.Rate(table.Win2s, st.Win[table.Win2s])), 10)
	dst = append(dst, `,"rate_10s":`...)
	dst = strconv.AppendUint(dst, display.BitsPerSecond(s.Rate(table.Win10s, st.Win[table.Win10s])), 10)
	dst = append(dst, `,"rate_40s":`...)
	dst = strconv.AppendUint(dst, display.BitsPerSecond(s.Rate(table.Win40s, st.Win[table.Win40s])), 10)
	dst = append(dst, `,"bytes":`...)
	dst = strconv.AppendUint(dst, st.Bytes, 10)
	dst = append(dst, `,"packets":`...)
	dst = strconv.AppendUint(dst, st.Packets, 10)
	return append(dst, '}')
}

func appendJSONCapture(dst []byte, c *table.Capture) []byte {
	fields := [...]struct {
		name string
		v    uint64
	}{
		{`{"packets":`, c.Packets},
		{`,"bytes":`, c.Bytes},
		{`,"dropped":`, c.Dropped},
		{`,"undecodable":`, c.Undecodable},
		{`,"not_ip":`, c.NotIP},
		{`,"filtered":`, c.Filtered},
		{`,"ignored":`, c.Ignored},
		{`,"counted":`, c.Counted},
		{`,"folded":`, c.Folded},
		{`,"outliers":`, c.Outliers},
	}
	for _, f := range fields {
		dst = append(dst, f.name...)
		dst = strconv.AppendUint(dst, f.v, 10)
	}
	return append(dst, '}')
}

// appendJSONTime writes Unix nanoseconds as an RFC 3339 string in UTC, with
// a fraction of a second only when it is not zero (trailing zeros dropped).
func appendJSONTime(dst []byte, ns int64) []byte {
	dst = append(dst, '"')
	dst = time.Unix(0, ns).UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string: quotes, backslashes and
// controls escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped for
// JavaScript readers.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028':
			dst = append(dst, `\u2028`...)
		case r == '\u2029':
			dst = append(dst, `\u2029`...)
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

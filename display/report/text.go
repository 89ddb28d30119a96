package report

import (
	"io"
	"strconv"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

// Geometry of iftop's text report (docs/iftop.md#text-format).
const (
	TextHostWidth  = 40 // PRINT_WIDTH: each host field
	TextLineWidth  = 92 // dividers and pair lines
	textLabelWidth = 48 // the summary labels
	textRateWidth  = 10 // each %10s value
	DefaultLimit   = 10 // iftop's -L default: pairs per report
	// DefaultJSONLimit is fastop's default -L for --json: enough for any
	// dashboard, while one report of a table of millions of flows would
	// be a line of hundreds of MB.
	DefaultJSONLimit = 100
)

var (
	textDivider = repeatByte('-', TextLineWidth)
	textEnd     = repeatByte('=', TextLineWidth)
)

func repeatByte(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// TextOptions configure a text report. The zero value is iftop -t with no
// other flag: hosts only, sorted by 10 s, 10 pairs, bits, numeric addresses,
// service names from DefaultServices.
type TextOptions struct {
	View         table.View       // ports and hidden hosts (iftop's -P, s, d, …)
	Sort         display.Order    // -o
	Limit        int              // -L: pairs per report; 0 means DefaultLimit, < 0 means all
	Bytes        bool             // -B: rates and peaks in bytes per second
	NumericPorts bool             // -N: no service names
	Namer        naming.Namer     // nil: numeric addresses (-n, or before DNS exists)
	Services     *naming.Services // nil: DefaultServices(); ignored with NumericPorts
	Group        group.Config     // what a row is (--group); the zero value: host pairs under View
}

// HostFormat returns the host formatter these options describe.
func (o *TextOptions) HostFormat() display.HostFormat {
	hf := display.HostFormat{Namer: o.Namer}
	if !o.NumericPorts {
		hf.Services = o.Services
		if hf.Services == nil {
			hf.Services = naming.DefaultServices()
		}
	}
	return hf
}

func (o *TextOptions) limit() int {
	if o.Limit == 0 {
		return DefaultLimit
	}
	return o.Limit
}

func (o *TextOptions) unit() display.Unit {
	if o.Bytes {
		return display.Bytes
	}
	return display.Bits
}

// Reporter writes reports and keeps its scratch memory (rows, output)
// from one report to the next, so a report every 2 s does not reallocate a
// copy of a large table each time. The zero value is ready; a Reporter is
// not safe for concurrent use.
type Reporter struct {
	rows []table.Flow
	buf  []byte
}

// WriteText writes one report for s in iftop's text format, byte for byte
// (docs/iftop.md#text-format), followed by fastop's capture lines
// (appendCaptureLines), in a single Write. Rows are aggregated under o.View,
// sorted by o.Sort and limited to o.Limit pairs; each pair takes two lines
// whatever the screen's line mode. The caller flushes w after each report.
func (r *Reporter) WriteText(w io.Writer, s *table.Snapshot, o *TextOptions) error {
	r.buf, r.rows = appendText(r.buf[:0], r.rows, s, o)
	_, err := w.Write(r.buf)
	return err
}

// writeText writes one text report with a fresh Reporter.
func writeText(w io.Writer, s *table.Snapshot, o *TextOptions) error {
	var r Reporter
	return r.WriteText(w, s, o)
}

// AppendText appends the report writeText writes.
func AppendText(dst []byte, s *table.Snapshot, o *TextOptions) []byte {
	dst, _ = appendText(dst, nil, s, o)
	return dst
}

func appendText(dst []byte, scratch []table.Flow, s *table.Snapshot, o *TextOptions) ([]byte, []table.Flow) {
	if o == nil {
		o = &TextOptions{}
	}
	hf := o.HostFormat()
	hf.Group, hf.Links = o.Group.By, s.Interfaces
	rows, scratch := display.TopRows(s, o.View, o.Group, o.Sort, table.TwoLine, &hf, o.limit(), scratch)
	u := o.unit()

	dst = append(dst, "   # "...)
	dst = display.AppendPadded(dst, display.GroupTitle(o.Group.By), TextHostWidth-1)
	dst = append(dst, "    "...)
	for _, h := range [...]string{"last 2s", "last 10s", "last 40s", "cumulative"} {
		dst = append(dst, ' ')
		dst = appendRight(dst, []byte(h), textRateWidth)
	}
	dst = append(dst, '\n')
	dst = append(dst, textDivider...)
	dst = append(dst, '\n')

	for i := range rows {
		r := &rows[i]
		var num [20]byte
		dst = appendRight(dst, strconv.AppendInt(num[:0], int64(i+1), 10), 4)
		dst = append(dst, ' ')
		dst = hf.AppendEndpoint(dst, &r.Key, display.Src, TextHostWidth)
		dst = append(dst, " =>"...)
		dst = appendTextStat(dst, s, &r.Sent, u)
		dst = append(dst, "     "...)
		dst = hf.AppendEndpoint(dst, &r.Key, display.Dst, TextHostWidth)
		dst = append(dst, " <="...)
		dst = appendTextStat(dst, s, &r.Recv, u)
	}
	dst = append(dst, textDivider...)
	dst = append(dst, '\n')

	var total table.Stat
	total.Add(&s.TX)
	total.Add(&s.RX)
	dst = appendTextRates(dst, "Total send rate:", s, &s.TX, u)
	dst = appendTextRates(dst, "Total receive rate:", s, &s.RX, u)
	dst = appendTextRates(dst, "Total send and receive rate:", s, &total, u)
	dst = append(dst, textDivider...)
	dst = append(dst, '\n')

	var buf [3][24]byte
	dst = appendTextLine(dst, "Peak rate (sent/received/total):",
		display.AppendRate(buf[0][:0], s.Peak.Sent, u),
		display.AppendRate(buf[1][:0], s.Peak.Recv, u),
		display.AppendRate(buf[2][:0], s.Peak.Total, u))
	dst = appendTextLine(dst, "Cumulative (sent/received/total):",
		display.AppendTotal(buf[0][:0], s.TX.Bytes),
		display.AppendTotal(buf[1][:0], s.RX.Bytes),
		display.AppendTotal(buf[2][:0], total.Bytes))
	dst = append(dst, textEnd...)
	dst = append(dst, "\n\n"...)
	dst = appendCaptureLines(dst, &s.Capture)
	dst = appendDownLines(dst, s.Interfaces)
	dst = appendLinkBlocks(dst, s, u)
	return appendBondBlocks(dst, s), scratch
}

// appendTextStat appends " %10s" for the three rates and the cumulative
// bytes of one direction, then a newline.
func appendTextStat(dst []byte, s *table.Snapshot, st *table.Stat, u display.Unit) []byte {
	var buf [24]byte
	for w := table.Win2s; w <= table.Win40s; w++ {
		dst = append(dst, ' ')
		dst = appendRight(dst, display.AppendRate(buf[:0], s.Rate(w, st.Win[w]), u), textRateWidth)
	}
	dst = append(dst, ' ')
	dst = appendRight(dst, display.AppendTotal(buf[:0], st.Bytes), textRateWidth)
	return append(dst, '\n')
}

func appendTextRates(dst []byte, label string, s *table.Snapshot, st *table.Stat, u display.Unit) []byte {
	var buf [3][24]byte
	return appendTextLine(dst, label,
		display.AppendRate(buf[0][:0], s.Rate(table.Win2s, st.Win[table.Win2s]), u),
		display.AppendRate(buf[1][:0], s.Rate(table.Win10s, st.Win[table.Win10s]), u),
		display.AppendRate(buf[2][:0], s.Rate(table.Win40s, st.Win[table.Win40s]), u))
}

// appendTextLine appends a summary line: the label padded to 48, then three
// %10s values separated by spaces (81 bytes).
func appendTextLine(dst []byte, label string, a, b, c []byte) []byte {
	dst = display.AppendPadded(dst, label, textLabelWidth)
	for _, v := range [...][]byte{a, b, c} {
		dst = append(dst, ' ')
		dst = appendRight(dst, v, textRateWidth)
	}
	return append(dst, '\n')
}

// appendRight appends v right-aligned in width bytes, as %*s does: a value
// wider than the field is written whole.
func appendRight(dst, v []byte, width int) []byte {
	for n := len(v); n < width; n++ {
		dst = append(dst, ' ')
	}
	return append(dst, v...)
}

// appendCaptureLines appends fastop's capture health after iftop's block,
// so parsers of iftop's format keep working. The first line is always
// written, with every counter, so a script can rely on it:
//
//	Capture: 12345 packets, 0 dropped by the kernel, 3 undecodable, 12 not IP, 0 filtered, 0 ignored
//
// A second line is written only when flows were folded into the "other" row
// because the flow table was full:
//
//	Folded: 17 flows into the (other) row (flow table full)
//
// and a third only when a capture file held packets whose timestamps the
// clock could not follow (table.Capture.Outliers):
//
//	Timestamps: 1 packet out of line with its neighbours, counted at the capture's time
//
// A blank line ends them, as one ends iftop's block.
func appendCaptureLines(dst []byte, c *table.Capture) []byte {
	dst = append(dst, "Capture: "...)
	dst = strconv.AppendUint(dst, c.Packets, 10)
	dst = append(dst, " packets, "...)
	dst = strconv.AppendUint(dst, c.Dropped, 10)
	dst = append(dst, " dropped by the kernel, "...)
	dst = strconv.AppendUint(dst, c.Undecodable, 10)
	dst = append(dst, " undecodable, "...)
	dst = strconv.AppendUint(dst, c.NotIP, 10)
	dst = append(dst, " not IP, "...)
	dst = strconv.AppendUint(dst, c.Filtered, 10)
	dst = append(dst, " filtered, "...)
	dst = strconv.AppendUint(dst, c.Ignored, 10)
	dst = append(dst, " ignored\n"...)
	if c.Folded > 0 {
		dst = append(dst, "Folded: "...)
		dst = strconv.AppendUint(dst, c.Folded, 10)
		if c.Folded == 1 {
			dst = append(dst, " flow into the "...)
		} else {
			dst = append(dst, " flows into the "...)
		}
		dst = append(dst, display.OtherHost...)
		dst = append(dst, " row (flow table full)\n"...)
	}
	if c.Outliers > 0 {
		dst = append(dst, "Timestamps: "...)
		dst = strconv.AppendUint(dst, c.Outliers, 10)
		if c.Outliers == 1 {
			dst = append(dst, " packet out of line with its neighbours"...)
		} else {
			dst = append(dst, " packets out of line with their neighbours"...)
		}
		dst = append(dst, ", counted at the capture's time\n"...)
	}
	return append(dst, '\n')
}

// appendLinkBlocks appends, for a live capture of several links or of a
// bond's or team's, a block per link at the end (after the capture and down
// lines, so iftop's block and fastop's lines stay where parsers look):
//
//	Link eth0 of bond0: active, speed 10Gb/s
//	Send rate:                                        1.00Mb    900Kb    ...
//	Receive rate:                                       ...
//	Send, % of speed:                                  0.0%     0.0%    0.0%
//	Receive, % of speed:                                ...
//	Cumulative (sent/received/total):                 2.50MB   10.0KB  2.51MB
//
// The % lines are left out when the link's speed is unknown ("speed
// unknown" in the first line), rather than show a wrong number. A blank
// line ends each block. Nothing is written for a file or a single plain
// interface: the totals already say it all.
func appendLinkBlocks(dst []byte, s *table.Snapshot, u display.Unit) []byte {
	links := s.Interfaces
	show := false
	for i := range links {
		if links[i].State != "" && (len(links) > 1 || links[i].Master != "") {
			show = true
		}
	}
	if !show {
		return dst
	}
	var buf [3][24]byte
	for i := range links {
		l := &links[i]
		dst = append(dst, "Link "...)
		dst = term.AppendClean(dst, l.Name, naming.MaxNameLen)
		if l.Master != "" {
			dst = append(dst, " of "...)
			dst = term.AppendClean(dst, l.Master, naming.MaxNameLen)
		}
		dst = append(dst, ": "...)
		if l.State != "" {
			dst = term.AppendClean(dst, l.State, naming.MaxNameLen)
		} else {
			dst = append(dst, "state unknown"...)
		}
		if l.Speed > 0 {
			dst = append(dst, ", speed "...)
			dst = appendLinkSpeed(dst, l.Speed)
		} else {
			dst = append(dst, ", speed unknown"...)
		}
		dst = append(dst, '\n')
		dst = appendTextRates(dst, "Send rate:", s, &l.TX, u)
		dst = appendTextRates(dst, "Receive rate:", s, &l.RX, u)
		if l.Speed > 0 {
			dst = appendTextShares(dst, "Send, % of speed:", s, &l.TX, l.Speed)
			dst = appendTextShares(dst, "Receive, % of speed:", s, &l.RX, l.Speed)
		}
		dst = appendTextLine(dst, "Cumulative (sent/received/total):",
			display.AppendTotal(buf[0][:0], l.TX.Bytes),
			display.AppendTotal(buf[1][:0], l.RX.Bytes),
			display.AppendTotal(buf[2][:0], l.TX.Bytes+l.RX.Bytes))
		dst = append(dst, '\n')
	}
	return dst
}

// appendLinkSpeed appends a link speed (bits/s) as drivers state it, in
// decimal units: 100Mb/s, 2.5Gb/s, 10Gb/s.
func appendLinkSpeed(dst []byte, bits int64) []byte {
	if bits >= 1_000_000_000 {
		dst = strconv.AppendFloat(dst, float64(bits)/1e9, 'f', -1, 64)
		return append(dst, "Gb/s"...)
	}
	dst = strconv.AppendFloat(dst, float64(bits)/1e6, 'f', -1, 64)
	return append(dst, "Mb/s"...)
}

// appendTextShares appends the three rates of st as a % of speed (bits/s),
// one decimal.
func appendTextShares(dst []byte, label string, s *table.Snapshot, st *table.Stat, speed int64) []byte {
	var buf [3][24]byte
	var v [3][]byte
	for w := table.Win2s; w <= table.Win40s; w++ {
		pct := s.Rate(w, st.Win[w]) * 8 * 100 / float64(speed)
		v[w] = append(strconv.AppendFloat(buf[w][:0], pct, 'f', 1, 64), '%')
	}
	return appendTextLine(dst, label, v[0], v[1], v[2])
}

// appendDownLines says which captured interfaces are down or gone now;
// capture resumes by itself when they come back.
func appendDownLines(dst []byte, ifaces []table.Interface) []byte {
	n := len(dst)
	for i := range ifaces {
		if ifaces[i].Down {
			dst = append(dst, "Interface "...)
			dst = term.AppendClean(dst, ifaces[i].Name, naming.MaxNameLen)
			dst = append(dst, " is down or gone: capture resumes when it is back\n"...)
		}
	}
	if len(dst) > n {
		dst = append(dst, '\n')
	}
	return dst
}

// AppendHeader appends the line text mode prints once at start on stdout:
// verb ("Listening on", "Reading"), a space and the name of what is read
// (interfaces, comma-joined, or a file) in full (the screen's 19-character
// cut is an iftop bug not copied). The name comes from outside (a command
// line, an interface an attacker may have named) and is cleaned.
func AppendHeader(dst []byte, verb, name string) []byte {
	dst = append(dst, verb...)
	dst = append(dst, ' ')
	dst = term.AppendClean(dst, name, -1)
	return append(dst, '\n')
}

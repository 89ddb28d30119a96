package screen

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
)

// The reference tests in this file take the screens iftop itself drew
// (testdata/iftop-screens, captured with tmux from a real iftop 1.0pre4;
// docs/iftop.md#reference-captures), read the numbers back out of them into
// a Snapshot whose window sums give exactly those figures, shuffle the
// flows, render, and compare with iftop's characters (and, for the captures
// made with capture-pane -e, its reverse-video bars) cell for cell.

// span is a run of reversed cells [x0, x1) on one row.
type span struct{ x0, x1 int }

// capture is one captured screen: its rows, with the reverse-video marks
// of capture-pane -e taken out and kept as spans.
type capture struct {
	rows []string
	rev  [][]span
}

func loadCapture(t *testing.T, name string) capture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "iftop-screens", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	var c capture
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var b strings.Builder
		var spans []span
		x, start := 0, -1
		for len(l) > 0 {
			switch {
			case strings.HasPrefix(l, "^[[7m"):
				start = x
				l = l[5:]
			case strings.HasPrefix(l, "^[[0m^[[39m^[[49m"):
				spans = append(spans, span{start, x})
				start = -1
				l = l[len("^[[0m^[[39m^[[49m"):]
			default:
				r := []rune(l)[0]
				b.WriteRune(r)
				l = l[len(string(r)):]
				x++
			}
		}
		if start >= 0 {
			spans = append(spans, span{start, x})
		}
		c.rows = append(c.rows, b.String())
		c.rev = append(c.rev, spans)
	}
	return c
}

// acsText renders g the way capture-pane prints iftop's ACS rules: ─ └ ┴ as
// q m v, trailing blanks trimmed.
func acsText(g *term.Grid) []string {
	s := strings.NewReplacer("─", "q", "└", "m", "┴", "v").Replace(g.String())
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// revSpans returns the reversed runs of each row of g.
func revSpans(g *term.Grid) [][]span {
	out := make([][]span, g.H)
	for y := range g.H {
		row := g.Row(y)
		for x := 0; x < len(row); {
			if row[x].A != term.AttrReverse {
				x++
				continue
			}
			x0 := x
			for x < len(row) && row[x].A == term.AttrReverse {
				x++
			}
			out[y] = append(out[y], span{x0, x})
		}
	}
	return out
}

// shownValue reads a readable_size figure: the number, the unit multiplier
// and whether it is in bits.
func shownValue(t *testing.T, s string) float64 {
	mult, bits, num := displaytest.UnitScale(t, s)
	v := num * mult
	if bits {
		v /= 8
	}
	return v // bytes (per second, for a rate)
}

// sumRange returns the window sums (bytes over win ns) that show as shown.
// The set is an interval since the format is monotonic.
func sumRange(t *testing.T, shown string, win int64, u display.Unit) (lo, hi uint64) {
	t.Helper()
	text := func(n uint64) string {
		if win == 0 {
			return strings.TrimSpace(string(display.AppendTotal(nil, n)))
		}
		return strings.TrimSpace(string(display.AppendRate(nil, float64(n)*1e9/float64(win), u)))
	}
	perSec := shownValue(t, shown)
	if u == display.Bytes && strings.HasSuffix(shown, "b") {
		t.Fatalf("bits value %q in bytes mode", shown)
	}
	center := perSec
	if win != 0 {
		center = perSec * float64(win) / 1e9
	}
	c := uint64(math.Round(center))
	found := false
	for d := uint64(0); d < 1<<20 && !found; d++ {
		for _, n := range []uint64{c + d, c - d} {
			if n <= c+d && text(n) == shown {
				c, found = n, true
				break
			}
		}
	}
	if !found {
		t.Fatalf("no window sum over %d ns shows as %q", win, shown)
	}
	lo, hi = c, c
	for step := uint64(1 << 40); step > 0; step >>= 1 {
		if lo >= step && text(lo-step) == shown {
			lo -= step
		}
		if text(hi+step) == shown {
			hi += step
		}
	}
	return lo, hi
}

// pickSum returns a window sum that shows as shown.
func pickSum(t *testing.T, shown string, win int64, u display.Unit) uint64 {
	lo, hi := sumRange(t, shown, win, u)
	return lo + (hi-lo)/2
}

// pickPair returns a in [alo, ahi] and b in [blo, bhi] whose sum shows as
// shownSum (iftop's TOTAL row is TX + RX).
func pickPair(t *testing.T, alo, ahi, blo, bhi uint64, shownSum string, win int64, u display.Unit) (a, b uint64) {
	t.Helper()
	slo, shi := sumRange(t, shownSum, win, u)
	lo, hi := max(slo, alo+blo), min(shi, ahi+bhi)
	if lo > hi {
		t.Fatalf("no [%d, %d] + [%d, %d] that shows as %s", alo, ahi, blo, bhi, shownSum)
	}
	s := lo + (hi-lo)/2
	a = max(alo, s-min(s, bhi))
	a = min(a, ahi)
	return a, s - a
}

// barRange narrows [lo, hi] (window sums over win ns) to the sums whose
// bar is cells long, as the capture shows it: the bar is data too, read
// back like the figures. It fails when no sum in the range gives that bar.
func barRange(t *testing.T, lo, hi uint64, win int64, cells int, sp screenSpec) (uint64, uint64) {
	t.Helper()
	n := func(x uint64) int { return barCells(float64(x)*8e9/float64(win), sp.max, sp.w, sp.log) }
	// barCells grows with the sum: find the first sum with at least cells
	// and the first with more.
	first := func(pred func(int) bool) uint64 {
		a, b := lo, hi+1
		for a < b {
			m := a + (b-a)/2
			if pred(n(m)) {
				b = m
			} else {
				a = m + 1
			}
		}
		return a
	}
	nlo := first(func(c int) bool { return c >= cells })
	nhi := first(func(c int) bool { return c > cells })
	if nlo >= nhi {
		t.Fatalf("no window sum in [%d, %d] gives a bar of %d cells (%d to %d)", lo, hi, cells, n(lo), n(hi))
	}
	return nlo, nhi - 1
}

// screenSpec says how a capture was drawn and how to read it back.
type screenSpec struct {
	w, h   int
	mode   table.LineMode
	totals bool              // the T column
	win    [3]int64          // window lengths the figures were computed over
	unit   display.Unit      // -B
	names  map[string]string // host text → address, for captures with DNS names (and ":service" → port)
	protos map[string]uint8  // the destination field → IP protocol, where it is not TCP
	// For the captures made with capture-pane -e, the bars are read back
	// too, on this scale.
	bars bool
	max  float64
	log  bool
}

// parseScreenHost reads a host field: " * ", "addr", "addr:port",
// "[v6]:port", or names from sp.names.
func parseScreenHost(t *testing.T, field string, names map[string]string) (string, uint16) {
	t.Helper()
	f := strings.TrimSpace(field)
	if f == "*" {
		return "", 0
	}
	if ap, err := netip.ParseAddrPort(f); err == nil {
		return ap.Addr().String(), ap.Port()
	}
	if a, err := netip.ParseAddr(f); err == nil {
		return a.String(), 0
	}
	host, port := f, uint16(0)
	if i := strings.LastIndexByte(f, ':'); i > 0 && !strings.Contains(f[i+1:], "]") {
		host = f[:i]
		for _, c := range f[i+1:] {
			if c < '0' || c > '9' {
				port = 0
				break
			}
			port = port*10 + uint16(c-'0')
		}
		if port == 0 { // a service name: the test maps it
			if p, ok := names[":"+f[i+1:]]; ok {
				var n uint16
				for _, c := range p {
					n = n*10 + uint16(c-'0')
				}
				port = n
			}
		}
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, ok := names[host]; ok {
		return a, port
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.String(), port
	}
	t.Fatalf("cannot read host field %q", field)
	return "", 0
}

// snapshotFromScreen builds the snapshot a captured screen shows.
func snapshotFromScreen(t *testing.T, c capture, sp screenSpec) *table.Snapshot {
	t.Helper()
	s := &table.Snapshot{Time: 1_700_000_040_000_000_000, Start: 1_700_000_000_000_000_000, Window: sp.win}
	hw := hostWidth(sp.w, sp.totals)
	valCol := sp.w - 24
	if sp.totals {
		valCol = sp.w - 32
	}
	fields := func(row string) []string {
		if len(row) <= valCol {
			return nil
		}
		return strings.Fields(row[valCol:])
	}
	// barOf returns the bar length the capture shows on row y.
	barOf := func(y int) int {
		if len(c.rev[y]) > 0 && c.rev[y][0].x0 == 0 {
			return c.rev[y][0].x1
		}
		return 0
	}
	ranges := func(f []string, y int) (lo, hi [3]uint64) {
		for i := range 3 {
			lo[i], hi[i] = sumRange(t, f[i], sp.win[i], sp.unit)
		}
		if sp.bars {
			w := table.Win10s
			lo[w], hi[w] = barRange(t, lo[w], hi[w], sp.win[w], barOf(y), sp)
		}
		return lo, hi
	}
	setStat := func(st *table.Stat, f []string, y int) {
		if sp.totals {
			st.Bytes = pickSum(t, f[0], 0, display.Bytes)
			st.Packets = st.Bytes/100 + 1
			f = f[1:]
		}
		lo, hi := ranges(f, y)
		for i := range 3 {
			st.Win[i] = lo[i] + (hi[i]-lo[i])/2
		}
	}
	rows := c.rows
	for y := 1; y < sp.h-4 && y < len(rows); y++ {
		row := rows[y]
		if len(row) < hw+4 {
			continue
		}
		arrow := row[hw : hw+4]
		if arrow != " => " && arrow != " <= " && arrow != "<=> " {
			continue
		}
		if strings.TrimSpace(row[:hw]) == "" && sp.mode == table.TwoLine {
			continue // the <= row of a pair, read with its => row
		}
		a, ap := parseScreenHost(t, row[:hw], sp.names)
		b, bp := parseScreenHost(t, row[hw+4:min(len(row), 2*hw+4)], sp.names)
		var proto uint8 = displaytest.TCP
		if ap == 0 && bp == 0 {
			proto = displaytest.ICMP
			if strings.Contains(a+b, ":") {
				proto = 58
			}
		}
		if p, ok := sp.protos[strings.TrimSpace(row[hw+4:min(len(row), 2*hw+4)])]; ok {
			proto = p
		}
		f := table.Flow{Key: displaytest.MkKey(a, ap, b, bp, proto)}
		switch sp.mode {
		case table.TwoLine:
			setStat(&f.Sent, fields(row), y)
			setStat(&f.Recv, fields(rows[y+1]), y+1)
		case table.OneLineRecv:
			setStat(&f.Recv, fields(row), y)
		default: // both (all of it sent) or sent only
			setStat(&f.Sent, fields(row), y)
		}
		s.Flows = append(s.Flows, f)
	}
	// The bottom block.
	tx := strings.Fields(strings.NewReplacer("cum:", "", "peak:", "", "rates:", "").Replace(rows[sp.h-3]))[1:]
	rx := strings.Fields(rows[sp.h-2])[1:]
	tot := strings.Fields(rows[sp.h-1])[1:]
	clo, chi := sumRange(t, tx[0], 0, display.Bytes)
	rlo, rhi := sumRange(t, rx[0], 0, display.Bytes)
	s.TX.Bytes, s.RX.Bytes = pickPair(t, clo, chi, rlo, rhi, tot[0], 0, display.Bytes)
	peak := func(v string) float64 {
		lo, hi := sumRange(t, v, 1e9, sp.unit)
		return float64(lo+hi) / 2
	}
	s.Peak = table.Peak{Sent: peak(tx[1]), Recv: peak(rx[1]), Total: peak(tot[1])}
	txlo, txhi := ranges(tx[2:], sp.h-3)
	rxlo, rxhi := ranges(rx[2:], sp.h-2)
	for i := range 3 {
		s.TX.Win[i], s.RX.Win[i] = pickPair(t, txlo[i], txhi[i], rxlo[i], rxhi[i], tot[2+i], sp.win[i], sp.unit)
	}
	r := rand.New(rand.NewPCG(3, 4))
	r.Shuffle(len(s.Flows), func(i, j int) { s.Flows[i], s.Flows[j] = s.Flows[j], s.Flows[i] })
	return s
}

// compareScreen compares rows [0, n) of g with the capture (n ≤ 0: all),
// and the reverse-video spans when the capture has them.
func compareScreen(t *testing.T, g *term.Grid, c capture, n int, checkRev bool) {
	t.Helper()
	got := acsText(g)
	if n <= 0 {
		n = len(c.rows)
	}
	bad := 0
	for y := 0; y < n; y++ {
		got[y] = withoutLinkKeys(got[y]) // the one place fastop's help differs
		if got[y] != c.rows[y] && bad < 6 {
			t.Errorf("row %d:\n  iftop  %q\n  fastop %q", y, c.rows[y], got[y])
			bad++
		}
	}
	if !checkRev {
		return
	}
	rev := revSpans(g)
	for y := 0; y < n; y++ {
		if !equalSpans(rev[y], c.rev[y]) {
			t.Errorf("row %d reverse video: iftop %v, fastop %v", y, c.rev[y], rev[y])
		}
	}
	if t.Failed() {
		t.Logf("fastop's frame:\n%s", g.AppendText(nil, true))
	}
}

func equalSpans(a, b []span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

const sec = int64(1e9)

var (
	win40        = [3]int64{2 * sec, 10 * sec, 40 * sec}
	numericPorts = func() UIState {
		st := DefaultUIState()
		st.DNS, st.PortNames = false, false
		st.View.Ports = table.PortsOn
		return st
	}
)

// TestRenderIftopScreens renders the snapshot each capture shows and
// compares the frame with iftop's, cell for cell.
func TestRenderIftopScreens(t *testing.T) {
	portsOff := func(st UIState) UIState { st.View.Ports = table.PortsOff; return st }
	tests := []struct {
		name    string
		sp      screenSpec
		state   func(UIState) UIState
		max     float64 // the scale iftop had reached (fastop's own scale differs by design)
		rows    int     // rows to compare (0: all)
		rev     bool    // compare the bars too
		ascii   bool
		utf8    bool // compare the glyphs themselves
		extra   []table.Flow
		snapNil bool
	}{
		{name: "default_5mb", sp: screenSpec{w: 80, h: 24, win: [3]int64{2 * sec, 10 * sec, 12 * sec}}, max: 1e9},
		{name: "default_all", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9},
		{name: "default_all_utf8", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9, utf8: true},
		{name: "listening_10M", sp: screenSpec{w: 80, h: 24, win: win40}, max: 10 << 20, snapNil: true,
			state: func(st UIState) UIState { st.Msg = "Listening on fva"; return st }},
		{name: "first_refresh_10M", sp: screenSpec{w: 80, h: 24, win: [3]int64{2 * sec, 2 * sec, 2 * sec}}, max: 10 << 20},
		{name: "totals_T", sp: screenSpec{w: 80, h: 24, win: win40, totals: true}, max: 1e9,
			state: func(st UIState) UIState { st.Totals = true; st.Msg = "Show cumulative totals"; return st }},
		{name: "oneline_both", sp: screenSpec{w: 80, h: 24, win: win40, mode: table.OneLineBoth}, max: 1e9,
			state: func(st UIState) UIState { st.Mode = table.OneLineBoth; st.Msg = "One line per host"; return st }},
		{name: "recv_only", sp: screenSpec{w: 80, h: 24, win: win40, mode: table.OneLineRecv}, max: 1e9,
			state: func(st UIState) UIState { st.Mode = table.OneLineRecv; st.Msg = "Received traffic only"; return st }},
		{name: "help", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9,
			state: func(st UIState) UIState { st.Help, st.Log = true, true; return st }},
		{name: "ports_off", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9, state: portsOff},
		{name: "hide_source", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9,
			state: func(st UIState) UIState {
				st = portsOff(st)
				st.View.HideSrc = true
				st.Msg = "Hide source host"
				return st
			}},
		{name: "log_scale", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9,
			state: func(st UIState) UIState { st = portsOff(st); st.Log = true; return st }},
		{name: "log_scale_bars_e", sp: screenSpec{w: 80, h: 24, win: win40, bars: true, max: 1e9, log: true}, max: 1e9, rev: true,
			state: func(st UIState) UIState { st = portsOff(st); st.Log = true; return st }},
		{name: "linear_bars_10M_e", sp: screenSpec{w: 80, h: 24, win: win40, bars: true, max: 10 << 20}, max: 10 << 20, rev: true},
		{name: "oneline_bars_10M_e", sp: screenSpec{w: 80, h: 24, win: win40, mode: table.OneLineBoth, bars: true, max: 10 << 20}, max: 10 << 20, rev: true,
			state: func(st UIState) UIState { st.Mode = table.OneLineBoth; return st }},
		{name: "bars_off", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9,
			state: func(st UIState) UIState { st = portsOff(st); st.Bars = false; return st }},
		{name: "bytes_B", sp: screenSpec{w: 80, h: 24, win: win40, unit: display.Bytes}, max: 1e9, state: portsOff},
		{name: "resize_100x30", sp: screenSpec{w: 100, h: 30, win: win40}, max: 1e9,
			state: func(st UIState) UIState { st.Log = true; st.Msg = helpHint; return st }},
		{name: "udp_filter_fading", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9,
			state: func(st UIState) UIState { st.Log = true; return st }},
		{name: "multigig_100G", sp: screenSpec{w: 80, h: 24, win: [3]int64{2 * sec, 10 * sec, 26 * sec}}, max: 1e11},
		{name: "bad_filter_port_foo", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9, rows: 2, snapNil: true,
			state: func(st UIState) UIState { st.Log = true; st.Msg = "unknown port 'foo'"; return st }},
		{name: "bad_filter_syntax", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9, rows: 2, snapNil: true,
			state: func(st UIState) UIState {
				st.Log = true
				st.Msg = "can't parse filter expression: syntax error"
				return st
			}},
		{name: "screen_filter_prompt", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9, rows: 3, snapNil: true,
			state: func(st UIState) UIState {
				st.Log, st.Help = true, true
				st.Edit, st.Editor = EditScreenFilter, term.NewEditor(PromptScreenFilter, `0\.(3|200)`)
				return st
			}},
		{name: "screen_filter_applied", sp: screenSpec{w: 80, h: 24, win: win40}, max: 1e9,
			state: func(st UIState) UIState {
				st.Log = true
				st.Filter, st.FilterText = mustFilter(t, `0\.(3|200)`), `0\.(3|200)`
				return st
			},
			// Rows the filter must hide.
			extra: []table.Flow{
				{Key: displaytest.MkKey("10.99.0.1", 57680, "10.99.0.2", 5201, displaytest.TCP), Sent: table.Stat{Win: [3]uint64{1 << 20, 5 << 20, 20 << 20}}},
				{Key: displaytest.MkKey("fd00:99::1", 39718, "fd00:99::2", 5202, displaytest.TCP), Recv: table.Stat{Win: [3]uint64{1 << 19, 5 << 19, 20 << 19}}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadCapture(t, tt.name)
			st := numericPorts()
			if tt.state != nil {
				st = tt.state(st)
			}
			var snap *table.Snapshot
			if !tt.snapNil {
				snap = snapshotFromScreen(t, c, tt.sp)
				snap.Flows = append(snap.Flows, tt.extra...)
			}
			g := term.NewGrid(tt.sp.w, tt.sp.h)
			var r renderer
			r.Render(g, &frame{Snap: snap, State: &st, MaxBandwidth: tt.max, Bytes: tt.sp.unit == display.Bytes, Version: "test"})
			if tt.utf8 {
				got := strings.Split(strings.TrimSuffix(g.String(), "\n"), "\n")
				for y := range c.rows {
					if got[y] != c.rows[y] {
						t.Errorf("row %d:\n  iftop  %q\n  fastop %q", y, c.rows[y], got[y])
					}
				}
				return
			}
			compareScreen(t, g, c, tt.rows, tt.rev)
		})
	}
}

// linkKeys are the lines fastop adds to iftop's help screen, in the empty
// right-hand column (column 39 on) of its Sorting rows.
var linkKeys = []string{"Links (fastop):", " i - toggle the link strip", " I - flows of all links/one link"}

// withoutLinkKeys drops one of linkKeys from column 39 of a help row (and
// the blanks before it), leaving what iftop shows there.
func withoutLinkKeys(row string) string {
	if len(row) <= 39 {
		return row
	}
	for _, k := range linkKeys {
		if row[39:] == k {
			return strings.TrimRight(row[:39], " ")
		}
	}
	return row
}

func mustFilter(t *testing.T, text string) *regexp.Regexp {
	t.Helper()
	re, err := CompileFilter(text)
	if err != nil {
		t.Fatal(err)
	}
	return re
}

// textNamer is a Namer from a table keyed by address text.
type textNamer map[string]string

func (m textNamer) Name(a netip.Addr) (string, bool) {
	n, ok := m[a.String()]
	return n, ok
}

// TestRenderIftopDNSNames reproduces iftop's dns_names screen with names
// from a hosts file and services: names cut to fit with their port, ":https"
// for UDP/443 and ":80" for UDP/80 (only 80/tcp has a name).
func TestRenderIftopDNSNames(t *testing.T) {
	c := loadCapture(t, "dns_names")
	hostNames := textNamer{
		"10.99.0.1":   "hosta.lan",
		"10.99.0.2":   "server-b.example.test",
		"10.99.0.3":   "c3",
		"10.99.0.200": "a-very-long-hostname-for-testing.example.test",
		"fd00:99::1":  "hosta6.lan",
		"fd00:99::2":  "v6host.example.test",
	}
	read := map[string]string{":https": "443", "a-very-long-hostname-fo": "10.99.0.200"}
	for a, n := range hostNames {
		read[n] = a
	}
	sp := screenSpec{w: 80, h: 24, win: win40, names: read,
		protos: map[string]uint8{"a-very-long-hostname-fo:80": displaytest.UDP, "[fd00:99::abcd]:https": displaytest.UDP}}
	snap := snapshotFromScreen(t, c, sp)
	services, err := naming.ParseServices(strings.NewReader("http 80/tcp\nhttps 443/tcp\nhttps 443/udp\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := DefaultUIState()
	st.View.Ports = table.PortsOn
	g := term.NewGrid(80, 24)
	var r renderer
	r.Render(g, &frame{Snap: snap, State: &st, MaxBandwidth: 1e9, Namer: hostNames, Services: services})
	compareScreen(t, g, c, 0, false)

	// n turns the names off: the same rows by address.
	st, _ = st.key('n')
	r.Render(g, &frame{Snap: snap, State: &st, MaxBandwidth: 1e9, Namer: hostNames, Services: services})
	if row := acsText(g)[2]; !strings.HasPrefix(row, "10.99.0.1:57680            => 10.99.0.2:5201 ") {
		t.Errorf("with DNS off, row 2 = %q", row)
	}
}

// TestRenderIftopSentOnly checks iftop's sent-only screen. iftop drew it
// right after t, with the rows still in the received-only order (its stale
// redraw, docs/iftop.md#bugs 12); fastop sorts at once, so the rows are
// compared as a set and their order is checked against the sent column.
func TestRenderIftopSentOnly(t *testing.T) {
	c := loadCapture(t, "sent_only")
	sp := screenSpec{w: 80, h: 24, win: win40, mode: table.OneLineSent}
	snap := snapshotFromScreen(t, c, sp)
	st := numericPorts()
	st.Mode = table.OneLineSent
	st.Msg = "Sent traffic only"
	g := term.NewGrid(80, 24)
	var r renderer
	r.Render(g, &frame{Snap: snap, State: &st, MaxBandwidth: 1e9})
	got := acsText(g)
	for _, y := range []int{0, 1, 20, 21, 22, 23} {
		if got[y] != c.rows[y] {
			t.Errorf("row %d:\n  iftop  %q\n  fastop %q", y, c.rows[y], got[y])
		}
	}
	want := slices.Clone(c.rows[2:20])
	have := slices.Clone(got[2:20])
	slices.Sort(want)
	slices.Sort(have)
	if !slices.Equal(want, have) {
		t.Errorf("host rows differ as sets:\niftop  %q\nfastop %q", want, have)
	}
	// fastop's order: by the sent 10 s column, ties by 40 s.
	var prev [2]float64
	for y := 2; y < 11; y++ {
		f := strings.Fields(got[y][56:])
		cur := [2]float64{shownValue(t, f[1]), shownValue(t, f[2])}
		if y > 2 && (cur[0] > prev[0] || cur[0] == prev[0] && cur[1] > prev[1]) {
			t.Errorf("row %d (%q) is out of order", y, got[y])
		}
		prev = cur
	}
}

// TestRenderIftopStatusMessages puts each status hint iftop drew
// (status_messages.txt) over the header iftop had when it was captured.
func TestRenderIftopStatusMessages(t *testing.T) {
	c := loadCapture(t, "status_messages")
	for i, row := range c.rows {
		msg := strings.TrimSpace(row[:strings.Index(row[1:], "  ")+1])
		if strings.HasPrefix(row, " Bars off ") {
			msg = "Bars off"
		}
		st := numericPorts()
		st.Msg = msg
		max := 1e9
		switch {
		case i >= 12 && i != 15 && i != 17 && i != 18 && i < 34: // the log-scale ones
			st.Log = true
		case i == 15:
			st.Bars = false
		case i >= 34:
			max = 64e3
			st.Log = i == 36
		}
		g := term.NewGrid(80, 24)
		var r renderer
		r.Render(g, &frame{State: &st, MaxBandwidth: max})
		if got := acsText(g)[0]; got != row {
			t.Errorf("message %d %q:\n  iftop  %q\n  fastop %q", i+1, msg, row, got)
		}
	}
}

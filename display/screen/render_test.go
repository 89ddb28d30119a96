package screen

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
)

// renderFrame renders f on a w×h grid.
func renderFrame(w, h int, f *frame) (*term.Grid, renderInfo) {
	g := term.NewGrid(w, h)
	var r renderer
	info := r.Render(g, f)
	return g, info
}

// checkGrid checks what holds for every frame: only printable ASCII and
// the three rule glyphs, and (at a usable size) iftop's rows in place.
func checkGrid(t *testing.T, g *term.Grid) {
	t.Helper()
	for y := range g.H {
		for x, c := range g.Row(y) {
			switch {
			case c.R >= 0x20 && c.R < 0x7f:
			case c.R == '─' || c.R == '└' || c.R == '┴':
			default:
				t.Fatalf("cell (%d, %d) holds %q", x, y, c.R)
			}
		}
	}
	if g.W < minWidth || g.H < minHeight {
		return
	}
	rows := strings.Split(g.String(), "\n")
	for i, label := range []string{"TX:", "RX:", "TOTAL:"} {
		if !strings.HasPrefix(rows[g.H-3+i], label) {
			t.Errorf("row %d = %q, want %s", g.H-3+i, rows[g.H-3+i], label)
		}
	}
}

// fixtureFrame is the hand-built snapshot of the text tests (names with
// escape sequences, a long IPv6 address, the "other" row, drops, a down
// interface) on the live screen.
func fixtureFrame(st UIState) *frame {
	st.View.Ports = table.PortsOn
	// These goldens show iftop's layout; the link strip, which the
	// fixture's two interfaces would bring, has its own (links_test.go).
	st.Strip = false
	return &frame{
		Snap:        displaytest.FixtureSnapshot(),
		State:       &st,
		Namer:       displaytest.HostileNamer{},
		Services:    naming.BuiltinServices(),
		Live:        true,
		DroppedTick: 3,
		Version:     "test",
	}
}

// TestRenderGolden renders fastop's own frames (the parts iftop has no
// capture of) and compares them with testdata/screen_*.golden; reverse
// video shows as ^[[7m … ^[[0m. go test -update rewrites them.
func TestRenderGolden(t *testing.T) {
	def := DefaultUIState()
	with := func(f func(*UIState)) UIState { st := def; f(&st); return st }
	tests := []struct {
		name string
		w, h int
		f    *frame
	}{
		{"fixture_80x24", 80, 24, fixtureFrame(def)},
		{"fixture_ascii", 80, 24, func() *frame { f := fixtureFrame(def); f.ASCII = true; return f }()},
		{"fixture_40x10", 40, 10, fixtureFrame(def)},
		{"fixture_60x14", 60, 14, fixtureFrame(def)},
		{"fixture_72x16", 72, 16, fixtureFrame(def)},
		{"fixture_150x40_totals", 150, 40, fixtureFrame(with(func(s *UIState) { s.Totals = true }))},
		{"fixture_log_oneline", 80, 24, fixtureFrame(with(func(s *UIState) { s.Log, s.Mode = true, table.OneLineBoth }))},
		{"fixture_bytes_recv", 80, 24, func() *frame {
			f := fixtureFrame(with(func(s *UIState) { s.Mode = table.OneLineRecv }))
			f.Bytes = true
			return f
		}()},
		{"fixture_hidden_src_by_source", 80, 24, func() *frame {
			f := fixtureFrame(def)
			f.State.View = table.View{Ports: table.PortsDest, HideSrc: true}
			f.State.Order = display.SortDest
			return f
		}()},
		{"fixture_bars_off_filter", 80, 24, func() *frame {
			f := fixtureFrame(with(func(s *UIState) { s.Bars = false }))
			f.State.Filter, f.State.FilterText = mustFilter(t, "HOSTA"), "HOSTA"
			return f
		}()},
		{"help_80x40", 80, 40, fixtureFrame(with(func(s *UIState) { s.Help = true }))},
		{"prompt", 80, 24, fixtureFrame(with(func(s *UIState) {
			s.Edit, s.Editor = EditFilterCode, term.NewEditor(PromptFilterCode, "tcp and not port 22")
		}))},
		{"too_small", 39, 10, fixtureFrame(def)},
		{"too_small_short", 80, 9, fixtureFrame(def)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := renderFrame(tt.w, tt.h, tt.f)
			checkGrid(t, g)
			displaytest.Golden(t, "screen_"+tt.name, g.AppendText(nil, true))
		})
	}
}

// TestRenderHealth checks the capture-health note on the rule above the
// totals: what it says and that it leaves iftop's 80-column layout alone.
func TestRenderHealth(t *testing.T) {
	tests := []struct {
		name    string
		live    bool
		dropped uint64
		tick    uint64
		members int
		folded  uint64
		down    bool
		want    string // "" when the rule is bare
		alarm   bool
	}{
		{"file, nothing to say", false, 0, 0, 4, 0, false, "", false},
		{"live", true, 0, 0, 4, 0, false, " 0 dropped, fanout 4 ", false},
		{"live, one socket", true, 12, 0, 1, 0, false, " 12 dropped ", false},
		{"drops this tick", true, 12, 5, 2, 0, false, " 12 dropped (+5), fanout 2 ", true},
		{"file with drops", false, 7, 0, 2, 0, false, " 7 dropped ", false},
		{"folded", true, 0, 0, 2, 17, false, " 0 dropped, fanout 2, 17 folded ", false},
		{"down", true, 0, 0, 2, 0, true, " 0 dropped, fanout 2, wlan0 down ", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &table.Snapshot{Window: win40, Members: tt.members}
			s.Dropped, s.Folded = tt.dropped, tt.folded
			s.Interfaces = []table.Interface{{Name: "eth0"}, {Name: "wlan0", Down: tt.down}}
			st := DefaultUIState()
			g, _ := renderFrame(80, 24, &frame{Snap: s, State: &st, Live: tt.live, DroppedTick: tt.tick})
			rule := strings.Split(g.String(), "\n")[20]
			bare := strings.Repeat("─", 80)
			if tt.want == "" {
				if rule != bare {
					t.Errorf("rule = %q, want it bare", rule)
				}
				return
			}
			want := strings.Repeat("─", 80-2-len(tt.want)) + tt.want + "──"
			if rule != want {
				t.Errorf("rule =\n%q, want\n%q", rule, want)
			}
			x := 80 - 2 - len(tt.want)
			if rev := g.At(x+1, 20).A == term.AttrReverse; rev != tt.alarm {
				t.Errorf("reverse video = %v, want %v", rev, tt.alarm)
			}
		})
	}
}

func TestAutoScale(t *testing.T) {
	var a autoScale
	if a.Max() != 64e3 {
		t.Fatalf("starts at %v, want iftop's 64 kbit/s", a.Max())
	}
	// A 5 Mbit/s flow: the 10 M step that fits (iftop: 1 G, two past it).
	a = a.Tick(5e6)
	if a.Max() != 1e7 {
		t.Errorf("5 Mbit/s: scale %v, want 1e7", a.Max())
	}
	// A burst grows at once.
	a = a.Tick(60e6)
	if a.Max() != 1e8 {
		t.Errorf("60 Mbit/s: scale %v, want 1e8", a.Max())
	}
	// Back to 5 Mbit/s: stays for scaleCalmTicks−1 ticks, then shrinks to fit.
	for i := 1; i < scaleCalmTicks; i++ {
		a = a.Tick(5e6)
		if a.Max() != 1e8 {
			t.Fatalf("shrank after %d calm ticks", i)
		}
	}
	a = a.Tick(5e6)
	if a.Max() != 1e7 {
		t.Errorf("after %d calm ticks: %v, want 1e7", scaleCalmTicks, a.Max())
	}
	// A tick that needs the current step resets the calm count.
	a = a.Tick(60e6)
	for range scaleCalmTicks - 1 {
		a = a.Tick(1e3)
	}
	a = a.Tick(5e7)
	for range scaleCalmTicks - 1 {
		a = a.Tick(1e3)
	}
	if a.Max() != 1e8 {
		t.Errorf("calm count not reset: %v", a.Max())
	}
	// Beyond the table: clamped at 1 Tbit/s, never garbage.
	for _, need := range []float64{19.2 * (1 << 30) * 8, 5e12, math.Inf(1), math.NaN()} {
		b := autoScale{}.Tick(need)
		if m := b.Max(); m != 1e11 && m != 1e12 && m != 64e3 {
			t.Errorf("need %v: scale %v", need, m)
		}
	}
	if m := (autoScale{}).Tick(5e12).Max(); m != 1e12 {
		t.Errorf("5 Tbit/s: scale %v, want the 1 Tbit/s clamp", m)
	}
	if m := (autoScale{}).Tick(0).Max(); m != 64e3 {
		t.Errorf("idle: scale %v", m)
	}
}

// TestRenderScaleFits checks that a frame never draws a bar past its
// scale: with the automatic scale behind (the loop has not ticked yet), the
// frame uses the step that fits.
func TestRenderScaleFits(t *testing.T) {
	s := &table.Snapshot{Window: win40}
	s.TX.Win = [3]uint64{2 * 19_200_000_000 / 8 * 1024 / 1000, 10 * 2e9, 40 * 2e9} // ~19 Gbit/s
	st := DefaultUIState()
	g, info := renderFrame(80, 24, &frame{Snap: s, State: &st, Scale: 64e3})
	if info.Max != 1e11 {
		t.Errorf("scale %v, want 1e11", info.Max)
	}
	row0 := strings.Split(g.String(), "\n")[0]
	for _, lbl := range []string{"18.6Gb", "37.3Gb", "55.9Gb", "74.5Gb", "93.1Gb"} {
		if !strings.Contains(row0, lbl) {
			t.Errorf("header %q lacks %s", row0, lbl)
		}
	}
	// 3 Tbit/s: the last step, labels of the 1 Tbit/s scale, a full bar.
	s.TX.Win[table.Win10s] = 10 * 3e12 / 8
	g, info = renderFrame(80, 24, &frame{Snap: s, State: &st})
	if info.Max != 1e12 {
		t.Errorf("scale %v, want 1e12", info.Max)
	}
	if !strings.HasSuffix(strings.Split(g.String(), "\n")[0], "931Gb") {
		t.Errorf("header %q", strings.Split(g.String(), "\n")[0])
	}
	if n := len(revSpans(g)[21]); n != 1 || revSpans(g)[21][0] != (span{0, 80}) {
		t.Errorf("TX bar %v, want the full width", revSpans(g)[21])
	}
	// A fixed scale (-m) is kept whatever the traffic.
	_, info = renderFrame(80, 24, &frame{Snap: s, State: &st, MaxBandwidth: 10 << 20})
	if info.Max != 10<<20 {
		t.Errorf("fixed scale moved to %v", info.Max)
	}
}

func TestBarCells(t *testing.T) {
	tests := []struct {
		bits, max float64
		w         int
		log       bool
		want      int
	}{
		{0, 1e9, 80, false, 0},
		{-5, 1e9, 80, false, 0},
		{math.NaN(), 1e9, 80, false, 0},
		{1e9 / 80 * 0.99, 1e9, 80, false, 0}, // L_bar 0: no bar
		{1e9 / 80, 1e9, 80, false, 2},        // L_bar 1: two cells
		{4.81 * (1 << 20), 10 << 20, 80, false, 39},
		{1.90 * (1 << 20), 10 << 20, 80, false, 16},
		{6.55 * (1 << 20), 10 << 20, 80, false, 53},
		{1e9, 1e9, 80, false, 80},
		{5e9, 1e9, 80, false, 80},
		{5.73 * (1 << 20), 1e9, 80, true, 61},
		{1, 1e9, 80, true, 0},
		{1e9, 1e9, 80, true, 80},
		{1e3, 1, 80, true, 80}, // a tiny -m on the log scale stays sane
	}
	for _, tt := range tests {
		if got := barCells(tt.bits, tt.max, tt.w, tt.log); got != tt.want {
			t.Errorf("barCells(%v, %v, %d, %v) = %d, want %d", tt.bits, tt.max, tt.w, tt.log, got, tt.want)
		}
	}
}

// rowsOf returns the host rows of a frame (between the header and the
// rule), trailing blanks trimmed.
func rowsOf(g *term.Grid, start int) []string {
	all := strings.Split(g.String(), "\n")
	var out []string
	for _, r := range all[start : g.H-4] {
		if r != "" {
			out = append(out, r)
		}
	}
	return out
}

func flow(a string, ap uint16, b string, bp uint16, sent, recv uint64) table.Flow {
	return table.Flow{
		Key:  displaytest.MkKey(a, ap, b, bp, displaytest.TCP),
		Sent: table.Stat{Win: [3]uint64{sent, sent * 5, sent * 20}, Bytes: sent * 20},
		Recv: table.Stat{Win: [3]uint64{recv, recv * 5, recv * 20}, Bytes: recv * 20},
	}
}

func TestRenderFreezeAndPause(t *testing.T) {
	old := &table.Snapshot{Window: win40, Flows: []table.Flow{
		flow("10.0.0.1", 1, "10.0.0.2", 80, 1000, 10),
		flow("10.0.0.1", 2, "10.0.0.3", 80, 2000, 10),
	}}
	old.TX.Bytes = 100
	st := numericPorts()
	var r renderer
	st, a := st.key('o')
	if !a.Freeze {
		t.Fatal("o does not freeze")
	}
	frozen := r.Order(&frame{Snap: old, State: &st})
	// The next tick: .3 is gone, .2 is now the biggest, .4 is new.
	next := &table.Snapshot{Window: win40, Flows: []table.Flow{
		flow("10.0.0.1", 1, "10.0.0.2", 80, 9000, 10),
		flow("10.0.0.1", 3, "10.0.0.4", 80, 5000, 10),
	}}
	next.TX.Bytes = 200
	g := term.NewGrid(80, 24)
	r.Render(g, &frame{Snap: next, State: &st, Frozen: frozen})
	rows := rowsOf(g, 2)
	if len(rows) != 4 || !strings.HasPrefix(rows[0], "10.0.0.1:2") || !strings.HasPrefix(rows[2], "10.0.0.1:1") {
		t.Fatalf("frozen order not kept:\n%s", strings.Join(rows, "\n"))
	}
	if f := strings.Fields(rows[0][56:]); f[0] != "0b" || f[1] != "0b" {
		t.Errorf("a gone row should show zeros: %q", rows[0])
	}
	if strings.Contains(strings.Join(rows, "\n"), "10.0.0.4") {
		t.Error("a new row is shown while frozen")
	}
	// Unfrozen: sorted again, the new row is back.
	st, _ = st.key('o')
	r.Render(g, &frame{Snap: next, State: &st})
	if rows := rowsOf(g, 2); !strings.HasPrefix(rows[0], "10.0.0.1:1") || !strings.HasPrefix(rows[2], "10.0.0.1:3") {
		t.Errorf("after unfreeze:\n%s", strings.Join(rows, "\n"))
	}
	// Paused: rows from the paused snapshot, cum from the latest.
	r.Render(g, &frame{Snap: old, Totals: next, State: &st})
	all := strings.Split(g.String(), "\n")
	if !strings.HasPrefix(rowsOf(g, 2)[0], "10.0.0.1:2") || !strings.Contains(all[21], "cum:    200B") {
		t.Errorf("paused frame:\n%s", g.String())
	}
}

func TestRenderScrollAndFilter(t *testing.T) {
	s := &table.Snapshot{Window: win40}
	for i := range 30 {
		s.Flows = append(s.Flows, flow("10.0.0.1", uint16(1000+i), fmt.Sprintf("10.0.1.%d", i), 80, uint64(100000-i*1000), 0))
	}
	st := numericPorts()
	g := term.NewGrid(80, 24)
	var r renderer
	info := r.Render(g, &frame{Snap: s, State: &st})
	if info.Rows != 30 || len(rowsOf(g, 2)) != 18 {
		t.Fatalf("rows %d, shown %d", info.Rows, len(rowsOf(g, 2)))
	}
	st.Scroll = 3
	r.Render(g, &frame{Snap: s, State: &st})
	if row := rowsOf(g, 2)[0]; !strings.HasPrefix(row, "10.0.0.1:1003") {
		t.Errorf("scrolled by 3, first row %q", row)
	}
	// Past the end: the last row stays on screen.
	st.Scroll = 100
	r.Render(g, &frame{Snap: s, State: &st})
	if rows := rowsOf(g, 2); len(rows) != 2 || !strings.HasPrefix(rows[0], "10.0.0.1:1029") {
		t.Errorf("scrolled past the end:\n%s", strings.Join(rows, "\n"))
	}
	// The filter matches the padded host fields; the scroll counts the
	// rows that pass it.
	st.Scroll = 1
	st.Filter, st.FilterText = mustFilter(t, `10\.0\.1\.(1|2)[0-9]?:`), ""
	info = r.Render(g, &frame{Snap: s, State: &st})
	rows := rowsOf(g, 2)
	if info.Rows != 22 || !strings.HasPrefix(rows[0], "10.0.0.1:1002 ") {
		t.Errorf("filter: %d rows, first %q", info.Rows, rows[0])
	}
	// A filter that matches nothing leaves the totals alone.
	st.Filter = mustFilter(t, "nothing")
	s.TX.Bytes = 12345
	info = r.Render(g, &frame{Snap: s, State: &st})
	if info.Rows != 0 || len(rowsOf(g, 2)) != 0 || !strings.Contains(g.String(), "12.1KB") {
		t.Errorf("empty filter result:\n%s", g.String())
	}
}

// TestRenderLineModes checks which direction each row and bar shows.
func TestRenderLineModes(t *testing.T) {
	s := &table.Snapshot{Window: win40, Flows: []table.Flow{flow("10.0.0.1", 1, "10.0.0.2", 2, 250000, 25000)}}
	tests := []struct {
		mode  table.LineMode
		arrow string
		rate  string // 2 s column
		bar   int    // cells on the first row with -m 10M
	}{
		{table.TwoLine, " => ", "977Kb", 8},
		{table.OneLineBoth, "<=> ", "1.05Mb", 9},
		{table.OneLineSent, " => ", "977Kb", 8},
		{table.OneLineRecv, " <= ", "97.7Kb", 0},
	}
	for _, tt := range tests {
		st := numericPorts()
		st.Mode, st.BarWin = tt.mode, table.Win2s
		g, _ := renderFrame(80, 24, &frame{Snap: s, State: &st, MaxBandwidth: 10 << 20})
		row := rowsOf(g, 2)[0]
		if row[26:30] != tt.arrow || strings.Fields(row[56:])[0] != tt.rate {
			t.Errorf("mode %d: row %q", tt.mode, row)
		}
		got := 0
		if sp := revSpans(g)[2]; len(sp) > 0 {
			got = sp[0].x1
		}
		if got != tt.bar {
			t.Errorf("mode %d: bar %d cells, want %d", tt.mode, got, tt.bar)
		}
		if tt.mode == table.TwoLine {
			if r := rowsOf(g, 2)[1]; r[26:30] != " <= " || strings.Fields(r)[1] != "97.7Kb" {
				t.Errorf("second row %q", r)
			}
		}
	}
}

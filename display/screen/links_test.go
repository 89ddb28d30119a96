package screen

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

// steady is a direction that has carried w10 bytes in each 10 s for 40 s:
// a fifth of it in the last 2 s, four times it in 40 s.
func steady(w10 uint64) table.Stat {
	return table.Stat{Win: [3]uint64{w10 / 5, w10, 4 * w10}, Bytes: 4 * w10, Packets: w10 / 1000}
}

// part is one link's share of a flow.
func part(link int, sent, recv uint64) table.FlowLink {
	return table.FlowLink{Link: link, Sent: steady(sent), Recv: steady(recv)}
}

// flowOf builds a flow from its link parts, whose sums are its totals.
func flowOf(k table.Key, parts ...table.FlowLink) table.Flow {
	f := table.Flow{Key: k, Links: parts}
	for i := range parts {
		f.Sent.Add(&parts[i].Sent)
		f.Recv.Add(&parts[i].Recv)
	}
	return f
}

// bondSnapshot is bond0 of three links, as the table would give it with
// each flow split by link (10 s windows, in bytes):
//
//	flow                              eth0 sent/recv  eth1 sent/recv  eth2 sent/recv
//	10.1.0.1:40000 → 10.2.0.1:80 tcp  600M / 125M     300M / 0
//	10.1.0.1:5353 → 10.2.0.3:53 udp                   100M / 0        0 / 125M
//	fd00::1:443 → fd00::2:50000 tcp                   0 / 250M
//
// eth0: active, 10G, aggregator 1 (the active one); eth1: active, 1G,
// aggregator 2 (outside); eth2: backup, speed unknown, receiving.
// So eth0 sends 600M (480 Mb/s, 4.8% of 10G) and receives 125M (100 Mb/s,
// 1%); eth1 sends 400M (320 Mb/s, 32% of 1G) and receives 250M (200 Mb/s,
// 20%); eth2 receives 125M (100 Mb/s, no %). TX: eth0 has 60% of 1000M;
// RX: eth1 has 50% of 500M; one usable link (eth0): even split 100%.
func bondSnapshot() *table.Snapshot {
	k1 := displaytest.MkKey("10.1.0.1", 40000, "10.2.0.1", 80, displaytest.TCP)
	k2 := displaytest.MkKey("10.1.0.1", 5353, "10.2.0.3", 53, displaytest.UDP)
	k3 := displaytest.MkKey("fd00::1", 443, "fd00::2", 50000, displaytest.TCP)
	s := &table.Snapshot{
		Window: [3]int64{2e9, 10e9, 40e9},
		Flows: []table.Flow{
			flowOf(k1, part(0, 600e6, 125e6), part(1, 300e6, 0)),
			flowOf(k2, part(1, 100e6, 0), part(2, 0, 125e6)),
			flowOf(k3, part(1, 0, 250e6)),
		},
		Interfaces: []table.Interface{
			{Name: "eth0", TX: steady(600e6), RX: steady(125e6), Link: table.Link{Speed: 10e9, Master: "bond0", State: "active", Aggregator: 1, ActiveAggregator: 1}},
			{Name: "eth1", TX: steady(400e6), RX: steady(250e6), Link: table.Link{Speed: 1e9, Master: "bond0", State: "active", Aggregator: 2, ActiveAggregator: 1}},
			{Name: "eth2", RX: steady(125e6), Link: table.Link{Master: "bond0", State: "backup"}},
		},
		Members: 2,
	}
	for i := range s.Flows {
		s.TX.Add(&s.Flows[i].Sent)
		s.RX.Add(&s.Flows[i].Recv)
	}
	return s
}

func bondFrame(f func(*UIState)) *frame {
	st := DefaultUIState()
	st.DNS, st.PortNames = false, false
	st.View.Ports = table.PortsOn
	if f != nil {
		f(&st)
	}
	return &frame{Snap: bondSnapshot(), State: &st, Live: true}
}

// TestRenderStripGolden renders the link strip, the link tags of the rows
// and the one-link view at several sizes (testdata/screen_strip_*.golden).
func TestRenderStripGolden(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		f    *frame
	}{
		{"bond_80x24", 80, 24, bondFrame(nil)},
		{"bond_oneline_80x24", 80, 24, bondFrame(func(s *UIState) { s.Mode = table.OneLineBoth })},
		{"bond_ports_off_80x24", 80, 24, bondFrame(func(s *UIState) { s.View.Ports = table.PortsOff; s.Mode = table.OneLineSent })},
		{"bond_link_eth1_80x24", 80, 24, bondFrame(func(s *UIState) { s.Link = "eth1" })},
		{"bond_2s_bytes_120x30", 120, 30, func() *frame {
			f := bondFrame(func(s *UIState) { s.BarWin = table.Win2s; s.Totals = true })
			f.Bytes = true
			return f
		}()},
		{"bond_40x12", 40, 12, bondFrame(nil)},
		{"bond_60x14", 60, 14, bondFrame(nil)},
		{"bond_40x10", 40, 10, bondFrame(nil)},
		{"bond_strip_off", 80, 24, bondFrame(func(s *UIState) { s.Strip = false })},
		{"bond_no_split_eth1", 80, 24, func() *frame {
			f := bondFrame(func(s *UIState) { s.Link = "eth1" })
			for i := range f.Snap.Flows {
				f.Snap.Flows[i].Links = nil
			}
			return f
		}()},
		{"fixture_80x24", 80, 24, func() *frame { f := fixtureFrame(DefaultUIState()); f.State.Strip = true; return f }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := renderFrame(tt.w, tt.h, tt.f)
			checkGrid(t, g)
			displaytest.Golden(t, "screen_strip_"+tt.name, g.AppendText(nil, true))
		})
	}
}

// TestStripLines: the strip shows every link while the flows keep
// minFlowRows rows below the scale, fewer links on a shorter terminal,
// none below that, and none with one link, toggled off or under help.
func TestStripLines(t *testing.T) {
	snap := func(n int) *table.Snapshot {
		s := &table.Snapshot{}
		for i := range n {
			s.Interfaces = append(s.Interfaces, table.Interface{Name: "eth" + string(rune('0'+i))})
		}
		return s
	}
	def := DefaultUIState()
	tests := []struct {
		name  string
		links int
		h     int
		st    func(*UIState)
		want  int
	}{
		{"bond of 3 at 24 rows", 3, 24, nil, 3},
		{"one link", 1, 24, nil, 0},
		{"toggled off", 3, 24, func(s *UIState) { s.Strip = false }, 0},
		{"help", 3, 24, func(s *UIState) { s.Help = true }, 0},
		// Rows 2 … h−5 hold flows; 4 stay theirs, the header takes one.
		{"12 rows: one link line", 3, 12, nil, 1},
		{"13 rows: two", 3, 13, nil, 2},
		{"11 rows: none", 3, 11, nil, 0},
		{"10 rows: none", 3, 10, nil, 0},
		{"no bars: one row more", 3, 11, func(s *UIState) { s.Bars = false }, 1},
		{"8 links at 24 rows", 8, 24, nil, 8},
		{"14 links at 24 rows", 14, 24, nil, 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := def
			if tt.st != nil {
				tt.st(&st)
			}
			if got := stripLines(snap(tt.links), &st, tt.h, hostStart(st.Bars)); got != tt.want {
				t.Errorf("stripLines = %d, want %d", got, tt.want)
			}
		})
	}
}

// stripRows renders s at w×24 and returns the strip's rows: the header
// (row 24−5−n) and n link lines, n being the snapshot's links.
func stripRows(t *testing.T, s *table.Snapshot, w int, st UIState) []string {
	t.Helper()
	g, _ := renderFrame(w, 24, &frame{Snap: s, State: &st})
	checkGrid(t, g)
	rows := strings.Split(g.String(), "\n")
	n := len(s.Interfaces)
	return rows[24-5-n : 24-4]
}

// rate10 is a 10 s window that averages bits per second.
func rate10(bits float64) table.Stat {
	return table.Stat{Win: [3]uint64{0, uint64(bits / 8 * 10), 0}}
}

// TestStripPercentOfSpeed: each direction's 10 s rate as a whole % of the
// link's speed and a bar filled in proportion (cells rounded down, full
// past 100%), over 100% where the rate is; with the speed unknown, the
// rate and neither % nor bar.
func TestStripPercentOfSpeed(t *testing.T) {
	s := &table.Snapshot{
		Window: [3]int64{2e9, 10e9, 40e9},
		Interfaces: []table.Interface{
			// 250 Mb/s of 1G: 25%, 2 cells; 1 Mb/s: 0% (0.1%), no cell.
			{Name: "a", TX: rate10(250e6), RX: rate10(1e6), Link: table.Link{Speed: 1e9, State: "up"}},
			// 150 Mb/s of 100M: 150%, a full bar; 99 Mb/s: 99%, 9 cells.
			{Name: "b", TX: rate10(150e6), RX: rate10(99e6), Link: table.Link{Speed: 100e6, State: "up"}},
			// Speed unknown.
			{Name: "c", TX: rate10(5e6), Link: table.Link{State: "up"}},
		},
	}
	st := DefaultUIState()
	rows := stripRows(t, s, 80, st)
	tests := []struct {
		row          string
		tx, rx       string  // "" for no %
		txBar, rxBar float64 // share of the bar; -1 for no bar
	}{
		{rows[1], " 25%", "  0%", 0.25, 0.001},
		{rows[2], "150%", " 99%", 1.5, 0.99},
		{rows[3], "", "", -1, -1},
	}
	for i, tt := range tests {
		txPart, rxPart, ok := strings.Cut(tt.row, "RX")
		if !ok {
			t.Fatalf("line %d has no RX: %q", i, tt.row)
		}
		for _, d := range []struct {
			part, pct string
			bar       float64
		}{{txPart, tt.tx, tt.txBar}, {rxPart, tt.rx, tt.rxBar}} {
			if d.pct == "" && strings.Contains(d.part, "%") || d.pct != "" && !strings.Contains(d.part, d.pct+" ") {
				t.Errorf("line %q: want %q as the %% part of %q", tt.row, d.pct, d.part)
			}
			open := strings.Index(d.part, "[")
			if d.bar < 0 {
				if open >= 0 {
					t.Errorf("line %q: a bar without a speed", tt.row)
				}
				continue
			}
			if open < 0 {
				t.Errorf("line %q: no bar in %q", tt.row, d.part)
				continue
			}
			bar := d.part[open+1 : open+1+strings.Index(d.part[open:], "]")-1]
			cells := min(int(d.bar*float64(len(bar))), len(bar))
			if len(bar) < 4 || strings.TrimRight(bar, " ") != strings.Repeat("#", cells) {
				t.Errorf("line %q: bar %q, want %d of %d cells", tt.row, bar, cells, len(bar))
			}
		}
	}
	if !strings.HasPrefix(rows[1], "a up   1G  TX  238Mb") {
		// 250e6 bits/s in iftop's 1024-based units is 238.4 Mb.
		t.Errorf("line %q: want name, state, speed and rate first", rows[1])
	}
}

// TestStripHeader: the busiest link's share of each direction in the
// bars' window, against an even split over the links that can carry
// traffic (not down, a backup, gone from the bond or outside its active
// aggregator).
func TestStripHeader(t *testing.T) {
	link := func(name string, tx, rx uint64, l table.Link) table.Interface {
		return table.Interface{Name: name, TX: table.Stat{Win: [3]uint64{tx, 10 * tx, 0}}, RX: table.Stat{Win: [3]uint64{rx, 10 * rx, 0}}, Link: l}
	}
	up := table.Link{State: "up"}
	tests := []struct {
		name  string
		links []table.Interface
		st    func(*UIState)
		want  string
	}{
		{"3 to 1, nothing received", []table.Interface{link("a", 3, 0, up), link("b", 1, 0, up)}, nil,
			" 2 links, 10s: TX a 75%, RX idle, even split 50% "},
		{"the 2 s window", []table.Interface{link("a", 1, 30, up), link("b", 3, 10, up)}, func(s *UIState) { s.BarWin = table.Win2s },
			" 2 links, 2s: TX b 75%, RX a 75%, even split 50% "},
		{"down, backup, gone, outside: not in the split", []table.Interface{
			link("a", 1, 1, table.Link{State: "active", Aggregator: 1, ActiveAggregator: 1}),
			link("b", 1, 1, table.Link{State: "active", Aggregator: 1, ActiveAggregator: 1}),
			link("c", 1, 1, table.Link{State: "active"}),
			link("d", 0, 1, table.Link{State: "down"}),
			link("e", 0, 1, table.Link{State: "backup"}),
			link("f", 0, 1, table.Link{State: "left bond0"}),
			link("g", 0, 1, table.Link{State: "active", Aggregator: 2, ActiveAggregator: 1}),
			{Name: "h", Down: true},
		}, nil, " 8 links, 10s: TX a 33%, RX a 14%, even split 33% "},
		{"none usable", []table.Interface{link("a", 1, 0, table.Link{State: "down"}), link("b", 0, 0, table.Link{State: "backup"})}, nil,
			" 2 links, 10s: TX a 100%, RX idle, no usable link "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := DefaultUIState()
			if tt.st != nil {
				tt.st(&st)
			}
			s := &table.Snapshot{Window: [3]int64{2e9, 10e9, 40e9}, Interfaces: tt.links}
			header := stripRows(t, s, 80, st)[0]
			want := "──" + tt.want + strings.Repeat("─", 80-2-len(tt.want))
			if header != want {
				t.Errorf("header\n%q, want\n%q", header, want)
			}
		})
	}
}

// TestLinkView: with one link chosen the rows are each flow's part on that
// link, and only the flows it carried; aggregation adds the parts up.
func TestLinkView(t *testing.T) {
	s := bondSnapshot()
	k1, k2, k3 := s.Flows[0].Key, s.Flows[1].Key, s.Flows[2].Key
	type row struct {
		key        table.Key
		sent, recv uint64 // 10 s bytes
	}
	tests := []struct {
		name string
		link int
		view table.View
		want []row
	}{
		{"all links", -1, table.View{Ports: table.PortsOn}, []row{{k1, 900e6, 125e6}, {k2, 100e6, 125e6}, {k3, 0, 250e6}}},
		{"eth0", 0, table.View{Ports: table.PortsOn}, []row{{k1, 600e6, 125e6}}},
		{"eth1", 1, table.View{Ports: table.PortsOn}, []row{{k1, 300e6, 0}, {k2, 100e6, 0}, {k3, 0, 250e6}}},
		{"eth2", 2, table.View{Ports: table.PortsOn}, []row{{k2, 0, 125e6}}},
		{"eth1, destinations hidden", 1, table.View{HideDst: true}, []row{
			{table.View{HideDst: true}.DisplayKey(k1), 400e6, 0},
			{table.View{HideDst: true}.DisplayKey(k3), 0, 250e6},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r renderer
			st := DefaultUIState()
			st.View = tt.view
			rows := r.aggregate(s, &st, &frame{}, tt.link)
			got := map[table.Key]row{}
			for _, f := range rows {
				got[f.Key] = row{f.Key, f.Sent.Win[table.Win10s], f.Recv.Win[table.Win10s]}
			}
			if len(got) != len(tt.want) || len(rows) != len(tt.want) {
				t.Fatalf("%d rows %v, want %v", len(rows), got, tt.want)
			}
			for _, w := range tt.want {
				if got[w.key] != w {
					t.Errorf("row %v: %v, want %v", w.key, got[w.key], w)
				}
			}
		})
	}
}

// TestRowLinks: the links named on each row are those that carried its
// flows, gathered over the flows a view folds into one row; none in the
// one-link view, with one link, or when the snapshot has no split (the
// table leaves Flow.Links nil).
func TestRowLinks(t *testing.T) {
	s := bondSnapshot()
	tests := []struct {
		name string
		s    *table.Snapshot
		view table.View
		sel  int
		want map[table.Key]uint64
	}{
		{"flows", s, table.View{Ports: table.PortsOn}, -1, map[table.Key]uint64{s.Flows[0].Key: 0b011, s.Flows[1].Key: 0b110, s.Flows[2].Key: 0b010}},
		{"hosts, destinations hidden", s, table.View{HideDst: true}, -1, map[table.Key]uint64{
			table.View{HideDst: true}.DisplayKey(s.Flows[0].Key): 0b111,
			table.View{HideDst: true}.DisplayKey(s.Flows[2].Key): 0b010,
		}},
		{"one link", s, table.View{Ports: table.PortsOn}, 1, nil},
		{"no split", func() *table.Snapshot {
			c := *bondSnapshot()
			for i := range c.Flows {
				c.Flows[i].Links = nil
			}
			return &c
		}(), table.View{Ports: table.PortsOn}, -1, nil},
		{"one interface", func() *table.Snapshot { c := *bondSnapshot(); c.Interfaces = c.Interfaces[:1]; return &c }(), table.View{Ports: table.PortsOn}, -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r renderer
			st := DefaultUIState()
			st.View = tt.view
			rows := r.aggregate(tt.s, &st, &frame{}, -1)
			masks := r.rowLinks(tt.s, rows, tt.view, tt.sel)
			if tt.want == nil {
				if masks != nil {
					t.Fatalf("masks %v, want none", masks)
				}
				return
			}
			if len(masks) != len(rows) || len(rows) != len(tt.want) {
				t.Fatalf("%d masks for %d rows, want %d", len(masks), len(rows), len(tt.want))
			}
			for i := range rows {
				if masks[i] != tt.want[rows[i].Key] {
					t.Errorf("row %v: links %b, want %b", rows[i].Key, masks[i], tt.want[rows[i].Key])
				}
			}
		})
	}
}

// TestRowLinkTags: on the screen, a two-line pair names its links on the
// <= row ("via eth0,eth1"), a one-line row at the end of the destination
// field ("[eth0,eth1]"); a tag too wide for the field says how many links.
func TestRowLinkTags(t *testing.T) {
	find := func(rows []string, prefix string) int {
		for i, r := range rows {
			if strings.HasPrefix(r, prefix) {
				return i
			}
		}
		t.Fatalf("no row starts with %q:\n%s", prefix, strings.Join(rows, "\n"))
		return -1
	}
	g, _ := renderFrame(80, 24, bondFrame(nil))
	rows := strings.Split(g.String(), "\n")
	for prefix, tag := range map[string]string{"10.1.0.1:40000 ": "via eth0,eth1", "10.1.0.1:5353 ": "via eth1,eth2", "[fd00::1]:443 ": "via eth1"} {
		i := find(rows, prefix)
		// The <= row: blank host field, the arrow at hw = 26, the tag at 30.
		if got := rows[i+1][26:30] + rows[i+1][30:30+len(tag)] + "|"; got != " <= "+tag+"|" || strings.TrimSpace(rows[i+1][:26]) != "" {
			t.Errorf("%s<= row %q, want %q at column 30", prefix, rows[i+1], tag)
		}
	}
	g, _ = renderFrame(80, 24, bondFrame(func(s *UIState) { s.Mode = table.OneLineBoth }))
	rows = strings.Split(g.String(), "\n")
	for prefix, tag := range map[string]string{"10.1.0.1:40000 ": "[eth0,eth1]", "10.1.0.1:5353 ": "[eth1,eth2]", "[fd00::1]:443 ": "[eth1]"} {
		i := find(rows, prefix)
		// The destination field is columns 30 … 55; the tag ends it.
		if got := rows[i][56-len(tag) : 56]; got != tag || rows[i][55-len(tag)] != ' ' {
			t.Errorf("row %q: %q at the end of the destination field, want %q", rows[i], got, tag)
		}
	}
	// Six links with long names do not fit a 26-column field by name.
	s := bondSnapshot()
	s.Interfaces = nil
	var parts []table.FlowLink
	for i := range 6 {
		s.Interfaces = append(s.Interfaces, table.Interface{Name: "enp65s0f" + string(rune('0'+i))})
		parts = append(parts, part(i, 1e6, 1e6))
	}
	s.Flows = []table.Flow{flowOf(s.Flows[0].Key, parts...)}
	st := DefaultUIState()
	st.DNS, st.View.Ports = false, table.PortsOn
	g, _ = renderFrame(80, 24, &frame{Snap: s, State: &st})
	rows = strings.Split(g.String(), "\n")
	if i := find(rows, "10.1.0.1:40000 "); !strings.HasPrefix(rows[i+1][30:], "via 6 links ") {
		t.Errorf("<= row %q, want \"via 6 links\"", rows[i+1])
	}
}

// TestLinkNotes: what the health rule says about the links.
func TestLinkNotes(t *testing.T) {
	rx10 := table.Stat{Win: [3]uint64{0, 100, 100}}
	rx40 := table.Stat{Win: [3]uint64{0, 0, 100}}
	tests := []struct {
		name  string
		links []table.Interface
		want  string
	}{
		{"nothing to say", []table.Interface{
			{Name: "eth0", Link: table.Link{Speed: 1e9, State: "active", Master: "bond0"}},
			{Name: "eth1", RX: rx40, Link: table.Link{Speed: 1e9, State: "backup", Master: "bond0"}},
		}, ""},
		{"backup receives", []table.Interface{
			{Name: "eth0", Link: table.Link{State: "active", Master: "bond0"}},
			{Name: "eth1", RX: rx10, Link: table.Link{State: "backup", Master: "bond0"}},
		}, "backup eth1 receives"},
		{"a backup that only sends is not noted", []table.Interface{
			{Name: "eth0", Link: table.Link{State: "active"}},
			{Name: "eth1", TX: rx10, Link: table.Link{State: "backup"}},
		}, ""},
		{"outside the active aggregator", []table.Interface{
			{Name: "eth0", Link: table.Link{State: "active", Aggregator: 1, ActiveAggregator: 1}},
			{Name: "eth1", Link: table.Link{State: "active", Aggregator: 2, ActiveAggregator: 1}},
			{Name: "eth2", Link: table.Link{State: "active", Aggregator: 2}}, // no active one known
		}, "eth1 not in agg 1"},
		{"mixed speeds", []table.Interface{
			{Name: "eth0", Link: table.Link{Speed: 10e9, Master: "bond0"}},
			{Name: "eth1", Link: table.Link{Master: "bond0"}}, // unknown: not a speed
			{Name: "eth2", Link: table.Link{Speed: 1e9, Master: "bond0"}},
		}, "mixed speeds"},
		{"each bond at its own speed", []table.Interface{
			{Name: "eth0", Link: table.Link{Speed: 10e9, Master: "bond0"}},
			{Name: "eth1", Link: table.Link{Speed: 1e9, Master: "bond1"}},
		}, ""},
		{"two bonds, both mixed", []table.Interface{
			{Name: "eth0", Link: table.Link{Speed: 10e9, Master: "bond0"}},
			{Name: "eth1", Link: table.Link{Speed: 1e9, Master: "bond1"}},
			{Name: "eth2", Link: table.Link{Speed: 1e9, Master: "bond0"}},
			{Name: "eth3", Link: table.Link{Speed: 10e9, Master: "bond1"}},
		}, "mixed speeds in bond0, mixed speeds in bond1"},
		{"one link says nothing", []table.Interface{
			{Name: "eth1", RX: rx10, Link: table.Link{State: "backup", Aggregator: 2, ActiveAggregator: 1}},
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &table.Snapshot{Interfaces: tt.links}
			got := appendLinkNotes(nil, s, func(b []byte) []byte {
				if len(b) > 0 {
					b = append(b, ", "...)
				}
				return b
			})
			if string(got) != tt.want {
				t.Errorf("notes %q, want %q", got, tt.want)
			}
		})
	}
}

// TestExportNote: an exporter's errors on the health rule, the reason
// after Go's last ": ", in reverse video only when the count rose in the
// last tick.
func TestExportNote(t *testing.T) {
	tests := []struct {
		name string
		e    ExportStatus
		new  bool
		want string
	}{
		{"no error", ExportStatus{Name: "IPFIX"}, false, ""},
		{"refused", ExportStatus{Name: "IPFIX", Errors: 3, Last: "write udp 127.0.0.1:41000->127.0.0.1:4739: write: connection refused"}, true,
			" IPFIX: 3 errors (connection refused) "},
		{"one, earlier", ExportStatus{Name: "IPFIX", Errors: 1, Last: "no route"}, false, " IPFIX: 1 error (no route) "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := DefaultUIState()
			g, _ := renderFrame(80, 24, &frame{Snap: &table.Snapshot{}, State: &st, Export: tt.e, ExportNew: tt.new})
			rule := strings.Split(g.String(), "\n")[20]
			want := strings.Repeat("─", 80)
			if tt.want != "" {
				want = strings.Repeat("─", 80-2-len(tt.want)) + tt.want + "──"
			}
			if rule != want {
				t.Fatalf("rule\n%q, want\n%q", rule, want)
			}
			if tt.want != "" {
				if rev := g.At(80-2-len(tt.want)+1, 20).A == term.AttrReverse; rev != tt.new {
					t.Errorf("reverse video %v, want %v", rev, tt.new)
				}
			}
		})
	}
}

// TestLinkKeys: i toggles the strip; I asks the loop for the next link,
// which cycles all → each link in order → all.
func TestLinkKeys(t *testing.T) {
	st := DefaultUIState()
	if !st.Strip {
		t.Fatal("the strip is off by default")
	}
	st, a := st.key('i')
	if st.Strip || st.Msg != "Link strip off" || a != (action{NewMsg: true}) {
		t.Errorf("i: strip %v, hint %q, %+v", st.Strip, st.Msg, a)
	}
	st, _ = st.key('i')
	if !st.Strip || st.Msg != "Link strip on" {
		t.Errorf("i i: strip %v, hint %q", st.Strip, st.Msg)
	}
	if _, a := st.key('I'); a != (action{CycleLink: true}) {
		t.Errorf("I: %+v, want CycleLink", a)
	}
	links := []string{"eth0", "eth1", "eth2"}
	for _, want := range []struct{ link, msg string }{
		{"eth0", "Flows on eth0 only"},
		{"eth1", "Flows on eth1 only"},
		{"eth2", "Flows on eth2 only"},
		{"", "Flows of all links"},
		{"eth0", "Flows on eth0 only"},
	} {
		st, a = st.cycleLink(links)
		if st.Link != want.link || st.Msg != want.msg || !a.NewMsg {
			t.Errorf("cycle: link %q, hint %q; want %q, %q", st.Link, st.Msg, want.link, want.msg)
		}
	}
	// While the order is frozen, it is taken again from the link's rows.
	st.Frozen = true
	if _, a := st.cycleLink(links); !a.Freeze {
		t.Errorf("frozen: %+v, want Freeze", a)
	}
	st.Frozen = false
	// A link that has gone counts as the last; one link gives nothing.
	st.Link = "eth9"
	if st, _ = st.cycleLink(links); st.Link != "" {
		t.Errorf("from a gone link: %q, want all links", st.Link)
	}
	st.Link = "eth0"
	if st, _ = st.cycleLink([]string{"eth0"}); st.Link != "" || st.Msg != "One link captured: the flows are all on it" {
		t.Errorf("one link: %q, %q", st.Link, st.Msg)
	}
}

// TestRunLinkKeys drives the keys through the screen loop: I shows the
// first link's flows and says so on the scale's rule, i hides the strip,
// and an exporter's errors are read at each snapshot.
func TestRunLinkKeys(t *testing.T) {
	f := newFakeTerm(t, 80, 24)
	snaps := make(chan *table.Snapshot)
	cfg := numericConfig()
	var errs atomic.Uint64
	cfg.Export = func() ExportStatus {
		return ExportStatus{Name: "IPFIX", Errors: errs.Load(), Last: "connection refused"}
	}
	runFake(t, f, snaps, cfg)
	snaps <- bondSnapshot()
	f.waitScreen("the strip", func(s string) bool {
		return strings.Contains(s, "── 3 links, 10s: TX eth0 60%, RX eth1 50%, even split 100% ──") && strings.Contains(s, "via eth0,eth1")
	})
	f.send("I")
	s := f.waitScreen("eth0's flows", func(s string) bool {
		return strings.HasPrefix(s, " Flows on eth0 only ") && strings.Contains(s, "└─ flows on eth0 ─")
	})
	// eth0 carried only the first flow: 600M bytes in 10 s sent.
	if !strings.Contains(s, "10.1.0.1:40000             => 10.2.0.1:80                 458Mb") || strings.Contains(s, "10.1.0.1:5353 ") || strings.Contains(s, "via ") {
		t.Errorf("eth0's rows:\n%s", s)
	}
	f.send("i")
	f.waitScreen("the strip hidden", func(s string) bool {
		return !strings.Contains(s, "3 links, 10s") && !strings.Contains(s, "eth1 active")
	})
	errs.Store(2)
	snaps <- bondSnapshot()
	f.waitScreen("the exporter's errors", func(s string) bool { return strings.Contains(s, "IPFIX: 2 errors (connection refused)") })
}

// TestLinkViewGrouped: the one-link view under the g key's row types sums
// that link's parts: by link, a single row with the link's own traffic; by
// service, each service's traffic on that link. Rows of other types carry
// no link names.
func TestLinkViewGrouped(t *testing.T) {
	s := bondSnapshot()
	st := DefaultUIState()
	st.View.Ports = table.PortsOn
	var r renderer
	st.Group = group.Link
	rows := r.aggregate(s, &st, &frame{}, 1)
	if len(rows) != 1 || rows[0].Key != (group.Key{By: group.Link, Link: 1}).Flow() ||
		rows[0].Sent.Win[table.Win10s] != 400e6 || rows[0].Recv.Win[table.Win10s] != 250e6 {
		t.Errorf("eth1 by link: %+v, want one row of 400M sent and 250M received", rows)
	}
	if tags := r.rowLinks(s, rows, st.View, -1); tags != nil {
		// rowLinks is asked only for host pairs (Render checks the group);
		// by key, link rows match no flow, so nothing is tagged anyway.
		for _, m := range tags {
			if m != 0 {
				t.Errorf("link rows tagged: %b", tags)
			}
		}
	}
	st.Group = group.Service
	want := map[table.Key][2]uint64{
		(group.Key{By: group.Service, Proto: displaytest.TCP, Port: 80}).Flow():  {300e6, 0},
		(group.Key{By: group.Service, Proto: displaytest.UDP, Port: 53}).Flow():  {100e6, 0},
		(group.Key{By: group.Service, Proto: displaytest.TCP, Port: 443}).Flow(): {0, 250e6},
	}
	rows = r.aggregate(s, &st, &frame{}, 1)
	if len(rows) != len(want) {
		t.Fatalf("eth1 by service: %d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for _, f := range rows {
		if w, ok := want[f.Key]; !ok || w != [2]uint64{f.Sent.Win[table.Win10s], f.Recv.Win[table.Win10s]} {
			t.Errorf("eth1 by service: row %+v, want %v", f, w)
		}
	}
	g, _ := renderFrame(80, 24, &frame{Snap: s, State: &st})
	if strings.Contains(g.String(), "via ") {
		t.Errorf("service rows name links:\n%s", g.String())
	}
}

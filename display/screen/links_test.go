package screen

import (
	"strings"
	"testing"

	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
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

var _ = strings.Split
var _ = term.AttrReverse

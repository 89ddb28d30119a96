package screen

import (
	"fmt"
	"testing"

	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
)

// BenchmarkRenderLinks draws a frame of a 100,000-flow snapshot of two
// links in which every flow is split by link (the odd ones over both), on
// a new snapshot every frame: with every link and the link tags (hosts:
// one pass over the flows to gather each shown row's links; ports: the
// rows' own), and one link at a time (each flow's part on that link,
// aggregated). Compare with BenchmarkRender's -tick cases.
func BenchmarkRenderLinks(b *testing.B) {
	s := displaytest.BigSnapshot(100_000)
	for i := range s.Flows {
		f := &s.Flows[i]
		if i%2 == 0 {
			f.Links = []table.FlowLink{{Link: 0, Sent: f.Sent, Recv: f.Recv}}
			continue
		}
		half := func(st table.Stat) table.Stat {
			return table.Stat{Win: [3]uint64{st.Win[0] / 2, st.Win[1] / 2, st.Win[2] / 2}, Bytes: st.Bytes / 2, Packets: st.Packets / 2}
		}
		f.Links = []table.FlowLink{{Link: 0, Sent: half(f.Sent), Recv: half(f.Recv)}, {Link: 1, Sent: half(f.Sent), Recv: half(f.Recv)}}
	}
	s2 := *s
	cases := []struct {
		name string
		st   func(*UIState)
	}{
		{"ports-tick", func(st *UIState) { st.View.Ports = table.PortsOn }},
		{"hosts-tick", func(st *UIState) { st.View.Ports = table.PortsOff }},
		{"one-link-ports-tick", func(st *UIState) { st.View.Ports = table.PortsOn; st.Link = "wlan0" }},
		{"one-link-hosts-tick", func(st *UIState) { st.View.Ports = table.PortsOff; st.Link = "wlan0" }},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("80x24/%s", c.name), func(b *testing.B) {
			st := DefaultUIState()
			st.DNS = false
			c.st(&st)
			f := &frame{Snap: s, State: &st, Services: naming.BuiltinServices()}
			g := term.NewGrid(80, 24)
			var r renderer
			r.Render(g, f)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				f.Snap = [2]*table.Snapshot{s, &s2}[i%2]
				i++
				r.Render(g, f)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}

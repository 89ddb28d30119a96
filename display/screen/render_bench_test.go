package screen

import (
	"fmt"
	"testing"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
)

// BenchmarkRender draws one frame of a 100,000-flow snapshot: aggregation
// (cached while the snapshot and the view stay; the -tick cases get a new
// snapshot every frame), selection of the visible rows (SortLimit:
// O(n log k)), formatting and the grid. ns/frame is the cost of a redraw
// after a key (or, -tick, after a tick).
func BenchmarkRender(b *testing.B) {
	s := displaytest.BigSnapshot(100_000)
	s2 := *s // a new tick: the aggregation is not cached
	cases := []struct {
		name string
		st   func(*UIState)
		tick bool
	}{
		{"ports", func(st *UIState) { st.View.Ports = table.PortsOn }, false},
		{"ports-tick", func(st *UIState) { st.View.Ports = table.PortsOn }, true},
		{"hosts", func(st *UIState) { st.View.Ports = table.PortsOff }, false},
		{"hosts-tick", func(st *UIState) { st.View.Ports = table.PortsOff }, true},
		{"by-source", func(st *UIState) { st.View.Ports = table.PortsOn; st.Order = display.SortSource }, false},
		{"filter", func(st *UIState) {
			st.View.Ports = table.PortsOn
			re, _ := CompileFilter(`:443 `)
			st.Filter = re
		}, false},
	}
	for _, size := range [][2]int{{80, 24}, {300, 100}} {
		for _, c := range cases {
			b.Run(fmt.Sprintf("%dx%d/%s", size[0], size[1], c.name), func(b *testing.B) {
				st := DefaultUIState()
				st.DNS = false
				c.st(&st)
				f := &frame{Snap: s, State: &st, Services: naming.BuiltinServices()}
				g := term.NewGrid(size[0], size[1])
				var r renderer
				r.Render(g, f)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if c.tick {
						f.Snap = [2]*table.Snapshot{s, &s2}[i%2]
						i++
					}
					r.Render(g, f)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(s.Flows)), "ns/flow")
			})
		}
	}
}

// BenchmarkPaint measures what reaches the terminal: a first frame (every
// cell), a frame where only the rates change, and a frame where nothing
// changes (nothing at all is written).
func BenchmarkPaint(b *testing.B) {
	s := displaytest.BigSnapshot(100_000)
	st := DefaultUIState()
	st.DNS = false
	st.View.Ports = table.PortsOn
	for _, size := range [][2]int{{80, 24}, {300, 100}} {
		g1, g2 := term.NewGrid(size[0], size[1]), term.NewGrid(size[0], size[1])
		var r renderer
		r.Render(g1, &frame{Snap: s, State: &st, Services: naming.BuiltinServices()})
		// The next tick: every rate a little higher.
		s2 := *s
		s2.Flows = append([]table.Flow(nil), s.Flows...)
		for i := range s2.Flows {
			s2.Flows[i].Sent.Win[0] += 1000
		}
		s2.TX.Win[0] += 1 << 20
		r.Render(g2, &frame{Snap: &s2, State: &st, Services: naming.BuiltinServices()})
		for _, c := range []struct {
			name     string
			from, to *term.Grid
			full     bool
		}{{"full", g1, g1, true}, {"tick", g1, g2, false}, {"unchanged", g1, g1, false}} {
			b.Run(fmt.Sprintf("%dx%d/%s", size[0], size[1], c.name), func(b *testing.B) {
				var p term.Painter
				var n int
				b.ReportAllocs()
				for b.Loop() {
					if c.full {
						p.Invalidate()
					} else {
						b.StopTimer()
						p.Invalidate()
						p.Frame(c.from, false, 0, 0)
						b.StartTimer()
					}
					n = len(p.Frame(c.to, false, 0, 0))
				}
				b.ReportMetric(float64(n), "bytes/frame")
			})
		}
	}
}

package metrics

import (
	"fmt"
	"testing"

	"github.com/fastop/fastop/table"
)

// BenchmarkSummarise is the Prometheus exporter's work per 2 s tick: copy
// the interfaces and pick the top 10 host pairs of n flows (aggregated as
// the screen does) into the summary a scrape reads. It runs in the
// exporter's own goroutine, off the packet path and off the merger.
func BenchmarkSummarise(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			s := &table.Snapshot{Window: [3]int64{2e9, 10e9, 40e9}, Flows: make([]table.Flow, n),
				Interfaces: []table.Interface{{Name: "eth0"}}}
			for i := range s.Flows {
				k := table.Key{Family: 4, Proto: 6, APort: uint16(i), BPort: 443}
				k.A = [16]byte{10, byte(i >> 16), byte(i >> 8), byte(i % 200)}
				k.B = [16]byte{10, 255, 0, 1}
				s.Flows[i] = table.Flow{Key: k, Sent: table.Stat{Win: [3]uint64{uint64(i), uint64(3 * i), uint64(9 * i)}}}
			}
			srv := &Server{cfg: Config{Top: DefaultTop}}
			b.ReportAllocs()
			for b.Loop() {
				srv.summarise(s)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/flow")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2e9*100, "%CPU@2s-tick")
		})
	}
}

package group

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fastop/fastop/table"
)

// BenchmarkRows groups a table of 100,000 flows (random IPv4 pairs, 1,000
// server ports, 10 VLANs, two links each): what the screen pays once per
// tick, and each report.
func BenchmarkRows(b *testing.B) {
	const n = 100_000
	r := rand.New(rand.NewPCG(3, 4))
	s := &table.Snapshot{Interfaces: []table.Interface{{Name: "eth0"}, {Name: "eth1"}}}
	for range n {
		k := table.Key{Family: 4, Proto: tcp, APort: uint16(32768 + r.IntN(28000)), BPort: uint16(1 + r.IntN(1000)), VLAN: uint16(r.IntN(10))}
		k.A = [16]byte{10, byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}
		k.B = [16]byte{192, 0, byte(r.IntN(256)), byte(r.IntN(256))}
		f := table.Flow{Key: k, Sent: stat(1000), Recv: stat(100)}
		f.Links = []table.FlowLink{{Link: 0, Sent: stat(600), Recv: stat(100)}, {Link: 1, Sent: stat(400)}}
		s.Flows = append(s.Flows, f)
	}
	for by := Host; by < numBy; by++ {
		b.Run(fmt.Sprint(by), func(b *testing.B) {
			var rows []table.Flow
			b.ReportAllocs()
			for b.Loop() {
				rows = Rows(s, table.View{}, Config{By: by}, rows)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/flow")
			b.ReportMetric(float64(len(rows)), "rows")
		})
	}
}

package ipfix

import (
	"fmt"
	"testing"

	"github.com/fastop/fastop/table"
)

// benchSnapshot returns a snapshot of n flows, IPv4 and IPv6 mixed.
func benchSnapshot(n int) *table.Snapshot {
	s := &table.Snapshot{Flows: make([]table.Flow, n)}
	for i := range s.Flows {
		k := table.Key{Family: 4, Proto: 6, APort: uint16(i), BPort: 443}
		k.A = [16]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		k.B = [16]byte{10, 255, 0, 1}
		if i%4 == 3 {
			k.Family = 6
			k.A = [16]byte{0xfd, 0, 14: byte(i >> 8), 15: byte(i)}
			k.A[10] = byte(i >> 16)
		}
		s.Flows[i] = table.Flow{Key: k}
	}
	return s
}

// BenchmarkExportTick is the IPFIX exporter's work per 2 s tick: read a
// snapshot in which every flow has new traffic, and export what the active
// timeout makes due (every flow once a minute, so 1/30 of them per tick on
// average, encoded into messages that are then thrown away). It runs in
// its own goroutine, off the packet path and off the merger.
func BenchmarkExportTick(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			s := benchSnapshot(n)
			tr := NewTracker(DefaultActive, DefaultIdle)
			p := newPacker(DefaultMTU, 0, func([]byte) {})
			e := &Exporter{cfg: Config{IfIndex: 2}}
			var rec Record
			out := func(x *Export) {
				e.fill(&rec, x)
				p.add(&rec, 0)
			}
			tick := int64(0)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				tick++
				s.Time = tick * int64(table.SlotDuration)
				for i := range s.Flows {
					f := &s.Flows[i]
					f.Sent.Bytes += 1500
					f.Sent.Packets++
					f.Recv.Bytes += 60
					f.Recv.Packets++
				}
				tr.Update(s, out)
				p.flush()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/flow")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2e9*100, "%CPU@2s-tick")
		})
	}
}

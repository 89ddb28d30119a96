package table

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
	"time"
)

// BenchmarkTick is the merger's work per tick with every flow active: merge
// one worker's delta into the table, then close the tick (snapshot,
// expiry, rotation).
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{1000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			keys := make([]Key, n)
			for i := range keys {
				keys[i] = key4(byte(i), byte(i>>8), uint16(i>>16), 80)
				keys[i].A[1], keys[i].B[1] = byte(i>>16), byte(i>>24)
			}
			// Two deltas that list the flows in different orders, as
			// packets arrive in a different order every tick.
			var ds [2]*Delta
			for v := range ds {
				ds[v] = NewDelta(0)
				r := rand.New(rand.NewPCG(uint64(v), 9))
				for _, i := range r.Perm(n) {
					ds[v].Add(&keys[i], DirOut, true, 64)
				}
			}
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			f := NewFlows(FlowsConfig{MaxFlows: 2 * n})
			f.Merge(ds[0])
			f.Close(2 * sec).Release()
			runtime.GC()
			runtime.ReadMemStats(&m1)
			perFlow := float64(m1.HeapAlloc-m0.HeapAlloc) / float64(n)
			var merge, snap time.Duration
			ticks := 0
			for b.Loop() {
				t0 := time.Now()
				f.Merge(ds[ticks%2])
				t1 := time.Now()
				end := (f.Tick() + 1) * 2 * sec
				s := f.Close(end)
				t2 := time.Now()
				merge += t1.Sub(t0)
				snap += t2.Sub(t1)
				ticks++
				if len(s.Flows) != n {
					b.Fatalf("%d flows", len(s.Flows))
				}
			}
			b.ReportMetric(perFlow, "table-B/flow") // reported after the loop: b.Loop resets metrics
			// Once flows have traffic in more slots than a record holds
			// (more than 3 ticks), their history may move to side tables.
			side := f.hists16.inUse()*int(reflect.TypeFor[tinyHist]().Size()) + f.hists.inUse()*int(reflect.TypeFor[smallHist]().Size()) + f.bigs.inUse()*int(reflect.TypeFor[bigHist]().Size())
			b.ReportMetric(float64(side)/float64(n), "side-B/flow")
			b.ReportMetric(float64(merge.Nanoseconds())/1e6/float64(ticks), "merge-ms/tick")
			b.ReportMetric(float64(snap.Nanoseconds())/1e6/float64(ticks), "close-ms/tick")
		})
	}
}

// BenchmarkOverflowTick is a tick of a flood beyond --max-flows: the table
// is full and every flow of the tick is new, half of them heavier than the
// rows (they take their places), half lighter (they go to "other").
func BenchmarkOverflowTick(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			f := NewFlows(FlowsConfig{MaxFlows: n})
			d := NewDelta(0)
			next := 0
			fill := func(count int, heavy func(i int) bool) {
				for i := range count {
					k := key4(byte(next), byte(next>>8), uint16(next>>16), 80)
					k.A[1], k.B[1] = byte(next>>24), 7
					size := uint32(64)
					if heavy(i) {
						size = 1500
					}
					d.Add(&k, DirOut, true, size)
					next++
				}
			}
			fill(n, func(int) bool { return false })
			f.Merge(d)
			d.Reset()
			f.Close(2 * sec).Release()
			var settle time.Duration
			ticks := 0
			for b.Loop() {
				b.StopTimer()
				fill(n, func(i int) bool { return i%2 == 0 })
				b.StartTimer()
				t0 := time.Now()
				f.Merge(d)
				f.Close((f.Tick() + 1) * 2 * sec).Release()
				settle += time.Since(t0)
				ticks++
				b.StopTimer()
				d.Reset()
				b.StartTimer()
			}
			b.ReportMetric(float64(settle.Nanoseconds())/1e6/float64(ticks), "ms/tick")
		})
	}
}

// BenchmarkTickLinks is BenchmarkTick with two links captured: each flow
// on one of them, and one in eight on both (a record per link), so Close
// groups parts into flows and fills Links.
func BenchmarkTickLinks(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			keys := make([]Key, n)
			for i := range keys {
				keys[i] = key4(byte(i), byte(i>>8), uint16(i>>16), 80)
				keys[i].A[1], keys[i].B[1] = byte(i>>16), byte(i>>24)
			}
			var ds [2]*Delta
			for link := range ds {
				ds[link] = NewDelta(0)
				ds[link].Iface = link
				r := rand.New(rand.NewPCG(uint64(link), 9))
				for _, i := range r.Perm(n) {
					if i%2 == link || i%8 == 7 {
						ds[link].Add(&keys[i], DirOut, true, 64)
					}
				}
			}
			f := NewFlows(FlowsConfig{MaxFlows: 2 * n, Interfaces: []string{"eth0", "eth1"}})
			var merge, snap time.Duration
			ticks := 0
			for b.Loop() {
				t0 := time.Now()
				f.Merge(ds[0])
				f.Merge(ds[1])
				t1 := time.Now()
				s := f.Close((f.Tick() + 1) * 2 * sec)
				t2 := time.Now()
				merge += t1.Sub(t0)
				snap += t2.Sub(t1)
				ticks++
				if len(s.Flows) != n {
					b.Fatalf("%d flows", len(s.Flows))
				}
				s.Release()
			}
			b.ReportMetric(float64(merge.Nanoseconds())/1e6/float64(ticks), "merge-ms/tick")
			b.ReportMetric(float64(snap.Nanoseconds())/1e6/float64(ticks), "close-ms/tick")
		})
	}
}

// BenchmarkFloodTick is one tick of a flood of new flows, the worker's
// side included: a worker counts one 64-byte packet of each of n flows it
// has never seen into its delta, and the merger merges the delta into a
// table that already holds the flows of the flood so far (n per tick, for
// up to 20 ticks, at most DefaultMaxFlows: beyond, the tick overflows),
// closes the tick, releases the snapshot and resets the delta. ns/flow and
// B/flow (bytes allocated) are per new flow; live-B/flow is the heap live
// after the last tick over the flows the table holds.
func BenchmarkFloodTick(b *testing.B) { benchFlood(b, false) }

// BenchmarkFloodAdvance is BenchmarkFloodTick when nobody reads the ticks
// (Advance instead of Close: -s N before its report).
func BenchmarkFloodAdvance(b *testing.B) { benchFlood(b, true) }

func benchFlood(b *testing.B, advance bool) {
	for _, n := range []int{1000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			f := NewFlows(FlowsConfig{})
			d := NewDelta(DeltaLimit(0))
			next := uint32(0)
			tick := func() {
				for range n {
					k := Key{Family: 4, Proto: 17, APort: uint16(next), BPort: 80}
					k.A[0], k.A[1], k.A[2], k.A[3] = 10, byte(next>>24), byte(next>>16), byte(next>>8)
					k.B[0], k.B[3] = 192, 1
					d.Add(&k, DirIn, false, 64)
					next++
				}
				f.Merge(d)
				d.Reset()
				if end := (f.Tick() + 1) * 2 * sec; advance {
					f.Advance(end)
				} else {
					f.Close(end).Release()
				}
			}
			// Warm up to the flood's steady state: the table full, or
			// holding 20 ticks of it, the oldest about to expire.
			for range min(Slots+1, DefaultMaxFlows/n+2) {
				tick()
			}
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			ticks := 0
			for b.Loop() {
				tick()
				ticks++
			}
			b.StopTimer()
			runtime.ReadMemStats(&m1)
			alloc := float64(m1.TotalAlloc-m0.TotalAlloc) / float64(ticks*n)
			runtime.GC()
			runtime.ReadMemStats(&m1)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ticks*n), "ns/flow")
			b.ReportMetric(alloc, "B/flow")
			b.ReportMetric(float64(m1.HeapAlloc)/float64(f.Len()), "live-B/flow")
			runtime.KeepAlive(d)
		})
	}
}

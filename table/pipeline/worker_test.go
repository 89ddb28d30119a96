package pipeline

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/table"
)

// flowRecords returns n 64-byte IPv4/UDP frames, one per flow, as records.
func flowRecords(n int) []ring.Record {
	recs := make([]ring.Record, n)
	for i := range recs {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		b := netip.AddrFrom4([4]byte{192, 168, byte(i >> 8), byte(i)})
		data := udpFrame(a, b, uint16(1024+i%50000), 53, 46) // 14+46 = 60 bytes + FCS on the wire
		recs[i] = ring.Record{Data: data, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: 64, PktType: decode.PktUnknown}}
	}
	return recs
}

func TestWorkerCountsEveryRecord(t *testing.T) {
	w := NewWorker(table.NewClassifier(table.ClassifierConfig{}), 0)
	recs := flowRecords(100)
	recs = append(recs, ring.Record{Data: []byte{1, 2, 3}, Meta: decode.Meta{Link: decode.LinkEthernet}})
	arp := make([]byte, 42)
	arp[12], arp[13] = 0x08, 0x06
	recs = append(recs, ring.Record{Data: arp, Meta: decode.Meta{Link: decode.LinkEthernet}})
	ll := udpFrame(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 1, 2, 46)
	recs = append(recs, ring.Record{Data: ll, Meta: decode.Meta{Link: decode.LinkRaw}}) // Ethernet bytes read as raw IP
	w.Process(recs)
	c := w.Delta().Counts()
	if c.Packets != 103 || c.Counted != 100 || c.Undecodable+c.NotIP != 3 || w.Delta().Len() != 100 {
		t.Fatalf("capture %+v, %d flows", c, w.Delta().Len())
	}
	if got := c.Counted + c.NotIP + c.Undecodable + c.Filtered + c.Ignored; got != c.Packets {
		t.Fatalf("counters add up to %d of %d packets", got, c.Packets)
	}
}

// TestWorkerBatchAsRecord checks that Process, which with a large delta
// classifies a batch before counting it, counts exactly what Record counts one packet at a
// time: every key, direction and counter, over batches that end inside,
// at and past the pending batch, with packets the rules ignore, a full
// delta folding into "other", and a mix of directions and repeats.
func TestWorkerBatchAsRecord(t *testing.T) {
	cls := table.NewClassifier(table.ClassifierConfig{NetFilter: netip.MustParsePrefix("10.0.0.0/24")})
	var recs []ring.Record
	for i := range 300 {
		a := netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + i%7)})
		b := netip.AddrFrom4([4]byte{192, 168, 0, byte(i % 13)})
		if i%3 == 0 {
			a, b = b, a
		}
		if i%11 == 0 {
			a = netip.AddrFrom4([4]byte{192, 168, 1, byte(i)}) // both ends outside -F: ignored
		}
		data := udpFrame(a, b, uint16(1000+i%5), 53, 46+i%40)
		recs = append(recs, ring.Record{Data: data, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: uint32(len(data)), PktType: decode.PktUnknown}})
	}
	for _, limit := range []int{0, 20} {
		for _, size := range []int{1, 7, pendBatch, pendBatch + 1, 100, len(recs)} {
			batched, single := NewWorker(cls, 0), NewWorker(cls, 0)
			batched.delta, single.delta = table.NewDelta(limit), table.NewDelta(limit)
			batched.delta.Reserve(1 << 15) // large: Process takes the batched path
			if !batched.delta.Large() {
				t.Fatal("a delta reserved for 32,768 keys is not Large")
			}
			for i := 0; i < len(recs); i += size {
				batched.Process(recs[i:min(i+size, len(recs))])
			}
			for i := range recs {
				single.Record(&recs[i])
			}
			got, want := deltaMap(batched.Delta()), deltaMap(single.Delta())
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("limit %d, batches of %d: %d keys, one at a time %d", limit, size, len(got), len(want))
			}
			for k, e := range want {
				if got[k] != e {
					t.Fatalf("limit %d, batches of %d: %+v: %+v, one at a time %+v", limit, size, k, got[k], e)
				}
			}
			bd, sd := batched.Delta(), single.Delta()
			bs, br := bd.Other()
			ss, sr := sd.Other()
			if bd.Counts() != sd.Counts() || bd.TX != sd.TX || bd.RX != sd.RX || bs != ss || br != sr || bd.Folded != sd.Folded {
				t.Fatalf("limit %d, batches of %d: %+v %+v %+v other %+v %+v, one at a time %+v %+v %+v other %+v %+v",
					limit, size, bd.Counts(), bd.TX, bd.RX, bs, br, sd.Counts(), sd.TX, sd.RX, ss, sr)
			}
			if c := bd.Counts(); c.Ignored == 0 || c.Counted == 0 || (limit > 0 && bd.Folded == 0) {
				t.Fatalf("limit %d: the traffic does not exercise every path: %+v, folded %d", limit, c, bd.Folded)
			}
		}
	}
}

func deltaMap(d *table.Delta) map[table.Key]table.DeltaEntry {
	m := map[table.Key]table.DeltaEntry{}
	d.Each(func(e *table.DeltaEntry) { m[e.Key] = *e })
	return m
}

func TestWorkerNoAllocs(t *testing.T) {
	w := NewWorker(table.NewClassifier(table.ClassifierConfig{}), 0)
	recs := flowRecords(1000)
	w.Process(recs)
	if n := testing.AllocsPerRun(100, func() { w.Process(recs) }); n != 0 {
		t.Fatalf("Process allocates %v times per batch of %d", n, len(recs))
	}
}

// BenchmarkWorker is the per-packet path: decode, classify, count.
func BenchmarkWorker(b *testing.B) {
	for _, flows := range []int{1000, 10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("flows=%d", flows), func(b *testing.B) {
			recs := flowRecords(flows)
			// Replay in a scattered order so the table sees flows as a
			// busy link interleaves them.
			// The frames lie one after another in that order, as in a
			// ring block, so the benchmark measures the table, not
			// misses on frames scattered over memory.
			order := make([]ring.Record, len(recs))
			buf := make([]byte, 0, len(recs)*64)
			step := 7919 % len(recs)
			for i, j := 0, 0; i < len(recs); i++ {
				order[i] = recs[j]
				off := len(buf)
				buf = append(buf, recs[j].Data...)
				order[i].Data = buf[off:len(buf):len(buf)]
				j = (j + step) % len(recs)
			}
			w := NewWorker(table.NewClassifier(table.ClassifierConfig{}), 0)
			w.Process(order) // the table at its steady-state size
			b.ReportAllocs()
			b.ResetTimer()
			pkts := 0
			for b.Loop() {
				for i := 0; i < len(order); i += 1024 {
					w.Process(order[i:min(i+1024, len(order))])
				}
				pkts += len(order)
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(pkts)
			b.ReportMetric(ns, "ns/pkt")
			b.ReportMetric(1e3/ns, "Mpps")
		})
	}
}

package pipeline

import (
	"fmt"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/bondhash"
)

func testBondLink(links, self int) *table.BondLink {
	l := &table.BondLink{Master: "bond0", Mode: "802.3ad", Policy: "layer3+4",
		Config: bondhash.Config{Mode: bondhash.Mode8023AD, Policy: bondhash.PolicyLayer34, Variant: bondhash.V5_18}, Self: self}
	for i := range links {
		l.Members = append(l.Members, fmt.Sprintf("eth%d", i))
		l.Usable = append(l.Usable, i)
	}
	return l
}

func outgoing(recs []ring.Record) []ring.Record {
	for i := range recs {
		recs[i].Meta.PktType = decode.PktOutgoing
	}
	return recs
}

// Only transmitted packets are checked; a configuration set while the
// worker runs is picked up at its next batch, and none costs nothing.
func TestWorkerChecksBond(t *testing.T) {
	bonds := NewBondLinks(2)
	w := NewWorker(table.NewClassifier(table.ClassifierConfig{}), 0)
	w.SetBond(bonds, 1)
	tx := outgoing(flowRecords(100))
	rx := flowRecords(100)
	w.Process(tx)
	if w.Delta().Bond != nil {
		t.Fatal("checked packets with no bond configured")
	}
	l := testBondLink(2, 0)
	bonds.Set(1, l)
	w.Process(rx)
	if w.Delta().Bond != nil {
		t.Fatal("checked received packets")
	}
	w.Process(tx)
	b := w.Delta().Bond
	if b == nil || b.Agree.Packets+b.Disagree.Packets != 100 || b.Unknown.Packets != 0 {
		t.Fatalf("bond counts %+v; want 100 packets checked", b)
	}
	// Each packet's verdict is bondhash's on the same frame.
	var agree uint64
	for i := range tx {
		var p decode.Packet
		if err := decode.Frame(tx[i].Data, &tx[i].Meta, &p); err != nil {
			t.Fatal(err)
		}
		if pr := l.Config.PredictPacket(&p, false, 2); pr.OK() && pr.Link == 0 {
			agree++
		}
	}
	if b.Agree.Packets != agree || agree == 0 || agree == 100 {
		t.Fatalf("agree %d packets; bondhash says %d of 100", b.Agree.Packets, agree)
	}
	bonds.Set(1, nil)
	w.Process(tx)
	if b.Agree.Packets+b.Disagree.Packets != 100 {
		t.Fatal("checked packets after the bond was unset")
	}
	bonds.Set(1, l)
	if n := testing.AllocsPerRun(50, func() { w.Process(tx) }); n != 0 {
		t.Fatalf("Process with a bond allocates %v times per batch", n)
	}
}

// BenchmarkWorkerBond is the per-packet cost of the check: the same
// transmitted packets with no bond configured, and on a bond's link.
func BenchmarkWorkerBond(b *testing.B) {
	for _, links := range []int{0, 2, 4} {
		name := "no-bond"
		if links > 0 {
			name = fmt.Sprintf("links=%d", links)
		}
		b.Run(name, func(b *testing.B) {
			recs := outgoing(flowRecords(1000))
			w := NewWorker(table.NewClassifier(table.ClassifierConfig{}), 0)
			if links > 0 {
				bonds := NewBondLinks(1)
				bonds.Set(0, testBondLink(links, 0))
				w.SetBond(bonds, 0)
			}
			w.Process(recs)
			b.ReportAllocs()
			b.ResetTimer()
			pkts := 0
			for b.Loop() {
				w.Process(recs)
				pkts += len(recs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pkts), "ns/pkt")
		})
	}
}

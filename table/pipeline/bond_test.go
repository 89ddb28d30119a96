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

// Two links' members count transmitted packets while the refresher swaps
// their configurations (a link going down and up again): every packet is
// checked once, none is lost at a swap, and the snapshot's sums are the
// members' (run with -race).
func TestEngineBondSwaps(t *testing.T) {
	bonds := NewBondLinks(2)
	up := [2]*table.BondLink{testBondLink(2, 0), testBondLink(2, 1)}
	bonds.Set(0, up[0])
	bonds.Set(1, up[1])
	const start = int64(1_000_000_000)
	e := NewEngine(EngineConfig{Members: 2, Start: start, Sources: []string{"eth0", "eth1"},
		Source: func(m int) int { return m }, Bonds: bonds, WaitForSpare: true})
	recs := outgoing(flowRecords(500))
	const rounds = 40
	stop := make(chan struct{})
	swapped := make(chan int)
	go func() {
		n := 0
		defer func() { swapped <- n }()
		for {
			select {
			case <-stop:
				bonds.Set(0, up[0])
				bonds.Set(1, up[1])
				return
			default:
			}
			for i := range 2 {
				l := *up[i]
				if n%2 == 0 {
					l.Usable = []int{i} // the other link is down
				}
				bonds.Set(i, &l)
			}
			n++
		}
	}()
	done := make(chan struct{})
	for m := range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			mem := e.Member(m)
			for r := range rounds {
				batch := make([]ring.Record, len(recs))
				copy(batch, recs)
				for i := range batch {
					// 4 rounds per 2 s slot: ticks close while swaps go on.
					batch[i].TS = start + int64(r)*int64(table.SlotDuration)/4 + int64(i)
				}
				mem.Batch(batch)
			}
			mem.Flush()
		}()
	}
	<-done
	<-done
	close(stop)
	if n := <-swapped; n == 0 {
		t.Log("no swap happened while the members ran")
	}
	s := e.Wait(start + rounds*int64(table.SlotDuration)/4)
	if len(s.Bonds) != 1 {
		t.Fatalf("%d bonds, want 1", len(s.Bonds))
	}
	b := s.Bonds[0]
	want := uint64(2 * rounds * len(recs))
	if got := b.Agree.Packets + b.Disagree.Packets + b.Unknown.Packets; got != want {
		t.Fatalf("checked %d packets, sent %d: agree %+v, disagree %+v, unknown %+v", got, want, b.Agree, b.Disagree, b.Unknown)
	}
	for i, l := range b.Links {
		if l.Agree.Packets+l.Disagree.Packets+l.Unknown.Packets != want/2 || l.Name != fmt.Sprintf("eth%d", i) {
			t.Errorf("link %d: %+v; want %d packets", i, l, want/2)
		}
	}
}

package table

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// Rows agrees with a plain map aggregation under every view.
func TestRowsAggregation(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	s := &Snapshot{}
	for range 5000 {
		k := key4(byte(r.IntN(20)), byte(r.IntN(5)), uint16(r.IntN(4)), uint16(r.IntN(3)))
		if r.IntN(4) == 0 {
			k.Family, k.A[15] = 6, 1
		}
		s.Flows = append(s.Flows, Flow{Key: k, Sent: Stat{Win: [3]uint64{1, 2, 3}, Bytes: uint64(r.IntN(100)), Packets: 1}, Recv: Stat{Bytes: 7, Packets: 2}})
	}
	for _, links := range []bool{false, true} {
		if links {
			splitFlows(r, s.Flows)
		}
		checkRows(t, s, links)
	}
}

// splitFlows gives each flow Links: its traffic split at random over up to
// three of links 0, 1, 5 and 63.
func splitFlows(r *rand.Rand, flows []Flow) {
	ids := []int{0, 1, 5, 63}
	for i := range flows {
		f := &flows[i]
		r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		n := 1 + r.IntN(3)
		use := slices.Clone(ids[:n])
		slices.Sort(use)
		f.Links = nil
		for j, l := range use {
			p := FlowLink{Link: l}
			if j == n-1 { // the rest
				p.Sent, p.Recv = f.Sent, f.Recv
				for _, q := range f.Links {
					p.Sent = sub(p.Sent, q.Sent)
					p.Recv = sub(p.Recv, q.Recv)
				}
			} else {
				p.Sent = Stat{Bytes: f.Sent.Bytes / 4, Packets: f.Sent.Packets / 2, Win: [3]uint64{f.Sent.Win[0] / 2}}
				p.Recv = Stat{Bytes: f.Recv.Bytes / 3}
			}
			f.Links = append(f.Links, p)
		}
	}
}

func sub(a, b Stat) Stat {
	for w := range a.Win {
		a.Win[w] -= b.Win[w]
	}
	a.Bytes -= b.Bytes
	a.Packets -= b.Packets
	return a
}

func checkRows(t *testing.T, s *Snapshot, links bool) {
	t.Helper()
	for _, v := range []View{{}, {Ports: PortsSource}, {Ports: PortsDest}, {Ports: PortsOn}, {HideSrc: true}, {HideDst: true, Ports: PortsOn}, {HideSrc: true, HideDst: true}} {
		want := map[Key]Flow{}
		for _, f := range s.Flows {
			k := v.DisplayKey(f.Key)
			w := want[k]
			w.Key = k
			w.Sent.Add(&f.Sent)
			w.Recv.Add(&f.Recv)
			for _, l := range f.Links {
				i := slices.IndexFunc(w.Links, func(p FlowLink) bool { return p.Link == l.Link })
				if i < 0 {
					w.Links = append(w.Links, FlowLink{Link: l.Link})
					i = len(w.Links) - 1
				}
				w.Links[i].Sent.Add(&l.Sent)
				w.Links[i].Recv.Add(&l.Recv)
			}
			slices.SortFunc(w.Links, func(a, b FlowLink) int { return a.Link - b.Link })
			want[k] = w
		}
		rows := s.Rows(v, nil)
		if v == (View{Ports: PortsOn}) {
			// Rows are the flows themselves; duplicates of a key stay apart.
			if len(rows) != len(s.Flows) {
				t.Fatalf("%+v: %d rows", v, len(rows))
			}
			continue
		}
		if len(rows) != len(want) {
			t.Fatalf("%+v: %d rows, want %d", v, len(rows), len(want))
		}
		for _, row := range rows {
			if w := want[row.Key]; !reflect.DeepEqual(w, row) {
				t.Fatalf("links %v, %+v: row %+v, want %+v", links, v, row, w)
			}
		}
	}
}

func BenchmarkRows(b *testing.B) {
	s := &Snapshot{}
	for i := range 100_000 {
		s.Flows = append(s.Flows, Flow{Key: key4(byte(i), byte(i>>8), uint16(i), 80)})
	}
	var rows []Flow
	b.ReportAllocs()
	for b.Loop() {
		rows = s.Rows(View{}, rows)
	}
}

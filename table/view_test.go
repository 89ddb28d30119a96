package table

import (
	"math/rand/v2"
	"reflect"
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
	for _, v := range []View{{}, {Ports: PortsSource}, {Ports: PortsDest}, {Ports: PortsOn}, {HideSrc: true}, {HideDst: true, Ports: PortsOn}, {HideSrc: true, HideDst: true}} {
		want := map[Key]Flow{}
		for _, f := range s.Flows {
			k := v.DisplayKey(f.Key)
			w := want[k]
			w.Key = k
			w.Sent.Add(&f.Sent)
			w.Recv.Add(&f.Recv)
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
				t.Fatalf("%+v: row %+v, want %+v", v, row, w)
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

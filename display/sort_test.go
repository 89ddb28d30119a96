package display

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/table"
)

func TestParseOrder(t *testing.T) {
	for _, o := range []Order{Sort2s, Sort10s, Sort40s, SortSource, SortDest} {
		got, err := ParseOrder(o.String())
		if err != nil || got != o {
			t.Errorf("ParseOrder(%q) = %v, %v; want %v", o.String(), got, err, o)
		}
	}
	for _, bad := range []string{"", "10", "src", "Source", "dest"} {
		if _, err := ParseOrder(bad); err == nil || !strings.Contains(err.Error(), "2s, 10s, 40s, source or destination") {
			t.Errorf("ParseOrder(%q) error = %v, want one naming the choices", bad, err)
		}
	}
	if Order(0) != Sort10s {
		t.Error("the zero Order must be iftop's default, 10s")
	}
	if got := Order(99).String(); got != "Order(99)" {
		t.Errorf("Order(99).String() = %q", got)
	}
}

// flowW builds a row whose sent and received windows are given per column.
func flowW(a, b string, sent, recv [3]uint64) table.Flow {
	return table.Flow{Key: displaytest.MkKey(a, 0, b, 0, icmp), Sent: table.Stat{Win: sent}, Recv: table.Stat{Win: recv}}
}

func srcs(rows []table.Flow) []string {
	var out []string
	for i := range rows {
		k := rows[i].Key
		if k.IsOther() {
			out = append(out, "other")
			continue
		}
		a := k.AAddr()
		if !a.IsValid() {
			out = append(out, "*")
			continue
		}
		out = append(out, a.String()+">"+k.BAddr().String())
	}
	return out
}

func TestSortRowsByColumn(t *testing.T) {
	rows := []table.Flow{
		flowW("10.0.0.1", "10.0.0.9", [3]uint64{100, 10, 1}, [3]uint64{}),
		flowW("10.0.0.2", "10.0.0.9", [3]uint64{1, 100, 10}, [3]uint64{}),
		flowW("10.0.0.3", "10.0.0.9", [3]uint64{10, 1, 50}, [3]uint64{0, 0, 60}),
	}
	tests := []struct {
		o    Order
		want []string
	}{
		{Sort2s, []string{"10.0.0.1>10.0.0.9", "10.0.0.3>10.0.0.9", "10.0.0.2>10.0.0.9"}},
		{Sort10s, []string{"10.0.0.2>10.0.0.9", "10.0.0.1>10.0.0.9", "10.0.0.3>10.0.0.9"}},
		{Sort40s, []string{"10.0.0.3>10.0.0.9", "10.0.0.2>10.0.0.9", "10.0.0.1>10.0.0.9"}},
	}
	for _, tt := range tests {
		r := slices.Clone(rows)
		SortRows(r, tt.o, table.TwoLine, nil)
		if got := srcs(r); !slices.Equal(got, tt.want) {
			t.Errorf("%v: got %v, want %v", tt.o, got, tt.want)
		}
	}
}

func TestSortRowsByName(t *testing.T) {
	big := [3]uint64{0, 0, 1000}
	small := [3]uint64{0, 0, 5}
	rows := []table.Flow{
		flowW("fd00::1", "fd00::2", small, small),
		flowW("10.99.0.2", "10.0.0.3", small, small),
		flowW("10.99.0.10", "10.0.0.2", small, small),
		flowW("10.99.0.2", "10.0.0.4", big, small), // same source, more traffic: first
		{Key: table.Key{}},                         // the other row
		flowW("192.168.1.1", "10.0.0.5", small, small),
	}
	hf := &HostFormat{Namer: mapNamer{netip.MustParseAddr("192.168.1.1"): "alpha.lan"}}

	r := slices.Clone(rows)
	SortRows(r, SortSource, table.TwoLine, hf)
	want := []string{"other", "10.99.0.10>10.0.0.2", "10.99.0.2>10.0.0.4", "10.99.0.2>10.0.0.3", "192.168.1.1>10.0.0.5", "fd00::1>fd00::2"}
	if got := srcs(r); !slices.Equal(got, want) {
		t.Errorf("source: got %v, want %v", got, want)
	}

	r = slices.Clone(rows)
	SortRows(r, SortDest, table.TwoLine, hf)
	want = []string{"other", "10.99.0.10>10.0.0.2", "10.99.0.2>10.0.0.3", "10.99.0.2>10.0.0.4", "192.168.1.1>10.0.0.5", "fd00::1>fd00::2"}
	if got := srcs(r); !slices.Equal(got, want) {
		t.Errorf("destination: got %v, want %v", got, want)
	}

	// Hidden sources all read " * " and fall back to the 40 s column.
	hidden := table.View{HideSrc: true}
	r = []table.Flow{
		{Key: hidden.DisplayKey(rows[1].Key), Sent: table.Stat{Win: small}},
		{Key: hidden.DisplayKey(rows[3].Key), Sent: table.Stat{Win: big}},
	}
	SortRows(r, SortSource, table.TwoLine, nil)
	if r[0].Sent.Win != big {
		t.Error("equal names must fall back to the 40 s column, descending")
	}
}

func TestLimit(t *testing.T) {
	rows := make([]table.Flow, 5)
	for _, tt := range []struct{ n, want int }{{0, 0}, {3, 3}, {5, 5}, {9, 5}, {-1, 5}} {
		if got := len(Limit(rows, tt.n)); got != tt.want {
			t.Errorf("Limit(5 rows, %d) has %d rows, want %d", tt.n, got, tt.want)
		}
	}
}

func BenchmarkSortBySource100k(b *testing.B) {
	rows := displaytest.SyntheticFlows(100_000)
	work := make([]table.Flow, len(rows))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, rows)
		SortRows(work, SortSource, table.TwoLine, nil)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(rows)), "ns/flow")
}

// TestSortLimitMatchesFullSort checks the selection shortcut against a full
// table.SortByColumn for every column and line mode, with many ties.
func TestSortLimitMatchesFullSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{0, 1, 7, 40, 1000} {
		rows := displaytest.SyntheticFlows(size)
		for i := range rows {
			// Small values make ties on every metric common.
			for w := range 3 {
				rows[i].Sent.Win[w] = r.Uint64N(4)
				rows[i].Recv.Win[w] = r.Uint64N(3)
			}
			if i%50 == 7 {
				rows[i].Sent.Win[0] = math.MaxUint64 // sums wrap, as in table
			}
		}
		for _, o := range []Order{Sort2s, Sort10s, Sort40s, SortSource, SortDest} {
			for _, mode := range []table.LineMode{table.TwoLine, table.OneLineBoth, table.OneLineRecv, table.OneLineSent} {
				full := slices.Clone(rows)
				SortRows(full, o, mode, nil)
				for _, n := range []int{-1, 0, 1, 3, 10, 100, 250, 999, 2000} {
					got := SortLimit(slices.Clone(rows), o, mode, nil, n)
					want := Limit(full, n)
					if !slices.EqualFunc(got, want, func(a, b table.Flow) bool { return reflect.DeepEqual(a, b) }) {
						t.Fatalf("size %d, %v, mode %d, n %d: SortLimit differs from a full sort", size, o, mode, n)
					}
				}
			}
		}
	}
}

func BenchmarkSortLimit10Of100k(b *testing.B) {
	rows := displaytest.SyntheticFlows(100_000)
	work := make([]table.Flow, len(rows))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, rows)
		SortLimit(work, Sort10s, table.TwoLine, nil, 10)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(rows)), "ns/flow")
}

func BenchmarkSortFull100k(b *testing.B) {
	rows := displaytest.SyntheticFlows(100_000)
	work := make([]table.Flow, len(rows))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, rows)
		SortRows(work, Sort10s, table.TwoLine, nil)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(rows)), "ns/flow")
}

package table

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// TestTopByColumnMatchesSort checks the selection against a full
// SortByColumn for every column and line mode, with many ties and sums
// that wrap.
func TestTopByColumnMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	for _, size := range []int{0, 1, 7, 40, 1000, 20000} {
		rows := make([]Flow, size)
		for i := range rows {
			rows[i].Key = key4(byte(i), byte(i>>8), uint16(i>>16), 80)
			for w := range 3 {
				rows[i].Sent.Win[w] = r.Uint64N(4)
				rows[i].Recv.Win[w] = r.Uint64N(3)
			}
			if i%50 == 7 {
				rows[i].Sent.Win[0] = math.MaxUint64
			}
		}
		for col := Win2s; col <= Win40s; col++ {
			for _, mode := range []LineMode{TwoLine, OneLineBoth, OneLineRecv, OneLineSent} {
				full := slices.Clone(rows)
				SortByColumn(full, col, mode)
				for i := 1; i < len(full); i++ {
					if CompareByColumn(&full[i-1], &full[i], col, mode) >= 0 {
						t.Fatalf("size %d col %d mode %d: rows %d and %d out of order", size, col, mode, i-1, i)
					}
				}
				for _, n := range []int{-1, 0, 1, 3, 10, 100, 250, 999, 2000, 4097} {
					got := TopByColumn(slices.Clone(rows), col, mode, n)
					want := full
					if n >= 0 && n < len(full) {
						want = full[:n]
					}
					same := func(a, b Flow) bool { return reflect.DeepEqual(a, b) }
					if !slices.EqualFunc(got, want, same) {
						t.Fatalf("size %d col %d mode %d n %d: TopByColumn differs from a full sort", size, col, mode, n)
					}
					before := slices.Clone(rows)
					if of := TopOf(rows, col, mode, n, nil); !slices.EqualFunc(of, want, same) {
						t.Fatalf("size %d col %d mode %d n %d: TopOf differs from a full sort", size, col, mode, n)
					}
					if !slices.EqualFunc(rows, before, same) {
						t.Fatalf("size %d col %d mode %d n %d: TopOf changed its input", size, col, mode, n)
					}
				}
			}
		}
	}
}

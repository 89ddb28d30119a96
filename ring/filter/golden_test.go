package filter

import (
	"errors"
	"sort"
	"testing"
)

// unsupportedByDesign lists the expressions of filters.txt that libpcap
// 1.10.3 accepts and fastop rejects on purpose.
var unsupportedByDesign = map[string]string{
	"ip proto 256":       "out of range: can never match (libpcap master rejects it too)",
	"ether proto 70000":  "out of range: can never match (libpcap master rejects it too)",
	"ip6 protochain 256": "out of range: can never match",
}

// TestGoldenVerdicts compiles every (capture, expression) pair of
// golden/verdicts.tsv with fastop for the capture's link type, runs the
// program in the VM over the capture and compares every packet's verdict
// with libpcap's.
func TestGoldenVerdicts(t *testing.T) {
	for _, noopt := range []bool{false, true} {
		name := "optimized"
		if noopt {
			name = "unoptimized"
		}
		t.Run(name, func(t *testing.T) { goldenVerdicts(t, noopt) })
	}
}

func goldenVerdicts(t *testing.T, noOptimize bool) {
	rows := loadVerdicts(t)
	var pairs, matched, skipped, verdicts, never int
	badExpr := map[string]int{}
	for i := range rows {
		row := &rows[i]
		f := capture(t, row.capture)
		opt := Options{Link: f.Link, Names: debianNames(), NullBigEndian: f.BigEndian, Snaplen: f.Snaplen, NoOptimize: noOptimize}
		prog, err := Compile(row.expr, opt)
		if err != nil {
			if _, ok := unsupportedByDesign[row.expr]; ok {
				skipped++
				continue
			}
			// fastop refuses a filter that can never match on this link
			// type (ip6 protochain on raw IPv4, …) where libpcap, its
			// optimiser off, compiles it; libpcap must then match nothing.
			if errors.Is(err, ErrRejectsAll) && row.matched == 0 {
				pairs++
				matched++
				never++
				continue
			}
			t.Errorf("%s: Compile(%q): %v", row.capture, row.expr, err)
			continue
		}
		vm, err := NewVM(prog)
		if err != nil {
			t.Fatalf("%q: %v", row.expr, err)
		}
		pairs++
		ok := true
		for j := range f.Records {
			r := &f.Records[j]
			got := vm.Run(r.Data, &r.Meta) != 0
			verdicts++
			if got != row.accepted(j) {
				if ok {
					t.Errorf("%s packet %d, %q: fastop %v, libpcap %v", row.capture, j, row.expr, got, row.accepted(j))
				}
				ok = false
			}
		}
		if ok {
			matched++
		} else {
			badExpr[row.expr]++
		}
	}
	var bad []string
	for e := range badExpr {
		bad = append(bad, e)
	}
	sort.Strings(bad)
	t.Logf("%d pairs checked, %d matched libpcap on every packet (%d verdicts run; %d pairs refused as never matching, where libpcap matched nothing); %d pairs skipped (expressions fastop rejects by design); mismatching expressions: %q",
		pairs, matched, verdicts, never, skipped, bad)
}

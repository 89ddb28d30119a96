package filter

import (
	"testing"

	"github.com/fastop/fastop/decode"
)

// TestVMRunsLibpcapPrograms runs libpcap's own compiled programs
// (golden/programs*.tsv) in the VM over every capture and compares each
// packet's verdict with the one tcpdump gave (golden/verdicts.tsv).
func TestVMRunsLibpcapPrograms(t *testing.T) {
	progs := goldenPrograms(t)
	nullFile := twoColumnPrograms(t, "programs-savefile-null.tsv")
	rows := loadVerdicts(t)
	var pairs, verdicts, strict int
	for i := range rows {
		row := &rows[i]
		f := capture(t, row.capture)
		if len(f.Records) != row.packets {
			t.Fatalf("%s: %d records, verdicts.tsv says %d", row.capture, len(f.Records), row.packets)
		}
		p, ok := progs[f.Link][row.expr]
		if f.Link == decode.LinkNull {
			if q, ok2 := nullFile[row.expr]; ok2 {
				p, ok = q, true
			}
		}
		if !ok {
			t.Errorf("%s: no golden program for %q on link type %d", row.capture, row.expr, f.Link)
			continue
		}
		// libpcap's protochain code loops backward: only the loose VM runs it.
		vm, err := NewVM(p)
		if err == nil {
			strict++
		} else if vm, err = NewVMWith(p, VMOptions{Libpcap: true}); err != nil {
			t.Errorf("%q: %v", row.expr, err)
			continue
		}
		pairs++
		for j := range f.Records {
			r := &f.Records[j]
			got := vm.Run(r.Data, &r.Meta) != 0
			verdicts++
			if got != row.accepted(j) {
				t.Errorf("%s packet %d, %q: VM says %v, libpcap %v", row.capture, j, row.expr, got, row.accepted(j))
			}
		}
	}
	t.Logf("%d (capture, expression) pairs, %d packet verdicts; %d pairs ran under kernel rules, the rest (protochain) in libpcap mode",
		pairs, verdicts, strict)
}

package filter

import (
	"strings"
	"testing"

	"github.com/fastop/fastop/decode"
)

// TestProgramSizes compares the length of fastop's programs with
// libpcap's optimised ones over the golden expressions: the optimiser
// must keep fastop within a small factor of libpcap everywhere.
func TestProgramSizes(t *testing.T) {
	progs := goldenPrograms(t)
	var ours, theirs, n int
	for lt, m := range progs {
		for expr, lp := range m {
			if strings.Contains(expr, "protochain") {
				continue // unrolled on purpose: libpcap's loop runs only in user space
			}
			p, err := Compile(expr, Options{Link: lt, Names: debianNames()})
			if err != nil {
				continue
			}
			n++
			ours += len(p)
			theirs += len(lp)
			if len(p) > 2*len(lp)+4 {
				t.Errorf("%v %q: %d instructions, libpcap %d\n%s", lt, expr, len(p), len(lp), p)
			}
		}
	}
	t.Logf("%d programs: fastop %d instructions in all, libpcap %d", n, ours, theirs)
	long := strings.Repeat("host 10.0.0.1 or ", 199) + "host 10.0.0.1"
	p, err := Compile(long, Options{Link: decode.LinkEthernet, Names: debianNames()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("200 x the same host: %d instructions", len(p))
}

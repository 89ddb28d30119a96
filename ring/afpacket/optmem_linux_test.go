package afpacket

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/fastop/fastop/ring/filter"
)

// loadsProgram is n × (ldh [12]; jeq #0x800) then accept: classic BPF
// that the kernel converts to several instructions per load.
func loadsProgram(n int) filter.Program {
	var p filter.Program
	for range n {
		p = append(p, filter.Instruction{Op: opLdhAbs, K: 12}, filter.Instruction{Op: opJeq, K: 0x800})
	}
	return append(p, filter.Instruction{Op: opRetK, K: 0xffff})
}

// TestLiveFilterOptmem: a filter larger than the socket's option memory
// (net.core.optmem_max, per namespace since Linux 6.8; 20480 bytes on
// older kernels) is refused with an error that names the filter's size
// and the sysctl, not the ring memory (issue 12 item 3): before any socket
// is made when it cannot fit at 8 bytes an instruction, else when the
// kernel refuses it, at Open and at SetFilter.
func TestLiveFilterOptmem(t *testing.T) {
	l := newLiveNet(t)
	if err := l.cns.Sysctl("net/core/optmem_max", "4096"); err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error, insns int) {
		t.Helper()
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if !errors.Is(err, ErrFilter) || errors.Is(err, ErrRingMemory) ||
			!strings.Contains(msg, "net.core.optmem_max") || !strings.Contains(msg, "4096 bytes") ||
			!strings.Contains(msg, strconv.Itoa(insns)+" instructions") || strings.Contains(msg, "--buffer") {
			t.Errorf("%s: %v\nwant ErrFilter naming %d instructions and net.core.optmem_max (4096 bytes)", what, err, insns)
		}
	}
	big := loadsProgram(300) // 601 instructions: 4808 bytes at the least
	fds := openFDs(t)
	_, err := openIn(l.cns, Config{Interface: l.veth.B, Members: 2, Filter: big})
	check("Open, certain not to fit", err, 601)
	t.Log(err)
	if got := openFDs(t); got != fds {
		t.Errorf("a refused filter left %d descriptors, %d before", got, fds)
	}

	mid := loadsProgram(200) // 401 instructions: fits at 8 bytes each, not once converted
	_, err = openIn(l.cns, Config{Interface: l.veth.B, Members: 2, Filter: mid})
	check("Open, refused by the kernel", err, 401)
	t.Log(err)

	g := l.open(l.cns, Config{Interface: l.veth.B, Members: 2})
	check("SetFilter", g.SetFilter(mid), 401)
	if err := g.SetFilter(loadsProgram(2)); err != nil {
		t.Errorf("a small filter after a refused one: %v", err)
	}
}

package afpacket

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring/filter"
	"golang.org/x/sys/unix"
)

// toProgram converts what would be attached back to a filter.Program,
// so fastop's VM (which implements the kernel's rules) can run it.
func toProgram(k []unix.SockFilter) filter.Program {
	p := make(filter.Program, len(k))
	for i, f := range k {
		p[i] = filter.Instruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}
	}
	return p
}

// ethFrame builds an Ethernet frame: the EtherTypes given (tags' TPIDs first,
// each followed by a 2-byte TCI), then 40 bytes of payload.
func ethFrame(types ...uint16) []byte {
	b := make([]byte, 12, 80)
	for i, t := range types {
		b = binary.BigEndian.AppendUint16(b, t)
		if i < len(types)-1 {
			b = append(b, 0, 100)
		}
	}
	return append(b, make([]byte, 40)...)
}

func runKernelProgram(t *testing.T, k []unix.SockFilter, data []byte, m decode.Meta) uint32 {
	t.Helper()
	vm, err := filter.NewVM(toProgram(k))
	if err != nil {
		t.Fatalf("the kernel would refuse the program: %v", err)
	}
	return vm.Run(data, &m)
}

func TestBuiltinProgram(t *testing.T) {
	const snap = 128
	eth := decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktHost}
	tagged := eth
	tagged.VLANOK, tagged.VLANTCI, tagged.VLANTPID = true, 100, 0x8100
	raw := decode.Meta{Link: decode.LinkRaw, PktType: decode.PktHost}
	tests := []struct {
		name string
		link decode.LinkType
		data []byte
		meta decode.Meta
		want uint32
	}{
		{"IPv4", decode.LinkEthernet, ethFrame(0x0800), eth, snap},
		{"IPv6", decode.LinkEthernet, ethFrame(0x86dd), eth, snap},
		{"ARP", decode.LinkEthernet, ethFrame(0x0806), eth, 0},
		{"LLDP", decode.LinkEthernet, ethFrame(0x88cc), eth, 0},
		{"outer tag in metadata, IPv4 in the bytes", decode.LinkEthernet, ethFrame(0x0800), tagged, snap},
		{"outer tag in metadata, ARP in the bytes", decode.LinkEthernet, ethFrame(0x0806), tagged, 0},
		{"in-band 802.1Q + IPv4 (transmitted, not untagged)", decode.LinkEthernet, ethFrame(0x8100, 0x0800), eth, snap},
		{"QinQ inner tag in-band + IPv6", decode.LinkEthernet, ethFrame(0x8100, 0x86dd), tagged, snap},
		{"two in-band tags 88a8/8100 + IPv4", decode.LinkEthernet, ethFrame(0x88a8, 0x8100, 0x0800), eth, snap},
		{"two in-band tags 9100/8100 + IPv6", decode.LinkEthernet, ethFrame(0x9100, 0x8100, 0x86dd), eth, snap},
		{"in-band tag + ARP", decode.LinkEthernet, ethFrame(0x8100, 0x0806), eth, 0},
		{"three in-band tags", decode.LinkEthernet, ethFrame(0x8100, 0x8100, 0x8100, 0x0800), eth, 0},
		{"short frame", decode.LinkEthernet, []byte{1, 2, 3}, eth, 0},
		{"raw IPv4", decode.LinkRaw, []byte{0x45, 0, 0, 20}, raw, snap},
		{"raw IPv6", decode.LinkRaw, []byte{0x60, 0, 0, 0}, raw, snap},
		{"raw other", decode.LinkRaw, []byte{0x10, 0, 0, 0}, raw, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := kernelProgram(nil, tc.link, snap, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := runKernelProgram(t, k, tc.data, tc.meta); got != tc.want {
				t.Errorf("filter returned %d, want %d", got, tc.want)
			}
		})
	}
}

func TestKernelProgram(t *testing.T) {
	const snap = 96
	eth := decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktHost}
	out := eth
	out.PktType = decode.PktOutgoing
	ip := ethFrame(0x0800)
	retK := func(k uint32) filter.Program { return filter.Program{{Op: opRetK, K: k}} }
	retA := func(a uint32) filter.Program {
		return filter.Program{{Op: opLdImm, K: a}, {Op: opRetA}}
	}
	tests := []struct {
		name     string
		prog     filter.Program
		loopback bool
		meta     decode.Meta
		want     uint32
	}{
		{"accept capped at snaplen", retK(262144), false, eth, snap},
		{"reject stays 0", retK(0), false, eth, 0},
		{"small accept kept", retK(50), false, eth, 50},
		{"ret a above snaplen", retA(5000), false, eth, snap},
		{"ret a below snaplen", retA(60), false, eth, 60},
		{"ret a zero", retA(0), false, eth, 0},
		{"loopback drops outgoing", retK(262144), true, out, 0},
		{"loopback keeps received", retK(262144), true, eth, snap},
		{"not loopback keeps outgoing", retK(262144), false, out, snap},
		{"loopback prefix leaves A zero", filter.Program{{Op: opRetA}}, true, eth, 0},
		{"built-in on loopback, outgoing", nil, true, out, 0},
		{"built-in on loopback, received", nil, true, eth, snap},
		{
			// A conditional jump over a ret a: relative offsets must
			// survive both the prefix and the tail.
			"jumps around ret a",
			filter.Program{
				{Op: opLdhAbs, K: 12},
				{Op: opJeq, K: 0x0800, Jt: 0, Jf: 2},
				{Op: opLdImm, K: 70},
				{Op: opRetA},
				{Op: opRetK, K: 0},
			},
			true, eth, 70,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := kernelProgram(tc.prog, decode.LinkEthernet, snap, tc.loopback)
			if err != nil {
				t.Fatal(err)
			}
			if got := runKernelProgram(t, k, ip, tc.meta); got != tc.want {
				t.Errorf("filter returned %d, want %d", got, tc.want)
			}
		})
	}

	long := make(filter.Program, bpfMaxInsns-1)
	for i := range long {
		long[i] = filter.Instruction{Op: opRetK, K: 1}
	}
	if _, err := kernelProgram(long, decode.LinkEthernet, snap, true); !errors.Is(err, ErrFilter) {
		t.Errorf("a program over the kernel's limit after the loopback prefix: err = %v, want ErrFilter", err)
	}
	if _, err := kernelProgram(long, decode.LinkEthernet, snap, false); err != nil {
		t.Errorf("a program within the limit: %v", err)
	}
}

package afpacket

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring/filter"
	"golang.org/x/sys/unix"
)

// Classic BPF ancillary loads (include/uapi/linux/filter.h); x/sys has
// none of them. A load at SKF_AD_OFF + x reads skb metadata x.
const (
	skfAdOff     = 0xfffff000 // -0x1000 as a u32
	skfAdPkttype = 4
)

// Opcodes used below, composed from x/sys's BPF_* parts.
const (
	opLdhAbs = unix.BPF_LD | unix.BPF_H | unix.BPF_ABS
	opLdbAbs = unix.BPF_LD | unix.BPF_B | unix.BPF_ABS
	opLdImm  = unix.BPF_LD | unix.BPF_IMM
	opRsh    = unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K
	opJeq    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJgt    = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	opJa     = unix.BPF_JMP | unix.BPF_JA
	opRetK   = unix.BPF_RET | unix.BPF_K
	opRetA   = unix.BPF_RET | unix.BPF_A
)

// bpfMaxInsns is the kernel's limit on a classic program (BPF_MAXINSNS).
const bpfMaxInsns = 4096

// gateProgram rejects everything: members sit behind it while they join
// the fanout group (and after Run returns), so no packet is copied into a
// member that is not yet, or no longer, part of the group.
var gateProgram = []unix.SockFilter{{Code: opRetK, K: 0}}

// builtinProgram is the default filter: IPv4 and IPv6 only, returning
// snaplen. On Ethernet the kernel has already moved the outer VLAN tag of
// received frames into metadata, so the EtherType at 12 is the real one, or
// an inner tag (QinQ) or a tag the sender left in-band; up to two in-band
// tags are skipped. Raw-IP links are tested on the IP version nibble.
func builtinProgram(link decode.LinkType, snaplen int) filter.Program {
	k := uint32(snaplen)
	if link != decode.LinkEthernet {
		return filter.Program{
			{Op: opLdbAbs, K: 0},
			{Op: opRsh, K: 4},
			{Op: opJeq, K: 4, Jt: 1},
			{Op: opJeq, K: 6, Jf: 1},
			{Op: opRetK, K: k},
			{Op: opRetK, K: 0},
		}
	}
	const acc, rej = 15, 16 // indexes of the two returns
	p := filter.Program{
		/* 0 */ {Op: opLdhAbs, K: 12},
		/* 1 */ {Op: opJeq, K: unix.ETH_P_IP},
		/* 2 */ {Op: opJeq, K: unix.ETH_P_IPV6},
		/* 3 */ {Op: opJeq, K: unix.ETH_P_8021Q},
		/* 4 */ {Op: opJeq, K: unix.ETH_P_8021AD},
		/* 5 */ {Op: opJeq, K: unix.ETH_P_QINQ1},
		/* 6 */ {Op: opLdhAbs, K: 16},
		/* 7 */ {Op: opJeq, K: unix.ETH_P_IP},
		/* 8 */ {Op: opJeq, K: unix.ETH_P_IPV6},
		/* 9 */ {Op: opJeq, K: unix.ETH_P_8021Q},
		/* 10 */ {Op: opJeq, K: unix.ETH_P_8021AD},
		/* 11 */ {Op: opJeq, K: unix.ETH_P_QINQ1},
		/* 12 */ {Op: opLdhAbs, K: 20},
		/* 13 */ {Op: opJeq, K: unix.ETH_P_IP},
		/* 14 */ {Op: opJeq, K: unix.ETH_P_IPV6},
		/* 15 */ {Op: opRetK, K: k},
		/* 16 */ {Op: opRetK, K: 0},
	}
	// Jump targets, as absolute indexes; converted to relative below.
	type jmp struct{ t, f int }
	targets := map[int]jmp{
		1: {acc, 2}, 2: {acc, 3}, 3: {6, 4}, 4: {6, 5}, 5: {6, rej},
		7: {acc, 8}, 8: {acc, 9}, 9: {12, 10}, 10: {12, 11}, 11: {12, rej},
		13: {acc, 14}, 14: {acc, rej},
	}
	for pc, j := range targets {
		p[pc].Jt = uint8(j.t - pc - 1)
		p[pc].Jf = uint8(j.f - pc - 1)
	}
	return p
}

// kernelProgram turns a filter (nil: the built-in one) into what is
// attached to every member:
//   - every accept return is capped at snaplen, so the kernel copies only
//     that much into the ring (the only way to truncate with TPACKET_V3);
//     "ret a" jumps to a tail that returns min(A, snaplen);
//   - on loopback interfaces a prefix rejects PACKET_OUTGOING, since lo
//     shows each packet twice (sent, then received); it reloads A with 0
//     afterwards so the program starts as the kernel would start it.
//
// The prefix leaves the program's relative jumps untouched.
func kernelProgram(p filter.Program, link decode.LinkType, snaplen int, loopback bool) ([]unix.SockFilter, error) {
	if len(p) == 0 {
		p = builtinProgram(link, snaplen)
	}
	out := make([]unix.SockFilter, 0, len(p)+7)
	if loopback {
		out = append(out,
			unix.SockFilter{Code: opLdbAbs, K: skfAdOff + skfAdPkttype},
			unix.SockFilter{Code: opJeq, K: unix.PACKET_OUTGOING, Jt: 0, Jf: 1},
			unix.SockFilter{Code: opRetK, K: 0},
			unix.SockFilter{Code: opLdImm, K: 0},
		)
	}
	base := len(out)
	retA := false
	for _, ins := range p {
		f := unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
		switch ins.Op {
		case opRetK:
			f.K = min(f.K, uint32(snaplen))
		case opRetA:
			retA = true
		}
		out = append(out, f)
	}
	if retA {
		tail := len(out)
		for pc := base; pc < tail; pc++ {
			if out[pc].Code == opRetA {
				out[pc] = unix.SockFilter{Code: opJa, K: uint32(tail - pc - 1)}
			}
		}
		out = append(out,
			unix.SockFilter{Code: opJgt, K: uint32(snaplen), Jt: 0, Jf: 1},
			unix.SockFilter{Code: opRetK, K: uint32(snaplen)},
			unix.SockFilter{Code: opRetA},
		)
	}
	if len(out) > bpfMaxInsns {
		return nil, fmt.Errorf("ring: the filter needs %d instructions, the kernel allows %d (simplify the filter): %w", len(out), bpfMaxInsns, ErrFilter)
	}
	return out, nil
}

// attachFilter attaches prog to fd; SO_ATTACH_FILTER swaps atomically.
func attachFilter(fd int, prog []unix.SockFilter) error {
	fp := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fp)
}

// The kernel keeps an attached filter in the socket's option memory,
// converted to eBPF: sk_filter_charge (net/core/filter.c) refuses it with
// ENOMEM unless bpf_prog_size(len) — a header plus 8 bytes per eBPF
// instruction — fits under net.core.optmem_max (per network namespace
// since Linux 6.8; 20480 bytes by default before 6.9, 131072 after). The
// conversion makes at least one eBPF instruction of each classic one (a
// packet load makes several), so 8 bytes per classic instruction is a
// lower bound: a program above it is refused before any socket is made,
// and the kernel's ENOMEM for one below it gets the same explanation.
const ebpfInsnSize = 8

// optmemMax reads net.core.optmem_max in the calling thread's network
// namespace; 0 when it cannot be read.
func optmemMax() int64 {
	b, err := os.ReadFile("/proc/sys/net/core/optmem_max")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// optmemSuggestion is a limit to suggest for a program of n classic
// instructions: room for 8 eBPF instructions each (a load converts to
// about that many), rounded up to a power of two, at least twice now.
func optmemSuggestion(n int, now int64) int64 {
	want := max(int64(n)*8*ebpfInsnSize, 2*now)
	s := int64(4096)
	for s < want {
		s *= 2
	}
	return s
}

// checkOptmem refuses a program that cannot fit in optmem bytes of socket
// option memory whatever the kernel makes of it.
func checkOptmem(iface string, n int, optmem int64) error {
	if optmem <= 0 || int64(n)*ebpfInsnSize < optmem {
		return nil
	}
	return errorf(ErrFilter, nil, "the filter for %q has %d instructions, which need at least %d bytes of socket memory once the kernel converts them, more than net.core.optmem_max allows (%d bytes): simplify the filter, or raise the limit (sysctl -w net.core.optmem_max=%d)",
		iface, n, int64(n)*ebpfInsnSize, optmem, optmemSuggestion(n, optmem))
}

// attachError explains a failed SO_ATTACH_FILTER of a program of n
// instructions: ENOMEM is the socket's option memory (see ebpfInsnSize),
// not the ring; anything else is what syscallError says.
func attachError(iface string, member, n int, optmem int64, err error) error {
	if !errors.Is(err, unix.ENOMEM) {
		return syscallError(iface, member, "setsockopt SO_ATTACH_FILTER", err)
	}
	limit := "net.core.optmem_max"
	if optmem > 0 {
		limit = fmt.Sprintf("net.core.optmem_max (%d bytes)", optmem)
	}
	return errorf(ErrFilter, os.NewSyscallError("setsockopt SO_ATTACH_FILTER", err),
		"the kernel refused the filter for %q: its %d instructions, converted by the kernel, need more socket memory than %s allows: simplify the filter, or raise the limit (sysctl -w net.core.optmem_max=%d)",
		iface, n, limit, optmemSuggestion(n, optmem))
}

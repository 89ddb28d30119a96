// Package filter compiles pcap-filter expressions (tcpdump's filter
// language, as libpcap 1.10 reads it) to classic BPF without libpcap, and
// runs classic BPF programs in fastop's own VM for files and benchmarks.
//
// [Compile] turns an expression into a [Program] for a link type (Ethernet,
// LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP). The program passes
// [Program.Validate], which applies the Linux checker's rules, so the
// kernel accepts it with SO_ATTACH_FILTER; [NewVM] runs it in user space
// with libpcap's rules (a load past the captured bytes or a division by 0
// rejects the packet; len is the wire length) and Linux's ancillary loads
// fed from decode.Meta. [Program.String] prints it like `tcpdump -d`.
//
// The compiler follows libpcap's code generator closely, because the order
// of its tests decides verdicts on short and malformed packets: on the
// corpus of the project's golden files it gives libpcap's verdict for every
// packet of every (capture, expression) pair it compiles. As in libpcap:
// and/or share one precedence level; an id after and/or inherits the
// previous qualifiers (`host a or b`); % and ^ have no precedence; vlan,
// mpls, pppoes and geneve move the offsets of everything written after
// them; port tests see only first IPv4 fragments and IPv6 without
// extension headers; an accessor in the right operand of an arithmetic
// operator loses its protocol check (`1 + ip[8] = 65`). With Options.Live
// the outer VLAN tag is read from the socket's metadata, as libpcap does
// on a live Linux socket.
//
// Where fastop differs from libpcap 1.10.3:
//   - gateway also takes an IP address; the MAC comes from /etc/ethers or
//     Options.Neighbors (the kernel's neighbour table), and an unknown MAC
//     is an error that says so.
//   - protochain walks at most 8 headers with forward jumps only (libpcap
//     loops backwards, which the kernel refuses).
//   - ip proto above 255 and ether proto above 65535 are errors (libpcap
//     accepts them and never matches), and so is a divisor that folds to 0.
//   - Where libpcap's optimiser changes a verdict (it drops loads that
//     would fail, or, for `ip or vlan and ip` on a live socket, hoists an
//     offset update), fastop keeps the unoptimised program's verdict.
//   - Not supported (clear errors): 802.11, ATM, SS7 MTP, pf, DECnet and
//     ARCnet addresses, AppleTalk, OSI (esis, isis, clnp …), llc subtypes,
//     the obsolete byte primitive, and vxlan (libpcap 1.11 and later).
package filter

// Instruction is one classic BPF instruction, laid out as the kernel's
// struct sock_filter.
type Instruction struct {
	Op uint16
	Jt uint8
	Jf uint8
	K  uint32
}

// Program is a classic BPF program. It returns the number of bytes to keep
// (0 rejects the packet).
type Program []Instruction

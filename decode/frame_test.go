package decode

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// hx turns space-separated hex parts into bytes, so fixtures can be written
// one header field at a time.
func hx(parts ...string) []byte {
	s := strings.Join(strings.Fields(strings.Join(parts, " ")), "")
	b, err := hex.DecodeString(s)
	if err != nil {
		panic("bad hex fixture: " + err.Error())
	}
	return b
}

func ip(s string) [16]byte {
	a := netip.MustParseAddr(s)
	var out [16]byte
	if a.Is4() {
		v := a.As4()
		copy(out[:], v[:])
		return out
	}
	return a.As16()
}

var (
	mac1 = [6]byte{2, 0, 0, 0, 0, 1}
	mac2 = [6]byte{2, 0, 0, 0, 0, 2}
)

// Fixture pieces. Checksums are zero: Frame does not look at them.
const (
	ethHdr = "020000000002 020000000001" // dst, src; the EtherType follows

	// IPv4 192.0.2.1 → 192.0.2.2, total length 40, DF, TTL 64, TCP.
	ip4TCP = "45 00 0028 1234 4000 40 06 0000 c0000201 c0000202"
	// TCP 50000 → 80, 20 bytes.
	tcp50000to80 = "c350 0050 00000001 00000000 5002 ffff 0000 0000"

	// IPv6 2001:db8::1 → 2001:db8::2, payload 16, UDP.
	ip6UDP = "60000000 0010 11 40 20010db8000000000000000000000001 20010db8000000000000000000000002"
	// UDP 8080 → 53, length 16, 8 bytes of payload.
	udp8080to53 = "1f90 0035 0010 0000 0102030405060708"

	v6Src = "20010db8000000000000000000000001"
	v6Dst = "20010db8000000000000000000000002"
)

type frameCase struct {
	name string
	link LinkType
	meta Meta // Link is filled from link; PktType defaults to PktUnknown
	data []byte
	err  error
	want Packet // checked only when err is nil, plus the link fields on errors
}

func frameCases() []frameCase {
	tcp4 := Packet{
		Family: 4, Proto: 6, Flags: FlagMAC | FlagPorts, PktType: PktUnknown,
		SrcPort: 50000, DstPort: 80, L3Off: 14, L4Off: 34, IPLen: 40,
		Src: ip("192.0.2.1"), Dst: ip("192.0.2.2"), SrcMAC: mac1, DstMAC: mac2,
	}
	udp6 := Packet{
		Family: 6, Proto: 17, Flags: FlagMAC | FlagPorts, PktType: PktUnknown,
		SrcPort: 8080, DstPort: 53, L3Off: 14, L4Off: 54, IPLen: 56,
		Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"), SrcMAC: mac1, DstMAC: mac2,
	}
	with := func(p Packet, f func(*Packet)) Packet { f(&p); return p }
	linkOnly := Packet{PktType: PktUnknown, Flags: FlagMAC, SrcMAC: mac1, DstMAC: mac2}

	return []frameCase{
		{
			name: "eth/ipv4/tcp",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", ip4TCP, tcp50000to80),
			want: tcp4,
		},
		{
			name: "eth/ipv4/tcp snaplen cut after ports",
			link: LinkEthernet,
			meta: Meta{WireLen: 54, PktType: PktOutgoing},
			data: hx(ethHdr, "0800", ip4TCP, "c350 0050"),
			want: with(tcp4, func(p *Packet) { p.PktType = PktOutgoing }),
		},
		{
			name: "eth/802.1q/ipv4/tcp",
			link: LinkEthernet,
			data: hx(ethHdr, "8100 a064 0800", ip4TCP, tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.NVLAN, p.VLAN = 1, [3]uint16{100}
				p.L3Off, p.L4Off = 18, 38
			}),
		},
		{
			name: "eth/qinq 88a8+8100/ipv6/udp",
			link: LinkEthernet,
			data: hx(ethHdr, "88a8 a12c 8100 0014 86dd", ip6UDP, udp8080to53),
			want: with(udp6, func(p *Packet) {
				p.NVLAN, p.VLAN = 2, [3]uint16{300, 20}
				p.L3Off, p.L4Off = 22, 62
			}),
		},
		{
			name: "eth/qinq 9100+8100/ipv6/udp",
			link: LinkEthernet,
			data: hx(ethHdr, "9100 012c 8100 0014 86dd", ip6UDP, udp8080to53),
			want: with(udp6, func(p *Packet) {
				p.NVLAN, p.VLAN = 2, [3]uint16{300, 20}
				p.L3Off, p.L4Off = 22, 62
			}),
		},
		{
			name: "out-of-band tag first, then in-band",
			link: LinkEthernet,
			meta: Meta{VLANOK: true, VLANTPID: 0x88a8, VLANTCI: 0x60c8, PktType: PktMulticast},
			data: hx(ethHdr, "8100 0014 0800", ip4TCP, tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.PktType = PktMulticast
				p.NVLAN, p.VLAN = 2, [3]uint16{200, 20}
				p.L3Off, p.L4Off = 18, 38
			}),
		},
		{
			name: "out-of-band priority tag (VID 0) still counts",
			link: LinkEthernet,
			meta: Meta{VLANOK: true, VLANTCI: 0x6000},
			data: hx(ethHdr, "0800", ip4TCP, tcp50000to80),
			want: with(tcp4, func(p *Packet) { p.NVLAN = 1 }),
		},
		{
			name: "out-of-band plus three in-band: first three recorded",
			link: LinkEthernet,
			meta: Meta{VLANOK: true, VLANTCI: 7},
			data: hx(ethHdr, "88a8 0001 8100 0002 8100 0003 0800", ip4TCP, tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.NVLAN, p.VLAN = 3, [3]uint16{7, 1, 2}
				p.L3Off, p.L4Off = 26, 46
			}),
		},
		{
			name: "eight in-band tags are skipped",
			link: LinkEthernet,
			data: hx(ethHdr, strings.Repeat("8100 0005 ", 7), "8100 0006 0800", ip4TCP, tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.NVLAN, p.VLAN = 3, [3]uint16{5, 5, 5}
				p.L3Off, p.L4Off = 46, 66
			}),
		},
		{
			name: "nine in-band tags are malformed",
			link: LinkEthernet,
			data: hx(ethHdr, strings.Repeat("8100 0005 ", 8), "8100 0006 0800", ip4TCP, tcp50000to80),
			err:  ErrMalformed,
			want: with(linkOnly, func(p *Packet) { p.NVLAN, p.VLAN = 3, [3]uint16{5, 5, 5} }),
		},
		{
			name: "ipv4 options skipped",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "46 00 0020 0001 0000 40 11 0000 c0000201 c0000202 01010100", "0035 1f90 000c 0000"),
			want: Packet{
				Family: 4, Proto: 17, Flags: FlagMAC | FlagPorts, PktType: PktUnknown,
				SrcPort: 53, DstPort: 8080, L3Off: 14, L4Off: 38, IPLen: 32,
				Src: ip("192.0.2.1"), Dst: ip("192.0.2.2"), SrcMAC: mac1, DstMAC: mac2,
			},
		},
		{
			name: "ipv4 first fragment has ports",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "45 00 05dc 0002 2000 40 11 0000 c0000201 c0000202", "1389 1389 0fa8 0000"),
			want: Packet{
				Family: 4, Proto: 17, Flags: FlagMAC | FlagPorts | FlagFragment, PktType: PktUnknown,
				SrcPort: 5001, DstPort: 5001, L3Off: 14, L4Off: 34, IPLen: 1500,
				Src: ip("192.0.2.1"), Dst: ip("192.0.2.2"), SrcMAC: mac1, DstMAC: mac2,
			},
		},
		{
			name: "ipv4 later fragment has none",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "45 00 0424 0002 00b9 40 11 0000 c0000201 c0000202", "1389 1389 0fa8 0000"),
			want: Packet{
				Family: 4, Proto: 17, Flags: FlagMAC | FlagFragment | FlagLaterFrag, PktType: PktUnknown,
				L3Off: 14, IPLen: 1060,
				Src: ip("192.0.2.1"), Dst: ip("192.0.2.2"), SrcMAC: mac1, DstMAC: mac2,
			},
		},
		{
			name: "ipv4 icmp echo",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "45 00 001c 0003 0000 40 01 0000 c0000201 c0000202", "0800 f7ff 0000 0000"),
			want: Packet{
				Family: 4, Proto: 1, Flags: FlagMAC, PktType: PktUnknown,
				ICMPType: 8, L3Off: 14, L4Off: 34, IPLen: 28,
				Src: ip("192.0.2.1"), Dst: ip("192.0.2.2"), SrcMAC: mac1, DstMAC: mac2,
			},
		},
		{
			name: "ipv4 icmp port unreachable",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "45 00 0038 0003 0000 40 01 0000 c0000202 c0000201", "0303 0000 00000000"),
			want: Packet{
				Family: 4, Proto: 1, Flags: FlagMAC, PktType: PktUnknown,
				ICMPType: 3, ICMPCode: 3, L3Off: 14, L4Off: 34, IPLen: 56,
				Src: ip("192.0.2.2"), Dst: ip("192.0.2.1"), SrcMAC: mac1, DstMAC: mac2,
			},
		},
		{
			name: "ipv4 sctp ports",
			link: LinkIPv4,
			data: hx("45 00 0030 0004 0000 40 84 0000 0a000001 0a000002", "0b59 0b59 00000000"),
			want: Packet{
				Family: 4, Proto: 132, Flags: FlagPorts, PktType: PktUnknown,
				SrcPort: 2905, DstPort: 2905, L4Off: 20, IPLen: 48,
				Src: ip("10.0.0.1"), Dst: ip("10.0.0.2"),
			},
		},
		{
			name: "ipv4 udp-lite ports",
			link: LinkIPv4,
			data: hx("45 00 0030 0004 0000 40 88 0000 0a000001 0a000002", "04d2 162e 0008 0000"),
			want: Packet{
				Family: 4, Proto: 136, Flags: FlagPorts, PktType: PktUnknown,
				SrcPort: 1234, DstPort: 5678, L4Off: 20, IPLen: 48,
				Src: ip("10.0.0.1"), Dst: ip("10.0.0.2"),
			},
		},
		{
			name: "ipv4 gre: no ports, not truncated",
			link: LinkIPv4,
			data: hx("45 00 0018 0004 0000 40 2f 0000 0a000001 0a000002", "0000 0800"),
			want: Packet{
				Family: 4, Proto: 47, PktType: PktUnknown, L4Off: 20, IPLen: 24,
				Src: ip("10.0.0.1"), Dst: ip("10.0.0.2"),
			},
		},
		{
			name: "ipv4 udp in a padded minimum frame",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "45 00 001e 0005 0000 40 11 0000 c0000201 c0000202", "0035 0035 000a 0000 6869", "000000000000000000000000000000"),
			want: Packet{
				Family: 4, Proto: 17, Flags: FlagMAC | FlagPorts, PktType: PktUnknown,
				SrcPort: 53, DstPort: 53, L3Off: 14, L4Off: 34, IPLen: 30,
				Src: ip("192.0.2.1"), Dst: ip("192.0.2.2"), SrcMAC: mac1, DstMAC: mac2,
			},
		},
		{
			name: "ipv4 ends inside the udp header: padding is not ports",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "45 00 0016 0005 0000 40 11 0000 c0000201 c0000202", "0035", "0035000a00000000000000000000000000000000000000"),
			want: Packet{
				Family: 4, Proto: 17, Flags: FlagMAC | FlagTruncated, PktType: PktUnknown,
				L3Off: 14, L4Off: 34, IPLen: 22,
				Src: ip("192.0.2.1"), Dst: ip("192.0.2.2"), SrcMAC: mac1, DstMAC: mac2,
			},
		},
		{
			name: "ipv6 ends inside an extension header: padding is not one",
			link: LinkIPv6,
			data: hx("60000000 0004 00 40", v6Src, v6Dst, "11 00 0104", "00000000 1f90 0035"),
			want: Packet{
				Family: 6, Proto: 0, Flags: FlagTruncated, PktType: PktUnknown, IPLen: 44,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{
			name: "eth/ipv6/udp",
			link: LinkEthernet,
			data: hx(ethHdr, "86dd", ip6UDP, udp8080to53),
			want: udp6,
		},
		{
			name: "ipv6 extension chain hbh/routing/dstopts/ah/tcp",
			link: LinkEthernet,
			data: hx(ethHdr, "86dd",
				"60000000 0054 00 40", v6Src, v6Dst,
				"2b 00 0104 00000000", // hop-by-hop, 8 bytes, PadN → routing
				"3c 02 00 00 00000000 20010db8000000000000000000000003", // routing, 24 bytes → dst opts
				"33 00 0104 00000000", // destination options, 8 bytes → AH
				"06 04 0000 00001000 00000001 000000000000000000000000", // AH, (4+2)*4 = 24 bytes → TCP
				tcp50000to80),
			want: Packet{
				Family: 6, Proto: 6, Flags: FlagMAC | FlagPorts, PktType: PktUnknown,
				SrcPort: 50000, DstPort: 80, L3Off: 14, L4Off: 14 + 40 + 8 + 24 + 8 + 24, IPLen: 124,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"), SrcMAC: mac1, DstMAC: mac2,
			},
		},
		{
			name: "ipv6 hbh then icmpv6 (MLD)",
			link: LinkEthernet,
			data: hx(ethHdr, "86dd", "60000000 0020 00 01", v6Src, "ff020000000000000000000000000016",
				"3a 00 0502 0000 0100", "8f00 0000 00000001 04000000 ff020000000000000000000000000001"),
			want: Packet{
				Family: 6, Proto: 58, Flags: FlagMAC, PktType: PktUnknown,
				ICMPType: 143, L3Off: 14, L4Off: 62, IPLen: 72,
				Src: ip("2001:db8::1"), Dst: ip("ff02::16"), SrcMAC: mac1, DstMAC: mac2,
			},
		},
		{
			name: "ipv6 first fragment has ports",
			link: LinkIPv6,
			data: hx("60000000 05b0 2c 40", v6Src, v6Dst, "11 00 0001 0000abcd", udp8080to53),
			want: Packet{
				Family: 6, Proto: 17, Flags: FlagPorts | FlagFragment, PktType: PktUnknown,
				SrcPort: 8080, DstPort: 53, L4Off: 48, IPLen: 1496,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{
			name: "ipv6 later fragment has none",
			link: LinkIPv6,
			data: hx("60000000 0010 2c 40", v6Src, v6Dst, "11 00 05c8 0000abcd", "1f90 0035 0010 0000"),
			want: Packet{
				Family: 6, Proto: 17, Flags: FlagFragment | FlagLaterFrag, PktType: PktUnknown,
				IPLen: 56, Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{
			name: "ipv6 atomic fragment (offset 0, no M) is not a fragment",
			link: LinkIPv6,
			data: hx("60000000 0018 2c 40", v6Src, v6Dst, "11 00 0000 0000abcd", udp8080to53),
			want: Packet{
				Family: 6, Proto: 17, Flags: FlagPorts, PktType: PktUnknown,
				SrcPort: 8080, DstPort: 53, L4Off: 48, IPLen: 64,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{
			name: "ipv6 esp ends the walk",
			link: LinkIPv6,
			data: hx("60000000 0010 00 40", v6Src, v6Dst, "32 00 0104 00000000", "00001000 00000001"),
			want: Packet{
				Family: 6, Proto: 50, PktType: PktUnknown, L4Off: 48, IPLen: 56,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{
			name: "ipv6 mobility header stays the protocol",
			link: LinkIPv6,
			data: hx("60000000 0010 3c 40", v6Src, v6Dst, "87 00 0104 00000000", "3b 00 05 00 0000 0000"),
			want: Packet{
				Family: 6, Proto: 135, PktType: PktUnknown, L4Off: 48, IPLen: 56,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{
			name: "ipv6 no next header with payload 0 counts 40",
			link: LinkIPv6,
			meta: Meta{WireLen: 1000},
			data: hx("60000000 0000 3b 40", v6Src, v6Dst),
			want: Packet{
				Family: 6, Proto: 59, PktType: PktUnknown, L4Off: 40, IPLen: 40,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{
			name: "ipv6 walk stops after eight extension headers",
			link: LinkIPv6,
			data: hx("60000000 0050 3c 40", v6Src, v6Dst, strings.Repeat("3c 00 0104 00000000 ", 9), udp8080to53),
			want: Packet{
				Family: 6, Proto: 60, PktType: PktUnknown, IPLen: 120,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{
			name: "ipv6 eight extension headers then udp",
			link: LinkIPv6,
			data: hx("60000000 0050 3c 40", v6Src, v6Dst, strings.Repeat("3c 00 0104 00000000 ", 7), "11 00 0104 00000000", udp8080to53),
			want: Packet{
				Family: 6, Proto: 17, Flags: FlagPorts, PktType: PktUnknown,
				SrcPort: 8080, DstPort: 53, L4Off: 40 + 64, IPLen: 120,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{
			name: "ipv6 jumbogram: length from the wire",
			link: LinkEthernet,
			meta: Meta{WireLen: 70000},
			data: hx(ethHdr, "86dd", "60000000 0000 00 40", v6Src, v6Dst, "06 00 c204 00011156", tcp50000to80),
			want: Packet{
				Family: 6, Proto: 6, Flags: FlagMAC | FlagPorts | FlagLenFromWire, PktType: PktUnknown,
				SrcPort: 50000, DstPort: 80, L3Off: 14, L4Off: 62, IPLen: 70000 - 14,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"), SrcMAC: mac1, DstMAC: mac2,
			},
		},
		{
			name: "ipv6 BIG TCP without hbh, no wire length: captured length",
			link: LinkEthernet,
			data: hx(ethHdr, "86dd", "60000000 0000 06 40", v6Src, v6Dst, tcp50000to80),
			want: Packet{
				Family: 6, Proto: 6, Flags: FlagMAC | FlagPorts | FlagLenFromWire, PktType: PktUnknown,
				SrcPort: 50000, DstPort: 80, L3Off: 14, L4Off: 54, IPLen: 60,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"), SrcMAC: mac1, DstMAC: mac2,
			},
		},
		{
			name: "ipv4 tot_len 0 (GSO / BIG TCP): wire less link and in-band tag",
			link: LinkEthernet,
			meta: Meta{WireLen: 100000},
			data: hx(ethHdr, "8100 0064 0800", "45 00 0000 1234 4000 40 06 0000 c0000201 c0000202", tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.Flags |= FlagLenFromWire
				p.NVLAN, p.VLAN = 1, [3]uint16{100}
				p.L3Off, p.L4Off, p.IPLen = 18, 38, 100000-18
			}),
		},
		{
			name: "ipv4 tot_len 0 with out-of-band tag: nothing taken off for it",
			link: LinkEthernet,
			meta: Meta{WireLen: 65000, VLANOK: true, VLANTCI: 100},
			data: hx(ethHdr, "0800", "45 00 0000 1234 4000 40 06 0000 c0000201 c0000202", tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.Flags |= FlagLenFromWire
				p.NVLAN, p.VLAN = 1, [3]uint16{100}
				p.IPLen = 65000 - 14
			}),
		},
		{
			name: "sll v1 outgoing ipv4/tcp",
			link: LinkLinuxSLL,
			data: hx("0004 0001 0006 020000000001 0000 0800", ip4TCP, tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.PktType = PktOutgoing
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 16, 36
			}),
		},
		{
			name: "sll v1 host ipv6/udp with an in-band tag",
			link: LinkLinuxSLL,
			meta: Meta{PktType: PktOutgoing}, // the header wins
			data: hx("0000 0001 0006 020000000002 0000 8100 0064 86dd", ip6UDP, udp8080to53),
			want: with(udp6, func(p *Packet) {
				p.PktType = PktHost
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.NVLAN, p.VLAN = 1, [3]uint16{100}
				p.L3Off, p.L4Off = 20, 60
			}),
		},
		{
			name: "sll v1 arp",
			link: LinkLinuxSLL,
			data: hx("0001 0001 0006 020000000002 0000 0806", "0001 0800 06 04 0001"),
			err:  ErrNotIP,
			want: Packet{PktType: PktBroadcast},
		},
		{
			name: "sll v2 outgoing ipv4/tcp",
			link: LinkLinuxSLL2,
			data: hx("0800 0000 00000002 0001 04 06 020000000001 0000", ip4TCP, tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.PktType = PktOutgoing
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 20, 40
			}),
		},
		{
			name: "sll v2 host ipv6/udp",
			link: LinkLinuxSLL2,
			data: hx("86dd 0000 00000002 0001 00 06 020000000002 0000", ip6UDP, udp8080to53),
			want: with(udp6, func(p *Packet) {
				p.PktType = PktHost
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 20, 60
			}),
		},
		{
			name: "raw ipv4",
			link: LinkRaw,
			data: hx(ip4TCP, tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 0, 20
			}),
		},
		{
			name: "raw ipv6",
			link: LinkRaw,
			data: hx(ip6UDP, udp8080to53),
			want: with(udp6, func(p *Packet) {
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 0, 40
			}),
		},
		{
			name: "raw version 5",
			link: LinkRaw,
			data: hx("55 00 0028 1234 4000 40 06 0000 c0000201 c0000202"),
			err:  ErrMalformed,
			want: Packet{PktType: PktUnknown},
		},
		{
			name: "ipv6 link type",
			link: LinkIPv6,
			data: hx(ip6UDP, udp8080to53),
			want: with(udp6, func(p *Packet) {
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 0, 40
			}),
		},
		{
			name: "null little-endian AF_INET",
			link: LinkNull,
			data: hx("02000000", ip4TCP, tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 4, 24
			}),
		},
		{
			name: "null big-endian AF_INET",
			link: LinkNull,
			data: hx("00000002", ip4TCP, tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 4, 24
			}),
		},
		{
			name: "null little-endian AF_INET6 darwin",
			link: LinkNull,
			data: hx("1e000000", ip6UDP, udp8080to53),
			want: with(udp6, func(p *Packet) {
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 4, 44
			}),
		},
		{
			name: "null big-endian AF_INET6 bsd",
			link: LinkNull,
			data: hx("00000018", ip6UDP, udp8080to53),
			want: with(udp6, func(p *Packet) {
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 4, 44
			}),
		},
		{
			name: "null AF_INET6 linux and freebsd",
			link: LinkNull,
			data: hx("0a000000", ip6UDP, udp8080to53),
			want: with(udp6, func(p *Packet) {
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 4, 44
			}),
		},
		{
			name: "loop network order AF_INET6 freebsd",
			link: LinkLoop,
			data: hx("0000001c", ip6UDP, udp8080to53),
			want: with(udp6, func(p *Packet) {
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 4, 44
			}),
		},
		{
			name: "loop network order AF_INET",
			link: LinkLoop,
			data: hx("00000002", ip4TCP, tcp50000to80),
			want: with(tcp4, func(p *Packet) {
				p.Flags = FlagPorts
				p.SrcMAC, p.DstMAC = [6]byte{}, [6]byte{}
				p.L3Off, p.L4Off = 4, 24
			}),
		},
		{
			name: "null other family",
			link: LinkNull,
			data: hx("07000000", ip4TCP),
			err:  ErrNotIP,
			want: Packet{PktType: PktUnknown},
		},

		// Not IP.
		{
			name: "arp",
			link: LinkEthernet,
			data: hx("ffffffffffff 020000000001 0806", "0001 0800 06 04 0001 020000000001 c0000201 000000000000 c0000202"),
			err:  ErrNotIP,
			want: Packet{PktType: PktUnknown, Flags: FlagMAC, SrcMAC: mac1, DstMAC: [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		},
		{
			name: "qinq arp keeps the tags",
			link: LinkEthernet,
			data: hx(ethHdr, "88a8 00c8 8100 0014 0806", "0001 0800 06 04 0001"),
			err:  ErrNotIP,
			want: with(linkOnly, func(p *Packet) { p.NVLAN, p.VLAN = 2, [3]uint16{200, 20} }),
		},
		{
			name: "802.3 length field with LLC (STP)",
			link: LinkEthernet,
			data: hx("0180c2000000 020000000001 0026", "42 42 03 0000 00 00"),
			err:  ErrNotIP,
			want: Packet{PktType: PktUnknown, Flags: FlagMAC, SrcMAC: mac1, DstMAC: [6]byte{0x01, 0x80, 0xc2, 0, 0, 0}},
		},
		{
			name: "lldp",
			link: LinkEthernet,
			data: hx(ethHdr, "88cc", "0207 04 020000000001"),
			err:  ErrNotIP,
			want: linkOnly,
		},
		{
			name: "unsupported link type",
			link: 147,
			data: hx(ip4TCP, tcp50000to80),
			err:  ErrLinkType,
			want: Packet{PktType: PktUnknown},
		},

		// Truncated and malformed, layer by layer.
		{name: "eth empty", link: LinkEthernet, data: nil, err: ErrTruncated, want: Packet{PktType: PktUnknown}},
		{name: "eth 13 bytes", link: LinkEthernet, data: hx(ethHdr, "08"), err: ErrTruncated, want: Packet{PktType: PktUnknown}},
		{name: "eth only", link: LinkEthernet, data: hx(ethHdr, "0800"), err: ErrTruncated, want: linkOnly},
		{
			name: "vlan tag cut",
			link: LinkEthernet,
			data: hx(ethHdr, "8100 0064 08"),
			err:  ErrTruncated,
			want: linkOnly,
		},
		{
			name: "ipv4 19 bytes",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "45 00 0028 1234 4000 40 06 0000 c0000201 c00002"),
			err:  ErrTruncated,
			want: linkOnly,
		},
		{
			name: "ipv4 options cut",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "46 00 0028 1234 4000 40 06 0000 c0000201 c0000202 0101"),
			err:  ErrTruncated,
			want: linkOnly,
		},
		{
			name: "ipv4 ihl 4",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "44 00 0028 1234 4000 40 06 0000 c0000201 c0000202", tcp50000to80),
			err:  ErrMalformed,
			want: linkOnly,
		},
		{
			name: "ipv4 version 6 under 0x0800",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "65 00 0028 1234 4000 40 06 0000 c0000201 c0000202", tcp50000to80),
			err:  ErrMalformed,
			want: linkOnly,
		},
		{
			name: "ipv4 total length below the header",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", "45 00 0010 1234 4000 40 06 0000 c0000201 c0000202", tcp50000to80),
			err:  ErrMalformed,
			want: linkOnly,
		},
		{
			name: "ipv4 ihl beyond total length",
			link: LinkIPv4,
			data: hx("4f 00 0028 1234 4000 40 06 0000 c0000201 c0000202", strings.Repeat("00", 40)),
			err:  ErrMalformed,
			want: Packet{PktType: PktUnknown},
		},
		{
			name: "tcp ports cut: counted, truncated",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", ip4TCP, "c350 00"),
			want: with(tcp4, func(p *Packet) {
				p.Flags = FlagMAC | FlagTruncated
				p.SrcPort, p.DstPort = 0, 0
			}),
		},
		{
			name: "tcp header absent: counted, truncated",
			link: LinkEthernet,
			data: hx(ethHdr, "0800", ip4TCP),
			want: with(tcp4, func(p *Packet) {
				p.Flags = FlagMAC | FlagTruncated
				p.SrcPort, p.DstPort = 0, 0
			}),
		},
		{
			name: "icmp code cut: counted, truncated",
			link: LinkIPv4,
			data: hx("45 00 001c 0003 0000 40 01 0000 c0000201 c0000202", "08"),
			want: Packet{
				Family: 4, Proto: 1, Flags: FlagTruncated, PktType: PktUnknown,
				L4Off: 20, IPLen: 28, Src: ip("192.0.2.1"), Dst: ip("192.0.2.2"),
			},
		},
		{
			name: "ipv6 39 bytes",
			link: LinkEthernet,
			data: hx(ethHdr, "86dd", "60000000 0010 11 40", v6Src, "20010db80000000000000000000000"),
			err:  ErrTruncated,
			want: linkOnly,
		},
		{
			name: "ipv6 version 4 under 0x86dd",
			link: LinkEthernet,
			data: hx(ethHdr, "86dd", "40000000 0010 11 40", v6Src, v6Dst, udp8080to53),
			err:  ErrMalformed,
			want: linkOnly,
		},
		{
			name: "ipv6 extension header cut: counted, truncated",
			link: LinkIPv6,
			data: hx("60000000 0020 00 40", v6Src, v6Dst, "11 00 0104"),
			want: Packet{
				Family: 6, Proto: 0, Flags: FlagTruncated, PktType: PktUnknown, IPLen: 72,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{
			name: "ipv6 extension header body cut: counted, truncated",
			link: LinkIPv6,
			data: hx("60000000 0020 2b 40", v6Src, v6Dst, "11 02 0000 00000000 00000000"),
			want: Packet{
				Family: 6, Proto: 17, Flags: FlagTruncated, PktType: PktUnknown, IPLen: 72,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{
			name: "ipv6 udp ports cut: counted, truncated",
			link: LinkIPv6,
			data: hx(ip6UDP, "1f"),
			want: Packet{
				Family: 6, Proto: 17, Flags: FlagTruncated, PktType: PktUnknown, L4Off: 40, IPLen: 56,
				Src: ip("2001:db8::1"), Dst: ip("2001:db8::2"),
			},
		},
		{name: "sll v1 15 bytes", link: LinkLinuxSLL, data: hx("0004 0001 0006 020000000001 0000 08"), err: ErrTruncated, want: Packet{PktType: PktUnknown}},
		{name: "sll v2 19 bytes", link: LinkLinuxSLL2, data: hx("0800 0000 00000002 0001 04 06 02000000000100"), err: ErrTruncated, want: Packet{PktType: PktUnknown}},
		{name: "null 3 bytes", link: LinkNull, data: hx("020000"), err: ErrTruncated, want: Packet{PktType: PktUnknown}},
		{name: "raw empty", link: LinkRaw, data: []byte{}, err: ErrTruncated, want: Packet{PktType: PktUnknown}},
		{name: "ipv4 link empty", link: LinkIPv4, data: nil, err: ErrTruncated, want: Packet{PktType: PktUnknown}},
		{name: "ipv6 link 20 bytes", link: LinkIPv6, data: hx(ip4TCP), err: ErrTruncated, want: Packet{PktType: PktUnknown}},
	}
}

// metaFor gives a case's Meta: its link type, and PktUnknown where the case
// leaves PktType at 0 (no case needs PktHost from the source).
func metaFor(c *frameCase) Meta {
	m := c.meta
	m.Link = c.link
	if m.PktType == 0 {
		m.PktType = PktUnknown
	}
	return m
}

func TestFrame(t *testing.T) {
	for _, c := range frameCases() {
		t.Run(c.name, func(t *testing.T) {
			m := metaFor(&c)
			// Start from garbage so a field Frame forgets to reset shows up.
			p := Packet{Family: 9, Proto: 9, Flags: 0xffff, NVLAN: 9, SrcPort: 9, IPLen: 9, L4Off: 9, ICMPType: 9}
			p.Src[15], p.SrcMAC[5], p.VLAN[2] = 9, 9, 9
			err := Frame(c.data, &m, &p)
			if !errors.Is(err, c.err) || (err == nil) != (c.err == nil) {
				t.Fatalf("Frame() error = %v, want %v", err, c.err)
			}
			if p != c.want {
				t.Errorf("Frame() packet\n got %+v\nwant %+v", p, c.want)
			}
			if err == nil {
				checkInvariants(t, c.data, &m, &p)
			}
		})
	}
}

// checkInvariants states what must hold for every packet Frame accepts.
func checkInvariants(t *testing.T, data []byte, m *Meta, p *Packet) {
	t.Helper()
	if int(p.L3Off) > len(data) || int(p.L4Off) > len(data) {
		t.Fatalf("offsets L3 %d L4 %d beyond the frame (%d bytes)", p.L3Off, p.L4Off, len(data))
	}
	switch p.Family {
	case 4:
		if int(p.L3Off)+20 > len(data) || data[p.L3Off]>>4 != 4 {
			t.Fatalf("family 4 but no IPv4 header at %d", p.L3Off)
		}
		if p.L4Off != 0 && int(p.L4Off) < int(p.L3Off)+20 {
			t.Fatalf("L4 offset %d inside the IPv4 header at %d", p.L4Off, p.L3Off)
		}
		if [12]byte(p.Src[4:]) != [12]byte{} || [12]byte(p.Dst[4:]) != [12]byte{} {
			t.Fatalf("IPv4 address with bytes beyond the fourth: %x %x", p.Src, p.Dst)
		}
	case 6:
		if int(p.L3Off)+40 > len(data) || data[p.L3Off]>>4 != 6 {
			t.Fatalf("family 6 but no IPv6 header at %d", p.L3Off)
		}
		if p.L4Off != 0 && int(p.L4Off) < int(p.L3Off)+40 {
			t.Fatalf("L4 offset %d inside the IPv6 header at %d", p.L4Off, p.L3Off)
		}
	default:
		t.Fatalf("nil error with family %d", p.Family)
	}
	if p.Flags&FlagPorts != 0 {
		if p.Flags&(FlagLaterFrag|FlagTruncated) != 0 || p.L4Off == 0 || int(p.L4Off)+4 > len(data) {
			t.Fatalf("ports with flags %#x at L4 offset %d of %d bytes", p.Flags, p.L4Off, len(data))
		}
		if got := [4]byte(data[p.L4Off : p.L4Off+4]); got != [4]byte{byte(p.SrcPort >> 8), byte(p.SrcPort), byte(p.DstPort >> 8), byte(p.DstPort)} {
			t.Fatalf("ports %d→%d are not the bytes at L4 offset: %x", p.SrcPort, p.DstPort, got)
		}
	}
	if p.Flags&FlagLenFromWire == 0 {
		// Nothing Frame reads lies beyond the IP length.
		if p.Flags&FlagPorts != 0 && int(p.L4Off)+4 > int(p.L3Off)+int(p.IPLen) {
			t.Fatalf("ports at %d beyond the IP packet (%d bytes at %d)", p.L4Off, p.IPLen, p.L3Off)
		}
		if int(p.L4Off) > int(p.L3Off)+int(p.IPLen) {
			t.Fatalf("L4 offset %d beyond the IP packet (%d bytes at %d)", p.L4Off, p.IPLen, p.L3Off)
		}
	}
	if p.Flags&FlagLaterFrag != 0 && p.Flags&FlagFragment == 0 {
		t.Fatalf("a later fragment that is not a fragment: flags %#x", p.Flags)
	}
	if p.NVLAN > MaxVLANs {
		t.Fatalf("NVLAN %d above %d", p.NVLAN, MaxVLANs)
	}
	if p.Flags&FlagLenFromWire != 0 {
		w := int(m.WireLen)
		if w < len(data) {
			w = len(data)
		}
		if int(p.IPLen) != w-int(p.L3Off) {
			t.Fatalf("IPLen %d from the wire, want %d - %d", p.IPLen, w, p.L3Off)
		}
	}
}

func TestFrameErrorsAreSentinels(t *testing.T) {
	for _, c := range frameCases() {
		if c.err == nil {
			continue
		}
		m := metaFor(&c)
		var p Packet
		err := Frame(c.data, &m, &p)
		switch err {
		case ErrNotIP, ErrTruncated, ErrMalformed, ErrLinkType:
		default:
			t.Errorf("%s: error %v is not one of the package's sentinels", c.name, err)
		}
		if p.Family != 0 || p.IPLen != 0 || p.Flags&^FlagMAC != 0 {
			t.Errorf("%s: error %v left network fields set: %+v", c.name, err, p)
		}
	}
}

func TestFrameNoAllocs(t *testing.T) {
	for _, c := range frameCases() {
		m := metaFor(&c)
		var p Packet
		allocs := testing.AllocsPerRun(100, func() { _ = Frame(c.data, &m, &p) })
		if allocs != 0 {
			t.Errorf("%s: %v allocations per frame, want 0", c.name, allocs)
		}
		allocs = testing.AllocsPerRun(100, func() { _ = p.FlowHash() })
		if allocs != 0 {
			t.Errorf("%s: FlowHash: %v allocations, want 0", c.name, allocs)
		}
	}
}

// TestFrameTruncatedEverywhere cuts well-formed frames at every length:
// a cut inside the link or IP header is ErrTruncated, a cut after it still
// counts the packet with the same addresses and length.
func TestFrameTruncatedEverywhere(t *testing.T) {
	for _, c := range frameCases() {
		if c.err != nil {
			continue
		}
		m := metaFor(&c)
		m.WireLen = 0
		var full Packet
		if err := Frame(c.data, &m, &full); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ipHdr := 20
		if full.Family == 6 {
			ipHdr = 40
		} else {
			ipHdr = int(c.data[full.L3Off]&0x0f) * 4
		}
		for n := range len(c.data) {
			var p Packet
			err := Frame(c.data[:n], &m, &p)
			if n < int(full.L3Off)+ipHdr {
				if err != ErrTruncated {
					t.Errorf("%s cut at %d: error %v, want ErrTruncated", c.name, n, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s cut at %d (IP header whole): error %v", c.name, n, err)
				continue
			}
			checkInvariants(t, c.data[:n], &m, &p)
			if p.Src != full.Src || p.Dst != full.Dst || p.Family != full.Family || p.L3Off != full.L3Off {
				t.Errorf("%s cut at %d: addresses changed: %+v", c.name, n, p)
			}
			if full.Flags&FlagLenFromWire == 0 && p.IPLen != full.IPLen {
				t.Errorf("%s cut at %d: IPLen %d, want %d", c.name, n, p.IPLen, full.IPLen)
			}
			if p.Flags&FlagPorts != 0 && (p.SrcPort != full.SrcPort || p.DstPort != full.DstPort) {
				t.Errorf("%s cut at %d: ports %d→%d, want %d→%d", c.name, n, p.SrcPort, p.DstPort, full.SrcPort, full.DstPort)
			}
			if full.Flags&FlagPorts != 0 && p.Flags&FlagPorts == 0 && p.Flags&FlagTruncated == 0 {
				t.Errorf("%s cut at %d: ports lost without FlagTruncated (flags %#x)", c.name, n, p.Flags)
			}
		}
	}
}

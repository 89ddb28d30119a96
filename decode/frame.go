package decode

import (
	"encoding/binary"
	"math/bits"
)

// EtherTypes Frame looks at.
const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86dd
	etherDot1Q  = 0x8100 // 802.1Q C-tag
	etherDot1AD = 0x88a8 // 802.1ad S-tag
	etherQinQ   = 0x9100 // pre-802.1ad S-tag, still sent by older switches
)

// IP protocol numbers Frame looks at.
const (
	protoICMP     = 1
	protoTCP      = 6
	protoUDP      = 17
	protoHopByHop = 0
	protoRouting  = 43
	protoFragment = 44
	protoESP      = 50
	protoAH       = 51
	protoICMPv6   = 58
	protoNoNext   = 59
	protoDstOpts  = 60
	protoSCTP     = 132
	protoUDPLite  = 136
)

// Address families in NULL and LOOP headers. AF_INET is 2 everywhere;
// AF_INET6 differs between systems, so every known value is accepted.
const (
	afInet         = 2
	afInet6Linux   = 10
	afInet6BSD     = 24 // NetBSD, OpenBSD, BSD/OS
	afInet6FreeBSD = 28 // FreeBSD, DragonFly
	afInet6Darwin  = 30 // macOS, iOS
)

// Bounds that keep Frame's work per frame constant whatever the bytes say.
const (
	// MaxInBandVLANs is how many in-band VLAN tags Frame skips before it
	// calls a frame malformed. Real networks stack at most two or three;
	// the first ones that fit in Packet.VLAN are recorded.
	MaxInBandVLANs = 8
	// MaxIPv6ExtHeaders is how many IPv6 extension headers Frame walks. A
	// chain longer than that stops the walk: Proto is the next header not
	// walked and no transport header is read.
	MaxIPv6ExtHeaders = 8
)

// Frame decodes one frame into p, overwriting every field of p.
//
// m says how to read data: m.Link picks the link header; an out-of-band
// VLAN tag (m.VLANOK) becomes p.VLAN[0]; m.PktType is copied unless an SLL
// header says otherwise; m.WireLen is used only when the IP header gives a
// length of 0. m must not be nil.
//
// It returns nil when p holds an IP packet worth counting (possibly with
// FlagTruncated set when only the transport header, or an IPv6 extension
// header, was cut), ErrNotIP for other protocols, and ErrTruncated,
// ErrMalformed or ErrLinkType when the frame cannot be counted. On an error
// p.Family is 0 and only the link-layer fields read before the failure
// (PktType, VLAN, NVLAN, MACs with FlagMAC) are set; everything else is zero.
// It never allocates and never panics.
func Frame(data []byte, m *Meta, p *Packet) error {
	*p = Packet{PktType: m.PktType}
	if m.VLANOK {
		// The kernel took the outer tag out of the bytes; it comes first.
		p.VLAN[0] = m.VLANTCI & 0x0fff
		p.NVLAN = 1
	}
	// One function down to the transport header for IPv4 (IPv6 is a call):
	// the link switch leaves the network header's offset and EtherType.
	var (
		off int
		et  uint16
	)
	switch m.Link {
	case LinkEthernet:
		if len(data) < 14 {
			return ErrTruncated
		}
		p.DstMAC = [6]byte(data[0:6])
		p.SrcMAC = [6]byte(data[6:12])
		p.Flags = FlagMAC
		off, et = 14, binary.BigEndian.Uint16(data[12:14])
	case LinkLinuxSLL:
		// pkttype(2) hatype(2) halen(2) addr(8) protocol(2)
		if len(data) < 16 {
			return ErrTruncated
		}
		p.PktType = PktType(data[1]) // a 16-bit field whose values fit in the low byte
		off, et = 16, binary.BigEndian.Uint16(data[14:16])
	case LinkLinuxSLL2:
		// protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8)
		if len(data) < 20 {
			return ErrTruncated
		}
		p.PktType = PktType(data[10])
		off, et = 20, binary.BigEndian.Uint16(data[0:2])
	case LinkRaw:
		if len(data) == 0 {
			return ErrTruncated
		}
		switch data[0] >> 4 {
		case 4:
			et = etherIPv4
		case 6:
			et = etherIPv6
		default:
			return ErrMalformed
		}
	case LinkIPv4:
		et = etherIPv4
	case LinkIPv6:
		et = etherIPv6
	case LinkNull, LinkLoop:
		// NULL is in the writer's byte order and LOOP in network order; no
		// family value is above 0xffff, so the order that gives a small
		// number is the right one, whatever the link type claims.
		if len(data) < 4 {
			return ErrTruncated
		}
		af := binary.LittleEndian.Uint32(data[0:4])
		if af > 0xffff {
			af = bits.ReverseBytes32(af)
		}
		switch af {
		case afInet:
			et = etherIPv4
		case afInet6Linux, afInet6BSD, afInet6FreeBSD, afInet6Darwin:
			et = etherIPv6
		default:
			return ErrNotIP
		}
		off = 4
	default:
		return ErrLinkType
	}

	switch et {
	case etherIPv4:
	case etherIPv6:
		return ipv6(data, off, m, p)
	case etherDot1Q, etherDot1AD, etherQinQ:
		// Any of the three TPIDs is accepted at any depth, as libpcap's
		// "vlan" does: switches disagree about which goes where.
		for n := 0; ; n++ {
			if n == MaxInBandVLANs {
				return ErrMalformed
			}
			if len(data)-off < 4 {
				return ErrTruncated
			}
			t := data[off : off+4]
			if p.NVLAN < MaxVLANs {
				p.VLAN[p.NVLAN] = binary.BigEndian.Uint16(t[0:2]) & 0x0fff
				p.NVLAN++
			}
			off += 4
			et = binary.BigEndian.Uint16(t[2:4])
			if et != etherDot1Q && et != etherDot1AD && et != etherQinQ {
				break
			}
		}
		switch et {
		case etherIPv4:
		case etherIPv6:
			return ipv6(data, off, m, p)
		default:
			return ErrNotIP
		}
	default:
		return ErrNotIP // ARP, LLDP, MPLS …, and 802.3 length fields (< 0x600) with LLC
	}

	// IPv4 at data[off:], off ≤ len(data).
	b := data[off:]
	if len(b) < 20 {
		return ErrTruncated
	}
	if b[0]>>4 != 4 {
		return ErrMalformed
	}
	hl := int(b[0]&0x0f) << 2
	tot := int(binary.BigEndian.Uint16(b[2:4]))
	if hl < 20 || (tot != 0 && tot < hl) {
		return ErrMalformed
	}
	if len(b) < hl {
		return ErrTruncated // options cut
	}
	p.Family = 4
	p.Proto = b[9]
	p.L3Off = uint16(off)
	*(*[4]byte)(p.Src[:4]) = [4]byte(b[12:16])
	*(*[4]byte)(p.Dst[:4]) = [4]byte(b[16:20])
	if tot != 0 {
		p.IPLen = uint32(tot)
		if end := off + tot; end < len(data) {
			data = data[:end] // Ethernet padding is not a transport header
		}
	} else {
		// TSO/GSO super-packets and IPv4 BIG TCP leave tot_len 0.
		p.IPLen = wireLen(data, off, m)
		p.Flags |= FlagLenFromWire
	}
	if frag := binary.BigEndian.Uint16(b[6:8]); frag&0x3fff != 0 { // MF or an offset
		p.Flags |= FlagFragment
		if frag&0x1fff != 0 {
			p.Flags |= FlagLaterFrag // only the first fragment has the ports
			return nil
		}
	}
	return transport(data, off+hl, p)
}

// ipv6 decodes the IPv6 header at data[off:] (off ≤ len(data)) and walks
// its extension headers.
func ipv6(data []byte, off int, m *Meta, p *Packet) error {
	b := data[off:]
	if len(b) < 40 {
		return ErrTruncated
	}
	if b[0]>>4 != 6 {
		return ErrMalformed
	}
	p.Family = 6
	p.L3Off = uint16(off)
	p.Src = [16]byte(b[8:24])
	p.Dst = [16]byte(b[24:40])
	nh := b[6]
	if plen := binary.BigEndian.Uint16(b[4:6]); plen != 0 || nh == protoNoNext {
		p.IPLen = uint32(plen) + 40
		if end := off + 40 + int(plen); end < len(data) {
			data = data[:end] // Ethernet padding is no extension or transport header
		}
	} else {
		// Jumbograms and BIG TCP say 0; the real length is only on the wire.
		p.IPLen = wireLen(data, off, m)
		p.Flags |= FlagLenFromWire
	}
	l4 := off + 40
	for range MaxIPv6ExtHeaders {
		switch nh {
		case protoHopByHop, protoRouting, protoDstOpts, protoAH, protoFragment:
		default:
			p.Proto = nh // ESP and No Next Header end the walk here too
			return transport(data, l4, p)
		}
		// Every extension header is at least 8 bytes long.
		if len(data)-l4 < 8 {
			p.Proto = nh
			p.Flags |= FlagTruncated
			return nil
		}
		e := data[l4 : l4+8]
		switch nh {
		case protoFragment:
			if fo := binary.BigEndian.Uint16(e[2:4]); fo&0xfff9 != 0 { // an offset or M
				p.Flags |= FlagFragment
				if fo>>3 != 0 {
					p.Proto = e[0]
					p.Flags |= FlagLaterFrag
					return nil
				}
			}
			l4 += 8
		case protoAH:
			l4 += (int(e[1]) + 2) << 2
		default:
			l4 += (int(e[1]) + 1) << 3
		}
		nh = e[0]
		if l4 > len(data) {
			p.Proto = nh
			p.Flags |= FlagTruncated
			return nil
		}
	}
	p.Proto = nh // the chain was longer than the walk
	switch nh {
	case protoHopByHop, protoRouting, protoDstOpts, protoAH, protoFragment:
		return nil
	}
	return transport(data, l4, p)
}

// transport reads ports or ICMP type and code at data[off:] (off ≤
// len(data)) for p.Proto.
func transport(data []byte, off int, p *Packet) error {
	p.L4Off = uint16(off)
	b := data[off:]
	switch p.Proto {
	case protoTCP, protoUDP, protoSCTP, protoUDPLite:
		if len(b) < 4 {
			p.Flags |= FlagTruncated
			return nil
		}
		p.SrcPort = binary.BigEndian.Uint16(b[0:2])
		p.DstPort = binary.BigEndian.Uint16(b[2:4])
		p.Flags |= FlagPorts
	case protoICMP, protoICMPv6:
		if len(b) < 2 {
			p.Flags |= FlagTruncated
			return nil
		}
		p.ICMPType = b[0]
		p.ICMPCode = b[1]
	}
	return nil
}

// wireLen is the IP length taken from the wire: the wire length less the
// link-layer bytes before off. Out-of-band VLAN tags are not in data and
// not in m.WireLen either, so nothing is taken off for them.
func wireLen(data []byte, off int, m *Meta) uint32 {
	w := m.WireLen
	if w < uint32(len(data)) { // 0 (unknown) or inconsistent
		w = uint32(len(data))
	}
	return w - uint32(off)
}

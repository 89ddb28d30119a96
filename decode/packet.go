package decode

import (
	"errors"
	"net/netip"
)

// LinkType is a pcap LINKTYPE_ value: the kind of header that starts a frame.
type LinkType uint16

// The link types fastop decodes.
const (
	LinkNull      LinkType = 0   // BSD loopback: 4-byte address family in host order
	LinkEthernet  LinkType = 1   // IEEE 802.3 Ethernet
	LinkRaw       LinkType = 101 // raw IP; the version nibble says v4 or v6
	LinkLoop      LinkType = 108 // OpenBSD loopback: 4-byte address family, network order
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1 (16-byte header)
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2 (20-byte header)
)

// Supported reports whether fastop can decode frames of this link type.
func (l LinkType) Supported() bool {
	switch l {
	case LinkNull, LinkEthernet, LinkRaw, LinkLoop, LinkLinuxSLL, LinkIPv4, LinkIPv6, LinkLinuxSLL2:
		return true
	}
	return false
}

// PktType is the Linux packet type (sll_pkttype): who the frame was for.
type PktType uint8

// Values of PktType. They match PACKET_HOST … PACKET_OUTGOING in
// linux/if_packet.h; PktUnknown marks a frame whose source did not say
// (plain pcap files of Ethernet, raw IP, NULL).
const (
	PktHost      PktType = 0 // to us
	PktBroadcast PktType = 1 // link-layer broadcast
	PktMulticast PktType = 2 // link-layer multicast
	PktOtherHost PktType = 3 // to someone else (seen in promiscuous mode)
	PktOutgoing  PktType = 4 // sent by us
	PktUnknown   PktType = 0xff
)

// Meta is what the capture source knows about a frame beyond its bytes.
type Meta struct {
	Link     LinkType
	PktType  PktType // PktUnknown unless the ring or an SLL header says
	VLANOK   bool    // an out-of-band VLAN tag (the kernel stripped it from the bytes)
	VLANTPID uint16  // its TPID (0x8100 or 0x88a8); 0 means 0x8100
	VLANTCI  uint16  // its TCI (priority, DEI, VLAN id)
	WireLen  uint32  // the frame's length on the wire; ≥ len(data)
	Ifindex  int32   // interface index where known, else 0
}

// Flags describe what Frame found beyond the fields.
type Flags uint16

// Bits of Flags.
const (
	FlagFragment    Flags = 1 << iota // an IP fragment (first or not)
	FlagLaterFrag                     // a non-first fragment: no transport header, no ports
	FlagPorts                         // SrcPort and DstPort are valid
	FlagMAC                           // SrcMAC and DstMAC are valid (Ethernet)
	FlagTruncated                     // the capture ended inside a header Frame wanted
	FlagLenFromWire                   // the IP header said 0; IPLen came from the wire length
)

// MaxVLANs is the number of VLAN tags Packet records: one out of band plus
// two in band.
const MaxVLANs = 3

// Packet is a decoded frame. Addresses are fixed-size arrays so a Packet holds
// no pointers and never aliases the frame.
type Packet struct {
	Family   uint8            // 4 or 6; 0 when the frame is not IP
	Proto    uint8            // IP protocol after IPv6 extension headers (6 TCP, 17 UDP, …)
	Flags    Flags            // see the Flag constants
	PktType  PktType          // copied from Meta, or read from an SLL header
	NVLAN    uint8            // how many entries of VLAN are valid, outermost first
	VLAN     [MaxVLANs]uint16 // VLAN ids (12 bits), outermost first
	SrcPort  uint16           // TCP/UDP/SCTP source port when FlagPorts is set
	DstPort  uint16           // TCP/UDP/SCTP destination port when FlagPorts is set
	ICMPType uint8            // ICMP / ICMPv6 type when Proto is 1 or 58
	ICMPCode uint8            // ICMP / ICMPv6 code
	L3Off    uint16           // offset of the IP header in the frame
	L4Off    uint16           // offset of the transport header; 0 when none was reached
	IPLen    uint32           // bytes counted: the IP length (see the package doc)
	Src      [16]byte         // IP source; IPv4 in the first 4 bytes, the rest zero
	Dst      [16]byte         // IP destination; IPv4 in the first 4 bytes, the rest zero
	SrcMAC   [6]byte          // Ethernet source when FlagMAC is set
	DstMAC   [6]byte          // Ethernet destination when FlagMAC is set
}

// SrcAddr returns the source address as a netip.Addr (for display, not the hot path).
func (p *Packet) SrcAddr() netip.Addr { return addr(p.Family, &p.Src) }

// DstAddr returns the destination address as a netip.Addr.
func (p *Packet) DstAddr() netip.Addr { return addr(p.Family, &p.Dst) }

func addr(family uint8, a *[16]byte) netip.Addr {
	switch family {
	case 4:
		return netip.AddrFrom4([4]byte(a[:4]))
	case 6:
		return netip.AddrFrom16(*a)
	}
	return netip.Addr{}
}

// Errors returned by Frame. They are package-level values so that the hot
// path never allocates; callers count them with errors.Is or ==.
var (
	// ErrNotIP: a well-formed frame that carries something other than IPv4
	// or IPv6 (ARP, LLDP, STP …). iftop ignores these; so does fastop.
	ErrNotIP = errors.New("decode: not an IP packet")
	// ErrTruncated: the frame ends before the link or IP header does.
	ErrTruncated = errors.New("decode: truncated header")
	// ErrMalformed: a header that cannot be right (IPv4 IHL < 5, a
	// version nibble that disagrees with the EtherType, …).
	ErrMalformed = errors.New("decode: malformed header")
	// ErrLinkType: the link type is not one of those listed in this package.
	ErrLinkType = errors.New("decode: unsupported link type")
)

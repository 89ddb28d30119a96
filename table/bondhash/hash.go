package bondhash

import (
	"encoding/binary"
	"math/bits"
)

// EtherTypes and IP protocol numbers the kernel's hash looks at.
const (
	EtherIPv4 = 0x0800
	EtherIPv6 = 0x86dd

	protoICMP    = 1
	protoTCP     = 6
	protoUDP     = 17
	protoDCCP    = 33
	protoESP     = 50
	protoAH      = 51
	protoICMPv6  = 58
	protoSCTP    = 132
	protoUDPLite = 136
)

// Config says how a bond chooses its transmit link.
type Config struct {
	Mode    Mode
	Policy  Policy
	Variant Variant
	// BigEndian: the machine running the bond is big-endian (s390x,
	// ppc64). The kernel XORs addresses and ports as host-order words, so
	// the same packet hashes differently there. On the bond's own machine
	// NativeBigEndian gives it.
	BigEndian bool
}

// NativeBigEndian reports whether this program runs on a big-endian
// machine, which is the bond's when fastop watches its own bond.
func NativeBigEndian() bool {
	return binary.NativeEndian.Uint16([]byte{0, 1}) == 1
}

// Flow is what the hash reads from one packet, as the bond saw it when it
// transmitted: the frame it hashes has any out-of-band VLAN tag outside
// its bytes.
type Flow struct {
	SrcMAC, DstMAC [6]byte
	HasMAC         bool // the MACs are known (Ethernet)
	// EtherType is the type field right after the MACs in the frame the
	// bond hashed: 0x0800, 0x86dd, 0x8100 when a tag was in the frame.
	EtherType uint16
	// Src and Dst are the IP addresses; IPv4 in the first 4 bytes.
	Src, Dst [16]byte
	// Proto is the IPv4 protocol field or the Next Header of the IPv6
	// fixed header (the first extension header when there is one: the
	// bond reads no further).
	Proto uint8
	// Fragment: an IPv4 fragment, first or not (MF set or an offset).
	// The kernel then hashes no ports. IPv6 fragments need nothing here:
	// their Proto is 44 (Fragment), which has no ports.
	Fragment bool
	// HasPorts: SrcPort and DstPort are known. For ESP they are the two
	// halves of the SPI, for AH the halves of its SPI (the kernel reads the
	// 4 bytes where ports would be).
	HasPorts         bool
	SrcPort, DstPort uint16
	// ICMP type and code, for Proto 1 or 58 (HasICMP).
	HasICMP  bool
	ICMPType uint8
	ICMPCode uint8
	// ICMPID is the echo or timestamp identifier (HasICMPID).
	HasICMPID bool
	ICMPID    uint16
}

// Reason says why a link cannot be predicted; ReasonNone means it can.
type Reason uint8

// Reasons.
const (
	ReasonNone         Reason = iota
	ReasonMode                // the mode does not hash (round-robin, active-backup, broadcast, tlb, alb)
	ReasonPolicy              // encap2+3, encap3+4 and vlan+srcmac dissect more than fastop models
	ReasonNoLinks             // no usable link
	ReasonNoMAC               // the frame had no Ethernet header
	ReasonVLANInFrame         // a VLAN tag inside the frame: whether the bond saw it there depends on offloads
	ReasonPortsUnknown        // the protocol carries ports (or an SPI) that the packet did not give
	ReasonICMPError           // an ICMP error is hashed on the header it quotes
	ReasonICMPID              // an ICMP echo or timestamp is hashed on its identifier, not given
	ReasonIPv6Ext             // IPv6 extension headers: the bond reads the first Next Header only
	ReasonNotIP               // not an IP packet and no EtherType given
	ReasonICMPType            // the ICMP type, which decides between error and echo, was not captured
)

var reasonText = [...]string{
	"",
	"the bonding mode does not choose links by hash",
	"the hash policy dissects tunnels or VLANs beyond what fastop models",
	"no usable link",
	"no Ethernet header",
	"VLAN tag inside the frame",
	"ports not known",
	"ICMP error hashed on the quoted header",
	"ICMP identifier not known",
	"IPv6 extension headers",
	"not IP",
	"ICMP type not known",
}

func (r Reason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r]
	}
	return "unknown reason"
}

// Prediction is the link a flow leaves by.
type Prediction struct {
	Link int    // index into the usable links, in the bond's slave order; -1 when Why is set
	Hash uint32 // the kernel's hash before the modulo
	Why  Reason // ReasonNone when Link is valid
}

// OK reports whether the link was predicted.
func (p Prediction) OK() bool { return p.Why == ReasonNone }

// Predict returns the usable link the kernel transmits f on, with links
// usable links (bond_xmit_3ad_xor_slave_get: usable_slaves[hash % count]).
// Links are numbered in the bond's slave order among those that can
// transmit; in 802.3ad only the members of the active aggregator count.
func (c *Config) Predict(f *Flow, links int) Prediction {
	if c.Mode != ModeXOR && c.Mode != Mode8023AD {
		return Prediction{Link: -1, Why: ReasonMode}
	}
	if links <= 0 {
		return Prediction{Link: -1, Why: ReasonNoLinks}
	}
	h, why := c.Hash(f)
	if why != ReasonNone {
		return Prediction{Link: -1, Why: why}
	}
	return Prediction{Link: int(h % uint32(links)), Hash: h}
}

// Hash is bond_xmit_hash for the configured policy and variant.
func (c *Config) Hash(f *Flow) (uint32, Reason) {
	switch c.Policy {
	case PolicyLayer2:
		return c.ethHash(f)
	case PolicyLayer23, PolicyLayer34:
	default:
		return 0, ReasonPolicy
	}
	// bond_flow_dissect reads IP only when skb->protocol says IPv4 or
	// IPv6; anything else (ARP, an in-frame VLAN tag) gets the layer-2 hash.
	if f.EtherType != EtherIPv4 && f.EtherType != EtherIPv6 {
		return c.ethHash(f)
	}
	l34 := c.Policy == PolicyLayer34
	proto := int(f.Proto)
	if f.EtherType == EtherIPv4 && f.Fragment {
		proto = -1 // ip_is_fragment: no protocol, so no ports and no ICMP
	}
	var seed uint32
	if c.Variant.ICMP && (proto == protoICMP || proto == protoICMPv6) {
		if !f.HasICMP {
			return 0, ReasonICMPType
		}
		if icmpIsErr(proto, f.ICMPType) {
			return 0, ReasonICMPError
		}
		if l34 && icmpHasID(f.ICMPType) {
			if !f.HasICMPID {
				return 0, ReasonICMPID
			}
			// flow_dissector_key_icmp is {u8 type; u8 code; u16 id}, id in
			// host order and 0 replaced by 1; the hash copies its 4 bytes.
			id := f.ICMPID
			if id == 0 {
				id = 1
			}
			if c.BigEndian {
				seed = uint32(f.ICMPType)<<24 | uint32(f.ICMPCode)<<16 | uint32(id)
			} else {
				seed = uint32(f.ICMPType) | uint32(f.ICMPCode)<<8 | uint32(id)<<16
			}
		}
	} else if l34 && portsAt(proto) {
		if !f.HasPorts {
			return 0, ReasonPortsUnknown
		}
		// The two ports as they lie on the wire, read as one word.
		seed = uint32(f.SrcPort)<<16 | uint32(f.DstPort)
		if !c.BigEndian {
			seed = bits.ReverseBytes32(seed)
		}
	}
	if !l34 {
		var why Reason
		if seed, why = c.ethHash(f); why != ReasonNone {
			return 0, why
		}
	}
	h := seed ^ c.addr32(f.EtherType, &f.Dst) ^ c.addr32(f.EtherType, &f.Src)
	h ^= h >> 16
	h ^= h >> 8
	if (l34 && c.Variant.ShiftL34) || (!l34 && c.Variant.ShiftL23) {
		h >>= 1
	}
	return h, ReasonNone
}

// ethHash is bond_eth_hash: the last bytes of both MACs and the EtherType.
func (c *Config) ethHash(f *Flow) (uint32, Reason) {
	if !f.HasMAC {
		return 0, ReasonNoMAC
	}
	if f.EtherType == 0 {
		return 0, ReasonNotIP
	}
	t := uint32(f.EtherType)
	if !c.Variant.EtherTypeHost && !c.BigEndian {
		// The __be16 field XORed as it lies in memory, read little-endian.
		t = uint32(f.EtherType>>8 | f.EtherType<<8)
	}
	return uint32(f.DstMAC[5]) ^ uint32(f.SrcMAC[5]) ^ t, ReasonNone
}

// addr32 is flow_get_u32_src/dst: an IPv4 address as a host-order word,
// an IPv6 address folded by ipv6_addr_hash (the XOR of its four words).
func (c *Config) addr32(ether uint16, a *[16]byte) uint32 {
	var w uint32
	if ether == EtherIPv4 {
		w = binary.BigEndian.Uint32(a[0:4])
	} else {
		w = binary.BigEndian.Uint32(a[0:4]) ^ binary.BigEndian.Uint32(a[4:8]) ^
			binary.BigEndian.Uint32(a[8:12]) ^ binary.BigEndian.Uint32(a[12:16])
	}
	if !c.BigEndian {
		w = bits.ReverseBytes32(w) // byte reversal commutes with XOR
	}
	return w
}

// portsAt is proto_ports_offset ≥ 0: the protocols skb_flow_get_ports
// reads 4 bytes from (at offset 0, or 4 for AH).
func portsAt(proto int) bool {
	switch proto {
	case protoTCP, protoUDP, protoDCCP, protoESP, protoSCTP, protoUDPLite, protoAH:
		return true
	}
	return false
}

// icmpIsErr is icmp_is_err for IPPROTO_ICMP and icmpv6_is_err for
// IPPROTO_ICMPV6, chosen by the protocol (not the IP version), as the
// kernel does.
func icmpIsErr(proto int, t uint8) bool {
	if proto == protoICMP {
		switch t {
		case 3, 4, 5, 11, 12: // unreachable, source quench, redirect, time exceeded, parameter problem
			return true
		}
		return false
	}
	switch t {
	case 1, 2, 3, 4: // unreachable, packet too big, time exceeded, parameter problem
		return true
	}
	return false
}

// icmpHasID is the flow dissector's icmp_has_id: one list of types for
// ICMP and ICMPv6 alike.
func icmpHasID(t uint8) bool {
	switch t {
	case 0, 8, 13, 14, 128, 129: // echo reply/request, timestamp/reply, ICMPv6 echo request/reply
		return true
	}
	return false
}

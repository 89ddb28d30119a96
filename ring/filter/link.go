package filter

import "github.com/fastop/fastop/decode"

// offset is where a header starts: a constant, plus the value of scratch
// slot reg when reg >= 0 (after the first `vlan` on a live Ethernet
// socket the tag may or may not be in the data, so later offsets are known
// only at run time).
type offset struct {
	k   uint32
	reg int
}

func constOff(k uint32) offset { return offset{k: k, reg: -1} }

func (o offset) plus(k uint32) offset { return offset{k: o.k + k, reg: o.reg} }

// linkKind is the kind of header that decides "which protocol" tests.
type linkKind uint8

const (
	lkEther linkKind = iota
	lkSLL
	lkSLL2
	lkRaw
	lkIPv4
	lkIPv6
	lkNull
	lkLoop
	lkPPP // the PPP header inside PPPoE session frames, after `pppoes`
)

// linkState is libpcap's per-compilation offset state (off_linkhdr,
// off_linktype, off_linkpl, off_nl). Keywords such as vlan, mpls and
// pppoes change it for every primitive written after them.
type linkState struct {
	kind      linkKind
	linkhdr   offset // start of the link-layer header (ether[], MAC addresses)
	linktype  offset // the EtherType / protocol field
	hasType   bool
	linkpl    offset // start of the link-layer payload
	nl        uint32 // network header, relative to linkpl (MPLS labels add 4 each)
	outermost bool   // linkhdr is still the frame's outermost link header
	geneve    bool   // after geneve: the link header may be absent (payload not Ethernet)
	vlanDepth int
	mplsDepth int
}

func (k linkKind) String() string {
	return [...]string{"Ethernet", "Linux cooked (SLL)", "Linux cooked v2 (SLL2)", "raw IP",
		"raw IPv4", "raw IPv6", "BSD loopback (NULL)", "OpenBSD loopback (LOOP)", "PPPoE session"}[k]
}

// newLinkState returns the initial state for a link type, or false when
// fastop cannot compile filters for it.
func newLinkState(lt decode.LinkType) (linkState, bool) {
	s := linkState{outermost: true, linkhdr: constOff(0)}
	switch lt {
	case decode.LinkEthernet:
		s.kind, s.linktype, s.hasType, s.linkpl = lkEther, constOff(12), true, constOff(14)
	case decode.LinkLinuxSLL:
		s.kind, s.linktype, s.hasType, s.linkpl = lkSLL, constOff(14), true, constOff(16)
	case decode.LinkLinuxSLL2:
		s.kind, s.linktype, s.hasType, s.linkpl = lkSLL2, constOff(0), true, constOff(20)
	case decode.LinkRaw:
		s.kind, s.linkpl = lkRaw, constOff(0)
	case decode.LinkIPv4:
		s.kind, s.linkpl = lkIPv4, constOff(0)
	case decode.LinkIPv6:
		s.kind, s.linkpl = lkIPv6, constOff(0)
	case decode.LinkNull:
		s.kind, s.linktype, s.hasType, s.linkpl = lkNull, constOff(0), true, constOff(4)
	case decode.LinkLoop:
		s.kind, s.linktype, s.hasType, s.linkpl = lkLoop, constOff(0), true, constOff(4)
	default:
		return s, false
	}
	return s, true
}

// EtherTypes and LLC SAPs used by the primitives.
const (
	etherTypeIP     = 0x0800
	etherTypeARP    = 0x0806
	etherTypeRARP   = 0x8035
	etherTypeIPv6   = 0x86dd
	etherTypeIPX    = 0x8137
	etherTypeMPLS   = 0x8847
	etherTypePPPoED = 0x8863
	etherTypePPPoES = 0x8864
	etherTypeDN     = 0x6003
	etherTypeLAT    = 0x6004
	etherTypeSCA    = 0x6007
	etherTypeMOPDL  = 0x6001
	etherTypeMOPRC  = 0x6002
	etherTypeAtalk  = 0x809b
	etherTypeAARP   = 0x80f3
	etherMTU        = 1500

	llcSAPIP      = 0x06
	llcSAPISONS   = 0xfe
	llcSAPNetbeui = 0xf0
	llcSAPIPX     = 0xe0
	llcSAP8021D   = 0x42
	llcSAPSNAP    = 0xaa

	sllP8023 = 0x0001 // LINUX_SLL_P_802_3: Novell 802.3 frames without LLC
	sllP8022 = 0x0004 // LINUX_SLL_P_802_2: 802.2 frames

	ipProtoICMP   = 1
	ipProtoIGMP   = 2
	ipProtoTCP    = 6
	ipProtoIGRP   = 9
	ipProtoUDP    = 17
	ipProtoFrag   = 44
	ipProtoESP    = 50
	ipProtoAH     = 51
	ipProtoICMPv6 = 58
	ipProtoPIM    = 103
	ipProtoVRRP   = 112
	ipProtoSCTP   = 132
	protoAny      = -1 // port primitives: TCP, UDP and SCTP

	packetOutgoing = 4 // PACKET_OUTGOING
)

// etherToPPP maps an EtherType or LLC SAP to the PPP protocol number
// libpcap uses inside PPPoE sessions (ethertype_to_ppptype); other values
// are compared unchanged.
func etherToPPP(v uint32) uint32 {
	switch v {
	case etherTypeIP:
		return 0x0021
	case etherTypeIPv6:
		return 0x0057
	case etherTypeDN:
		return 0x0027
	case etherTypeAtalk:
		return 0x0029
	case 0x0600: // XNS
		return 0x0025
	case llcSAPISONS:
		return 0x0023
	case llcSAP8021D:
		return 0x0031
	case llcSAPIPX:
		return 0x002b
	}
	return v
}

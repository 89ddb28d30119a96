// Package decode turns captured frames into [Packet] values without allocating.
//
// # What it decodes
//
// Link layers ([Meta].Link): Ethernet, Linux cooked capture v1 (SLL: packet
// type at offset 0, protocol at 14) and v2 (SLL2: protocol at 0, packet type
// at 10), raw IP (the version nibble decides), raw IPv4, raw IPv6, and BSD
// NULL/LOOP. NULL's 4-byte address family is in the writer's byte order and
// LOOP's in network order; both are read in either order (AF_INET 2, AF_INET6
// 10, 24, 28 or 30). SLL headers supply [Packet].PktType; otherwise it is
// copied from Meta.
//
// Network layers: IPv4 (IHL, options skipped, fragments) and IPv6 with a
// walk over at most [MaxIPv6ExtHeaders] extension headers (hop-by-hop,
// routing, fragment, destination options, AH). ESP, No Next Header, the
// mobility header and anything else end the walk and become Proto.
// Transport: TCP, UDP, SCTP and UDP-Lite ports; ICMP and ICMPv6 type and
// code. Only first fragments carry ports ([FlagLaterFrag] marks the others).
//
// # VLAN tags
//
// An out-of-band tag (the kernel stripped it; [Meta].VLANOK) is the outer
// one and is recorded first. In-band tags with TPID 0x8100, 0x88a8 or 0x9100
// follow, outermost first; [Packet].VLAN keeps the first [MaxVLANs] ids. Up
// to [MaxInBandVLANs] in-band tags are skipped; a frame with more is
// [ErrMalformed].
//
// # Contract
//
// [Frame] overwrites every field of the Packet it is given, so one Packet can
// be reused for every frame. It returns one of the package's sentinel errors
// (never a freshly allocated one) and never panics, whatever the bytes. On
// an error, Family is 0 and only the link-layer fields read before the
// failure are set.
//
// A frame whose link or IP header is cut is [ErrTruncated]; one whose
// transport header (or an IPv6 extension header) is cut is still counted:
// Frame returns nil and sets [FlagTruncated], without ports. A total length
// beyond the captured bytes is normal (snap length) and not an error. Frame
// reads nothing past the IP length either, so Ethernet padding after a short
// packet never passes for ports or an extension header (that too is
// FlagTruncated).
//
// # Length counted
//
// Like iftop, the length counted for a packet is the IP length: the IPv4 total
// length, or the IPv6 payload length plus 40. Where the header says 0 (IPv6
// jumbograms, Linux BIG TCP, GSO super-packets with a zero IPv4 total length)
// the wire length minus the link headers (in-band VLAN tags included) is
// used instead and [FlagLenFromWire] is set.
//
// # Spreading flows
//
// [Packet.FlowHash] is a symmetric hash of addresses, ports and protocol,
// for spreading packets over workers the way the kernel's fanout does.
package decode

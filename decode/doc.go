// Package decode turns captured frames into [Packet] values without allocating.
//
// # What it decodes
//
// Link layers: Ethernet (with up to two in-band 802.1Q / 802.1ad tags), Linux
// cooked capture v1 and v2, raw IP, and BSD NULL/LOOP. Network layers: IPv4
// (IHL, options, fragments) and IPv6 with a bounded walk over extension
// headers. Transport: TCP, UDP, SCTP ports and ICMP / ICMPv6 type and code.
//
// # Contract
//
// [Frame] overwrites every field of the Packet it is given, so one Packet can
// be reused for every frame. It returns one of the package's sentinel errors
// (never a freshly allocated one) and never panics, whatever the bytes.
//
// # Length counted
//
// Like iftop, the length counted for a packet is the IP length: the IPv4 total
// length, or the IPv6 payload length plus 40. Where the header says 0 (IPv6
// jumbograms, Linux BIG TCP, GSO super-packets with a zero IPv4 total length)
// the wire length minus the link headers is used instead.
package decode

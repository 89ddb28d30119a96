package filter

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// compiler turns the tree into a block graph. Its primitives follow
// libpcap 1.10's gencode.c closely in what they test and in which order,
// because the order decides the verdict when a load runs past the
// captured bytes (the whole program then rejects, even under `not`).
type compiler struct {
	opt      Options
	names    Names
	ls       linkState
	perm     int   // scratch slots 0..perm-1 hold run-time offsets
	zero     []int // slots the program's prologue sets to 0
	maxTemps int   // arithmetic temporaries used, counted from slot 15 down
}

// compileError carries a SemanticError out of the recursive code
// generator; Compile recovers it.
type compileError struct{ err error }

func (c *compiler) fail(pos int, format string, args ...any) {
	panic(compileError{&SemanticError{Col: pos + 1, Msg: fmt.Sprintf(format, args...)}})
}

// ---- loads and comparisons ----

var absLoad = map[uint32]uint16{1: opLdB, 2: opLdH, 4: opLdW}
var indLoad = map[uint32]uint16{1: opLdIndB, 2: opLdIndH, 4: opLdIndW}

// load returns statements that put the size-byte field at base+k into A.
func (c *compiler) load(base offset, k, size uint32) []Instruction {
	if base.reg < 0 {
		return []Instruction{ins(absLoad[size], base.k+k)}
	}
	return []Instruction{ins(opLdxMem, uint32(base.reg)), ins(indLoad[size], base.k+k)}
}

// cmp tests (field & mask) op v; mask 0xffffffff means no mask.
func (c *compiler) cmp(base offset, k, size, mask uint32, op uint16, v uint32) gen {
	st := c.load(base, k, size)
	if mask != 0xffffffff {
		st = append(st, ins(classALU|aluAND|srcK, mask))
	}
	return gTest(st, classJMP|op|srcK, v)
}

func (c *compiler) eq(base offset, k, size, v uint32) gen {
	return c.cmp(base, k, size, 0xffffffff, jmpJEQ, v)
}

// minus returns -k as an offset: offsets wrap modulo 2^32, so base.plus(minus(k))
// is k bytes before base.
func minus(k uint32) uint32 { return -k }

// Offsets relative to the current headers (libpcap's OR_LINKHDR,
// OR_LINKTYPE, OR_LINKPL, OR_LLC).
func (c *compiler) hdr() offset { return c.ls.linkhdr }
func (c *compiler) typ() offset { return c.ls.linktype }
func (c *compiler) nl() offset  { return c.ls.linkpl.plus(c.ls.nl) }
func (c *compiler) llc() offset { return c.ls.linkpl }

// loadxIPHdrLen puts the offset of the IPv4 payload, relative to the
// network header's constant offset, into X.
func (c *compiler) loadxIPHdrLen() []Instruction {
	pl := c.ls.linkpl
	if pl.reg < 0 {
		return []Instruction{ins(opLdxMsh, pl.k+c.ls.nl)}
	}
	return []Instruction{
		ins(opLdxMem, uint32(pl.reg)),
		ins(opLdIndB, pl.k+c.ls.nl),
		ins(classALU|aluAND|srcK, 0xf),
		ins(classALU|aluLSH|srcK, 2),
		ins(classALU|aluADD|srcX, 0),
		ins(opTax, 0),
	}
}

// tcmp compares a field of the IPv4 transport header (OR_TRAN_IPV4).
func (c *compiler) tcmp(off, size uint32, op uint16, v uint32) gen {
	st := append(c.loadxIPHdrLen(), ins(indLoad[size], c.ls.linkpl.k+c.ls.nl+off))
	return gTest(st, classJMP|op|srcK, v)
}

// notIPFragment is "IPv4 fragment offset 0" (gen_ipfrag).
func (c *compiler) notIPFragment() gen {
	return gNot(gTest(c.load(c.nl(), 6, 2), classJMP|jmpJSET|srcK, 0x1fff))
}

// ---- link-layer type tests (gen_linktype) ----

func (c *compiler) linktype(pos int, v uint32) gen {
	ls := &c.ls
	if ls.mplsDepth > 0 {
		switch v {
		case etherTypeIP, etherTypeIPv6:
			ver := uint32(0x40)
			if v == etherTypeIPv6 {
				ver = 0x60
			}
			// bottom-of-stack bit of the last label, then the version nibble
			return gAnd(c.cmp(c.nl(), minus(2), 1, 0x01, jmpJEQ, 0x01), c.cmp(c.nl(), 0, 1, 0xf0, jmpJEQ, ver))
		}
		c.fail(pos, "only ip and ip6 can be tested inside MPLS")
	}
	if ls.kind == lkPPP {
		return c.eq(c.typ(), 0, 2, etherToPPP(v))
	}
	switch ls.kind {
	case lkEther:
		return c.etherLinktype(pos, v)
	case lkSLL, lkSLL2:
		return c.sllLinktype(pos, v)
	case lkRaw:
		switch v {
		case etherTypeIP:
			return c.cmp(c.hdr(), 0, 1, 0xf0, jmpJEQ, 0x40)
		case etherTypeIPv6:
			return c.cmp(c.hdr(), 0, 1, 0xf0, jmpJEQ, 0x60)
		}
		return gFalse()
	case lkIPv4:
		if v == etherTypeIP {
			return gTrue()
		}
		return gFalse()
	case lkIPv6:
		if v == etherTypeIPv6 {
			return gTrue()
		}
		return gFalse()
	case lkNull, lkLoop:
		switch v {
		case etherTypeIP:
			return c.loopback(2)
		case etherTypeIPv6:
			if c.opt.Live {
				return c.loopback(10) // Linux AF_INET6
			}
			// A file may come from any BSD: NetBSD/OpenBSD, FreeBSD and
			// macOS each have their own AF_INET6.
			return orAll(c.loopback(24), c.loopback(28), c.loopback(30))
		}
		return gFalse()
	}
	return gFalse()
}

// loopback compares the 4-byte address family of NULL (capture host's
// byte order) or LOOP (network order) headers.
func (c *compiler) loopback(af uint32) gen {
	if c.ls.kind == lkNull && !c.opt.NullBigEndian {
		af = bits.ReverseBytes32(af)
	}
	return c.eq(c.hdr(), 0, 4, af)
}

// llc802 is "the type field is an 802.3 length" (not greater than 1500).
func (c *compiler) llc802() gen {
	return gNot(c.cmp(c.typ(), 0, 2, 0xffffffff, jmpJGT, etherMTU))
}

func (c *compiler) etherLinktype(pos int, v uint32) gen {
	switch v {
	case llcSAPISONS, llcSAPIP, llcSAPNetbeui:
		return gAnd(c.llc802(), c.eq(c.llc(), 0, 2, v<<8|v))
	case llcSAPIPX:
		// Ethernet_II, or 802.3 with an IPX DSAP, raw 802.3 (0xffff)
		// or SNAP with the IPX EtherType.
		b := orAll(c.eq(c.llc(), 0, 1, llcSAPIPX), c.eq(c.llc(), 0, 2, 0xffff), c.snap(0, etherTypeIPX))
		return gOr(c.eq(c.typ(), 0, 2, etherTypeIPX), gAnd(c.llc802(), b))
	case etherTypeAtalk, etherTypeAARP:
		c.fail(pos, "AppleTalk is not supported by fastop")
	}
	if v <= etherMTU {
		return gAnd(c.llc802(), c.eq(c.typ(), 2, 1, v))
	}
	return c.eq(c.typ(), 0, 2, v)
}

func (c *compiler) sllLinktype(pos int, v uint32) gen {
	switch v {
	case llcSAPISONS, llcSAPIP, llcSAPNetbeui:
		return gAnd(c.eq(c.typ(), 0, 2, sllP8022), c.eq(c.nl(), 0, 2, v<<8|v))
	case llcSAPIPX:
		b := gOr(c.eq(c.llc(), 0, 1, llcSAPIPX), c.snap(0, etherTypeIPX))
		b = gAnd(c.eq(c.typ(), 0, 2, sllP8022), b)
		b = gOr(c.eq(c.typ(), 0, 2, sllP8023), b)
		return gOr(c.eq(c.typ(), 0, 2, etherTypeIPX), b)
	case etherTypeAtalk, etherTypeAARP:
		c.fail(pos, "AppleTalk is not supported by fastop")
	}
	if v <= etherMTU {
		return gAnd(c.eq(c.typ(), 0, 2, sllP8022), c.eq(c.hdr(), c.ls.linkpl.k, 1, v))
	}
	return c.eq(c.typ(), 0, 2, v)
}

// snap compares an 802.2 SNAP header (gen_snap): AA AA 03, OUI, type.
func (c *compiler) snap(oui, ptype uint32) gen {
	b := []byte{llcSAPSNAP, llcSAPSNAP, 0x03, byte(oui >> 16), byte(oui >> 8), byte(oui), byte(ptype >> 8), byte(ptype)}
	return c.bcmp(c.llc(), 0, b)
}

// bcmp compares bytes, last word first (gen_bcmp).
func (c *compiler) bcmp(base offset, off uint32, v []byte) gen {
	var g []gen
	n := uint32(len(v))
	for n >= 4 {
		w := uint32(v[n-4])<<24 | uint32(v[n-3])<<16 | uint32(v[n-2])<<8 | uint32(v[n-1])
		g = append(g, c.eq(base, off+n-4, 4, w))
		n -= 4
	}
	for n >= 2 {
		g = append(g, c.eq(base, off+n-2, 2, uint32(v[n-2])<<8|uint32(v[n-1])))
		n -= 2
	}
	if n > 0 {
		g = append(g, c.eq(base, off, 1, uint32(v[0])))
	}
	return andAll(g...)
}

// ---- protocols ----

// ipProto is "ip proto v"; ip6Proto is "ip6 proto v", which also looks
// behind one fragment header.
func (c *compiler) ipProto(pos int, v uint32) gen {
	return gAnd(c.linktype(pos, etherTypeIP), c.eq(c.nl(), 9, 1, v))
}

func (c *compiler) ip6Proto(pos int, v uint32) gen {
	direct := c.eq(c.nl(), 6, 1, v)
	frag := gAnd(c.eq(c.nl(), 6, 1, ipProtoFrag), c.eq(c.nl(), 40, 1, v))
	return gAnd(c.linktype(pos, etherTypeIPv6), gOr(direct, frag))
}

// abbrev compiles a protocol abbreviation (gen_proto_abbrev).
func (c *compiler) abbrev(pos int, p keyword) gen {
	switch p {
	case kwIP:
		return c.linktype(pos, etherTypeIP)
	case kwIP6:
		return c.linktype(pos, etherTypeIPv6)
	case kwArp:
		return c.linktype(pos, etherTypeARP)
	case kwRarp:
		return c.linktype(pos, etherTypeRARP)
	case kwTCP, kwUDP, kwSCTP, kwPIM, kwAH, kwESP:
		v := map[keyword]uint32{kwTCP: ipProtoTCP, kwUDP: ipProtoUDP, kwSCTP: ipProtoSCTP,
			kwPIM: ipProtoPIM, kwAH: ipProtoAH, kwESP: ipProtoESP}[p]
		return gOr(c.ipProto(pos, v), c.ip6Proto(pos, v))
	case kwICMP, kwIGMP, kwIGRP, kwVRRP, kwCARP:
		v := map[keyword]uint32{kwICMP: ipProtoICMP, kwIGMP: ipProtoIGMP, kwIGRP: ipProtoIGRP,
			kwVRRP: ipProtoVRRP, kwCARP: ipProtoVRRP}[p]
		return c.ipProto(pos, v)
	case kwICMP6:
		return c.ip6Proto(pos, ipProtoICMPv6)
	case kwISO:
		return c.linktype(pos, llcSAPISONS)
	case kwSTP:
		return c.linktype(pos, llcSAP8021D)
	case kwIPX:
		return c.linktype(pos, llcSAPIPX)
	case kwNetbeui:
		return c.linktype(pos, llcSAPNetbeui)
	case kwDecnet:
		return c.linktype(pos, etherTypeDN)
	case kwLat:
		return c.linktype(pos, etherTypeLAT)
	case kwSca:
		return c.linktype(pos, etherTypeSCA)
	case kwMoprc:
		return c.linktype(pos, etherTypeMOPRC)
	case kwMopdl:
		return c.linktype(pos, etherTypeMOPDL)
	case kwLink:
		c.fail(pos, `"ether" alone is not a filter; write ether host, ether proto, ether[...] …`)
	case kwRadio:
		c.fail(pos, "'radio' is not a valid protocol type")
	}
	c.fail(pos, "%s filters are not supported by fastop", kwName(p))
	return nil
}

// proto compiles "[pname] proto v" (gen_proto).
func (c *compiler) proto(pos int, v uint32, p keyword, dir qualDir) gen {
	if dir != dirDefault {
		c.fail(pos, "direction applied to 'proto'")
	}
	switch p {
	case kwNone:
		if v > 255 {
			c.fail(pos, "IP protocol %d is out of range (0-255)", v)
		}
		return gOr(c.ipProto(pos, v), c.ip6Proto(pos, v))
	case kwLink:
		if v > 0xffff {
			c.fail(pos, "EtherType %d is out of range (0-65535)", v)
		}
		return c.linktype(pos, v)
	case kwIP:
		if v > 255 {
			c.fail(pos, "IP protocol %d is out of range (0-255)", v)
		}
		return c.ipProto(pos, v)
	case kwIP6:
		if v > 255 {
			c.fail(pos, "IP protocol %d is out of range (0-255)", v)
		}
		return c.ip6Proto(pos, v)
	case kwArp, kwRarp, kwLat, kwSca, kwMoprc, kwMopdl:
		c.fail(pos, "%s does not encapsulate another protocol", kwName(p))
	}
	c.fail(pos, "'%s proto' is bogus", kwName(p))
	return nil
}

// ---- hosts and networks ----

func addrTypeName(a qualAddr) string {
	if a == addrNet {
		return "net"
	}
	return "host"
}

// host compiles an IPv4 host or network test (gen_host).
func (c *compiler) host(pos int, addr, mask uint32, p keyword, dir qualDir, a qualAddr) gen {
	switch p {
	case kwNone:
		b := c.host(pos, addr, mask, kwIP, dir, a)
		if c.ls.mplsDepth == 0 {
			b = orAll(b, c.host(pos, addr, mask, kwArp, dir, a), c.host(pos, addr, mask, kwRarp, dir, a))
		}
		return b
	case kwIP:
		return c.hostop(pos, addr, mask, dir, etherTypeIP, 12, 16)
	case kwArp:
		return c.hostop(pos, addr, mask, dir, etherTypeARP, 14, 24)
	case kwRarp:
		return c.hostop(pos, addr, mask, dir, etherTypeRARP, 14, 24)
	case kwLink:
		c.fail(pos, "link-layer modifier applied to %s", addrTypeName(a))
	case kwIP6:
		c.fail(pos, "'ip6' modifier applied to ip %s", addrTypeName(a))
	}
	c.fail(pos, "'%s' modifier applied to %s", kwName(p), addrTypeName(a))
	return nil
}

func (c *compiler) dirError(pos int, dir qualDir, what string) {
	switch dir {
	case dirAddr1, dirAddr2, dirAddr3, dirAddr4:
		n := int(dir-dirAddr1) + 1
		c.fail(pos, "'addr%d' and 'address%d' are %s", n, n, what)
	case dirRA:
		c.fail(pos, "'ra' is %s", what)
	case dirTA:
		c.fail(pos, "'ta' is %s", what)
	}
}

const only80211 = "only supported on 802.11 with 802.11 headers"

func (c *compiler) hostop(pos int, addr, mask uint32, dir qualDir, etype uint32, srcOff, dstOff uint32) gen {
	switch dir {
	case dirSrc:
		return c.hostAt(pos, addr, mask, etype, srcOff)
	case dirDst:
		return c.hostAt(pos, addr, mask, etype, dstOff)
	case dirAnd:
		return gAnd(c.hostAt(pos, addr, mask, etype, srcOff), c.hostAt(pos, addr, mask, etype, dstOff))
	case dirDefault, dirOr:
		return gOr(c.hostAt(pos, addr, mask, etype, srcOff), c.hostAt(pos, addr, mask, etype, dstOff))
	}
	c.dirError(pos, dir, only80211)
	return nil
}

func (c *compiler) hostAt(pos int, addr, mask uint32, etype, off uint32) gen {
	lt := c.linktype(pos, etype)
	if mask == 0 { // "net 0/0": libpcap's optimiser drops the load
		return lt
	}
	return gAnd(lt, c.cmp(c.nl(), off, 4, mask, jmpJEQ, addr&mask))
}

// host6 compiles an IPv6 host or network test (gen_host6).
func (c *compiler) host6(pos int, addr, mask [16]byte, p keyword, dir qualDir, a qualAddr) gen {
	switch p {
	case kwNone, kwIP6:
	case kwIP:
		c.fail(pos, "'ip' modifier applied to ip6 %s", addrTypeName(a))
	case kwLink:
		c.fail(pos, "link-layer modifier applied to ip6 %s", addrTypeName(a))
	default:
		c.fail(pos, "'%s' modifier applied to ip6 %s", kwName(p), addrTypeName(a))
	}
	at := func(off uint32) gen {
		g := []gen{c.linktype(pos, etherTypeIPv6)}
		for i := uint32(0); i < 4; i++ {
			m := be32(mask[4*i:])
			if m == 0 {
				continue // libpcap's optimiser drops fully masked words
			}
			g = append(g, c.cmp(c.nl(), off+4*i, 4, m, jmpJEQ, be32(addr[4*i:])&m))
		}
		return andAll(g...)
	}
	switch dir {
	case dirSrc:
		return at(8)
	case dirDst:
		return at(24)
	case dirAnd:
		return gAnd(at(8), at(24))
	case dirDefault, dirOr:
		return gOr(at(8), at(24))
	}
	c.dirError(pos, dir, only80211)
	return nil
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// ehost compiles an Ethernet address test (gen_ehostop).
func (c *compiler) ehost(pos int, mac [6]byte, dir qualDir) gen {
	if c.ls.kind != lkEther {
		c.fail(pos, "Ethernet addresses are not available on %s captures", c.ls.kind)
	}
	if g := c.innerEthernet(); g != nil {
		saved := c.ls.geneve
		c.ls.geneve = false
		defer func() { c.ls.geneve = saved }()
		return gAnd(g, c.ehost(pos, mac, dir))
	}
	switch dir {
	case dirSrc:
		return c.bcmp(c.hdr(), 6, mac[:])
	case dirDst:
		return c.bcmp(c.hdr(), 0, mac[:])
	case dirAnd:
		return gAnd(c.bcmp(c.hdr(), 6, mac[:]), c.bcmp(c.hdr(), 0, mac[:]))
	case dirDefault, dirOr:
		return gOr(c.bcmp(c.hdr(), 6, mac[:]), c.bcmp(c.hdr(), 0, mac[:]))
	}
	c.dirError(pos, dir, only80211)
	return nil
}

// ---- ports ----

func (c *compiler) portDirs(pos int, dir qualDir, atom func(off uint32) gen) gen {
	switch dir {
	case dirSrc:
		return atom(0)
	case dirDst:
		return atom(2)
	case dirAnd:
		return gAnd(atom(0), atom(2))
	case dirDefault, dirOr:
		return gOr(atom(0), atom(2))
	}
	c.dirError(pos, dir, "not valid qualifiers for ports")
	return nil
}

// port4 is gen_port: IPv4, protocol, first fragment, then the ports.
func (c *compiler) port4(pos int, lo, hi uint32, proto int, dir qualDir) gen {
	one := func(p uint32) gen {
		atom := func(off uint32) gen {
			if lo == hi {
				return c.tcmp(off, 2, jmpJEQ, lo)
			}
			return gAnd(c.tcmp(off, 2, jmpJGE, lo), gNot(c.tcmp(off, 2, jmpJGT, hi)))
		}
		return gAnd(gAnd(c.eq(c.nl(), 9, 1, p), c.notIPFragment()), c.portDirs(pos, dir, atom))
	}
	var b gen
	if proto == protoAny {
		b = gOr(one(ipProtoSCTP), gOr(one(ipProtoTCP), one(ipProtoUDP)))
	} else {
		b = one(uint32(proto))
	}
	return gAnd(c.linktype(pos, etherTypeIP), b)
}

// port6 is gen_port6: the transport header must follow the fixed IPv6
// header directly.
func (c *compiler) port6(pos int, lo, hi uint32, proto int, dir qualDir) gen {
	one := func(p uint32) gen {
		atom := func(off uint32) gen {
			if lo == hi {
				return c.eq(c.nl(), 40+off, 2, lo)
			}
			return gAnd(c.cmp(c.nl(), 40+off, 2, 0xffffffff, jmpJGE, lo), gNot(c.cmp(c.nl(), 40+off, 2, 0xffffffff, jmpJGT, hi)))
		}
		return gAnd(c.eq(c.nl(), 6, 1, p), c.portDirs(pos, dir, atom))
	}
	var b gen
	if proto == protoAny {
		b = gOr(one(ipProtoSCTP), gOr(one(ipProtoTCP), one(ipProtoUDP)))
	} else {
		b = one(uint32(proto))
	}
	return gAnd(c.linktype(pos, etherTypeIPv6), b)
}

// ports is "port" or "portrange" over both families, IPv6 first as in
// libpcap.
func (c *compiler) ports(pos int, lo, hi uint32, proto int, dir qualDir) gen {
	if lo > hi {
		lo, hi = hi, lo
	}
	v4 := c.port4(pos, lo, hi, proto, dir)
	return gOr(c.port6(pos, lo, hi, proto, dir), v4)
}

// portProto checks the protocol qualifier of port and portrange.
func (c *compiler) portProto(pos int, p keyword, what string) int {
	switch p {
	case kwNone:
		return protoAny
	case kwTCP:
		return ipProtoTCP
	case kwUDP:
		return ipProtoUDP
	case kwSCTP:
		return ipProtoSCTP
	}
	c.fail(pos, "illegal qualifier of '%s' (%s: only tcp, udp and sctp have ports)", what, kwName(p))
	return 0
}

// service resolves a port name like pcap_nametoport: the TCP entry wins,
// and a name listed for both TCP and UDP with the same number means
// "any transport".
func (c *compiler) service(name string) (uint32, int, bool) {
	tp, tok := c.names.Service(name, "tcp")
	up, uok := c.names.Service(name, "udp")
	switch {
	case tok && uok && tp == up:
		return uint32(tp), protoAny, true
	case tok:
		return uint32(tp), ipProtoTCP, true
	case uok:
		return uint32(up), ipProtoUDP, true
	}
	return 0, 0, false
}

// checkServiceProto reconciles the qualifier with the services entry.
func (c *compiler) checkServiceProto(pos int, name string, want, real int) int {
	if want == protoAny {
		return real
	}
	if real != protoAny && real != want {
		c.fail(pos, "port '%s' is %s", name, map[int]string{ipProtoTCP: "tcp", ipProtoUDP: "udp", ipProtoSCTP: "sctp"}[real])
	}
	return want
}

// ---- identifiers (gen_ncode, gen_scode, gen_mcode, gen_ecode) ----

func (c *compiler) id(n *idNode) gen {
	q := n.q
	switch n.kind {
	case tNum:
		return c.numID(n)
	case tHID:
		return c.ipv4ID(n)
	case tHID6:
		return c.ipv6ID(n)
	case tEID:
		mac, ok := parseMAC(n.text)
		if !ok {
			c.fail(n.pos, "bogus ethernet address %s", n.text)
		}
		if q.addr == addrGateway {
			c.fail(n.pos, "gateway needs an IP address or host name; for a MAC address write ether host %s", n.text)
		}
		if (q.addr == addrHost || q.addr == addrDefault) && q.proto == kwLink {
			return c.ehost(n.pos, mac, q.dir)
		}
		c.fail(n.pos, "ethernet address used in non-ether expression (write ether host %s)", n.text)
	case tAID:
		c.fail(n.pos, "ARCnet addresses are not supported by fastop")
	case tID:
		return c.nameID(n)
	}
	c.fail(n.pos, "unexpected identifier")
	return nil
}

func (c *compiler) numID(n *idNode) gen {
	q, v := n.q, n.num
	switch q.addr {
	case addrDefault, addrHost, addrNet:
		if q.proto == kwLink {
			c.fail(n.pos, "illegal link layer address")
		}
		if q.proto == kwDecnet {
			c.fail(n.pos, "DECnet addresses are not supported by fastop")
		}
		mask := uint32(0xffffffff)
		if q.addr == addrNet {
			// promote a short network number: net 10 is 10.0.0.0/8
			for v != 0 && v&0xff000000 == 0 {
				v <<= 8
				mask <<= 8
			}
		}
		return c.host(n.pos, v, mask, q.proto, q.dir, q.addr)
	case addrPort, addrPortrange:
		what := "port"
		if q.addr == addrPortrange {
			what = "portrange"
		}
		proto := c.portProto(n.pos, q.proto, what)
		if v > 65535 {
			c.fail(n.pos, "illegal port number %d > 65535", v)
		}
		return c.ports(n.pos, v, v, proto, q.dir)
	case addrGateway:
		c.fail(n.pos, "gateway needs an IP address or host name, not the number %s", n.text)
	case addrProto:
		return c.proto(n.pos, v, q.proto, q.dir)
	case addrProtochain:
		return c.protochain(n.pos, v, q.proto)
	}
	return nil
}

// atoin parses a dotted IPv4 address or a short form (1 to 4 parts) like
// __pcap_atoin; it returns the value and the number of bits given.
func atoin(s string) (uint32, int, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return 0, 0, false
	}
	var v uint32
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || n > 255 {
			return 0, 0, false
		}
		v = v<<8 | uint32(n)
	}
	return v, 8 * len(parts), true
}

func (c *compiler) ipv4ID(n *idNode) gen {
	q := n.q
	if q.proto == kwDecnet {
		c.fail(n.pos, "DECnet addresses are not supported by fastop")
	}
	addr, bitsGiven, ok := atoin(n.text)
	if !ok {
		c.fail(n.pos, "invalid IPv4 address '%s'", n.text)
	}
	addr <<= 32 - bitsGiven
	switch q.addr {
	case addrPort, addrPortrange, addrProto, addrProtochain:
		name := map[qualAddr]string{addrPort: "port", addrPortrange: "portrange", addrProto: "proto", addrProtochain: "protochain"}[q.addr]
		c.fail(n.pos, "'%s' modifier applied to ip host", name)
	case addrGateway:
		if n.prefix >= 0 || n.mask != "" {
			c.fail(n.pos, "gateway takes a single address")
		}
		return c.gateway(n.pos, n.text, []netip.Addr{netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)})}, nil)
	}
	if n.prefix >= 0 || n.mask != "" {
		var m uint32
		spec := n.text
		if n.mask != "" {
			mv, mbits, ok := atoin(n.mask)
			if !ok {
				c.fail(n.pos, "invalid IPv4 address '%s'", n.mask)
			}
			m = mv << (32 - mbits)
			spec += " mask " + n.mask
		} else {
			if n.prefix > 32 {
				c.fail(n.pos, "mask length must be <= 32")
			}
			if n.prefix > 0 {
				m = 0xffffffff << (32 - n.prefix)
			}
			spec += "/" + itoa(n.prefix)
		}
		if addr&^m != 0 {
			c.fail(n.pos, "non-network bits set in \"%s\"", spec)
		}
		if q.addr != addrNet {
			c.fail(n.pos, "mask syntax for networks only (write net %s)", spec)
		}
		if q.proto == kwLink {
			c.fail(n.pos, "illegal link layer address")
		}
		return c.host(n.pos, addr, m, q.proto, q.dir, q.addr)
	}
	if q.proto == kwLink {
		c.fail(n.pos, "illegal link layer address")
	}
	mask := uint32(0xffffffff) << (32 - bitsGiven)
	return c.host(n.pos, addr, mask, q.proto, q.dir, q.addr)
}

func (c *compiler) ipv6ID(n *idNode) gen {
	q := n.q
	a, err := netip.ParseAddr(n.text)
	if err != nil || !a.Is6() {
		c.fail(n.pos, "invalid ip6 address %s", n.text)
	}
	addr := a.As16()
	plen := 128
	if n.prefix >= 0 {
		plen = n.prefix
	}
	if plen > 128 {
		c.fail(n.pos, "mask length must be <= 128")
	}
	var mask [16]byte
	for i := 0; i < plen; i++ {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	for i := range addr {
		if addr[i]&^mask[i] != 0 {
			c.fail(n.pos, "non-network bits set in \"%s/%d\"", n.text, plen)
		}
	}
	switch q.addr {
	case addrDefault, addrHost:
		if plen != 128 {
			c.fail(n.pos, "mask syntax for networks only (write net %s/%d)", n.text, plen)
		}
	case addrNet:
	case addrGateway:
		if n.prefix >= 0 {
			c.fail(n.pos, "gateway takes a single address")
		}
		return c.gateway(n.pos, n.text, []netip.Addr{a}, nil)
	default:
		c.fail(n.pos, "invalid qualifier against IPv6 address")
	}
	return c.host6(n.pos, addr, mask, q.proto, q.dir, q.addr)
}

func (c *compiler) nameID(n *idNode) gen {
	q, name := n.q, n.text
	switch q.addr {
	case addrDefault, addrHost:
		if q.proto == kwLink {
			if c.ls.kind != lkEther {
				c.fail(n.pos, "Ethernet addresses are not available on %s captures", c.ls.kind)
			}
			mac, ok := c.names.Ether(name)
			if !ok {
				c.fail(n.pos, "unknown ether host '%s' (not in /etc/ethers)", name)
			}
			return c.ehost(n.pos, mac, q.dir)
		}
		if q.proto == kwDecnet {
			c.fail(n.pos, "DECnet addresses are not supported by fastop")
		}
		addrs, err := c.names.Host(name)
		if err != nil || len(addrs) == 0 {
			c.fail(n.pos, "unknown host '%s'", name)
		}
		p4, p6 := q.proto, q.proto
		if !c.ls.hasType && q.proto == kwNone {
			p4, p6 = kwIP, kwIP6
		}
		var b []gen
		full := [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		for _, a := range addrs {
			a = a.Unmap()
			if a.Is4() {
				if p4 == kwIP6 {
					continue
				}
				v := a.As4()
				b = append(b, c.host(n.pos, be32(v[:]), 0xffffffff, p4, q.dir, q.addr))
			} else {
				if p6 == kwIP {
					continue
				}
				b = append(b, c.host6(n.pos, a.As16(), full, p6, q.dir, q.addr))
			}
		}
		if len(b) == 0 {
			c.fail(n.pos, "unknown host '%s' for specified address family", name)
		}
		return orAll(b...)
	case addrNet:
		c.fail(n.pos, "unknown network '%s' (write the network as a.b.c.d/len)", name)
	case addrPort:
		proto := c.portProto(n.pos, q.proto, "port")
		port, real, ok := c.service(name)
		if !ok {
			c.fail(n.pos, "unknown port '%s' (not in /etc/services)", name)
		}
		proto = c.checkServiceProto(n.pos, name, proto, real)
		return c.ports(n.pos, port, port, proto, q.dir)
	case addrPortrange:
		proto := c.portProto(n.pos, q.proto, "portrange")
		lo, hi, real := c.portRange(n.pos, name)
		proto = c.checkServiceProto(n.pos, name, proto, real)
		if lo > 65535 || hi > 65535 {
			c.fail(n.pos, "illegal port number %d > 65535", max(lo, hi))
		}
		return c.ports(n.pos, lo, hi, proto, q.dir)
	case addrGateway:
		addrs, err := c.names.Host(name)
		if err != nil || len(addrs) == 0 {
			c.fail(n.pos, "unknown host '%s'", name)
		}
		var mac *[6]byte
		if m, ok := c.names.Ether(name); ok {
			mac = &m
		}
		return c.gateway(n.pos, name, addrs, mac)
	case addrProto:
		return c.proto(n.pos, c.lookupProto(n.pos, name, q.proto), q.proto, q.dir)
	case addrProtochain:
		return c.protochain(n.pos, c.lookupProto(n.pos, name, q.proto), q.proto)
	}
	return nil
}

// portRange parses "a-b" with numbers or service names
// (pcap_nametoportrange).
func (c *compiler) portRange(pos int, s string) (uint32, uint32, int) {
	if a, b, ok := strings.Cut(s, "-"); ok {
		x, err1 := strconv.ParseUint(a, 10, 32)
		y, err2 := strconv.ParseUint(b, 10, 32)
		if err1 == nil && err2 == nil {
			return uint32(x), uint32(y), protoAny
		}
		p1, r1, ok1 := c.service(a)
		p2, r2, ok2 := c.service(b)
		if ok1 && ok2 {
			if r1 != r2 {
				r1 = protoAny
			}
			return p1, p2, r1
		}
	}
	c.fail(pos, "unknown port in range '%s' (write it as low-high, e.g. 1024-2047)", s)
	return 0, 0, 0
}

// etherProtoNames is libpcap's built-in EtherType table (pcap_nametoeproto)
// and its LLC SAP table (pcap_nametollc).
var etherProtoNames = map[string]uint32{
	"aarp": etherTypeAARP, "arp": etherTypeARP, "atalk": etherTypeAtalk, "decnet": etherTypeDN,
	"ip": etherTypeIP, "ip6": etherTypeIPv6, "lat": etherTypeLAT, "loopback": 0x9000,
	"mopdl": etherTypeMOPDL, "moprc": etherTypeMOPRC, "rarp": etherTypeRARP, "sca": etherTypeSCA,
	"iso": llcSAPISONS, "stp": llcSAP8021D, "ipx": llcSAPIPX, "netbeui": llcSAPNetbeui,
}

func (c *compiler) lookupProto(pos int, name string, p keyword) uint32 {
	switch p {
	case kwNone, kwIP, kwIP6:
		v, ok := c.names.Protocol(name)
		if !ok {
			c.fail(pos, "unknown ip proto '%s' (not in /etc/protocols)", name)
		}
		return uint32(v)
	case kwLink:
		v, ok := etherProtoNames[name]
		if !ok {
			c.fail(pos, "unknown ether proto '%s'", name)
		}
		return v
	}
	c.fail(pos, "'%s proto' is bogus", kwName(p))
	return 0
}

// gateway matches frames relayed by a router: the link-layer address is
// the gateway's, and neither IP address is (libpcap's gen_gateway, which
// fastop also allows with an address instead of a name).
func (c *compiler) gateway(pos int, what string, addrs []netip.Addr, mac *[6]byte) gen {
	q := c.ls
	if q.kind != lkEther {
		c.fail(pos, "gateway needs Ethernet frames (MAC addresses); %s captures have none", q.kind)
	}
	if mac == nil && c.opt.Neighbors != nil {
		for _, a := range addrs {
			if m, ok := c.opt.Neighbors.MAC(a); ok {
				mac = &m
				break
			}
		}
	}
	if mac == nil {
		c.fail(pos, "gateway %s: MAC address unknown (not in the neighbour table; ping it first or use ether host)", what)
	}
	var hosts []gen
	full := [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is4() {
			v := a.As4()
			hosts = append(hosts, c.host(pos, be32(v[:]), 0xffffffff, kwNone, dirOr, addrHost))
		} else {
			hosts = append(hosts, c.host6(pos, a.As16(), full, kwNone, dirOr, addrHost))
		}
	}
	return gAnd(c.ehost(pos, *mac, dirOr), gNot(orAll(hosts...)))
}

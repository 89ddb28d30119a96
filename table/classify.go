package table

import (
	"encoding/binary"
	"net/netip"

	"github.com/fastop/fastop/decode"
)

// Dir is where a packet goes as seen from the capturing interface.
type Dir uint8

// Values of Dir.
const (
	DirIgnored Dir = iota // not counted: -F/-G both-in or both-out, IPv6 link-local without -l
	DirOut                // sent by this host: the TX total
	DirIn                 // received by this host: the RX total
	DirThird              // between other hosts (or fastop cannot tell): counted as RX, as iftop does
)

// Classifier applies iftop's direction and pairing rules
// (docs/iftop.md#direction), with iftop's bugs fixed: every address of the
// interface counts as local, the IPv4 multicast test looks at the right
// byte, third-party IPv6 is counted, -G prefixes shorter than /16 work, and
// third-party pairs are ordered by address value (the smaller address on the
// left).
//
// A Classifier is read-only once built; each worker may share it.
type Classifier struct {
	macs   [][6]byte  // the interface's MAC addresses
	local  [][16]byte // the interface's addresses (IPv4 in the first 4 bytes)
	local6 []bool     // local[i] is IPv6
	net4   prefix
	net6   prefix
	ll     bool // count IPv6 link-local traffic (-l)
}

type prefix struct {
	on   bool
	addr [16]byte
	mask [16]byte
}

func (p *prefix) contains(a *[16]byte, n int) bool {
	for i := 0; i < n; i++ {
		if a[i]&p.mask[i] != p.addr[i] {
			return false
		}
	}
	return true
}

// ClassifierConfig describes the capturing interface and iftop's
// direction options.
type ClassifierConfig struct {
	MACs       [][6]byte    // the interface's hardware addresses (none for files)
	Addrs      []netip.Addr // all of the interface's addresses (none for files)
	NetFilter  netip.Prefix // -F: IPv4 network boundary (zero: off)
	NetFilter6 netip.Prefix // -G: IPv6 network boundary (zero: off)
	LinkLocal  bool         // -l: count IPv6 link-local traffic
}

// NewClassifier builds a Classifier.
func NewClassifier(cfg ClassifierConfig) *Classifier {
	c := &Classifier{macs: cfg.MACs, ll: cfg.LinkLocal}
	for _, a := range cfg.Addrs {
		a = a.Unmap()
		var b [16]byte
		if a.Is4() {
			a4 := a.As4()
			copy(b[:], a4[:])
		} else if a.Is6() {
			b = a.As16()
		} else {
			continue
		}
		c.local = append(c.local, b)
		c.local6 = append(c.local6, a.Is6())
	}
	if p := cfg.NetFilter; p.IsValid() && p.Addr().Unmap().Is4() {
		c.net4 = makePrefix(netip.PrefixFrom(p.Addr().Unmap(), p.Bits()), 4)
	}
	if p := cfg.NetFilter6; p.IsValid() && p.Addr().Is6() && !p.Addr().Is4In6() {
		c.net6 = makePrefix(p, 16)
	}
	return c
}

func makePrefix(p netip.Prefix, n int) prefix {
	var out prefix
	out.on = true
	bits := p.Bits()
	var a [16]byte
	if n == 4 {
		a4 := p.Addr().As4()
		copy(a[:], a4[:])
	} else {
		a = p.Addr().As16()
	}
	for i := 0; i < n; i++ {
		switch {
		case bits >= 8:
			out.mask[i] = 0xff
			bits -= 8
		case bits > 0:
			out.mask[i] = byte(0xff << (8 - bits))
			bits = 0
		}
		out.addr[i] = a[i] & out.mask[i]
	}
	return out
}

var broadcastMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// Classify fills k with the pair p belongs to and returns the packet's
// direction for the totals and whether it travels from k.A to k.B (the
// "sent" side of the pair). When the direction is DirIgnored, k is not
// meaningful.
func (c *Classifier) Classify(p *decode.Packet, k *Key) (d Dir, sent bool) {
	d, srcLeft := c.classify(p)
	if d != DirIgnored {
		c.fill(p, k, srcLeft)
	}
	return d, srcLeft
}

// classify decides the direction and which end goes on the left, without
// building a key: the per-packet path packs the key itself.
func (c *Classifier) classify(p *decode.Packet) (d Dir, srcLeft bool) {
	n := 4
	if p.Family == 6 {
		n = 16
		if !c.ll && (isLinkLocal6(&p.Src) || isLinkLocal6(&p.Dst)) {
			return DirIgnored, false
		}
	}

	// -F / -G: the network boundary decides, for its family only.
	if nf := c.netFor(p.Family); nf != nil {
		srcIn, dstIn := nf.contains(&p.Src, n), nf.contains(&p.Dst, n)
		switch {
		case srcIn && !dstIn:
			return DirOut, true
		case dstIn && !srcIn:
			return DirIn, false
		}
		return DirIgnored, false
	}

	d = c.direction(p)
	if d == DirThird || (len(c.local) > 0 && c.isLocal(&p.Src, p.Family) && c.isLocal(&p.Dst, p.Family)) {
		// Third-party traffic, or traffic between two local addresses
		// (loopback): order the pair by value so both directions of a
		// conversation share one row.
		return d, lessEndpoint(&p.Src, p.SrcPort, &p.Dst, p.DstPort)
	}
	return d, d == DirOut
}

func (c *Classifier) netFor(family uint8) *prefix {
	if family == 4 && c.net4.on {
		return &c.net4
	}
	if family == 6 && c.net6.on {
		return &c.net6
	}
	return nil
}

// direction applies iftop's order: what the capture knows (the Linux packet
// type), then the MAC addresses, then the interface's IP addresses, then
// multicast and broadcast destinations; otherwise it is third-party traffic.
func (c *Classifier) direction(p *decode.Packet) Dir {
	switch p.PktType {
	case decode.PktOutgoing:
		return DirOut
	case decode.PktHost, decode.PktBroadcast, decode.PktMulticast:
		return DirIn
	}
	if p.Flags&decode.FlagMAC != 0 {
		for i := range c.macs {
			if p.SrcMAC == c.macs[i] {
				return DirOut
			}
		}
		for i := range c.macs {
			if p.DstMAC == c.macs[i] {
				return DirIn
			}
		}
		if p.DstMAC == broadcastMAC {
			return DirIn
		}
	}
	if len(c.local) > 0 {
		if c.isLocal(&p.Src, p.Family) {
			return DirOut
		}
		if c.isLocal(&p.Dst, p.Family) {
			return DirIn
		}
	}
	if p.Family == 4 {
		if p.Dst[0]&0xf0 == 0xe0 || [4]byte(p.Dst[:4]) == [4]byte{255, 255, 255, 255} {
			return DirIn
		}
	} else if p.Dst[0] == 0xff {
		return DirIn
	}
	return DirThird
}

func (c *Classifier) isLocal(a *[16]byte, family uint8) bool {
	for i := range c.local {
		if c.local6[i] == (family == 6) && c.local[i] == *a {
			return true
		}
	}
	return false
}

// fill writes the pair into k; srcLeft puts the packet's source on the left.
func (c *Classifier) fill(p *decode.Packet, k *Key, srcLeft bool) {
	k.Family = p.Family
	k.Proto = p.Proto
	var sp, dp uint16
	if p.Flags&decode.FlagPorts != 0 {
		sp, dp = p.SrcPort, p.DstPort
	}
	if srcLeft {
		k.A, k.B, k.APort, k.BPort = p.Src, p.Dst, sp, dp
	} else {
		k.A, k.B, k.APort, k.BPort = p.Dst, p.Src, dp, sp
	}
}

func isLinkLocal6(a *[16]byte) bool { return a[0] == 0xfe && a[1]&0xc0 == 0x80 }

// lessEndpoint orders (address, port) pairs by value; it decides which end
// of third-party traffic goes on the left.
func lessEndpoint(a *[16]byte, ap uint16, b *[16]byte, bp uint16) bool {
	a0, b0 := binary.BigEndian.Uint64(a[0:8]), binary.BigEndian.Uint64(b[0:8])
	if a0 != b0 {
		return a0 < b0
	}
	a1, b1 := binary.BigEndian.Uint64(a[8:16]), binary.BigEndian.Uint64(b[8:16])
	if a1 != b1 {
		return a1 < b1
	}
	return ap <= bp
}

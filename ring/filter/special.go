package filter

// Primitives with their own syntax: broadcast, multicast, less, greater,
// inbound, outbound, ifindex, vlan, mpls, pppoed, pppoes, llc.

func (c *compiler) special(n *specialNode) gen {
	switch n.kind {
	case kwBroadcast:
		return c.broadcast(n)
	case kwMulticast:
		return c.multicast(n)
	case kwLess:
		return gNot(gTest([]Instruction{ins(opLdLen, 0)}, classJMP|jmpJGT|srcK, n.num))
	case kwGreater:
		return gTest([]Instruction{ins(opLdLen, 0)}, classJMP|jmpJGE|srcK, n.num)
	case kwInbound, kwOutbound:
		return c.inbound(n)
	case kwIfindex:
		return c.ifindex(n)
	case kwVLAN:
		return c.vlan(n)
	case kwMPLS:
		return c.mpls(n)
	case kwPPPoED:
		return c.linktype(n.pos, etherTypePPPoED)
	case kwPPPoES:
		return c.pppoes(n)
	case kwLLC:
		if c.ls.kind != lkEther {
			c.fail(n.pos, "'llc' is not supported on %s captures", c.ls.kind)
		}
		// an 802.3 length field, and not Novell's raw 802.3 (0xffff)
		return gAnd(c.llc802(), gNot(c.eq(c.llc(), 0, 2, 0xffff)))
	case kwGeneve:
		return c.geneve(n)
	}
	c.fail(n.pos, "%s is not supported by fastop", kwName(n.kind))
	return nil
}

var broadcastMAC = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func (c *compiler) broadcast(n *specialNode) gen {
	switch n.proto {
	case kwNone, kwLink:
		if c.ls.kind != lkEther {
			c.fail(n.pos, "broadcast needs Ethernet frames; %s captures have no link-layer addresses", c.ls.kind)
		}
		return c.ehost(n.pos, broadcastMAC, dirDst)
	case kwIP:
		// All-ones or all-zeros host part of the destination, with the
		// capture's netmask (0 when unknown: the limited broadcast and
		// 0.0.0.0 only).
		host := ^c.opt.Netmask
		lt := c.linktype(n.pos, etherTypeIP)
		zero := c.cmp(c.nl(), 16, 4, host, jmpJEQ, 0)
		ones := c.cmp(c.nl(), 16, 4, host, jmpJEQ, host)
		if host == 0 {
			return gAnd(lt, gTrue())
		}
		return gAnd(lt, gOr(zero, ones))
	}
	c.fail(n.pos, "only link-layer and IP broadcast filters are supported")
	return nil
}

func (c *compiler) multicast(n *specialNode) gen {
	switch n.proto {
	case kwNone, kwLink:
		if c.ls.kind != lkEther {
			c.fail(n.pos, "multicast needs Ethernet frames; %s captures have no link-layer addresses (use ip multicast or ip6 multicast)", c.ls.kind)
		}
		return andAll(c.innerEthernet(), gTest(c.load(c.hdr(), 0, 1), classJMP|jmpJSET|srcK, 1))
	case kwIP:
		return gAnd(c.linktype(n.pos, etherTypeIP), c.cmp(c.nl(), 16, 1, 0xffffffff, jmpJGE, 224))
	case kwIP6:
		return gAnd(c.linktype(n.pos, etherTypeIPv6), c.eq(c.nl(), 24, 1, 255))
	}
	c.fail(n.pos, "only link-layer, IP and IPv6 multicast filters are supported")
	return nil
}

// inbound and outbound use the packet type: a header field of cooked
// captures, the kernel's metadata on live sockets.
func (c *compiler) inbound(n *specialNode) gen {
	var out gen
	switch {
	case c.ls.kind == lkSLL && c.ls.outermost:
		out = c.eq(c.hdr(), 0, 2, packetOutgoing)
	case c.ls.kind == lkSLL2 && c.ls.outermost:
		out = c.eq(c.hdr(), 10, 1, packetOutgoing)
	case c.opt.Live && c.ls.outermost:
		out = gTest([]Instruction{ins(opLdH, skfAdOff+skfAdPktType)}, classJMP|jmpJEQ|srcK, packetOutgoing)
	default:
		c.fail(n.pos, "%s needs the packet direction, which %s files do not record (it works live and on Linux cooked captures)", kwName(n.kind), c.ls.kind)
	}
	if n.kind == kwInbound {
		return gNot(out)
	}
	return out
}

func (c *compiler) ifindex(n *specialNode) gen {
	switch {
	case c.ls.kind == lkSLL2 && c.ls.outermost:
		return c.eq(c.hdr(), 4, 4, n.num)
	case c.opt.Live:
		return gTest([]Instruction{ins(opLdW, skfAdOff+skfAdIfindex)}, classJMP|jmpJEQ|srcK, n.num)
	}
	c.fail(n.pos, "ifindex needs the interface index, which %s files do not record (it works live and on SLL2 captures)", c.ls.kind)
	return nil
}

// vlanTPID tests the three TPIDs libpcap knows at the current type field.
func (c *compiler) vlanTPID() gen {
	return orAll(c.eq(c.typ(), 0, 2, 0x8100), c.eq(c.typ(), 0, 2, 0x88a8), c.eq(c.typ(), 0, 2, 0x9100))
}

func (c *compiler) vlan(n *specialNode) gen {
	if c.ls.mplsDepth > 0 {
		c.fail(n.pos, "no VLAN match after MPLS")
	}
	if c.ls.kind != lkEther {
		c.fail(n.pos, "vlan is not supported on %s captures", c.ls.kind)
	}
	if n.hasNum && n.num > 0x0fff {
		c.fail(n.pos, "VLAN tag %d greater than maximum 4095", n.num)
	}
	var g gen
	if c.opt.Live && c.ls.vlanDepth == 0 && c.ls.outermost && c.ls.linkhdr.reg < 0 {
		g = c.liveVLAN(n)
	} else {
		g = c.vlanTPID()
		if n.hasNum {
			g = gAnd(g, c.cmp(c.nl(), 0, 2, 0x0fff, jmpJEQ, n.num))
		}
		c.ls.linkpl.k += 4
		c.ls.linktype.k += 4
	}
	c.ls.vlanDepth++
	return g
}

// liveVLAN is the outer vlan on a live Linux socket: the kernel has
// usually moved the tag into metadata (SKF_AD_VLAN_TAG_PRESENT), but it
// may also still be in the data. Every later offset becomes "constant +
// M[r]", with M[r] 0 (tag in metadata) or 4 (tag in the data), as in
// libpcap's gen_vlan_bpf_extensions.
func (c *compiler) liveVLAN(n *specialNode) gen {
	r := c.perm
	c.perm++
	c.zero = append(c.zero, r)
	present := gTest([]Instruction{ins(opLdB, skfAdOff+skfAdVLANTagPresent)}, classJMP|jmpJEQ|srcK, 1)
	// the in-band TPID test, with M[r] = 4 in front of it
	tpid := c.vlanTPID()
	inband := func(t, f *block) *block {
		b := tpid(t, f)
		pre := &block{stmts: []Instruction{ins(opLdImm, 4), ins(opSt, uint32(r))}, kind: bkGoto, t: b, effect: true}
		return pre
	}
	g := gOr(present, inband)
	if n.hasNum {
		id := n.num
		vid := func(t, f *block) *block {
			test := &block{stmts: []Instruction{ins(classALU|aluAND|srcK, 0x0fff)}, kind: bkCond,
				op: classJMP | jmpJEQ | srcK, k: id, t: t, f: f, inA: true}
			meta := &block{stmts: []Instruction{ins(opLdB, skfAdOff+skfAdVLANTag)}, kind: bkGoto, t: test}
			data := &block{stmts: []Instruction{ins(opLdH, 14)}, kind: bkGoto, t: test}
			return &block{stmts: []Instruction{ins(opLdB, skfAdOff+skfAdVLANTagPresent)}, kind: bkCond,
				op: classJMP | jmpJEQ | srcK, k: 1, t: meta, f: data}
		}
		g = gAnd(g, vid)
	}
	c.ls.linkpl = offset{k: c.ls.linkpl.k, reg: r}
	c.ls.linktype = offset{k: c.ls.linktype.k, reg: r}
	return g
}

func (c *compiler) mpls(n *specialNode) gen {
	var g gen
	if c.ls.mplsDepth > 0 {
		// inside a label stack: the previous label is not the bottom one
		g = c.cmp(c.nl(), minus(2), 1, 0x01, jmpJEQ, 0)
	} else {
		switch c.ls.kind {
		case lkEther:
			g = c.linktype(n.pos, etherTypeMPLS)
		case lkPPP:
			g = c.eq(c.typ(), 0, 2, 0x0281)
		default:
			c.fail(n.pos, "mpls is not supported on %s captures", c.ls.kind)
		}
	}
	if n.hasNum {
		if n.num > 0xfffff {
			c.fail(n.pos, "MPLS label %d greater than maximum 1048575", n.num)
		}
		g = gAnd(g, c.cmp(c.nl(), 0, 4, 0xfffff000, jmpJEQ, n.num<<12))
	}
	c.ls.nl += 4
	c.ls.mplsDepth++
	return g
}

func (c *compiler) pppoes(n *specialNode) gen {
	g := c.linktype(n.pos, etherTypePPPoES)
	if n.hasNum {
		if n.num > 0xffff {
			c.fail(n.pos, "PPPoE session number %d greater than maximum 65535", n.num)
		}
		g = gAnd(g, c.cmp(c.nl(), 0, 4, 0xffff, jmpJEQ, n.num))
	}
	// The PPP header follows the 6-byte PPPoE header; later tests see PPP.
	hdr := c.nl().plus(6)
	c.ls.kind = lkPPP
	c.ls.linkhdr = hdr
	c.ls.linktype = hdr
	c.ls.hasType = true
	c.ls.linkpl = hdr.plus(2)
	c.ls.nl = 0
	c.ls.outermost = false
	return g
}

package filter

// protochain and geneve: the two primitives whose code computes offsets
// at run time from the packet. Their blocks pass A and X to each other
// (inA), which keeps the optimiser's hands off them.

// protochainDepth is how many IPv6 extension headers (or IPv4 AH
// headers) fastop's protochain walks. libpcap loops until the chain ends,
// with a backward jump the kernel refuses; fastop unrolls the loop so the
// program runs in the kernel too, and gives up (no match) after this many
// headers.
const protochainDepth = 8

func (c *compiler) protochain(pos int, v uint32, p keyword) gen {
	if c.ls.linkpl.reg >= 0 {
		c.fail(pos, "'protochain' not supported with variable length headers")
	}
	if v > 255 {
		c.fail(pos, "IP protocol %d is out of range (0-255)", v)
	}
	switch p {
	case kwNone:
		return gOr(c.protochainFamily(pos, v, false), c.protochainFamily(pos, v, true))
	case kwIP:
		return c.protochainFamily(pos, v, false)
	case kwIP6:
		return c.protochainFamily(pos, v, true)
	}
	c.fail(pos, "bad protocol applied for 'protochain'")
	return nil
}

// protochainFamily follows libpcap's gen_protochain: A holds the current
// "next header" value and X the offset of the header it names, relative to
// the network header.
func (c *compiler) protochainFamily(pos int, v uint32, v6 bool) gen {
	nl := c.nl().k
	tmp := c.tempSlot(0)
	var start []Instruction
	etype := uint32(etherTypeIP)
	if v6 {
		etype = etherTypeIPv6
		start = []Instruction{ins(opLdB, nl+6), ins(opLdxImm, 40)}
	} else {
		start = []Instruction{ins(opLdB, nl+9), ins(opLdxMsh, nl)}
	}
	test := func(k uint32, t, f *block) *block {
		return &block{kind: bkCond, op: classJMP | jmpJEQ | srcK, k: k, t: t, f: f, inA: true}
	}
	walk := func(found, missing *block) *block {
		next := missing // ran out of headers to walk
		for range protochainDepth {
			// AH: libpcap reads the next header at X and the length at
			// X+1, and then sets X to (length+2)*4 without adding the old
			// X; fastop does the same, to give the same verdicts.
			ah := &block{kind: bkGoto, inA: true, t: next, stmts: []Instruction{
				ins(opTxa, 0), ins(opLdIndB, nl), ins(opSt, tmp),
				ins(opTxa, 0), ins(classALU|aluADD|srcK, 1), ins(opTax, 0),
				ins(opLdIndB, nl), ins(classALU|aluADD|srcK, 2), ins(classALU|aluMUL|srcK, 4),
				ins(opTax, 0), ins(opLdMem, tmp),
			}}
			d := test(ipProtoAH, ah, missing)
			if v6 {
				ext := &block{kind: bkGoto, inA: true, t: next, stmts: []Instruction{
					ins(opLdIndB, nl), ins(opSt, tmp), ins(opLdIndB, nl+1),
					ins(classALU|aluADD|srcK, 1), ins(classALU|aluMUL|srcK, 8),
					ins(classALU|aluADD|srcX, 0), ins(opTax, 0), ins(opLdMem, tmp),
				}}
				for _, h := range []uint32{ipProtoFrag, 43, 60, 0} { // checked 0, 60, 43, 44
					d = test(h, ext, d)
				}
			}
			d = test(59, missing, d) // no next header
			next = test(v, found, d)
		}
		return &block{kind: bkGoto, stmts: start, t: next}
	}
	return gAnd(c.linktype(pos, etype), walk)
}

// geneveVNIMax is the largest Geneve virtual network identifier (24 bits).
const geneveVNIMax = 0xffffff

const genevePort = 6081

// geneve matches Geneve (UDP port 6081) and makes later tests look at the
// encapsulated frame, as libpcap's gen_geneve does: an inner Ethernet
// frame when the Geneve protocol is 0x6558, otherwise the payload with the
// Geneve protocol as its EtherType.
func (c *compiler) geneve(n *specialNode) gen {
	if n.hasNum && n.num > geneveVNIMax {
		c.fail(n.pos, "Geneve VNI %d greater than maximum %d", n.num, geneveVNIMax)
	}
	if c.perm+3 > memWords {
		c.fail(n.pos, "too many encapsulations")
	}
	pl, nl := c.ls.linkpl, c.ls.nl
	// IPv4: UDP to 6081, version 0, the VNI; then A = X = IPv4 header length.
	v4 := []gen{c.port4(n.pos, genevePort, genevePort, ipProtoUDP, dirDst),
		c.tcmpMask(8, 1, 0xc0, 0)}
	if n.hasNum {
		v4 = append(v4, c.tcmpMask(12, 4, 0xffffff00, n.num<<8))
	}
	setIPv4 := append(c.loadxIPHdrLen(), ins(opTxa, 0))
	if pl.reg >= 0 { // loadxIPHdrLen added the variable part; keep A relative
		setIPv4 = append(setIPv4, ins(opLdxMem, uint32(pl.reg)), ins(classALU|aluSUB|srcX, 0), ins(opTax, 0))
	}
	// IPv6: next header UDP directly, then the same fields at fixed offsets.
	v6 := []gen{c.port6(n.pos, genevePort, genevePort, ipProtoUDP, dirDst),
		c.cmp(c.nl(), 40+8, 1, 0xc0, jmpJEQ, 0)}
	if n.hasNum {
		v6 = append(v6, c.cmp(c.nl(), 40+12, 4, 0xffffff00, jmpJEQ, n.num<<8))
	}
	setIPv6 := []Instruction{ins(opLdImm, 40), ins(opTax, 0)}

	rLT, rHdr, rPL := c.perm, c.perm+1, c.perm+2
	c.perm += 3
	c.zero = append(c.zero, rLT, rHdr, rPL)

	offsets := func(t, f *block) *block {
		// A = offset of the UDP header from the network header.
		var pre []Instruction
		if pl.reg >= 0 {
			pre = []Instruction{ins(opLdxMem, uint32(pl.reg)), ins(classALU|aluADD|srcX, 0)}
		}
		fin := &block{kind: bkGoto, inA: true, effect: true, t: t, stmts: []Instruction{ins(opStx, uint32(rPL))}}
		teb := &block{kind: bkGoto, inA: true, effect: true, t: fin, stmts: []Instruction{
			ins(opTxa, 0), ins(classALU|aluADD|srcK, 12), ins(opSt, uint32(rLT)),
			ins(classALU|aluADD|srcK, 2), ins(opTax, 0),
		}}
		st := append(pre,
			ins(classALU|aluADD|srcK, pl.k+nl+8), ins(opTax, 0), // X = Geneve header
			ins(classALU|aluADD|srcK, 2), ins(opSt, uint32(rLT)), // protocol type
			ins(opLdIndB, 0), ins(classALU|aluAND|srcK, 0x3f), ins(classALU|aluMUL|srcK, 4),
			ins(classALU|aluADD|srcK, 8), ins(classALU|aluADD|srcX, 0), ins(opSt, uint32(rHdr)), // end of header and options
			ins(opLdIndH, 2), ins(opLdxMem, uint32(rHdr)),
		)
		return &block{kind: bkCond, inA: true, effect: true, stmts: st, op: classJMP | jmpJEQ | srcK, k: 0x6558, t: teb, f: fin}
	}
	set := func(stmts []Instruction) gen {
		return func(t, f *block) *block { return &block{kind: bkGoto, stmts: stmts, t: t} }
	}
	g := gAnd(gOr(andAll(append(v4, set(setIPv4))...), andAll(append(v6, set(setIPv6))...)), offsets)

	c.ls.kind = lkEther
	c.ls.linkhdr = offset{reg: rHdr}
	c.ls.linktype = offset{reg: rLT}
	c.ls.hasType = true
	c.ls.linkpl = offset{reg: rPL}
	c.ls.nl = 0
	c.ls.outermost = false
	c.ls.geneve = true
	return g
}

// innerEthernet guards link-address tests after geneve: the encapsulated
// payload has an Ethernet header only when its offset differs from the
// link header's (gen_geneve_ll_check). It returns nil when no check is
// needed.
func (c *compiler) innerEthernet() gen {
	if !c.ls.geneve {
		return nil
	}
	st := []Instruction{ins(opLdMem, uint32(c.ls.linkhdr.reg)), ins(opLdxMem, uint32(c.ls.linkpl.reg))}
	return gNot(gTest(st, classJMP|jmpJEQ|srcX, 0))
}

// tcmpMask compares (field & mask) of the IPv4 transport header with v.
func (c *compiler) tcmpMask(off, size, mask, v uint32) gen {
	st := append(c.loadxIPHdrLen(), ins(indLoad[size], c.ls.linkpl.k+c.ls.nl+off))
	if mask != 0xffffffff {
		st = append(st, ins(classALU|aluAND|srcK, mask))
	}
	return gTest(st, classJMP|jmpJEQ|srcK, v)
}

package filter

// Arithmetic and relations (libpcap's gen_load, gen_arth, gen_neg,
// gen_relation). A value is computed into A by straight-line code; the
// protocol checks its loads need ("is IPv4", "is TCP, first fragment")
// form its guard, which the relation tests first.

type value struct {
	code  []Instruction // leaves the value in A; may use X and temporaries
	konst bool          // the value is the constant k and code is empty
	k     uint32
	zero  bool // the value is known to be 0, though code must still run for its loads
	guard gen  // nil when the value needs no protocol check
}

// failOffset is an offset no captured packet reaches: a load there always
// rejects, which is what libpcap does for an index beyond the packet.
const failOffset = 0x7fffffff

// tempSlot returns the scratch slot of temporary number d; temporaries
// are taken from the top (15, 14 …) so that they never meet the live
// offsets, which are taken from the bottom.
func (c *compiler) tempSlot(d int) uint32 {
	if d+1 > c.maxTemps {
		c.maxTemps = d + 1
	}
	return uint32(memWords - 1 - d)
}

func (v value) inA() []Instruction {
	if v.konst {
		return []Instruction{ins(opLdImm, v.k)}
	}
	return v.code
}

// constOf evaluates a tree that holds no load and no len.
func (c *compiler) constOf(a arith) (uint32, bool) {
	switch a := a.(type) {
	case *numArith:
		return a.v, true
	case *negArith:
		v, ok := c.constOf(a.x)
		return -v, ok
	case *binArith:
		l, lok := c.constOf(a.l)
		r, rok := c.constOf(a.r)
		if !lok || !rok {
			return 0, false
		}
		c.checkLiteral(a)
		c.checkDivisor(a, r)
		return foldALU(a.op, l, r), true
	}
	return 0, false
}

// checkLiteral rejects a shift by a literal number above 31, as libpcap
// does. A shift count that is only computed to be that large folds to 0,
// as libpcap's optimiser folds it.
func (c *compiler) checkLiteral(a *binArith) {
	if n, ok := a.r.(*numArith); ok && (a.op == aluLSH || a.op == aluRSH) && n.v > 31 {
		c.fail(a.pos, "shift by more than 31 bits")
	}
}

// checkDivisor rejects a division or modulo by a value known to be 0.
func (c *compiler) checkDivisor(a *binArith, r uint32) {
	if r != 0 {
		return
	}
	switch a.op {
	case aluDIV:
		c.fail(a.pos, "division by zero")
	case aluMOD:
		c.fail(a.pos, "modulus by zero")
	}
}

func foldALU(op uint16, l, r uint32) uint32 {
	switch op {
	case aluADD:
		return l + r
	case aluSUB:
		return l - r
	case aluMUL:
		return l * r
	case aluDIV:
		return l / r
	case aluMOD:
		return l % r
	case aluAND:
		return l & r
	case aluOR:
		return l | r
	case aluXOR:
		return l ^ r
	case aluLSH:
		return l << r // 0 from 32 on, like libpcap's optimiser
	case aluRSH:
		return l >> r
	}
	return 0
}

func commutative(op uint16) bool {
	return op == aluADD || op == aluMUL || op == aluAND || op == aluOR || op == aluXOR
}

// arith compiles a into A using temporaries tb and above.
func (c *compiler) arith(a arith, tb int) value {
	switch a := a.(type) {
	case *numArith:
		return value{konst: true, k: a.v}
	case *lenArith:
		return value{code: []Instruction{ins(opLdLen, 0)}}
	case *negArith:
		x := c.arith(a.x, tb)
		if x.konst {
			return value{konst: true, k: -x.k}
		}
		return value{code: append(x.code, ins(opNeg, 0)), zero: x.zero, guard: x.guard}
	case *binArith:
		return c.binary(a, tb)
	case *loadArith:
		return c.loadValue(a, tb)
	}
	c.fail(a.position(), "unexpected arithmetic expression")
	return value{}
}

func (c *compiler) binary(a *binArith, tb int) value {
	if v, ok := c.constOf(a); ok {
		return value{konst: true, k: v}
	}
	if r, ok := c.constOf(a.r); ok {
		c.checkLiteral(a)
		c.checkDivisor(a, r)
		if (a.op == aluLSH || a.op == aluRSH) && r > 31 {
			// the kernel refuses such a shift instruction; the result is 0
			l := c.arith(a.l, tb)
			return value{code: append(l.inA(), ins(opLdImm, 0)), zero: true, guard: l.guard}
		}
		l := c.arith(a.l, tb)
		zero := (a.op == aluAND || a.op == aluMUL) && r == 0 ||
			l.zero && a.op != aluADD && a.op != aluSUB && a.op != aluOR && a.op != aluXOR
		return value{code: append(l.inA(), ins(classALU|a.op|srcK, r)), zero: zero, guard: l.guard}
	}
	r := c.arith(a.r, tb)
	if r.zero {
		c.checkDivisor(a, 0)
	}
	// libpcap keeps only the left operand's guard (gen_arth), so an
	// accessor on the right of an operator loses its protocol check.
	if l, ok := c.constOf(a.l); ok && commutative(a.op) {
		zero := (a.op == aluAND || a.op == aluMUL) && (l == 0 || r.zero)
		return value{code: append(r.code, ins(classALU|a.op|srcK, l)), zero: zero}
	}
	t := c.tempSlot(tb)
	l := c.arith(a.l, tb+1)
	code := append(append(append([]Instruction{}, r.code...), ins(opSt, t)), l.inA()...)
	code = append(code, ins(opLdxMem, t), ins(classALU|a.op|srcX, 0))
	zero := (a.op == aluAND || a.op == aluMUL) && (l.zero || r.zero)
	return value{code: code, zero: zero, guard: l.guard}
}

// loadValue compiles proto[idx:size].
func (c *compiler) loadValue(a *loadArith, tb int) value {
	idx := c.arith(a.idx, tb)
	var guard gen
	var code []Instruction
	// at returns the code that loads at base+idx.
	at := func(base offset) []Instruction {
		if idx.konst {
			off := uint64(base.k) + uint64(idx.k)
			if off >= failOffset {
				return []Instruction{ins(opLdB, failOffset)}
			}
			return c.load(offset{k: uint32(off), reg: base.reg}, 0, a.size)
		}
		st := append([]Instruction{}, idx.code...)
		if base.reg >= 0 {
			st = append(st, ins(opLdxMem, uint32(base.reg)), ins(classALU|aluADD|srcX, 0))
		}
		return append(st, ins(opTax, 0), ins(indLoad[a.size], base.k))
	}
	switch a.proto {
	case kwLink:
		code = at(c.hdr())
		guard = idx.guard
	case kwIP, kwArp, kwRarp, kwIP6, kwDecnet, kwSca, kwLat, kwMoprc, kwMopdl:
		code = at(c.nl())
		guard = andAll(idx.guard, c.abbrev(a.pos, a.proto))
	case kwTCP, kwUDP, kwSCTP, kwICMP, kwIGMP, kwIGRP, kwPIM, kwVRRP, kwCARP:
		base := c.ls.linkpl.k + c.ls.nl
		if idx.konst {
			off := uint64(base) + uint64(idx.k)
			if off >= failOffset {
				code = []Instruction{ins(opLdB, failOffset)}
			} else {
				code = append(c.loadxIPHdrLen(), ins(indLoad[a.size], uint32(off)))
			}
		} else {
			t := c.tempSlot(tb)
			code = append(append([]Instruction{}, idx.code...), ins(opSt, t))
			code = append(code, c.loadxIPHdrLen()...)
			code = append(code, ins(opLdMem, t), ins(classALU|aluADD|srcX, 0), ins(opTax, 0), ins(indLoad[a.size], base))
		}
		// IPv4, then the protocol (either family, as libpcap writes it)
		// and "first fragment".
		g := gAnd(c.abbrev(a.pos, a.proto), c.notIPFragment())
		guard = andAll(c.abbrev(a.pos, kwIP), idx.guard, g)
	case kwICMP6:
		code = at(c.nl().plus(40))
		guard = andAll(idx.guard, c.abbrev(a.pos, kwIP6), c.eq(c.nl(), 6, 1, ipProtoICMPv6))
	default:
		c.fail(a.pos, "%s[...] is not supported (accessors exist for ether, ip, ip6, arp, rarp, tcp, udp, sctp, icmp, icmp6, igmp, igrp, pim, vrrp)", kwName(a.proto))
	}
	return value{code: code, guard: guard}
}

// relation compiles l op r; reversed negates only the comparison, inside
// the guards, as libpcap does for !=, < and <=.
func (c *compiler) relation(n *relNode) gen {
	var (
		code   []Instruction
		op     = classJMP | n.op
		k      uint32
		negate = n.reversed
		lg, rg gen
	)
	if rc, ok := c.constOf(n.r); ok {
		l := c.arith(n.l, 0)
		code, k, lg = l.inA(), rc, l.guard
	} else if lc, ok := c.constOf(n.l); ok {
		r := c.arith(n.r, 0)
		code, k, rg = r.code, lc, r.guard
		switch n.op { // swap the operands: c > r is not r >= c, c >= r is not r > c
		case jmpJGT:
			op, negate = classJMP|jmpJGE, !negate
		case jmpJGE:
			op, negate = classJMP|jmpJGT, !negate
		}
	} else {
		r := c.arith(n.r, 0)
		t := c.tempSlot(0)
		l := c.arith(n.l, 1)
		code = append(append(append([]Instruction{}, r.code...), ins(opSt, t)), l.inA()...)
		code = append(code, ins(opLdxMem, t))
		op |= srcX
		lg, rg = l.guard, r.guard
	}
	b := gTest(code, op, k)
	if negate {
		b = gNot(b)
	}
	if g := andAll(lg, rg); lg != nil || rg != nil {
		b = gAnd(g, b)
	}
	return b
}

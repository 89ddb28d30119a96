package filter

import "strings"

// parser is a recursive-descent parser for libpcap 1.10's filter grammar
// (grammar.y): and/or share one precedence level and associate to the left,
// not binds tighter, an id after and/or inherits the qualifiers of the term
// before it, and the arithmetic operators follow libpcap's precedence table,
// in which % and ^ have none (they take everything to their right).
type parser struct {
	toks  []tok
	i     int
	depth int // nesting levels open (MaxDepth)
}

// enter opens a nesting level at t; leave closes it. Every recursion of
// the parser that a longer input can repeat goes through enter, so the
// stack (and parenIsArith's look-ahead) stays bounded.
func (p *parser) enter(t tok) error {
	if p.depth++; p.depth > MaxDepth {
		return limitErrorf(t.pos, "nested deeper than %d levels (parentheses, not, brackets, unary minus, %% or ^); write the filter flatter", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parse returns the tree of expr, or nil for an empty expression.
func parse(expr string) (node, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return nil, nil
	}
	n, _, err := p.parseExpr(quals{})
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tOp && t.text == ")" {
			return nil, p.errAt(t, `unbalanced ")" (no "(" before it)`)
		}
		if isOp(t, "%") && p.i > 0 && p.toks[p.i-1].kind == tHID6 {
			return nil, p.errAt(t, "IPv6 zone indexes (%eth0) are not supported in filters; write the address alone")
		}
		return nil, p.errAt(t, "unexpected "+describe(t)+`; primitives must be joined with "and" or "or"`)
	}
	return n, nil
}

func (p *parser) peek() tok { return p.toks[p.i] }

func (p *parser) peekN(n int) tok {
	if p.i+n >= len(p.toks) {
		return p.toks[len(p.toks)-1]
	}
	return p.toks[p.i+n]
}

func (p *parser) next() tok {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t tok, msg string) error {
	return &SyntaxError{Col: t.pos + 1, Msg: msg}
}

func isOp(t tok, ops ...string) bool {
	if t.kind != tOp {
		return false
	}
	for _, o := range ops {
		if t.text == o {
			return true
		}
	}
	return false
}

func isKw(t tok, kws ...keyword) bool {
	if t.kind != tKeyword {
		return false
	}
	for _, k := range kws {
		if t.kw == k {
			return true
		}
	}
	return false
}

// describe names a token for error messages.
func describe(t tok) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tKeyword, tOp, tID, tHID, tHID6, tEID, tAID:
		return `"` + t.text + `"`
	case tNum:
		return "number " + t.text
	}
	return "token"
}

var pnames = map[keyword]bool{
	kwLink: true, kwIP: true, kwArp: true, kwRarp: true, kwSCTP: true, kwTCP: true, kwUDP: true,
	kwICMP: true, kwIGMP: true, kwIGRP: true, kwPIM: true, kwVRRP: true, kwCARP: true, kwAtalk: true,
	kwAarp: true, kwDecnet: true, kwLat: true, kwSca: true, kwMopdl: true, kwMoprc: true, kwIP6: true,
	kwICMP6: true, kwAH: true, kwESP: true, kwISO: true, kwESIS: true, kwISIS: true, kwL1: true,
	kwL2: true, kwIIH: true, kwLSP: true, kwSNP: true, kwPSNP: true, kwCSNP: true, kwCLNP: true,
	kwSTP: true, kwIPX: true, kwNetbeui: true, kwRadio: true,
}

func isPname(t tok) bool { return t.kind == tKeyword && pnames[t.kw] }

func isDqual(t tok) bool {
	return isKw(t, kwSrc, kwDst, kwAddr1, kwAddr2, kwAddr3, kwAddr4, kwRA, kwTA)
}

func isAqual(t tok) bool { return isKw(t, kwHost, kwNet, kwPort, kwPortrange) }

// isArithOp reports a binary arithmetic operator or a relation.
func isArithOp(t tok) bool {
	return isOp(t, "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", ">", "<", ">=", "<=", "=", "!=")
}

func isRelop(t tok) bool { return isOp(t, ">", "<", ">=", "<=", "=", "!=") }

// startsID reports a token that can only begin an id (an address or name).
func startsID(t tok) bool {
	switch t.kind {
	case tID, tHID, tHID6, tEID, tAID:
		return true
	}
	return false
}

// parseExpr parses expr := term { (and|or) (term|id) }. ctx is the
// qualifier set in force before the expression (for ids inside it and for
// a parenthesised term, which passes ctx on).
func (p *parser) parseExpr(ctx quals) (node, quals, error) {
	left, q, err := p.parseTerm(ctx)
	if err != nil {
		return nil, q, err
	}
	for {
		t := p.peek()
		if !isKw(t, kwAnd, kwOr) {
			return left, q, nil
		}
		p.next()
		if nt := p.peek(); nt.kind == tEOF || isOp(nt, ")") || isKw(nt, kwAnd, kwOr) {
			return nil, q, p.errAt(nt, "expected a primitive after "+describe(t)+", found "+describe(nt))
		}
		right, q2, err := p.parseTermOrID(q)
		if err != nil {
			return nil, q, err
		}
		if t.kw == kwAnd {
			left = &andNode{l: left, r: right, pos: t.pos}
		} else {
			left = &orNode{l: left, r: right, pos: t.pos}
		}
		q = q2
	}
}

// parseTermOrID parses what follows and/or: a term, or an id that inherits
// ctx (`host a or b`, `port 80 or (443 or 8080)`, `host a and not b`).
func (p *parser) parseTermOrID(ctx quals) (node, quals, error) {
	t := p.peek()
	switch {
	case startsID(t):
		n, err := p.parseID(ctx)
		return n, ctx, err
	case t.kind == tNum:
		if isArithOp(p.peekN(1)) {
			return p.parseTerm(ctx)
		}
		n, err := p.parseID(ctx)
		return n, ctx, err
	case isKw(t, kwNot) || isOp(t, "!"):
		if err := p.enter(t); err != nil {
			return nil, ctx, err
		}
		defer p.leave()
		p.next()
		x, q, err := p.parseTermOrID(ctx)
		if err != nil {
			return nil, q, err
		}
		return &notNode{x: x, pos: t.pos}, q, nil
	case isOp(t, "("):
		save := p.i
		p.next()
		if n, err := p.parseIDList(ctx); err == nil && isOp(p.peek(), ")") && !isArithOp(p.peekN(1)) {
			p.next()
			return n, ctx, nil
		}
		p.i = save
	}
	return p.parseTerm(ctx)
}

// parseTerm parses one term: not term, ( expr ), a qualified id, a
// protocol abbreviation, a relation, or a special primitive.
func (p *parser) parseTerm(ctx quals) (node, quals, error) {
	t := p.peek()
	none := quals{}
	switch {
	case isKw(t, kwNot) || isOp(t, "!"):
		if err := p.enter(t); err != nil {
			return nil, none, err
		}
		defer p.leave()
		p.next()
		if nt := p.peek(); nt.kind == tEOF || isOp(nt, ")") || isKw(nt, kwAnd, kwOr) {
			return nil, none, p.errAt(nt, `expected a primitive after "`+t.text+`", found `+describe(nt))
		}
		x, q, err := p.parseTerm(ctx)
		if err != nil {
			return nil, q, err
		}
		return &notNode{x: x, pos: t.pos}, q, nil
	case isOp(t, "("):
		if err := p.enter(t); err != nil {
			return nil, none, err
		}
		defer p.leave()
		if p.parenIsArith() {
			n, err := p.parseRelation()
			return n, none, err
		}
		p.next()
		if nt := p.peek(); isOp(nt, ")") {
			return nil, none, p.errAt(nt, `empty parentheses`)
		}
		n, _, err := p.parseExpr(ctx)
		if err != nil {
			return nil, none, err
		}
		if c := p.peek(); !isOp(c, ")") {
			return nil, none, p.errAt(c, `expected ")" to close the "(" at column `+itoa(t.pos+1)+", found "+describe(c))
		}
		p.next()
		return n, ctx, nil
	case t.kind == tNum || isKw(t, kwLen) || isOp(t, "-"):
		n, err := p.parseRelation()
		return n, none, err
	case isPname(t):
		nt := p.peekN(1)
		switch {
		case isOp(nt, "["):
			n, err := p.parseRelation()
			return n, none, err
		case isDqual(nt) || isAqual(nt) || isKw(nt, kwProto, kwProtochain, kwGateway):
			return p.parseHeadID()
		case isKw(nt, kwBroadcast, kwMulticast):
			p.next()
			p.next()
			return &specialNode{kind: nt.kw, proto: t.kw, pos: t.pos}, none, nil
		case isKw(nt, kwType, kwSubtype, kwDir):
			return nil, none, &SemanticError{Col: nt.pos + 1, Msg: "802.11 frame type and direction filters (" + nt.text + ") are not supported by fastop"}
		}
		p.next()
		return &abbrevNode{proto: t.kw, pos: t.pos}, none, nil
	case isDqual(t) || isAqual(t) || isKw(t, kwProto, kwProtochain, kwGateway):
		return p.parseHeadID()
	case isKw(t, kwBroadcast, kwMulticast, kwInbound, kwOutbound, kwPPPoED):
		p.next()
		return &specialNode{kind: t.kw, pos: t.pos}, none, nil
	case isKw(t, kwLess, kwGreater, kwIfindex):
		p.next()
		nt := p.peek()
		if nt.kind != tNum {
			return nil, none, p.errAt(nt, `expected a number after "`+t.text+`", found `+describe(nt))
		}
		p.next()
		return &specialNode{kind: t.kw, num: nt.num, hasNum: true, pos: nt.pos}, none, nil
	case isKw(t, kwVLAN, kwMPLS, kwPPPoES, kwGeneve):
		p.next()
		n := &specialNode{kind: t.kw, pos: t.pos}
		if nt := p.peek(); nt.kind == tNum || isOp(nt, "(") {
			n.pos = nt.pos
			v, err := p.parsePnum(t)
			if err != nil {
				return nil, none, err
			}
			n.num, n.hasNum = v, true
		}
		return n, none, nil
	case isKw(t, kwLLC):
		p.next()
		if nt := p.peek(); nt.kind == tID || isKw(nt, kwPfRnr) {
			return nil, none, &SemanticError{Col: nt.pos + 1, Msg: `LLC frame types ("llc ` + nt.text + `") are not supported by fastop`}
		}
		return &specialNode{kind: kwLLC, pos: t.pos}, none, nil
	case isKw(t, kwByte):
		return nil, none, &SemanticError{Col: t.pos + 1, Msg: `the obsolete "byte" primitive is not supported by fastop; write ether[N] op M`}
	case isKw(t, kwType, kwSubtype, kwDir):
		return nil, none, &SemanticError{Col: t.pos + 1, Msg: "802.11 frame type and direction filters (" + t.text + ") are not supported by fastop"}
	case isKw(t, kwLane, kwMetac, kwBcc, kwOam, kwOamf4, kwOamf4ec, kwOamf4sc, kwSc, kwIlmic, kwVpi, kwVci, kwConnectmsg, kwMetaconnect):
		return nil, none, &SemanticError{Col: t.pos + 1, Msg: `ATM filters ("` + t.text + `") are not supported by fastop`}
	case isKw(t, kwFisu, kwLssu, kwMsu, kwHfisu, kwHlssu, kwHmsu, kwSio, kwOpc, kwDpc, kwSls, kwHsio, kwHopc, kwHdpc, kwHsls):
		return nil, none, &SemanticError{Col: t.pos + 1, Msg: `SS7 MTP filters ("` + t.text + `") are not supported by fastop`}
	case isKw(t, kwPfIfname, kwPfRset, kwPfRnr, kwPfSrnr, kwPfReason, kwPfAction):
		return nil, none, &SemanticError{Col: t.pos + 1, Msg: `OpenBSD pf log filters ("` + t.text + `") are not supported by fastop`}
	case startsID(t):
		if t.kind == tID && !t.escaped {
			switch t.text {
			case "vxlan", "batadv":
				return nil, none, &SemanticError{Col: t.pos + 1, Msg: `"` + t.text + `" is not supported by fastop (it needs libpcap 1.11 or later)`}
			}
			if kw, ok := keywords[strings.ToLower(t.text)]; ok && kw != kwNone {
				return nil, none, p.errAt(t, `keywords are lower case: write "`+strings.ToLower(t.text)+`", not "`+t.text+`"`)
			}
		}
		return nil, none, p.errAt(t, describe(t)+" needs a qualifier in front of it, e.g. host, net or port")
	case t.kind == tEOF:
		return nil, none, p.errAt(t, "unexpected end of expression; expected a primitive")
	}
	return nil, none, p.errAt(t, "unexpected "+describe(t)+"; expected a primitive (host, net, port, tcp, …), a comparison or \"(\"")
}

// parenIsArith decides whether the "(" at the current position opens an
// arithmetic expression (its ")" is followed by an operator or a
// relation) rather than a boolean one.
func (p *parser) parenIsArith() bool {
	depth := 0
	for j := p.i; j < len(p.toks); j++ {
		t := p.toks[j]
		switch {
		case isOp(t, "("):
			depth++
		case isOp(t, ")"):
			depth--
			if depth == 0 {
				return j+1 < len(p.toks) && isArithOp(p.toks[j+1])
			}
		case t.kind == tEOF:
			return false
		}
	}
	return false
}

// parsePnum parses pnum := NUM | "(" pnum ")".
func (p *parser) parsePnum(after tok) (uint32, error) {
	t := p.peek()
	if isOp(t, "(") {
		p.next()
		v, err := p.parsePnum(after)
		if err != nil {
			return 0, err
		}
		if c := p.peek(); !isOp(c, ")") {
			return 0, p.errAt(c, `expected ")", found `+describe(c))
		}
		p.next()
		return v, nil
	}
	if t.kind != tNum {
		return 0, p.errAt(t, `expected a number after "`+after.text+`", found `+describe(t))
	}
	p.next()
	return t.num, nil
}

// parseHeadID parses head id, where head is [pname] [dir] [type] or
// [pname] proto|protochain|gateway.
func (p *parser) parseHeadID() (node, quals, error) {
	q := quals{ok: true}
	last := p.peek()
	if t := p.peek(); isPname(t) {
		q.proto = t.kw
		p.next()
	}
	if t := p.peek(); isKw(t, kwProto, kwProtochain, kwGateway) {
		p.next()
		last = t
		q.addr = map[keyword]qualAddr{kwProto: addrProto, kwProtochain: addrProtochain, kwGateway: addrGateway}[t.kw]
	} else {
		if t := p.peek(); isDqual(t) {
			last = t
			p.next()
			q.dir = map[keyword]qualDir{kwSrc: dirSrc, kwDst: dirDst, kwAddr1: dirAddr1, kwAddr2: dirAddr2,
				kwAddr3: dirAddr3, kwAddr4: dirAddr4, kwRA: dirRA, kwTA: dirTA}[t.kw]
			if t.kw == kwSrc || t.kw == kwDst {
				other := kwDst
				if t.kw == kwDst {
					other = kwSrc
				}
				if c := p.peek(); isKw(c, kwAnd, kwOr) && isKw(p.peekN(1), other) {
					p.next()
					last = p.next()
					q.dir = dirOr
					if c.kw == kwAnd {
						q.dir = dirAnd
					}
				}
			}
		}
		if t := p.peek(); isAqual(t) {
			last = t
			p.next()
			q.addr = map[keyword]qualAddr{kwHost: addrHost, kwNet: addrNet, kwPort: addrPort, kwPortrange: addrPortrange}[t.kw]
		}
	}
	if t := p.peek(); t.kind == tEOF || isKw(t, kwAnd, kwOr) || isOp(t, ")") {
		return nil, q, p.errAt(t, "expected "+idWant(q)+` after "`+last.text+`", found `+describe(t))
	}
	n, err := p.parseID(q)
	return n, q, err
}

// idWant says what kind of id the qualifiers ask for.
func idWant(q quals) string {
	switch q.addr {
	case addrPort:
		return "a port number or service name"
	case addrPortrange:
		return "a port range like 1024-2048"
	case addrProto, addrProtochain:
		return "a protocol number or escaped name like \\tcp"
	case addrNet:
		return "a network like 10.0.0.0/8"
	}
	return "an address or host name"
}

// parseID parses id := nid | pnum | "(" idlist ")" | not id, with
// qualifiers q (given or inherited).
func (p *parser) parseID(q quals) (node, error) {
	t := p.peek()
	if !q.ok && (startsID(t) || t.kind == tNum) {
		return nil, p.errAt(t, describe(t)+` has no qualifier to inherit (a protocol name, comparison or special primitive before "and"/"or" passes none on); write host, net or port in front of it`)
	}
	switch {
	case isKw(t, kwNot) || isOp(t, "!"):
		p.next()
		x, err := p.parseID(q)
		if err != nil {
			return nil, err
		}
		return &notNode{x: x, pos: t.pos}, nil
	case isOp(t, "("):
		p.next()
		n, err := p.parseIDList(q)
		if err != nil {
			return nil, err
		}
		if c := p.peek(); !isOp(c, ")") {
			return nil, p.errAt(c, `expected ")" to close the "(" at column `+itoa(t.pos+1)+", found "+describe(c))
		}
		p.next()
		return n, nil
	case t.kind == tNum:
		p.next()
		return &idNode{q: q, kind: tNum, text: t.text, num: t.num, prefix: -1, pos: t.pos}, nil
	case t.kind == tHID || t.kind == tHID6:
		p.next()
		n := &idNode{q: q, kind: t.kind, text: t.text, prefix: -1, pos: t.pos}
		if s := p.peek(); isOp(s, "/") {
			p.next()
			l := p.peek()
			if l.kind != tNum {
				return nil, p.errAt(l, `expected a prefix length after "/", found `+describe(l))
			}
			p.next()
			if l.num > 128 {
				l.num = 129 // reported as out of range by codegen
			}
			n.prefix = int(l.num)
		} else if t.kind == tHID && isKw(s, kwMask) {
			p.next()
			m := p.peek()
			if m.kind != tHID {
				return nil, p.errAt(m, `expected an IPv4 netmask like 255.255.0.0 after "mask", found `+describe(m))
			}
			p.next()
			n.mask = m.text
		}
		return n, nil
	case t.kind == tEID || t.kind == tAID || t.kind == tID:
		p.next()
		return &idNode{q: q, kind: t.kind, text: t.text, escaped: t.escaped, prefix: -1, pos: t.pos}, nil
	}
	return nil, p.errAt(t, "expected "+idWant(q)+", found "+describe(t))
}

// parseIDList parses id { (and|or) id } inside parentheses.
func (p *parser) parseIDList(q quals) (node, error) {
	left, err := p.parseID(q)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if !isKw(t, kwAnd, kwOr) {
			return left, nil
		}
		p.next()
		right, err := p.parseID(q)
		if err != nil {
			return nil, err
		}
		if t.kw == kwAnd {
			left = &andNode{l: left, r: right, pos: t.pos}
		} else {
			left = &orNode{l: left, r: right, pos: t.pos}
		}
	}
}

// parseRelation parses arith relop arith.
func (p *parser) parseRelation() (node, error) {
	start := p.peek()
	l, err := p.parseArith(0)
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if num, ok := l.(*numArith); ok && !isRelop(t) && (t.kind == tEOF || isKw(t, kwAnd, kwOr) || isOp(t, ")")) {
		return nil, p.errAt(start, "number "+itoa(int(num.v))+" needs a qualifier in front of it (port, net, host, proto …) or a comparison after it")
	}
	if !isRelop(t) {
		return nil, p.errAt(t, "expected a comparison (=, !=, <, <=, >, >=) after the arithmetic expression, found "+describe(t))
	}
	p.next()
	r, err := p.parseArith(0)
	if err != nil {
		return nil, err
	}
	n := &relNode{l: l, r: r, pos: start.pos}
	switch t.text {
	case ">":
		n.op = jmpJGT
	case ">=":
		n.op = jmpJGE
	case "=":
		n.op = jmpJEQ
	case "<=":
		n.op, n.reversed = jmpJGT, true
	case "<":
		n.op, n.reversed = jmpJGE, true
	case "!=":
		n.op, n.reversed = jmpJEQ, true
	}
	return n, nil
}

// Binary operator precedence (libpcap grammar.y); % and ^ are absent on
// purpose.
var arithPrec = map[string]int{"|": 1, "&": 2, "<<": 3, ">>": 3, "+": 4, "-": 4, "*": 5, "/": 5}

const precUnary = 6

var arithOps = map[string]uint16{"+": aluADD, "-": aluSUB, "*": aluMUL, "/": aluDIV, "%": aluMOD,
	"&": aluAND, "|": aluOR, "^": aluXOR, "<<": aluLSH, ">>": aluRSH}

func (p *parser) parseArith(minPrec int) (arith, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != tOp {
			return left, nil
		}
		if t.text == "%" || t.text == "^" {
			// No precedence: yacc shifts, so the operator takes the whole
			// arithmetic expression to its right.
			if err := p.enter(t); err != nil {
				return nil, err
			}
			p.next()
			r, err := p.parseArith(0)
			p.leave()
			if err != nil {
				return nil, err
			}
			left = &binArith{op: arithOps[t.text], l: left, r: r, pos: t.pos}
			continue
		}
		prec, ok := arithPrec[t.text]
		if !ok || prec < minPrec {
			return left, nil
		}
		p.next()
		r, err := p.parseArith(prec + 1)
		if err != nil {
			return nil, err
		}
		left = &binArith{op: arithOps[t.text], l: left, r: r, pos: t.pos}
	}
}

func (p *parser) parseUnary() (arith, error) {
	t := p.peek()
	if isOp(t, "-", "(") || isPname(t) {
		if err := p.enter(t); err != nil {
			return nil, err
		}
		defer p.leave()
	}
	switch {
	case isOp(t, "-"):
		p.next()
		x, err := p.parseArith(precUnary)
		if err != nil {
			return nil, err
		}
		return &negArith{x: x, pos: t.pos}, nil
	case t.kind == tNum:
		p.next()
		return &numArith{v: t.num, pos: t.pos}, nil
	case isKw(t, kwLen):
		p.next()
		return &lenArith{pos: t.pos}, nil
	case isOp(t, "("):
		p.next()
		x, err := p.parseArith(0)
		if err != nil {
			return nil, err
		}
		if c := p.peek(); !isOp(c, ")") {
			return nil, p.errAt(c, `expected ")" to close the "(" at column `+itoa(t.pos+1)+", found "+describe(c))
		}
		p.next()
		return x, nil
	case isPname(t):
		p.next()
		if b := p.peek(); !isOp(b, "[") {
			return nil, p.errAt(b, `expected "[" after "`+t.text+`" in an arithmetic expression, found `+describe(b))
		}
		p.next()
		idx, err := p.parseArith(0)
		if err != nil {
			return nil, err
		}
		n := &loadArith{proto: t.kw, idx: idx, size: 1, pos: t.pos}
		if c := p.peek(); isOp(c, ":") {
			p.next()
			s := p.peek()
			if s.kind != tNum {
				return nil, p.errAt(s, `expected a size (1, 2 or 4) after ":", found `+describe(s))
			}
			p.next()
			if s.num != 1 && s.num != 2 && s.num != 4 {
				return nil, &SemanticError{Col: s.pos + 1, Msg: "data size must be 1, 2, or 4, not " + s.text}
			}
			n.size = s.num
		}
		if c := p.peek(); !isOp(c, "]") {
			return nil, p.errAt(c, `expected "]" to close the "[" of "`+t.text+`[", found `+describe(c))
		}
		p.next()
		return n, nil
	}
	return nil, p.errAt(t, "expected a number, len, proto[offset] or \"(\" in the arithmetic expression, found "+describe(t))
}

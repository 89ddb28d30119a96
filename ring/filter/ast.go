package filter

// The parser builds this tree; codegen walks it in source order (the order
// matters: vlan, mpls and pppoes shift the offsets of everything written
// after them, as in libpcap).

// Direction qualifiers.
type qualDir uint8

const (
	dirDefault qualDir = iota // src or dst
	dirSrc
	dirDst
	dirOr  // src or dst, written out
	dirAnd // src and dst
	dirAddr1
	dirAddr2
	dirAddr3
	dirAddr4
	dirRA
	dirTA
)

// Address-type qualifiers.
type qualAddr uint8

const (
	addrDefault qualAddr = iota // host
	addrHost
	addrNet
	addrPort
	addrPortrange
	addrProto
	addrProtochain
	addrGateway
)

// quals are the qualifiers of a primitive; proto is a protocol keyword or
// kwNone. ok is false for "nothing to inherit" (after a protocol
// abbreviation, a relation or a special primitive).
type quals struct {
	proto keyword
	dir   qualDir
	addr  qualAddr
	ok    bool
}

type node interface{ position() int }

type andNode struct {
	l, r node
	pos  int
}

type orNode struct {
	l, r node
	pos  int
}

type notNode struct {
	x   node
	pos int
}

// idNode is an identifier with its qualifiers (`host 1.2.3.4`, `port ssh`,
// or an id that inherited them: the `b` of `host a or b`).
type idNode struct {
	q       quals
	kind    tokKind // tNum, tID, tHID, tHID6, tEID, tAID
	text    string
	num     uint32
	escaped bool
	prefix  int    // /len, -1 when absent
	mask    string // "mask a.b.c.d", "" when absent
	pos     int
}

// abbrevNode is a protocol abbreviation: `tcp`, `ip6`, `arp` …
type abbrevNode struct {
	proto keyword
	pos   int
}

// relNode is `arith relop arith`. op is jmpJEQ, jmpJGT or jmpJGE; reversed
// marks != (not =), <= (not >) and < (not >=).
type relNode struct {
	op       uint16
	reversed bool
	l, r     arith
	pos      int
}

// specialNode covers the primitives with their own syntax: broadcast,
// multicast, less, greater, inbound, outbound, ifindex, vlan, mpls,
// pppoed, pppoes, geneve, llc.
type specialNode struct {
	kind   keyword
	proto  keyword // broadcast / multicast qualifier
	num    uint32
	hasNum bool
	pos    int
}

func (n *andNode) position() int     { return n.pos }
func (n *orNode) position() int      { return n.pos }
func (n *notNode) position() int     { return n.pos }
func (n *idNode) position() int      { return n.pos }
func (n *abbrevNode) position() int  { return n.pos }
func (n *relNode) position() int     { return n.pos }
func (n *specialNode) position() int { return n.pos }

// Arithmetic expressions.
type arith interface{ position() int }

type numArith struct {
	v   uint32
	pos int
}

type lenArith struct{ pos int }

// loadArith is proto[idx : size].
type loadArith struct {
	proto keyword
	idx   arith
	size  uint32
	pos   int
}

// binArith is l op r with op one of the alu* constants.
type binArith struct {
	op   uint16
	l, r arith
	pos  int
}

type negArith struct {
	x   arith
	pos int
}

func (a *numArith) position() int  { return a.pos }
func (a *lenArith) position() int  { return a.pos }
func (a *loadArith) position() int { return a.pos }
func (a *binArith) position() int  { return a.pos }
func (a *negArith) position() int  { return a.pos }

// sexpr renders a tree as an S-expression, for tests and debugging.
func sexpr(n any) string {
	switch n := n.(type) {
	case nil:
		return "()"
	case *andNode:
		return "(and " + sexpr(n.l) + " " + sexpr(n.r) + ")"
	case *orNode:
		return "(or " + sexpr(n.l) + " " + sexpr(n.r) + ")"
	case *notNode:
		return "(not " + sexpr(n.x) + ")"
	case *idNode:
		s := "(id"
		if n.q.proto != kwNone {
			s += " " + kwName(n.q.proto)
		}
		s += " " + [...]string{"", "src", "dst", "src-or-dst", "src-and-dst", "addr1", "addr2", "addr3", "addr4", "ra", "ta"}[n.q.dir]
		s += " " + [...]string{"", "host", "net", "port", "portrange", "proto", "protochain", "gateway"}[n.q.addr]
		s += " " + n.text
		if n.prefix >= 0 {
			s += "/" + itoa(n.prefix)
		}
		if n.mask != "" {
			s += " mask " + n.mask
		}
		return s + ")"
	case *abbrevNode:
		return kwName(n.proto)
	case *specialNode:
		s := "(" + kwName(n.kind)
		if n.proto != kwNone {
			s += " " + kwName(n.proto)
		}
		if n.hasNum {
			s += " " + itoa(int(n.num))
		}
		return s + ")"
	case *relNode:
		op := map[uint16]string{jmpJEQ: "=", jmpJGT: ">", jmpJGE: ">="}[n.op]
		if n.reversed {
			op = map[uint16]string{jmpJEQ: "!=", jmpJGT: "<=", jmpJGE: "<"}[n.op]
		}
		return "(" + op + " " + sexpr(n.l) + " " + sexpr(n.r) + ")"
	case *numArith:
		return itoa(int(n.v))
	case *lenArith:
		return "len"
	case *loadArith:
		return kwName(n.proto) + "[" + sexpr(n.idx) + ":" + itoa(int(n.size)) + "]"
	case *binArith:
		return "(" + aluNames[n.op] + " " + sexpr(n.l) + " " + sexpr(n.r) + ")"
	case *negArith:
		return "(neg " + sexpr(n.x) + ")"
	}
	return "?"
}

// kwName returns the canonical spelling of a keyword.
func kwName(k keyword) string {
	if k == kwLink {
		return "ether"
	}
	best := ""
	for s, v := range keywords {
		if v == k && (best == "" || len(s) < len(best) || len(s) == len(best) && s < best) {
			best = s
		}
	}
	return best
}

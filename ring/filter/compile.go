package filter

import (
	"errors"
	"fmt"

	"github.com/fastop/fastop/decode"
)

// DefaultSnaplen is the accept value when Options.Snaplen is 0 (tcpdump's
// default snapshot length).
const DefaultSnaplen = 262144

// Options say what the program will run on.
type Options struct {
	// Link is the link type of the frames: Ethernet, LINUX_SLL,
	// LINUX_SLL2, RAW, IPV4, IPV6, NULL or LOOP.
	Link decode.LinkType
	// Live compiles for a Linux AF_PACKET socket rather than a file: the
	// kernel has moved the outer VLAN tag of received frames into
	// metadata, so `vlan` uses the ancillary loads; inbound, outbound
	// and ifindex use the socket's metadata; and NULL's IPv6 test uses
	// Linux's AF_INET6 instead of the BSD values found in files.
	// Live programs suit SOCK_RAW sockets (Ethernet, raw IP). A cooked
	// SOCK_DGRAM socket (LINUX_SLL/SLL2, the "any" device) has no cooked
	// header in its data: libpcap rewrites such programs to ancillary
	// loads before attaching them, and fastop does not.
	Live bool
	// Snaplen is the value an accepting program returns (the number of
	// bytes to keep); 0 means DefaultSnaplen.
	Snaplen uint32
	// IPOnly compiles "(expr) and (ip or ip6)": fastop, like iftop,
	// counts only IP traffic whatever the filter says.
	IPOnly bool
	// Names resolves service, protocol, host and ethers names; nil means
	// NewSystemNames().
	Names Names
	// Neighbors finds the MAC address of a `gateway` given by address
	// (or by a name that /etc/ethers lacks); nil means none is known.
	Neighbors Neighbors
	// Netmask is the IPv4 netmask of the capture interface, for
	// `ip broadcast`; 0 means unknown, and then only 255.255.255.255 and
	// 0.0.0.0 count as broadcast (tcpdump's behaviour on files).
	Netmask uint32
	// NullBigEndian says that a NULL capture's 4-byte address family is
	// big-endian (a file written on a big-endian host); the default is
	// little-endian.
	NullBigEndian bool
	// NoOptimize skips the optimiser (for tests and for comparing with
	// libpcap's unoptimised `tcpdump -O -d` output).
	NoOptimize bool
}

// ErrRejectsAll is wrapped by Compile when the expression can never match
// (for example `tcp and udp`, or `arp` on a raw-IP link).
var ErrRejectsAll = errors.New("expression rejects all packets")

// ErrTooComplex is wrapped by Compile when the program exceeds the
// kernel's limits (4096 instructions, 16 scratch slots).
var ErrTooComplex = errors.New("filter too complex")

// Compile compiles a pcap-filter expression (tcpdump's filter language,
// as libpcap 1.10 reads it) to classic BPF. An empty expression accepts
// every frame. The program passes Validate, so Linux accepts it with
// SO_ATTACH_FILTER, and NewVM runs it on frames read from files.
//
// Errors are *SyntaxError or *SemanticError (both give the column), or
// wrap ErrRejectsAll or ErrTooComplex.
func Compile(expr string, opt Options) (prog Program, err error) {
	tree, err := parse(expr)
	if err != nil {
		return nil, err
	}
	ls, ok := newLinkState(opt.Link)
	if !ok {
		return nil, fmt.Errorf("filter: link type %d is not supported (fastop compiles filters for Ethernet, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL and LOOP)", opt.Link)
	}
	if opt.Names == nil {
		opt.Names = NewSystemNames()
	}
	if opt.Snaplen == 0 {
		opt.Snaplen = DefaultSnaplen
	}
	c := &compiler{opt: opt, names: opt.Names, ls: ls}
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(compileError)
			if !ok {
				panic(r)
			}
			prog, err = nil, ce.err
		}
	}()
	g := gTrue()
	if tree != nil {
		g = c.walk(tree)
	}
	if opt.IPOnly {
		g = gAnd(g, gOr(c.abbrev(0, kwIP), c.abbrev(0, kwIP6)))
	}
	if c.perm+c.maxTemps > memWords {
		return nil, fmt.Errorf("filter: %w: the arithmetic needs more than %d scratch slots", ErrTooComplex, memWords)
	}
	accept := &block{kind: bkRet, ret: opt.Snaplen}
	reject := &block{kind: bkRet}
	root := g(accept, reject)
	if len(c.zero) > 0 {
		st := []Instruction{ins(opLdImm, 0)}
		for _, r := range c.zero {
			st = append(st, ins(opSt, uint32(r)))
		}
		root = &block{stmts: st, kind: bkGoto, t: root, effect: true}
	}
	// The optimiser's time grows faster than the program; a program this
	// large would not fit MaxInstructions anyway.
	if n := len(topo(root)); n > MaxBlocks {
		return nil, &limitError{msg: fmt.Sprintf("the expression makes %d branches before optimising, more than fastop's limit of %d; shorten it (one this large would not fit the kernel's %d instructions)", n, MaxBlocks, MaxInstructions)}
	}
	if !opt.NoOptimize {
		root = optimize(root)
	}
	if root.kind == bkRet && root.ret == 0 && tree != nil {
		return nil, fmt.Errorf("filter: %w (look for contradictions such as \"tcp and udp\"; vlan, mpls and pppoes move the offsets of everything written after them, so write them first)", ErrRejectsAll)
	}
	prog = layout(root)
	if len(prog) > MaxInstructions {
		return nil, fmt.Errorf("filter: %w: %d instructions, the kernel allows at most %d", ErrTooComplex, len(prog), MaxInstructions)
	}
	if err := prog.Validate(); err != nil {
		return nil, fmt.Errorf("filter: internal error, the compiled program is invalid: %w", err)
	}
	return prog, nil
}

// IPOnly returns a program that accepts IPv4 and IPv6 frames of the
// link type, what fastop counts when no filter is given. For a link type
// Compile does not support it returns a program that rejects everything.
func IPOnly(opt Options) Program {
	opt.IPOnly = true
	p, err := Compile("", opt)
	if err != nil {
		return Program{{Op: opRetK, K: 0}}
	}
	return p
}

// walk generates code for the tree in source order.
func (c *compiler) walk(n node) gen {
	switch n := n.(type) {
	case *andNode:
		l := c.walk(n.l)
		return gAnd(l, c.walk(n.r))
	case *orNode:
		l := c.walk(n.l)
		return gOr(l, c.walk(n.r))
	case *notNode:
		return gNot(c.walk(n.x))
	case *idNode:
		return c.id(n)
	case *abbrevNode:
		return c.abbrev(n.pos, n.proto)
	case *relNode:
		return c.relation(n)
	case *specialNode:
		return c.special(n)
	}
	c.fail(n.position(), "unexpected expression")
	return nil
}

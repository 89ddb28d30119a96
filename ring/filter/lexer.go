package filter

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// tokKind classifies a token the way libpcap's scanner does: keywords are
// lower-case only, and among patterns the longest match wins, ties going to
// the earlier rule (flex semantics).
type tokKind uint8

const (
	tEOF     tokKind = iota
	tNum             // number, also the named constants (tcpflags, tcp-syn …)
	tID              // a name: host, service, protocol …
	tHID             // IPv4 address or a short form (N.N, N.N.N)
	tHID6            // IPv6 address
	tEID             // MAC address
	tAID             // ARCnet address ($xx)
	tKeyword         // see tok.kw
	tOp              // operator or punctuation, see tok.text
)

// tok is one token. pos is its byte offset in the expression.
type tok struct {
	kind    tokKind
	pos     int
	text    string
	num     uint32
	kw      keyword
	escaped bool // an ID written with a leading backslash (\tcp)
	literal bool // a number written with digits (not a named constant)
}

type keyword uint8

const (
	kwNone keyword = iota
	kwDst
	kwSrc
	kwLink // link ether ppp slip fddi tr wlan
	kwArp
	kwRarp
	kwIP
	kwSCTP
	kwTCP
	kwUDP
	kwICMP
	kwIGMP
	kwIGRP
	kwPIM
	kwVRRP
	kwCARP
	kwRadio
	kwIP6
	kwICMP6
	kwAH
	kwESP
	kwAtalk
	kwAarp
	kwDecnet
	kwLat
	kwSca
	kwMoprc
	kwMopdl
	kwISO
	kwESIS
	kwISIS
	kwL1
	kwL2
	kwIIH
	kwLSP
	kwSNP
	kwCSNP
	kwPSNP
	kwCLNP
	kwSTP
	kwIPX
	kwNetbeui
	kwHost
	kwNet
	kwMask
	kwPort
	kwPortrange
	kwProto
	kwProtochain
	kwGateway
	kwType
	kwSubtype
	kwDir
	kwAddr1
	kwAddr2
	kwAddr3
	kwAddr4
	kwRA
	kwTA
	kwLess
	kwGreater
	kwByte
	kwBroadcast
	kwMulticast
	kwAnd
	kwOr
	kwNot
	kwLen
	kwInbound
	kwOutbound
	kwIfindex
	kwVLAN
	kwMPLS
	kwPPPoED
	kwPPPoES
	kwGeneve
	kwLane
	kwLLC
	kwMetac
	kwBcc
	kwOam
	kwOamf4
	kwOamf4ec
	kwOamf4sc
	kwSc
	kwIlmic
	kwVpi
	kwVci
	kwConnectmsg
	kwMetaconnect
	kwPfIfname
	kwPfRset
	kwPfRnr
	kwPfSrnr
	kwPfReason
	kwPfAction
	kwFisu
	kwLssu
	kwMsu
	kwHfisu
	kwHlssu
	kwHmsu
	kwSio
	kwOpc
	kwDpc
	kwSls
	kwHsio
	kwHopc
	kwHdpc
	kwHsls
)

// keywords of libpcap 1.10's scanner.
var keywords = map[string]keyword{
	"dst": kwDst, "src": kwSrc,
	"link": kwLink, "ether": kwLink, "ppp": kwLink, "slip": kwLink, "fddi": kwLink, "tr": kwLink, "wlan": kwLink,
	"arp": kwArp, "rarp": kwRarp, "ip": kwIP, "sctp": kwSCTP, "tcp": kwTCP, "udp": kwUDP, "icmp": kwICMP,
	"igmp": kwIGMP, "igrp": kwIGRP, "pim": kwPIM, "vrrp": kwVRRP, "carp": kwCARP, "radio": kwRadio,
	"ip6": kwIP6, "icmp6": kwICMP6, "ah": kwAH, "esp": kwESP, "atalk": kwAtalk, "aarp": kwAarp,
	"decnet": kwDecnet, "lat": kwLat, "sca": kwSca, "moprc": kwMoprc, "mopdl": kwMopdl,
	"iso": kwISO, "esis": kwESIS, "es-is": kwESIS, "isis": kwISIS, "is-is": kwISIS, "l1": kwL1, "l2": kwL2,
	"iih": kwIIH, "lsp": kwLSP, "snp": kwSNP, "csnp": kwCSNP, "psnp": kwPSNP, "clnp": kwCLNP,
	"stp": kwSTP, "ipx": kwIPX, "netbeui": kwNetbeui,
	"host": kwHost, "net": kwNet, "mask": kwMask, "port": kwPort, "portrange": kwPortrange,
	"proto": kwProto, "protochain": kwProtochain, "gateway": kwGateway,
	"type": kwType, "subtype": kwSubtype, "direction": kwDir, "dir": kwDir,
	"address1": kwAddr1, "addr1": kwAddr1, "address2": kwAddr2, "addr2": kwAddr2,
	"address3": kwAddr3, "addr3": kwAddr3, "address4": kwAddr4, "addr4": kwAddr4, "ra": kwRA, "ta": kwTA,
	"less": kwLess, "greater": kwGreater, "byte": kwByte, "broadcast": kwBroadcast, "multicast": kwMulticast,
	"and": kwAnd, "&&": kwAnd, "or": kwOr, "||": kwOr, "not": kwNot, "len": kwLen, "length": kwLen,
	"inbound": kwInbound, "outbound": kwOutbound, "ifindex": kwIfindex, "vlan": kwVLAN, "mpls": kwMPLS,
	"pppoed": kwPPPoED, "pppoes": kwPPPoES, "geneve": kwGeneve,
	"lane": kwLane, "llc": kwLLC, "metac": kwMetac, "bcc": kwBcc, "oam": kwOam, "oamf4": kwOamf4,
	"oamf4ec": kwOamf4ec, "oamf4sc": kwOamf4sc, "sc": kwSc, "ilmic": kwIlmic, "vpi": kwVpi, "vci": kwVci,
	"connectmsg": kwConnectmsg, "metaconnect": kwMetaconnect,
	"on": kwPfIfname, "ifname": kwPfIfname, "rset": kwPfRset, "ruleset": kwPfRset, "rnr": kwPfRnr,
	"rulenum": kwPfRnr, "srnr": kwPfSrnr, "subrulenum": kwPfSrnr, "reason": kwPfReason, "action": kwPfAction,
	"fisu": kwFisu, "lssu": kwLssu, "lsu": kwLssu, "msu": kwMsu, "hfisu": kwHfisu, "hlssu": kwHlssu,
	"hmsu": kwHmsu, "sio": kwSio, "opc": kwOpc, "dpc": kwDpc, "sls": kwSls, "hsio": kwHsio, "hopc": kwHopc,
	"hdpc": kwHdpc, "hsls": kwHsls,
}

// numberNames are the scanner's named constants (field offsets and flag
// values); they are plain numbers valid in any arithmetic position.
var numberNames = map[string]uint32{
	"icmptype": 0, "icmpcode": 1,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5, "icmp-echo": 8,
	"icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11, "icmp-paramprob": 12,
	"icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15, "icmp-ireqreply": 16,
	"icmp-maskreq": 17, "icmp-maskreply": 18,
	"icmp6type": 0, "icmp6code": 1,
	"icmp6-destinationunreach": 1, "icmp6-packettoobig": 2, "icmp6-timeexceeded": 3,
	"icmp6-parameterproblem": 4, "icmp6-echo": 128, "icmp6-echoreply": 129,
	"icmp6-multicastlistenerquery": 130, "icmp6-multicastlistenerreportv1": 131,
	"icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133, "icmp6-routeradvert": 134,
	"icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136, "icmp6-redirect": 137,
	"icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139, "icmp6-nodeinformationresponse": 140,
	"icmp6-ineighbordiscoverysolicit": 141, "icmp6-ineighbordiscoveryadvert": 142,
	"icmp6-multicastlistenerreportv2": 143, "icmp6-homeagentdiscoveryrequest": 144,
	"icmp6-homeagentdiscoveryreply": 145, "icmp6-mobileprefixsolicit": 146,
	"icmp6-mobileprefixadvert": 147, "icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149,
	"icmp6-multicastrouteradvert": 151, "icmp6-multicastroutersolicit": 152,
	"icmp6-multicastrouterterm": 153,
	"tcpflags":                  13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}

// Patterns of the scanner, anchored at the current position; each is
// matched leftmost-longest.
var (
	reNum   = mustLongest(`^(?:[0-9]+|0[xX][0-9A-Fa-f]+)`)
	reHID   = mustLongest(`^(?:N\.N|N\.N\.N|N\.N\.N\.N)`)
	reMAC   = mustLongest(`^(?:B:B:B:B:B:B|B-B-B-B-B-B|B\.B\.B\.B\.B\.B|Q\.Q\.Q|QQQ)`)
	reBogus = mustLongest(`^B:+(?:B:+)+`)
	reAID   = mustLongest(`^\$B`)
	reID    = mustLongest(`^[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?`)
	reEsc   = mustLongest(`^\\[^ !()\n\t]+`)
	reV6Run = mustLongest(`^[0-9A-Fa-f:.]+`)
)

func mustLongest(p string) *regexp.Regexp {
	p = strings.NewReplacer(
		"N", `(?:[0-9]+|0[xX][0-9A-Fa-f]+)`,
		"B", `[0-9A-Fa-f][0-9A-Fa-f]?`,
		"Q", `[0-9A-Fa-f]{4}`,
	).Replace(p)
	re := regexp.MustCompile(p)
	re.Longest()
	return re
}

// SyntaxError is a compile error that points at a column of the expression.
type SyntaxError struct {
	Col int    // 1-based column (byte offset + 1)
	Msg string // what went wrong and, where possible, how to fix it
}

func (e *SyntaxError) Error() string {
	return "filter: syntax error at column " + itoa(e.Col) + ": " + e.Msg
}

// Limits on what Compile reads, so that a hostile or mistaken expression
// gets an answer at once instead of minutes of parsing and optimising.
// Each token of a useful filter costs the kernel about half an instruction
// or more, so MaxTokens is beyond what fits in MaxInstructions; MaxDepth is
// far beyond what anyone writes.
const (
	MaxTokens = 16384 // words, numbers and operators in one expression
	MaxDepth  = 256   // nesting of parentheses, not, brackets, unary minus, % and ^
	MaxBlocks = 16384 // branches of the program before it is optimised
)

// ErrLimit is wrapped by Compile when an expression exceeds MaxTokens,
// MaxDepth or MaxBlocks. It wraps ErrTooComplex.
var ErrLimit = fmt.Errorf("%w for fastop's limits", ErrTooComplex)

// limitError is an ErrLimit error at a column of the expression (0: none).
type limitError struct {
	col int
	msg string
}

func limitErrorf(pos int, format string, args ...any) error {
	return &limitError{col: pos + 1, msg: fmt.Sprintf(format, args...)}
}

func (e *limitError) Error() string {
	if e.col == 0 {
		return "filter: " + e.msg
	}
	return "filter: column " + itoa(e.col) + ": " + e.msg
}

func (e *limitError) Unwrap() error { return ErrLimit }

// SemanticError is a compile error about a well-formed expression (an
// unknown name, a value out of range, a feature fastop does not support).
type SemanticError struct {
	Col int
	Msg string
}

func (e *SemanticError) Error() string {
	return "filter: column " + itoa(e.Col) + ": " + e.Msg
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// lex splits the expression into tokens.
func lex(s string) ([]tok, error) {
	var toks []tok
	i := 0
	for i < len(s) {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		if len(toks) == MaxTokens {
			return nil, limitErrorf(i, "more than %d tokens (names, numbers, operators); shorten the filter, e.g. one net instead of many hosts (a longer one could not fit the kernel's %d instructions)", MaxTokens, MaxInstructions)
		}
		t, n, err := lexOne(s, i)
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		i += n
	}
	toks = append(toks, tok{kind: tEOF, pos: len(s)})
	return toks, nil
}

// lexOne finds the token at s[i:] and its length.
func lexOne(s string, i int) (tok, int, error) {
	rest := s[i:]
	best := tok{pos: i}
	n := 0
	// Rules in the scanner's order; a later rule wins only with a longer
	// match.
	consider := func(l int, t tok) {
		if l > n {
			n, best = l, t
			best.pos = i
		}
	}
	// keywords (and the named numbers, which precede ID in the scanner)
	if m := reID.FindString(rest); m != "" {
		if kw, ok := keywords[m]; ok {
			consider(len(m), tok{kind: tKeyword, kw: kw, text: m})
		} else if v, ok := numberNames[m]; ok {
			consider(len(m), tok{kind: tNum, num: v, text: m})
		}
	}
	if strings.HasPrefix(rest, "&&") || strings.HasPrefix(rest, "||") {
		consider(2, tok{kind: tKeyword, kw: keywords[rest[:2]], text: rest[:2]})
	}
	if strings.ContainsRune("+-*/%:[]!<>()&|^=", rune(rest[0])) {
		consider(1, tok{kind: tOp, text: rest[:1]})
	}
	for _, op := range []string{">=", "<=", "!=", "==", "<<", ">>"} {
		if strings.HasPrefix(rest, op) {
			text := op
			if op == "==" {
				text = "="
			}
			consider(2, tok{kind: tOp, text: text})
		}
	}
	if m := reAID.FindString(rest); m != "" {
		consider(len(m), tok{kind: tAID, text: m})
	}
	if m := reMAC.FindString(rest); m != "" {
		consider(len(m), tok{kind: tEID, text: m})
	}
	if m := reNum.FindString(rest); m != "" {
		consider(len(m), tok{kind: tNum, text: m, literal: true})
	}
	if m := reHID.FindString(rest); m != "" {
		consider(len(m), tok{kind: tHID, text: m})
	}
	if m := longestV6(rest); m != "" {
		consider(len(m), tok{kind: tHID6, text: m})
	}
	if m := reBogus.FindString(rest); m != "" && len(m) > n {
		return tok{}, 0, &SyntaxError{i + 1, "bogus ethernet address " + m + " (a MAC address has six bytes, like 02:00:00:00:00:01)"}
	}
	if m := reID.FindString(rest); m != "" {
		consider(len(m), tok{kind: tID, text: m})
	}
	if m := reEsc.FindString(rest); m != "" {
		consider(len(m), tok{kind: tID, text: m[1:], escaped: true})
	}
	if n == 0 {
		return tok{}, 0, &SyntaxError{i + 1, "unexpected character " + quoteRune(rest) + " in the filter expression"}
	}
	if best.literal {
		v, msg := parseNumber(best.text)
		if msg != "" {
			return tok{}, 0, &SyntaxError{i + 1, msg}
		}
		best.num = v
	}
	return best, n, nil
}

func quoteRune(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return `""`
	}
	return "'" + string(r[0]) + "'"
}

// longestV6 returns the longest prefix of s that is an IPv6 address in one
// of the textual forms libpcap's scanner accepts (no zone index).
func longestV6(s string) string {
	run := reV6Run.FindString(s)
	if !strings.Contains(run, ":") {
		return ""
	}
	for l := len(run); l > 0; l-- {
		p := run[:l]
		if !strings.Contains(p, ":") {
			break
		}
		a, err := netip.ParseAddr(p)
		if err == nil && a.Is6() && a.Zone() == "" {
			return p
		}
	}
	return ""
}

// parseNumber converts a number token like libpcap's stou: 0x hex, a
// leading 0 means octal, 32 bits at most.
func parseNumber(s string) (uint32, string) {
	base := uint64(10)
	digits := s
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	var v uint64
	for _, c := range digits {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		}
		if d >= base {
			return 0, "number " + s + " contains non-octal digit (a leading 0 means octal; write " + strings.TrimLeft(s, "0") + " for decimal)"
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, "number " + s + " overflows 32 bits"
		}
	}
	return uint32(v), ""
}

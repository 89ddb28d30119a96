package filter

import (
	"testing"
)

// TestParseTree pins libpcap's precedence and qualifier inheritance.
func TestParseTree(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		// and/or: one level, left to right; not binds tighter
		{"tcp or udp and port 53", "(and (or tcp udp) (id  port 53))"},
		{"not tcp or udp", "(or (not tcp) udp)"},
		{"! tcp && ! udp", "(and (not tcp) (not udp))"},
		{"not not tcp", "(not (not tcp))"},
		{"((tcp))", "tcp"},
		// an id after and/or inherits the qualifiers of the term before it
		{"host a or b", "(or (id  host a) (id  host b))"},
		{"src host a or b", "(or (id src host a) (id src host b))"},
		{"tcp dst port ftp or ftp-data or domain", "(or (or (id tcp dst port ftp) (id tcp dst port ftp-data)) (id tcp dst port domain))"},
		{"not host vs and ace", "(and (not (id  host vs)) (id  host ace))"},
		{"host a and not b", "(and (id  host a) (not (id  host b)))"},
		{"host a and (port 80) or b", "(or (and (id  host a) (id  port 80)) (id  host b))"},
		{"host 192.0.2.1 and (192.0.2.2 or 192.0.2.3)", "(and (id  host 192.0.2.1) (or (id  host 192.0.2.2) (id  host 192.0.2.3)))"},
		{"host (a or b)", "(or (id  host a) (id  host b))"},
		{"port (80 or 443)", "(or (id  port 80) (id  port 443))"},
		{"port 80 or 443 or 8080", "(or (or (id  port 80) (id  port 443)) (id  port 8080))"},
		// qualifiers
		{"src or dst port 53", "(id src-or-dst port 53)"},
		{"src and dst net 192.0.2.0/24", "(id src-and-dst net 192.0.2.0/24)"},
		{"dst or src host x", "(id src-or-dst host x)"},
		{"ip6 src net 2001:db8::/32", "(id ip6 src net 2001:db8::/32)"},
		{"net 10.0.0.0 mask 255.0.0.0", "(id  net 10.0.0.0 mask 255.0.0.0)"},
		{"ether proto \\arp", "(id ether  proto arp)"},
		{"ip proto \\tcp", "(id ip  proto tcp)"},
		{"portrange 22-23", "(id  portrange 22-23)"},
		{"ether host 0200.0000.0001", "(id ether  host 0200.0000.0001)"},
		{"gateway router", "(id  gateway router)"},
		// special primitives
		{"vlan 100 or vlan 200", "(or (vlan 100) (vlan 200))"},
		{"vlan (100)", "(vlan 100)"},
		{"ip multicast", "(multicast ip)"},
		{"less 64", "(less 64)"},
		// arithmetic: % and ^ take everything to their right
		{"7 % 4 + 1 = 2", "(= (mod 7 (add 4 1)) 2)"},
		{"2 * 7 % 4 = 6", "(= (mul 2 (mod 7 4)) 6)"},
		{"2 & 3 ^ 1 = 2", "(= (and 2 (xor 3 1)) 2)"},
		{"1 - 2 - 3 = 4", "(= (sub (sub 1 2) 3) 4)"},
		{"1 + 2 * 3 = 7", "(= (add 1 (mul 2 3)) 7)"},
		{"1 | 2 & 3 << 4 + 5 * 6 = 0", "(= (or 1 (and 2 (lsh 3 (add 4 (mul 5 6))))) 0)"},
		{"-ip[8] != 0", "(!= (neg ip[8:1]) 0)"},
		{"- 1 + 2 = 1", "(= (add (neg 1) 2) 1)"},
		{"tcp[tcpflags] & (tcp-syn|tcp-fin) != 0", "(!= (and tcp[13:1] (or 2 1)) 0)"},
		{"(ip[0] & 0xf) * 4 = 20", "(= (mul (and ip[0:1] 15) 4) 20)"},
		{"ip[2:2] > 576", "(> ip[2:2] 576)"},
		{"len <= 100", "(<= len 100)"},
		{"len < 100", "(< len 100)"},
		{"len >= 100", "(>= len 100)"},
		{"len == 100", "(= len 100)"},
		{"ip[ip[0] & 0xf] = 0", "(= ip[(and ip[0:1] 15):1] 0)"},
		{"port 010", "(id  port 010)"},
		{"", "()"},
	} {
		n, err := parse(tc.expr)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		if got := sexpr(n); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.expr, got, tc.want)
		}
	}
}

// TestLexer checks token classes and numbers.
func TestLexer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind tokKind
		num  uint32
	}{
		{"80", tNum, 80}, {"0x50", tNum, 0x50}, {"010", tNum, 8}, {"tcp-syn", tNum, 2}, {"tcpflags", tNum, 13},
		{"icmp6-echo", tNum, 128}, {"1.2.3.4", tHID, 0}, {"192.168", tHID, 0}, {"2001:db8::1", tHID6, 0},
		{"::ffff:1.2.3.4", tHID6, 0}, {"02:00:00:00:00:01", tEID, 0}, {"2-0-0-0-0-1", tEID, 0},
		{"0200.0000.0001", tEID, 0}, {"020000000001", tEID, 0}, {"$1f", tAID, 0},
		{"ftp-data", tID, 0}, {"1.2.3.4.5", tID, 0}, {"tcp-synx", tID, 0}, {"hosts", tID, 0},
		{"\\tcp", tID, 0}, {"22-23", tID, 0},
	} {
		toks, err := lex(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if len(toks) != 2 || toks[0].kind != tc.kind || tc.kind == tNum && toks[0].num != tc.num {
			t.Errorf("%q: got %+v", tc.in, toks)
		}
	}
	for in, kw := range map[string]keyword{"tcp": kwTCP, "ip6": kwIP6, "ether": kwLink, "wlan": kwLink, "&&": kwAnd, "||": kwOr, "es-is": kwESIS, "length": kwLen} {
		toks, err := lex(in)
		if err != nil || toks[0].kind != tKeyword || toks[0].kw != kw {
			t.Errorf("%q: %+v %v", in, toks, err)
		}
	}
	toks, err := lex("a>=b!=c==d<<e>>f")
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, tk := range toks {
		if tk.kind == tOp {
			ops = append(ops, tk.text)
		}
	}
	if want := []string{">=", "!=", "=", "<<", ">>"}; len(ops) != len(want) {
		t.Errorf("operators %q, want %q", ops, want)
	} else {
		for i := range want {
			if ops[i] != want[i] {
				t.Errorf("operators %q, want %q", ops, want)
			}
		}
	}
	if toks[0].pos != 0 || toks[2].pos != 3 {
		t.Errorf("positions: %+v", toks[:3])
	}
}

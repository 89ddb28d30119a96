package filter

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fastop/fastop/decode"
)

// filtersTxt reads the corpus's golden/filters.txt: the accepted
// expressions and the rejected ones with libpcap's message.
func filtersTxt(t *testing.T) (accepted []string, rejected map[string]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpus(t), "golden", "filters.txt"))
	if err != nil {
		t.Fatal(err)
	}
	rejected = map[string]string{}
	inRejected := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "REJECTED by libpcap") {
			inRejected = true
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if inRejected {
			expr, msg, _ := strings.Cut(line, "\t")
			rejected[expr] = strings.TrimPrefix(msg, "# libpcap 1.10.3: ")
		} else {
			accepted = append(accepted, line)
		}
	}
	if len(accepted) < 150 || len(rejected) < 40 {
		t.Fatalf("filters.txt: %d accepted and %d rejected expressions, expected about 200 and 45", len(accepted), len(rejected))
	}
	return accepted, rejected
}

// needsLive are accepted by libpcap only for a live (or dead) handle on
// Ethernet; on an Ethernet file fastop, like libpcap, refuses them.
var needsLive = map[string]bool{"inbound": true, "outbound": true, "ifindex 1": true}

// TestFiltersTxt: every expression libpcap accepts compiles for Ethernet
// (except those fastop rejects by design, which must say why), and every
// expression libpcap rejects is rejected with a message that names the
// column.
func TestFiltersTxt(t *testing.T) {
	accepted, rejected := filtersTxt(t)
	names := debianNames()
	for _, e := range accepted {
		opt := Options{Link: decode.LinkEthernet, Names: names, Live: needsLive[e]}
		_, err := Compile(e, opt)
		if why, ok := unsupportedByDesign[e]; ok {
			if err == nil {
				t.Errorf("%q compiled, but it is listed as unsupported (%s)", e, why)
			} else if !strings.Contains(err.Error(), "not supported") && !strings.Contains(err.Error(), "out of range") {
				t.Errorf("%q: error %q does not say it is unsupported or out of range", e, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", e, err)
		}
		if needsLive[e] {
			if _, err := Compile(e, Options{Link: decode.LinkEthernet, Names: names}); err == nil {
				t.Errorf("%q compiled for an Ethernet file, which has no direction or interface index", e)
			}
		}
	}
	for e, libpcap := range rejected {
		_, err := Compile(e, Options{Link: decode.LinkEthernet, Names: names})
		if err == nil {
			t.Errorf("%q compiled; libpcap rejects it (%s)", e, libpcap)
			continue
		}
		var se *SyntaxError
		var me *SemanticError
		if !errors.As(err, &se) && !errors.As(err, &me) && !errors.Is(err, ErrRejectsAll) {
			t.Errorf("%q: error %q names no column", e, err)
		}
		if !strings.HasPrefix(err.Error(), "filter: ") {
			t.Errorf("%q: error %q lacks the filter: prefix", e, err)
		}
	}
}

// TestCompileErrors pins the message and column of typical mistakes.
func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		expr string
		link string // "" means Ethernet
		want string // substring of the error
	}{
		{expr: "tcp port", want: `syntax error at column 9: expected a port number or service name after "port"`},
		{expr: "host", want: "syntax error at column 5: expected an address or host name"},
		{expr: "192.0.2.1", want: `column 1: "192.0.2.1" needs a qualifier`},
		{expr: "80", want: "column 1: number 80 needs a qualifier"},
		{expr: "tcp or 80", want: "column 8: number 80 has no qualifier to inherit"},
		{expr: "TCP port 80", want: `keywords are lower case: write "tcp"`},
		{expr: "port 080", want: "number 080 contains non-octal digit"},
		{expr: "port 0x100000000", want: "overflows 32 bits"},
		{expr: "(tcp or udp", want: `expected ")" to close the "(" at column 1`},
		{expr: "tcp or udp)", want: `column 11: unbalanced ")"`},
		{expr: "port 80 and and port 443", want: `column 13: expected a primitive after "and", found "and"`},
		{expr: "host 1.2.3.4.5", want: "column 6: unknown host '1.2.3.4.5'"},
		{expr: "host 256.1.1.1", want: "invalid IPv4 address '256.1.1.1'"},
		{expr: "port 65536", want: "illegal port number 65536 > 65535"},
		{expr: "net 10.0.0.1/8", want: `non-network bits set in "10.0.0.1/8"`},
		{expr: "net 10.0.0.0/33", want: "mask length must be <= 32"},
		{expr: "net 2001:db8::/129", want: "mask length must be <= 128"},
		{expr: "host 10.0.0.0/8", want: "mask syntax for networks only (write net 10.0.0.0/8)"},
		{expr: "net 10.1.0.0 mask 255.0.0.0", want: `non-network bits set in "10.1.0.0 mask 255.0.0.0"`},
		{expr: "vlan 4096", want: "column 6: VLAN tag 4096 greater than maximum 4095"},
		{expr: "mpls 1048576", want: "MPLS label 1048576 greater than maximum"},
		{expr: "pppoes 65536", want: "PPPoE session number 65536 greater than maximum"},
		{expr: "ip[0:3] = 1", want: "data size must be 1, 2, or 4"},
		{expr: "1 / 0 = 0", want: "division by zero"},
		{expr: "ip[0] % 0 = 1", want: "modulus by zero"},
		{expr: "len / (ip[0] & 0) = 1", want: "division by zero"},
		{expr: "ip[0] << 32 = 0", want: "shift by more than 31 bits"},
		{expr: "port nosuchservice", want: "unknown port 'nosuchservice'"},
		{expr: "udp port http", want: "port 'http' is tcp"},
		{expr: "ip proto \\nosuch", want: "unknown ip proto 'nosuch'"},
		{expr: "ether proto \\nosuch", want: "unknown ether proto 'nosuch'"},
		{expr: "port 1.2.3.4", want: "'port' modifier applied to ip host"},
		{expr: "ip6 host 1.2.3.4", want: "'ip6' modifier applied to ip host"},
		{expr: "ip host 2001:db8::1", want: "'ip' modifier applied to ip6 host"},
		{expr: "arp port 80", want: "illegal qualifier of 'port'"},
		{expr: "ether net 1.2.3.4", want: "illegal link layer address"},
		{expr: "host 02:00:00:00:00:01", want: "ethernet address used in non-ether expression"},
		{expr: "ether host 01:02:03:04:05", want: "bogus ethernet address"},
		{expr: "tcp proto 6", want: "'tcp proto' is bogus"},
		{expr: "src proto 6", want: "syntax error"},
		{expr: "ip6 host localhost", want: "unknown host 'localhost' for specified address family"},
		{expr: "gateway 1.2.3.5", want: "gateway 1.2.3.5: MAC address unknown (not in the neighbour table; ping it first or use ether host)"},
		{expr: "gateway 80", want: "gateway needs an IP address or host name"},
		{expr: "tcp and udp", want: "expression rejects all packets"},
		{expr: "udp port 53 and vlan", want: "expression rejects all packets"},
		{expr: "ip6 protochain 256", want: "IP protocol 256 is out of range (0-255)"},
		{expr: "ether proto 70000", want: "EtherType 70000 is out of range (0-65535)"},
		{expr: "arp protochain 6", want: "bad protocol applied for 'protochain'"},
		{expr: "geneve 16777216", want: "Geneve VNI 16777216 greater than maximum"},
		{expr: "decnet host 1.2", want: "DECnet addresses are not supported"},
		{expr: "wlan addr1 02:00:00:00:00:01", want: "'addr1' and 'address1' are only supported on 802.11"},
		{expr: "type mgt", want: "802.11 frame type and direction filters (type) are not supported"},
		{expr: "vpi 1", want: "ATM filters"},
		{expr: "sio 1", want: "SS7 MTP filters"},
		{expr: "ifname eth0", want: "pf log filters"},
		{expr: "vxlan", want: `"vxlan" is not supported by fastop`},
		{expr: "atalk", want: "atalk filters are not supported by fastop"},
		{expr: "ether proto \\atalk", want: "AppleTalk is not supported"},
		{expr: "byte 0 = 1", want: `"byte" primitive is not supported`},
		{expr: "llc i", want: "LLC frame types"},
		{expr: "inbound", want: "inbound needs the packet direction, which Ethernet files do not record"},
		{expr: "ifindex 2", want: "ifindex needs the interface index"},
		{expr: "host fe80::1%eth0", want: "column 13: IPv6 zone indexes"},
		{expr: "host 10.0.0.1 $", want: "column 15: unexpected character '$'"},
		{expr: "ether host 1.2.3.4", want: "illegal link layer address"},
		{expr: "ether src", link: "LINUX_SLL", want: "syntax error"},
		{expr: "ether src 02:00:00:00:00:01", link: "LINUX_SLL", want: "Ethernet addresses are not available on Linux cooked (SLL) captures"},
		{expr: "vlan", link: "LINUX_SLL2", want: "vlan is not supported on Linux cooked v2 (SLL2) captures"},
		{expr: "mpls", link: "RAW", want: "mpls is not supported on raw IP captures"},
		{expr: "arp", link: "RAW", want: "expression rejects all packets"},
		{expr: "ip6", link: "IPV4", want: "expression rejects all packets"},
		{expr: "broadcast", link: "NULL", want: "broadcast needs Ethernet frames"},
		{expr: "llc", link: "LINUX_SLL", want: "'llc' is not supported"},
		{expr: "host 1.2.3.4", link: "9999", want: "link type 9999 is not supported"},
		{expr: "vlan and mpls and vlan", want: "no VLAN match after MPLS"},
		{expr: "mpls and arp", want: "only ip and ip6 can be tested inside MPLS"},
	} {
		opt := Options{Link: decode.LinkEthernet, Names: debianNames()}
		if lt, ok := linkNames[tc.link]; ok {
			opt.Link = lt
		} else if tc.link == "9999" {
			opt.Link = 9999
		}
		_, err := Compile(tc.expr, opt)
		if err == nil {
			t.Errorf("%q: compiled, want an error containing %q", tc.expr, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.expr, err, tc.want)
		}
	}
}

// TestGateway: fastop's gateway works with an address (libpcap wants a
// name) and means "to or from the gateway's MAC, neither IP address is
// the gateway's".
func TestGateway(t *testing.T) {
	gw := netip.MustParseAddr("192.0.2.254")
	mac := [6]byte{0x02, 0, 0, 0, 0, 0xfe}
	other := [6]byte{0x02, 0, 0, 0, 0, 0x01}
	opt := Options{Link: decode.LinkEthernet, Names: debianNames(), Neighbors: NeighborTable{gw: mac}}
	frame := func(src, dst [6]byte, ipSrc, ipDst [4]byte) []byte {
		b := make([]byte, 34)
		copy(b[0:], dst[:])
		copy(b[6:], src[:])
		b[12], b[13] = 0x08, 0x00
		b[14] = 0x45
		copy(b[26:], ipSrc[:])
		copy(b[30:], ipDst[:])
		return b
	}
	far := [4]byte{198, 51, 100, 7}
	local := [4]byte{192, 0, 2, 1}
	gwIP := gw.As4()
	cases := []struct {
		name  string
		frame []byte
		want  bool
	}{
		{"routed out through the gateway", frame(other, mac, local, far), true},
		{"routed in from the gateway", frame(mac, other, far, local), true},
		{"talking to the gateway itself", frame(other, mac, local, gwIP), false},
		{"not via the gateway", frame(other, other, local, far), false},
	}
	for _, expr := range []string{"gateway 192.0.2.254", "gateway router"} {
		p, err := Compile(expr, opt)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		vm, err := NewVM(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if got := vm.Run(c.frame, nil) != 0; got != c.want {
				t.Errorf("%q, %s: got %v, want %v", expr, c.name, got, c.want)
			}
		}
	}
	// The name resolves through /etc/ethers even without a neighbour table.
	noNeigh := opt
	noNeigh.Neighbors = nil
	if _, err := Compile("gateway router", noNeigh); err != nil {
		t.Errorf("gateway router with an ethers entry: %v", err)
	}
	if _, err := Compile("gateway 192.0.2.254", Options{Link: decode.LinkLinuxSLL, Neighbors: opt.Neighbors}); err == nil ||
		!strings.Contains(err.Error(), "gateway needs Ethernet frames") {
		t.Errorf("gateway on SLL: %v", err)
	}
}

// TestKernelNeighbors parses a /proc/net/arp table.
func TestKernelNeighbors(t *testing.T) {
	table := "IP address       HW type     Flags       HW address            Mask     Device\n" +
		"192.0.2.254      0x1         0x2         02:00:00:00:00:fe     *        eth0\n" +
		"192.0.2.9        0x1         0x0         00:00:00:00:00:00     *        eth0\n"
	path := filepath.Join(t.TempDir(), "arp")
	if err := os.WriteFile(path, []byte(table), 0o600); err != nil {
		t.Fatal(err)
	}
	k := KernelNeighbors{Path: path}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{{"192.0.2.254", true}, {"192.0.2.9", false}, {"192.0.2.10", false}} {
		mac, ok := k.MAC(netip.MustParseAddr(tc.addr))
		if ok != tc.ok || ok && mac != [6]byte{2, 0, 0, 0, 0, 0xfe} {
			t.Errorf("%s: %x %v", tc.addr, mac, ok)
		}
	}
	if _, ok := (KernelNeighbors{Path: filepath.Join(t.TempDir(), "missing")}).MAC(netip.MustParseAddr("192.0.2.254")); ok {
		t.Error("a missing table found a neighbour")
	}
}

// TestProtochainLive: protochain needs fixed offsets, so it cannot follow
// a live vlan; it works before one.
func TestProtochainLive(t *testing.T) {
	opt := Options{Link: decode.LinkEthernet, Live: true, Names: debianNames()}
	if _, err := Compile("vlan and ip6 protochain 6", opt); err == nil || !strings.Contains(err.Error(), "variable length headers") {
		t.Errorf("protochain after a live vlan: %v", err)
	}
	if _, err := Compile("ip6 protochain 6 and vlan", opt); err != nil {
		t.Errorf("protochain before a live vlan: %v", err)
	}
}

package filter

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/fastop/fastop/decode"
)

// Frames for link-type tests, built here.
var (
	ipv4UDP = func() []byte { return ethIPv4UDP(53)[14:] }()
	ipv6TCP = func() []byte {
		b := make([]byte, 40+20)
		b[0], b[6], b[7] = 0x60, ipProtoTCP, 64
		copy(b[8:], netip.MustParseAddr("2001:db8::1").AsSlice())
		copy(b[24:], netip.MustParseAddr("2001:db8::2").AsSlice())
		b[40], b[41], b[42], b[43] = 0x30, 0x39, 0x01, 0xbb // 12345 → 443
		return b
	}()
	arpPayload = []byte{0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 2}
)

// frameFor wraps a network-layer payload in the link-layer header of lt.
func frameFor(lt decode.LinkType, etype uint16, payload []byte, bigEndian bool) []byte {
	var hdr []byte
	af := map[uint16]uint32{0x0800: 2, 0x86dd: 24}[etype]
	switch lt {
	case decode.LinkEthernet:
		hdr = []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, byte(etype >> 8), byte(etype)}
	case decode.LinkLinuxSLL:
		hdr = []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, byte(etype >> 8), byte(etype)}
	case decode.LinkLinuxSLL2:
		hdr = []byte{byte(etype >> 8), byte(etype), 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0}
	case decode.LinkNull:
		if bigEndian {
			hdr = []byte{0, 0, 0, byte(af)}
		} else {
			hdr = []byte{byte(af), 0, 0, 0}
		}
	case decode.LinkLoop:
		hdr = []byte{0, 0, 0, byte(af)}
	}
	return append(hdr, payload...)
}

// TestLinkTypes runs a few filters on frames of every supported link
// type, including LOOP and big-endian NULL, which the corpus lacks.
func TestLinkTypes(t *testing.T) {
	type frame struct {
		name string
		data []byte
	}
	for _, lt := range []decode.LinkType{decode.LinkEthernet, decode.LinkLinuxSLL, decode.LinkLinuxSLL2,
		decode.LinkRaw, decode.LinkNull, decode.LinkLoop} {
		for _, big := range []bool{false, true} {
			if big && lt != decode.LinkNull {
				continue
			}
			frames := []frame{
				{"ipv4 udp 53", frameFor(lt, 0x0800, ipv4UDP, big)},
				{"ipv6 tcp 443", frameFor(lt, 0x86dd, ipv6TCP, big)},
			}
			want := map[string][2]bool{
				"ip":                        {true, false},
				"ip6":                       {false, true},
				"udp port 53":               {true, false},
				"tcp port https":            {false, true},
				"host 192.0.2.2":            {true, false},
				"host 2001:db8::1":          {false, true},
				"ip6 and not ip6 multicast": {false, true},
				"":                          {true, true},
			}
			if lt == decode.LinkRaw {
				frames[0].data, frames[1].data = ipv4UDP, ipv6TCP
			}
			for expr, w := range want {
				p, err := Compile(expr, Options{Link: lt, NullBigEndian: big, Names: debianNames()})
				if err != nil {
					t.Errorf("link %d %q: %v", lt, expr, err)
					continue
				}
				vm, err := NewVM(p)
				if err != nil {
					t.Fatal(err)
				}
				for i, f := range frames {
					m := decode.Meta{Link: lt, WireLen: uint32(len(f.data)), PktType: decode.PktUnknown}
					if got := vm.Run(f.data, &m) != 0; got != w[i] {
						t.Errorf("link %d (big-endian %v) %q on %s: got %v, want %v\n%s", lt, big, expr, f.name, got, w[i], p)
					}
				}
			}
		}
	}
	// raw IPv4 and IPv6 link types
	for _, tc := range []struct {
		lt    decode.LinkType
		frame []byte
	}{{decode.LinkIPv4, ipv4UDP}, {decode.LinkIPv6, ipv6TCP}} {
		p, err := Compile("udp port 53 or tcp port 443", Options{Link: tc.lt, Names: debianNames()})
		if err != nil {
			t.Fatal(err)
		}
		vm, _ := NewVM(p)
		if vm.Run(tc.frame, nil) == 0 {
			t.Errorf("link %d: frame rejected\n%s", tc.lt, p)
		}
	}
}

// TestIPOnly: what fastop counts when no filter is given, and a filter
// restricted to IP.
func TestIPOnly(t *testing.T) {
	eth := func(etype uint16, payload []byte) []byte {
		return frameFor(decode.LinkEthernet, etype, payload, false)
	}
	arp := eth(0x0806, arpPayload)
	v4 := eth(0x0800, ipv4UDP)
	v6 := eth(0x86dd, ipv6TCP)
	tagged := append(append(append([]byte{}, v4[:12]...), 0x81, 0x00, 0x00, 100), v4[12:]...)
	opt := Options{Link: decode.LinkEthernet, Names: debianNames()}
	run := func(p Program, data []byte, m *decode.Meta) bool {
		vm, err := NewVM(p)
		if err != nil {
			t.Fatal(err)
		}
		return vm.Run(data, m) != 0
	}
	ipOnly := IPOnly(opt)
	if !run(ipOnly, v4, nil) || !run(ipOnly, v6, nil) || run(ipOnly, arp, nil) {
		t.Errorf("IPOnly:\n%s", ipOnly)
	}
	withFilter := opt
	withFilter.IPOnly = true
	p, err := Compile("host 192.0.2.2", withFilter)
	if err != nil {
		t.Fatal(err)
	}
	arpTo := eth(0x0806, arpPayload) // ARP about 192.0.2.2: host matches, IP-only does not
	if !run(p, v4, nil) || run(p, arpTo, nil) {
		t.Errorf("host with IPOnly:\n%s", p)
	}
	if q, _ := Compile("host 192.0.2.2", opt); !run(q, arpTo, nil) {
		t.Errorf("host without IPOnly must match ARP about the host")
	}
	// After vlan, "ip or ip6" looks inside the tag.
	p, err = Compile("vlan 100", withFilter)
	if err != nil {
		t.Fatal(err)
	}
	if !run(p, tagged, nil) {
		t.Errorf("vlan 100 with IPOnly rejects tagged IPv4:\n%s", p)
	}
	// Live: the tag is in metadata, the data untagged.
	live := withFilter
	live.Live = true
	p, err = Compile("vlan 100", live)
	if err != nil {
		t.Fatal(err)
	}
	if !run(p, v4, &decode.Meta{Link: decode.LinkEthernet, VLANOK: true, VLANTCI: 100}) {
		t.Errorf("live vlan 100 with IPOnly rejects IPv4 with the tag in metadata:\n%s", p)
	}
	if got := IPOnly(Options{Link: 9999}); len(got) != 1 || got[0].Op != opRetK || got[0].K != 0 {
		t.Errorf("IPOnly on an unknown link type: %v", got)
	}
}

// TestEmptyExpression accepts everything and returns the snap length.
func TestEmptyExpression(t *testing.T) {
	for _, tc := range []struct {
		snap, want uint32
	}{{0, DefaultSnaplen}, {96, 96}} {
		p, err := Compile("  ", Options{Link: decode.LinkEthernet, Snaplen: tc.snap})
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != 1 || p[0].Op != opRetK || p[0].K != tc.want {
			t.Errorf("snaplen %d: %v", tc.snap, p)
		}
	}
	p, _ := Compile("tcp", Options{Link: decode.LinkEthernet, Snaplen: 128})
	if p[len(p)-2].K != 128 && p[len(p)-1].K != 128 {
		t.Errorf("accept value is not the snap length:\n%s", p)
	}
}

// TestSystemNames reads services, protocols, hosts and ethers files.
func TestSystemNames(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"services":  "# comment\nssh\t\t22/tcp\nhttp\t80/tcp\twww # web\ndomain 53/tcp\ndomain 53/udp\nbad x/tcp\nhttp 8080/tcp\n",
		"protocols": "tcp\t6\tTCP\nudp 17 UDP # user datagram\nbroken\n",
		"hosts":     "127.0.0.1 localhost\n192.0.2.7 Box box.example\n2001:db8::7 box\nfe80::1%eth0 zoned\n",
		"ethers":    "02:00:00:00:00:07 box\n2-0-0-0-0-8 dashed\nnot-a-mac foo\n",
	}
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n := &SystemNames{Root: root}
	if p, ok := n.Service("http", "tcp"); !ok || p != 80 {
		t.Errorf("http/tcp = %d %v (the first entry wins)", p, ok)
	}
	if p, ok := n.Service("www", "tcp"); !ok || p != 80 {
		t.Errorf("alias www/tcp = %d %v", p, ok)
	}
	if _, ok := n.Service("http", "udp"); ok {
		t.Error("http/udp found")
	}
	if v, ok := n.Protocol("UDP"); !ok || v != 17 {
		t.Errorf("UDP = %d %v", v, ok)
	}
	if a, err := n.Host("BOX"); err != nil || len(a) != 2 || a[0] != netip.MustParseAddr("192.0.2.7") {
		t.Errorf("box = %v %v", a, err)
	}
	if _, err := n.Host("zoned"); err == nil {
		t.Error("a zoned address was read")
	}
	if _, err := n.Host("unknown.invalid"); err == nil {
		t.Error("an unknown host resolved without DNS")
	}
	if m, ok := n.Ether("box"); !ok || m != [6]byte{2, 0, 0, 0, 0, 7} {
		t.Errorf("ether box = %x %v", m, ok)
	}
	if m, ok := n.Ether("dashed"); !ok || m != [6]byte{2, 0, 0, 0, 0, 8} {
		t.Errorf("ether dashed = %x %v", m, ok)
	}
	// Compile through the system resolver.
	p, err := Compile("port domain and host box and not ether host box", Options{Link: decode.LinkEthernet, Names: n})
	if err != nil || len(p) == 0 {
		t.Errorf("compile with SystemNames: %v", err)
	}
}

func TestParseMAC(t *testing.T) {
	want := [6]byte{2, 0, 0, 0, 0, 1}
	for _, s := range []string{"02:00:00:00:00:01", "2:0:0:0:0:1", "02-00-00-00-00-01", "02.00.00.00.00.01", "0200.0000.0001", "020000000001"} {
		if m, ok := parseMAC(s); !ok || m != want {
			t.Errorf("%q: %x %v", s, m, ok)
		}
	}
	for _, s := range []string{"", "02:00:00:00:00", "02:00:00:00:00:01:02", "0200.0000.00", "02000000000g", "002:00:00:00:00:01"} {
		if _, ok := parseMAC(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
}

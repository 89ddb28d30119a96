package table

import (
	"net/netip"
	"testing"

	"github.com/fastop/fastop/decode"
)

func pkt(src, dst string, sp, dp uint16) decode.Packet {
	s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
	p := decode.Packet{Proto: 6, SrcPort: sp, DstPort: dp, Flags: decode.FlagPorts, PktType: decode.PktUnknown, IPLen: 100}
	if s.Is4() {
		p.Family = 4
		a, b := s.As4(), d.As4()
		copy(p.Src[:], a[:])
		copy(p.Dst[:], b[:])
	} else {
		p.Family = 6
		p.Src, p.Dst = s.As16(), d.As16()
	}
	return p
}

func TestClassify(t *testing.T) {
	mac := [6]byte{2, 0, 0, 0, 0, 1}
	other := [6]byte{2, 0, 0, 0, 0, 9}
	iface := ClassifierConfig{
		MACs:  [][6]byte{mac},
		Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("fd00::1")},
	}
	type want struct {
		dir  Dir
		sent bool
		a, b string
		ap   uint16
	}
	tests := []struct {
		name string
		cfg  ClassifierConfig
		p    func() decode.Packet
		want want
	}{
		{"outgoing by packet type", ClassifierConfig{}, func() decode.Packet {
			p := pkt("192.0.2.1", "192.0.2.2", 1000, 80)
			p.PktType = decode.PktOutgoing
			return p
		}, want{DirOut, true, "192.0.2.1", "192.0.2.2", 1000}},
		{"incoming by packet type is flipped", ClassifierConfig{}, func() decode.Packet {
			p := pkt("192.0.2.2", "192.0.2.1", 80, 1000)
			p.PktType = decode.PktHost
			return p
		}, want{DirIn, false, "192.0.2.1", "192.0.2.2", 1000}},
		{"source MAC is ours", iface, func() decode.Packet {
			p := pkt("192.0.2.9", "192.0.2.8", 1, 2)
			p.Flags |= decode.FlagMAC
			p.SrcMAC, p.DstMAC = mac, other
			return p
		}, want{DirOut, true, "192.0.2.9", "192.0.2.8", 1}},
		{"destination MAC is ours", iface, func() decode.Packet {
			p := pkt("192.0.2.9", "192.0.2.8", 1, 2)
			p.Flags |= decode.FlagMAC
			p.SrcMAC, p.DstMAC = other, mac
			return p
		}, want{DirIn, false, "192.0.2.8", "192.0.2.9", 2}},
		{"broadcast MAC is incoming", iface, func() decode.Packet {
			p := pkt("10.0.0.77", "10.0.0.255", 3333, 4444)
			p.Flags |= decode.FlagMAC
			p.SrcMAC, p.DstMAC = other, broadcastMAC
			return p
		}, want{DirIn, false, "10.0.0.255", "10.0.0.77", 4444}},
		{"secondary local address counts as local", iface, func() decode.Packet {
			return pkt("10.0.0.5", "198.51.100.1", 5, 6)
		}, want{DirOut, true, "10.0.0.5", "198.51.100.1", 5}},
		{"local IPv6 destination", iface, func() decode.Packet {
			return pkt("fd00::99", "fd00::1", 5, 6)
		}, want{DirIn, false, "fd00::1", "fd00::99", 6}},
		{"real IPv4 multicast is incoming", ClassifierConfig{}, func() decode.Packet {
			return pkt("10.99.0.252", "224.0.0.251", 5353, 5353)
		}, want{DirIn, false, "224.0.0.251", "10.99.0.252", 5353}},
		{"unicast ending in .230 is not multicast", ClassifierConfig{}, func() decode.Packet {
			return pkt("10.99.0.240", "10.99.0.230", 1000, 2000)
		}, want{DirThird, false, "10.99.0.230", "10.99.0.240", 2000}},
		{"IPv6 multicast is incoming", ClassifierConfig{}, func() decode.Packet {
			return pkt("fd00::5", "ff02::1", 1, 2)
		}, want{DirIn, false, "ff02::1", "fd00::5", 2}},
		{"third-party IPv4 ordered by value", ClassifierConfig{}, func() decode.Packet {
			return pkt("10.99.2.3", "10.99.1.5", 2222, 1111)
		}, want{DirThird, false, "10.99.1.5", "10.99.2.3", 1111}},
		{"third-party IPv6 counted", ClassifierConfig{}, func() decode.Packet {
			return pkt("2001:db8::1", "2001:db8::2", 443, 5000)
		}, want{DirThird, true, "2001:db8::1", "2001:db8::2", 443}},
		{"same address: ports order", ClassifierConfig{}, func() decode.Packet {
			return pkt("127.0.0.1", "127.0.0.1", 5301, 59928)
		}, want{DirThird, true, "127.0.0.1", "127.0.0.1", 5301}},
		{"both local (loopback) share a row", ClassifierConfig{Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}, func() decode.Packet {
			p := pkt("127.0.0.1", "127.0.0.1", 59928, 5301)
			p.PktType = decode.PktHost
			return p
		}, want{DirIn, false, "127.0.0.1", "127.0.0.1", 5301}},
		{"-F source inside", ClassifierConfig{NetFilter: netip.MustParsePrefix("10.99.0.2/32")}, func() decode.Packet {
			return pkt("10.99.0.2", "10.99.0.1", 5201, 40000)
		}, want{DirOut, true, "10.99.0.2", "10.99.0.1", 5201}},
		{"-F destination inside", ClassifierConfig{NetFilter: netip.MustParsePrefix("10.99.0.2/32")}, func() decode.Packet {
			return pkt("10.99.0.1", "10.99.0.2", 40000, 5201)
		}, want{DirIn, false, "10.99.0.2", "10.99.0.1", 5201}},
		{"-F both inside is dropped", ClassifierConfig{NetFilter: netip.MustParsePrefix("10.99.0.0/24")}, func() decode.Packet {
			return pkt("10.99.0.1", "10.99.0.2", 1, 2)
		}, want{dir: DirIgnored}},
		{"-F both outside is dropped", ClassifierConfig{NetFilter: netip.MustParsePrefix("10.99.0.0/24")}, func() decode.Packet {
			return pkt("10.1.0.1", "10.2.0.2", 1, 2)
		}, want{dir: DirIgnored}},
		{"-F does not touch IPv6", ClassifierConfig{NetFilter: netip.MustParsePrefix("10.99.0.0/24")}, func() decode.Packet {
			return pkt("2001:db8::2", "2001:db8::1", 1, 2)
		}, want{DirThird, false, "2001:db8::1", "2001:db8::2", 2}},
		{"-G /8 works (iftop treats it as /16)", ClassifierConfig{NetFilter6: netip.MustParsePrefix("fd00::/8")}, func() decode.Packet {
			return pkt("fd01::5", "2001:db8::1", 1, 2)
		}, want{DirOut, true, "fd01::5", "2001:db8::1", 1}},
		{"link-local dropped without -l", ClassifierConfig{}, func() decode.Packet {
			return pkt("fe80::1", "fe80::2", 1, 2)
		}, want{dir: DirIgnored}},
		{"link-local counted with -l", ClassifierConfig{LinkLocal: true}, func() decode.Packet {
			return pkt("fe80::2", "fe80::1", 1, 2)
		}, want{DirThird, false, "fe80::1", "fe80::2", 2}},
		{"ports absent are zero", ClassifierConfig{}, func() decode.Packet {
			p := pkt("192.0.2.1", "192.0.2.2", 7, 8)
			p.Flags &^= decode.FlagPorts
			return p
		}, want{DirThird, true, "192.0.2.1", "192.0.2.2", 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClassifier(tt.cfg)
			p := tt.p()
			var k Key
			d, sent := c.Classify(&p, &k)
			if d != tt.want.dir {
				t.Fatalf("dir = %v, want %v", d, tt.want.dir)
			}
			if d == DirIgnored {
				return
			}
			if sent != tt.want.sent {
				t.Errorf("sent = %v, want %v", sent, tt.want.sent)
			}
			if got := k.AAddr().String(); got != tt.want.a {
				t.Errorf("A = %s, want %s", got, tt.want.a)
			}
			if got := k.BAddr().String(); got != tt.want.b {
				t.Errorf("B = %s, want %s", got, tt.want.b)
			}
			if k.APort != tt.want.ap {
				t.Errorf("APort = %d, want %d", k.APort, tt.want.ap)
			}
		})
	}
}

// Both directions of a conversation land on the same key, whatever rule
// decided the direction.
func TestClassifyPairsBothDirections(t *testing.T) {
	cfgs := []ClassifierConfig{
		{},
		{Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}},
		{NetFilter: netip.MustParsePrefix("10.0.0.0/24")},
	}
	for _, cfg := range cfgs {
		c := NewClassifier(cfg)
		fwd, rev := pkt("10.0.0.1", "10.9.9.9", 1234, 80), pkt("10.9.9.9", "10.0.0.1", 80, 1234)
		var k1, k2 Key
		_, s1 := c.Classify(&fwd, &k1)
		_, s2 := c.Classify(&rev, &k2)
		if k1 != k2 {
			t.Errorf("%+v: keys differ: %+v vs %+v", cfg, k1, k2)
		}
		if s1 == s2 {
			t.Errorf("%+v: both directions have sent=%v", cfg, s1)
		}
	}
}

func TestClassifyNoAllocs(t *testing.T) {
	c := NewClassifier(ClassifierConfig{Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}})
	p := pkt("10.0.0.1", "10.9.9.9", 1234, 80)
	var k Key
	if n := testing.AllocsPerRun(1000, func() { c.Classify(&p, &k) }); n != 0 {
		t.Fatalf("Classify allocates %v times", n)
	}
}

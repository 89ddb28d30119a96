package bondhash

import (
	"net/netip"
	"runtime"
	"testing"
)

var (
	macA = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	macB = [6]byte{0x02, 0, 0, 0, 0, 0x02}
)

func ip(s string) [16]byte {
	a := netip.MustParseAddr(s)
	var b [16]byte
	if a.Is4() {
		v := a.As4()
		copy(b[:], v[:])
		return b
	}
	return a.As16()
}

func tcp4(src, dst string, sp, dp uint16) Flow {
	return Flow{SrcMAC: macA, DstMAC: macB, HasMAC: true, EtherType: EtherIPv4,
		Src: ip(src), Dst: ip(dst), Proto: protoTCP, HasPorts: true, SrcPort: sp, DstPort: dp}
}

func udp6(src, dst string, sp, dp uint16) Flow {
	return Flow{SrcMAC: macA, DstMAC: macB, HasMAC: true, EtherType: EtherIPv6,
		Src: ip(src), Dst: ip(dst), Proto: protoUDP, HasPorts: true, SrcPort: sp, DstPort: dp}
}

// The golden vectors. Each hash was worked out from bond_main.c's code,
// not from this package: two step by step below, the others with the same
// steps on a calculator.
//
// Vector "l34 v4 tcp" (layer3+4, 10.0.0.1:40000 → 10.0.0.2:80, little-endian):
//
//	ports: the 4 bytes src port, dst port as on the wire: 9c 40 00 50;
//	  memcpy into a u32 on little-endian: 0x5000409c
//	addresses as host-order words: 10.0.0.1 = 0a 00 00 01 → 0x0100000a,
//	  10.0.0.2 → 0x0200000a; dst ^ src = 0x03000000
//	h = 0x5000409c ^ 0x03000000         = 0x5300409c
//	h ^= h >> 16 (0x00005300)           = 0x5300139c
//	h ^= h >> 8  (0x00530013)           = 0x5353138f   ← 4.10–4.14
//	h >>= 1 (4.15 and later)            = 0x29a989c7
//	links: 0x29a989c7 % 2 = 1, % 3 = 0; 0x5353138f % 3 = 1
//
// Vector "l23 v6" (layer2+3, 02:..:01 → 02:..:02, 2001:db8::1 → 2001:db8::2):
//
//	eth hash: dmac[5] ^ smac[5] ^ EtherType = 0x02 ^ 0x01 ^ 0x86dd = 0x86de
//	  (before 5.15 the EtherType is the field read little-endian, 0xdd86,
//	  so 0x02 ^ 0x01 ^ 0xdd86 = 0xdd85)
//	ipv6_addr_hash(2001:db8::1): words 20 01 0d b8 → 0xb80d0120, 0, 0,
//	  00 00 00 01 → 0x01000000; XOR = 0xb90d0120; for ::2 = 0xba0d0120;
//	  dst ^ src = 0x03000000
//	h = 0x86de ^ 0x03000000             = 0x030086de
//	h ^= h >> 16 (0x00000300)           = 0x030085de
//	h ^= h >> 8  (0x00030085)           = 0x0303855b   ← 5.18 and later
//	h >>= 1 (4.15 up to 5.17)           = 0x0181c2ad   ← 5.15
//	links: 0x0303855b % 4 = 3; 0x0181c2ad % 4 = 1
//
// Vector "commit 49aefd131739": the message of the kernel commit that took
// the shift off layer2+3 gives its own numbers for h_dest[5] 0xa0 and
// 0xa1, h_source[5] 0xe3, IPv4 (field read as 0x0008), 192.168.122.30 →
// 192.168.122.1: 522133332 and 522133333 without the shift, 261066666 for
// both with it.
func TestHashGolden(t *testing.T) {
	l2 := tcp4("10.0.0.1", "10.0.0.2", 40000, 80)
	noPorts := tcp4("192.168.1.10", "192.168.1.20", 443, 51000)
	noPorts.Fragment = true
	frag6 := udp6("2001:db8::1", "2001:db8::2", 5353, 53)
	frag6.Proto = 44 // Fragment header first: no ports
	frag6.HasPorts = false
	echo := Flow{HasMAC: true, SrcMAC: macA, DstMAC: macB, EtherType: EtherIPv4, Src: ip("10.0.0.1"), Dst: ip("10.0.0.2"),
		Proto: protoICMP, HasICMP: true, ICMPType: 8, HasICMPID: true, ICMPID: 0x1234}
	echo0 := echo
	echo0.ICMPID = 0
	suresh := func(d byte) Flow {
		return Flow{HasMAC: true, SrcMAC: [6]byte{5: 0xe3}, DstMAC: [6]byte{5: d}, EtherType: EtherIPv4,
			Src: ip("192.168.122.30"), Dst: ip("192.168.122.1"), Proto: protoTCP}
	}
	arp := Flow{HasMAC: true, SrcMAC: macA, DstMAC: macB, EtherType: 0x0806}

	tests := []struct {
		name    string
		policy  Policy
		variant Variant
		flow    Flow
		hash    uint32
		links   [3]int // for 2, 3 and 4 links
	}{
		{"l34 v4 tcp", PolicyLayer34, V5_18, tcp4("10.0.0.1", "10.0.0.2", 40000, 80), 0x29a989c7, [3]int{1, 0, 3}},
		{"l34 v4 tcp 4.15", PolicyLayer34, V4_15, tcp4("10.0.0.1", "10.0.0.2", 40000, 80), 0x29a989c7, [3]int{1, 0, 3}},
		{"l34 v4 tcp 4.10", PolicyLayer34, V4_10, tcp4("10.0.0.1", "10.0.0.2", 40000, 80), 0x5353138f, [3]int{1, 1, 3}},
		{"l34 v4 tcp 443", PolicyLayer34, V5_18, tcp4("192.168.1.10", "192.168.1.20", 443, 51000), 0x1370ad2d, [3]int{1, 1, 1}},
		{"l34 v4 fragment: no ports", PolicyLayer34, V5_18, noPorts, 0x0f0f0f0f, [3]int{1, 0, 3}},
		{"l34 v4 fragment 4.10", PolicyLayer34, V4_10, noPorts, 0x1e1e1e1e, [3]int{0, 0, 2}},
		{"l34 v6 udp", PolicyLayer34, V5_18, udp6("2001:db8::1", "2001:db8::2", 5353, 53), 0x1b1b6fe5, [3]int{1, 1, 1}},
		{"l34 v6 fragment: no ports", PolicyLayer34, V5_18, frag6, 0x01818181, [3]int{1, 1, 1}},
		{"l34 icmp echo", PolicyLayer34, V5_5, echo, 0x08929296, [3]int{0, 0, 2}},
		{"l34 icmp echo id 0 counts as 1", PolicyLayer34, V5_5, echo0, 0x01810105, [3]int{1, 1, 1}},
		{"l34 icmp echo before 5.5: no ports", PolicyLayer34, V4_15, echo, 0x01818181, [3]int{1, 1, 1}},
		{"l23 v6", PolicyLayer23, V5_18, udp6("2001:db8::1", "2001:db8::2", 5353, 53), 0x0303855b, [3]int{1, 2, 3}},
		{"l23 v6 5.15", PolicyLayer23, V5_15, udp6("2001:db8::1", "2001:db8::2", 5353, 53), 0x0181c2ad, [3]int{1, 2, 1}},
		{"l23 v6 5.5", PolicyLayer23, V5_5, udp6("2001:db8::1", "2001:db8::2", 5353, 53), 0x0181ef2d, [3]int{1, 0, 1}},
		{"l23 v6 4.10", PolicyLayer23, V4_10, udp6("2001:db8::1", "2001:db8::2", 5353, 53), 0x0303de5b, [3]int{1, 1, 3}},
		{"l23 v4", PolicyLayer23, V5_18, tcp4("10.0.0.1", "10.0.0.2", 1, 2), 0x03030b08, [3]int{0, 1, 0}},
		{"l23 v4 4.15", PolicyLayer23, V4_15, tcp4("10.0.0.1", "10.0.0.2", 1, 2), 0x01818184, [3]int{0, 1, 0}},
		{"commit 49aefd131739 a0", PolicyLayer23, V4_10, suresh(0xa0), 522133332, [3]int{0, 0, 0}},
		{"commit 49aefd131739 a1", PolicyLayer23, V4_10, suresh(0xa1), 522133333, [3]int{1, 1, 1}},
		{"commit 49aefd131739 a0 shifted", PolicyLayer23, V4_15, suresh(0xa0), 261066666, [3]int{0, 0, 2}},
		{"commit 49aefd131739 a1 shifted", PolicyLayer23, V4_15, suresh(0xa1), 261066666, [3]int{0, 0, 2}},
		{"l2", PolicyLayer2, V5_18, l2, 0x0803, [3]int{1, 2, 3}},
		{"l2 4.10: EtherType read little-endian", PolicyLayer2, V4_10, l2, 0x000b, [3]int{1, 2, 3}},
		{"l34 non-IP falls back to l2", PolicyLayer34, V5_18, arp, 0x02 ^ 0x01 ^ 0x0806, [3]int{1, 1, 1}},
		{"l23 non-IP falls back to l2, no shift", PolicyLayer23, V4_15, arp, 0x02 ^ 0x01 ^ 0x0608, [3]int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Mode: Mode8023AD, Policy: tt.policy, Variant: tt.variant}
			h, why := c.Hash(&tt.flow)
			if why != ReasonNone || h != tt.hash {
				t.Fatalf("Hash = %#08x, %q; want %#08x", h, why, tt.hash)
			}
			for i, n := range []int{2, 3, 4} {
				p := c.Predict(&tt.flow, n)
				if !p.OK() || p.Link != tt.links[i] || p.Hash != tt.hash {
					t.Errorf("Predict over %d links = %+v; want link %d", n, p, tt.links[i])
				}
			}
		})
	}
}

func TestHashBigEndian(t *testing.T) {
	// On a big-endian machine the words are the bytes as they are:
	// ports 0x9c400050, addresses 0x0a000001 ^ 0x0a000002 = 0x00000003,
	// h = 0x9c400053; ^ h>>16 (0x9c40) = 0x9c409c13; ^ h>>8 (0x009c409c)
	// = 0x9cdcdc8f; >> 1 = 0x4e6e6e47.
	c := Config{Mode: ModeXOR, Policy: PolicyLayer34, Variant: V5_18, BigEndian: true}
	f := tcp4("10.0.0.1", "10.0.0.2", 40000, 80)
	if h, why := c.Hash(&f); why != ReasonNone || h != 0x4e6e6e47 {
		t.Fatalf("Hash = %#08x, %q; want 0x4e6e6e47", h, why)
	}
	// The EtherType field read big-endian is the number itself, before 5.15 too.
	c = Config{Mode: ModeXOR, Policy: PolicyLayer2, Variant: V4_10, BigEndian: true}
	if h, _ := c.Hash(&f); h != 0x0803 {
		t.Fatalf("layer2 Hash = %#x; want 0x803", h)
	}
}

func TestNativeBigEndian(t *testing.T) {
	switch runtime.GOARCH {
	case "amd64", "arm64", "386", "riscv64", "loong64", "ppc64le", "mips64le", "mipsle", "wasm", "arm":
		if NativeBigEndian() {
			t.Fatalf("%s is little-endian", runtime.GOARCH)
		}
	case "s390x", "ppc64", "mips", "mips64":
		if !NativeBigEndian() {
			t.Fatalf("%s is big-endian", runtime.GOARCH)
		}
	}
}

func TestPredictCannot(t *testing.T) {
	icmpErr := Flow{HasMAC: true, EtherType: EtherIPv4, Proto: protoICMP, HasICMP: true, ICMPType: 3}
	icmp6Err := Flow{HasMAC: true, EtherType: EtherIPv6, Proto: protoICMPv6, HasICMP: true, ICMPType: 2}
	echoNoID := Flow{HasMAC: true, EtherType: EtherIPv6, Proto: protoICMPv6, HasICMP: true, ICMPType: 128}
	noPorts := tcp4("10.0.0.1", "10.0.0.2", 0, 0)
	noPorts.HasPorts = false
	esp := noPorts
	esp.Proto = protoESP
	noMAC := tcp4("10.0.0.1", "10.0.0.2", 1, 2)
	noMAC.HasMAC = false
	tests := []struct {
		name  string
		c     Config
		f     Flow
		links int
		why   Reason
	}{
		{"round-robin", Config{Mode: ModeRoundRobin, Policy: PolicyLayer34, Variant: V5_18}, noMAC, 2, ReasonMode},
		{"active-backup", Config{Mode: ModeActiveBackup, Policy: PolicyLayer2, Variant: V5_18}, noMAC, 2, ReasonMode},
		{"alb", Config{Mode: ModeALB, Policy: PolicyLayer2, Variant: V5_18}, noMAC, 2, ReasonMode},
		{"encap3+4", Config{Mode: Mode8023AD, Policy: PolicyEncap34, Variant: V5_18}, noMAC, 2, ReasonPolicy},
		{"encap2+3", Config{Mode: Mode8023AD, Policy: PolicyEncap23, Variant: V5_18}, noMAC, 2, ReasonPolicy},
		{"vlan+srcmac", Config{Mode: ModeXOR, Policy: PolicyVLANSrcMAC, Variant: V5_18}, noMAC, 2, ReasonPolicy},
		{"no links", Config{Mode: ModeXOR, Policy: PolicyLayer2, Variant: V5_18}, noMAC, 0, ReasonNoLinks},
		{"layer2 without MACs", Config{Mode: ModeXOR, Policy: PolicyLayer2, Variant: V5_18}, noMAC, 2, ReasonNoMAC},
		{"layer2+3 without MACs", Config{Mode: ModeXOR, Policy: PolicyLayer23, Variant: V5_18}, noMAC, 2, ReasonNoMAC},
		{"tcp without ports", Config{Mode: ModeXOR, Policy: PolicyLayer34, Variant: V5_18}, noPorts, 2, ReasonPortsUnknown},
		{"esp without its SPI", Config{Mode: ModeXOR, Policy: PolicyLayer34, Variant: V4_10}, esp, 2, ReasonPortsUnknown},
		{"icmp error l34", Config{Mode: ModeXOR, Policy: PolicyLayer34, Variant: V5_5}, icmpErr, 2, ReasonICMPError},
		{"icmp error l23", Config{Mode: ModeXOR, Policy: PolicyLayer23, Variant: V5_18}, icmpErr, 2, ReasonICMPError},
		{"icmpv6 too big", Config{Mode: ModeXOR, Policy: PolicyLayer34, Variant: V5_18}, icmp6Err, 2, ReasonICMPError},
		{"icmp without its type", Config{Mode: ModeXOR, Policy: PolicyLayer23, Variant: V5_5}, Flow{HasMAC: true, EtherType: EtherIPv4, Proto: protoICMP}, 2, ReasonICMPType},
		{"icmpv6 echo without id", Config{Mode: ModeXOR, Policy: PolicyLayer34, Variant: V5_18}, echoNoID, 2, ReasonICMPID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.c.Predict(&tt.f, tt.links)
			if p.OK() || p.Why != tt.why || p.Link != -1 {
				t.Fatalf("Predict = %+v (%s); want reason %q", p, p.Why, tt.why)
			}
		})
	}
	// What does not matter to a policy is not asked for: an ICMP error
	// before 5.5, an echo without its identifier under layer2+3, a TCP
	// packet without ports under layer2+3 or as a fragment.
	fine := []struct {
		c Config
		f Flow
	}{
		{Config{Mode: ModeXOR, Policy: PolicyLayer34, Variant: V4_15}, icmpErr},
		{Config{Mode: ModeXOR, Policy: PolicyLayer23, Variant: V5_18}, echoNoID},
		{Config{Mode: ModeXOR, Policy: PolicyLayer23, Variant: V5_18}, noPorts},
		{Config{Mode: ModeXOR, Policy: PolicyLayer34, Variant: V5_18}, func() Flow { f := noPorts; f.Fragment = true; return f }()},
	}
	for i, tt := range fine {
		if p := tt.c.Predict(&tt.f, 2); !p.OK() {
			t.Errorf("case %d: Predict = %+v (%s); want a link", i, p, p.Why)
		}
	}
}

func TestVariantFor(t *testing.T) {
	tests := []struct {
		release string
		want    string
	}{
		{"6.1.0-18-amd64", "5.18"},
		{"5.15.0-91-generic", "5.15"},
		{"5.17.15", "5.15"},
		{"5.18.0", "5.18"},
		{"5.10.0-28-cloud-amd64", "5.5"},
		{"5.4.0-150-generic", "4.15"},
		{"4.19.0-26-amd64", "4.15"},
		{"4.18.0-513.el8.x86_64", "4.15"},
		{"4.14.336", "4.10"},
		{"4.10.0", "4.10"},
		{"6.8.0-1", "5.18"},
		{"10.2", "5.18"},
	}
	for _, tt := range tests {
		v, err := VariantFor(tt.release)
		if err != nil || v.Name != tt.want {
			t.Errorf("VariantFor(%q) = %q, %v; want %q", tt.release, v.Name, err, tt.want)
		}
	}
	for _, bad := range []string{"", "linux", "6", "6.x", "3.10.0-1160.el7.x86_64", "4.9.0-19-amd64", ".1"} {
		if v, err := VariantFor(bad); err == nil {
			t.Errorf("VariantFor(%q) = %q; want an error", bad, v.Name)
		}
	}
}

func TestParse(t *testing.T) {
	for s, want := range map[string]Mode{"802.3ad 4": Mode8023AD, "balance-xor 2": ModeXOR, "0": ModeRoundRobin, "balance-alb": ModeALB} {
		if m, err := ParseMode(s); err != nil || m != want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", s, m, err, want)
		}
	}
	for s, want := range map[string]Policy{"layer3+4 1": PolicyLayer34, "layer2 0": PolicyLayer2, "layer2+3 2": PolicyLayer23, "encap3+4 4": PolicyEncap34, "5": PolicyVLANSrcMAC} {
		if p, err := ParsePolicy(s); err != nil || p != want {
			t.Errorf("ParsePolicy(%q) = %v, %v; want %v", s, p, err, want)
		}
	}
	for _, bad := range []string{"", "layer4", "7", "-1"} {
		if _, err := ParseMode(bad); err == nil {
			t.Errorf("ParseMode(%q): want an error", bad)
		}
		if _, err := ParsePolicy(bad); err == nil {
			t.Errorf("ParsePolicy(%q): want an error", bad)
		}
	}
	if Mode8023AD.String() != "802.3ad" || PolicyLayer34.String() != "layer3+4" || ReasonICMPError.String() == "" {
		t.Error("names")
	}
}

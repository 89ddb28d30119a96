package bondhash

import (
	"encoding/binary"
	"testing"

	"github.com/fastop/fastop/decode"
)

// flowFrom spreads fuzz bytes over a Config and a Flow.
func flowFrom(b []byte) (Config, Flow) {
	var buf [80]byte
	copy(buf[:], b)
	c := Config{
		Mode:      Mode(buf[0] % 9),
		Policy:    Policy(buf[1] % 8),
		Variant:   Variants[int(buf[2])%len(Variants)],
		BigEndian: buf[3]&1 != 0,
	}
	var f Flow
	flags := buf[4]
	f.HasMAC = flags&1 != 0
	f.Fragment = flags&2 != 0
	f.HasPorts = flags&4 != 0
	f.HasICMP = flags&8 != 0
	f.HasICMPID = flags&16 != 0
	switch buf[5] % 4 {
	case 0:
		f.EtherType = EtherIPv4
	case 1:
		f.EtherType = EtherIPv6
	default:
		f.EtherType = binary.BigEndian.Uint16(buf[6:8])
	}
	f.Proto = buf[8]
	f.ICMPType, f.ICMPCode = buf[9], buf[10]
	f.ICMPID = binary.BigEndian.Uint16(buf[11:13])
	f.SrcPort = binary.BigEndian.Uint16(buf[13:15])
	f.DstPort = binary.BigEndian.Uint16(buf[15:17])
	copy(f.SrcMAC[:], buf[17:23])
	copy(f.DstMAC[:], buf[23:29])
	copy(f.Src[:], buf[29:45])
	copy(f.Dst[:], buf[45:61])
	return c, f
}

// FuzzPredict: whatever the flow and configuration, Predict never panics,
// a prediction is a link below the count, a refusal has a reason and no
// link, and the what-ifs agree with Predict.
func FuzzPredict(f *testing.F) {
	f.Add([]byte{5, 2, 4, 0, 0xff, 0, 0, 0, 6, 0, 0, 0, 0, 0x9c, 0x40, 0, 80}, 3)
	f.Add([]byte{3, 3, 0, 1, 0x09, 1, 0, 0, 58, 128, 0, 0, 1}, 2)
	f.Add([]byte{5, 1, 2, 0, 0x01, 2, 0x08, 0x06}, 1)
	f.Fuzz(func(t *testing.T, b []byte, links int) {
		c, fl := flowFrom(b)
		links %= 64
		p := c.Predict(&fl, links)
		if p.OK() {
			if links <= 0 || p.Link < 0 || p.Link >= links {
				t.Fatalf("link %d of %d", p.Link, links)
			}
			if h, why := c.Hash(&fl); why != ReasonNone || int(h%uint32(links)) != p.Link {
				t.Fatalf("Hash %#x (%s) disagrees with link %d", h, why, p.Link)
			}
		} else if p.Link != -1 || p.Why.String() == "" {
			t.Fatalf("refusal %+v", p)
		}
		fb := []FlowBytes{{Flow: fl, Bytes: 10, Link: -1}}
		s := SplitIfLayer34(c, fb, links)
		var sum uint64
		for _, v := range s.Bytes {
			sum += v
		}
		if sum+s.Unknown != 10 {
			t.Fatalf("split loses bytes: %+v", s)
		}
		fo := IfLinkFails(c, fb, links, int(uint(len(b))%8))
		sum = 0
		for i, v := range fo.After.Bytes {
			if v != 0 && i == fo.Failed {
				t.Fatalf("bytes on the failed link: %+v", fo)
			}
			sum += v
		}
		if sum+fo.After.Unknown != 10 {
			t.Fatalf("failover loses bytes: %+v", fo)
		}
	})
}

// FuzzPredictPacket: any frame the decoder accepts gives a link below the
// count or a reason.
func FuzzPredictPacket(f *testing.F) {
	v4 := ether(false, 0x0800, ipv4(6, 0, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, ports(40000, 80)))
	v6 := ether(false, 0x86dd, ipv6h(17, ip("2001:db8::1"), ip("2001:db8::2"), ports(5353, 53)))
	f.Add(v4, uint8(1), uint8(3), false)
	f.Add(v6, uint8(2), uint8(2), true)
	f.Fuzz(func(t *testing.T, frame []byte, policy, links uint8, oob bool) {
		m := decode.Meta{Link: decode.LinkEthernet, VLANOK: oob}
		var p decode.Packet
		if decode.Frame(frame, &m, &p) != nil {
			return
		}
		c := Config{Mode: ModeXOR, Policy: Policy(policy % 8), Variant: Variants[int(links)%len(Variants)]}
		n := int(links % 9)
		got := c.PredictPacket(&p, oob, n)
		if got.OK() && (got.Link < 0 || got.Link >= n) {
			t.Fatalf("link %d of %d", got.Link, n)
		}
		if !got.OK() && got.Link != -1 {
			t.Fatalf("refusal with a link: %+v", got)
		}
	})
}

// FuzzVariantFor: a release string gives a known variant or an error
// that names the string.
func FuzzVariantFor(f *testing.F) {
	for _, s := range []string{"6.1.0-18-amd64", "4.18.0-513.el8.x86_64", "3.10.0", "5.", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := VariantFor(s)
		if err != nil {
			return
		}
		for _, k := range Variants {
			if k == v {
				return
			}
		}
		t.Fatalf("VariantFor(%q) = %+v, not a known variant", s, v)
	})
}

package bondhash

import (
	"encoding/binary"
	"testing"

	"github.com/fastop/fastop/decode"
)

// ether builds an Ethernet frame: dst 02:..:02, src 02:..:01, optional
// in-frame 802.1Q tag, then the EtherType and payload.
func ether(tag bool, etype uint16, payload []byte) []byte {
	b := append([]byte{}, macB[:]...)
	b = append(b, macA[:]...)
	if tag {
		b = append(b, 0x81, 0x00, 0x00, 0x64)
	}
	b = binary.BigEndian.AppendUint16(b, etype)
	return append(b, payload...)
}

func ipv4(proto byte, frag uint16, src, dst [4]byte, l4 []byte) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(l4)))
	binary.BigEndian.PutUint16(h[6:], frag)
	h[8] = 64
	h[9] = proto
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	return append(h, l4...)
}

func ipv6h(next byte, src, dst [16]byte, rest []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(rest)))
	h[6] = next
	h[7] = 64
	copy(h[8:], src[:])
	copy(h[24:], dst[:])
	return append(h, rest...)
}

func ports(sp, dp uint16) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], sp)
	binary.BigEndian.PutUint16(b[2:], dp)
	return b
}

func TestPredictPacket(t *testing.T) {
	v4a, v4b := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	v6a, v6b := ip("2001:db8::1"), ip("2001:db8::2")
	hopByHop := append([]byte{17, 0, 1, 4, 0, 0, 0, 0}, ports(5353, 53)...)
	c := Config{Mode: Mode8023AD, Policy: PolicyLayer34, Variant: V5_18}
	tests := []struct {
		name  string
		frame []byte
		oob   bool // an out-of-band tag as well
		link  int  // over 3 links; -1 with why
		why   Reason
	}{
		// Golden "l34 v4 tcp": 0x29a989c7 % 3 = 0.
		{"tcp v4", ether(false, 0x0800, ipv4(6, 0, v4a, v4b, ports(40000, 80))), false, 0, ReasonNone},
		{"tcp v4, tag out of band", ether(false, 0x0800, ipv4(6, 0, v4a, v4b, ports(40000, 80))), true, 0, ReasonNone},
		// Golden "l34 v6 udp": 0x1b1b6fe5 % 3 = 1.
		{"udp v6", ether(false, 0x86dd, ipv6h(17, v6a, v6b, ports(5353, 53))), false, 1, ReasonNone},
		// A first fragment hashes without ports: 0x03000000 folded and
		// shifted is 0x01818181, % 3 = 1 (golden "l34 icmp echo before 5.5").
		{"first fragment v4", ether(false, 0x0800, ipv4(17, 0x2000, v4a, v4b, ports(40000, 80))), false, 1, ReasonNone},
		{"later fragment v4", ether(false, 0x0800, ipv4(17, 0x0010, v4a, v4b, ports(40000, 80))), false, 1, ReasonNone},
		{"tag in the frame", ether(true, 0x0800, ipv4(6, 0, v4a, v4b, ports(40000, 80))), false, -1, ReasonVLANInFrame},
		{"v6 hop-by-hop", ether(false, 0x86dd, ipv6h(0, v6a, v6b, hopByHop)), false, -1, ReasonIPv6Ext},
		{"icmp unreachable", ether(false, 0x0800, ipv4(1, 0, v4a, v4b, []byte{3, 3, 0, 0, 0, 0, 0, 0})), false, -1, ReasonICMPError},
		{"icmp echo: id not kept", ether(false, 0x0800, ipv4(1, 0, v4a, v4b, []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1})), false, -1, ReasonICMPID},
		{"esp: SPI not kept", ether(false, 0x0800, ipv4(50, 0, v4a, v4b, []byte{0, 0, 1, 0, 0, 0, 0, 1})), false, -1, ReasonPortsUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktOutgoing, VLANOK: tt.oob, VLANTCI: 7}
			var p decode.Packet
			if err := decode.Frame(tt.frame, &m, &p); err != nil {
				t.Fatalf("decode: %v", err)
			}
			got := c.PredictPacket(&p, m.VLANOK, 3)
			if got.Link != tt.link || got.Why != tt.why {
				t.Fatalf("PredictPacket = %+v (%s); want link %d, reason %q", got, got.Why, tt.link, tt.why)
			}
		})
	}
	// Layer2+3 needs no ICMP identifier: the echo is predicted there
	// (golden "l23 v4": 0x03030b08 % 3 = 1).
	c.Policy = PolicyLayer23
	var p decode.Packet
	m := decode.Meta{Link: decode.LinkEthernet}
	if err := decode.Frame(ether(false, 0x0800, ipv4(1, 0, v4a, v4b, []byte{8, 0, 0, 0, 0x12, 0x34, 0, 1})), &m, &p); err != nil {
		t.Fatal(err)
	}
	if got := c.PredictPacket(&p, false, 3); got.Link != 1 {
		t.Fatalf("layer2+3 echo: %+v (%s); want link 1", got, got.Why)
	}
	// Raw IP has no MACs: layer3+4 still predicts, layer2+3 cannot.
	m = decode.Meta{Link: decode.LinkRaw}
	if err := decode.Frame(ipv4(6, 0, v4a, v4b, ports(40000, 80)), &m, &p); err != nil {
		t.Fatal(err)
	}
	if got := c.PredictPacket(&p, false, 3); got.Why != ReasonNoMAC {
		t.Fatalf("layer2+3 raw IP: %+v; want %q", got, ReasonNoMAC)
	}
	c.Policy = PolicyLayer34
	if got := c.PredictPacket(&p, false, 3); got.Link != 0 {
		t.Fatalf("layer3+4 raw IP: %+v (%s); want link 0", got, got.Why)
	}
}

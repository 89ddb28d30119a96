package gen

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"

	"github.com/fastop/fastop/decode"
)

// checksumOK verifies an RFC 1071 checksum over the pseudo-header and b.
func checksumOK(pseudo uint32, b []byte) bool {
	return fold(sum(pseudo, b)) == 0xffff
}

func TestAppendFrame(t *testing.T) {
	mac1, mac2 := [6]byte{2, 0, 0, 0, 0, 1}, [6]byte{2, 0, 0, 0, 0, 2}
	v4a, v4b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	v6a, v6b := netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
	tests := []struct {
		name string
		f    Flow
	}{
		{"IPv4 UDP, padded", Flow{DstMAC: mac1, SrcMAC: mac2, Src: v4a, Dst: v4b, Proto: ProtoUDP, SrcPort: 1, DstPort: 53}},
		{"IPv4 TCP", Flow{DstMAC: mac1, SrcMAC: mac2, Src: v4a, Dst: v4b, Proto: ProtoTCP, SrcPort: 40000, DstPort: 443, Payload: 1000}},
		{"IPv6 UDP odd payload", Flow{DstMAC: mac1, SrcMAC: mac2, Src: v6a, Dst: v6b, Proto: ProtoUDP, SrcPort: 5, DstPort: 6, Payload: 33}},
		{"IPv6 TCP", Flow{DstMAC: mac1, SrcMAC: mac2, Src: v6b, Dst: v6a, Proto: ProtoTCP, SrcPort: 22, DstPort: 50000, Payload: 200}},
		{"802.1Q", Flow{DstMAC: mac1, SrcMAC: mac2, Tags: []Tag{{0x8100, 100}}, Src: v4a, Dst: v4b, Proto: ProtoUDP, SrcPort: 1, DstPort: 2, Payload: 64}},
		{"QinQ", Flow{DstMAC: mac1, SrcMAC: mac2, Tags: []Tag{{0x88a8, 200}, {0x8100, 20}}, Src: v6a, Dst: v6b, Proto: ProtoUDP, SrcPort: 1, DstPort: 2, Payload: 64}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			if err := f.Validate(); err != nil {
				t.Fatal(err)
			}
			b := f.AppendFrame([]byte{0xee})[1:] // appends after existing bytes
			if len(b) != f.FrameLen() || len(b) < MinFrame {
				t.Fatalf("frame of %d bytes, FrameLen %d", len(b), f.FrameLen())
			}
			var p decode.Packet
			if err := decode.Frame(b, &decode.Meta{Link: decode.LinkEthernet, WireLen: uint32(len(b))}, &p); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if p.SrcAddr() != f.Src || p.DstAddr() != f.Dst || p.SrcPort != f.SrcPort || p.DstPort != f.DstPort ||
				p.Proto != f.Proto || int(p.IPLen) != f.IPLen() || int(p.NVLAN) != len(f.Tags) || p.SrcMAC != f.SrcMAC {
				t.Errorf("decoded %+v from flow %+v", p, f)
			}
			for i, tag := range f.Tags {
				if p.VLAN[i] != tag.TCI&0xfff {
					t.Errorf("tag %d: VLAN %d, want %d", i, p.VLAN[i], tag.TCI&0xfff)
				}
			}
			ip := b[p.L3Off:]
			l4 := b[p.L4Off : int(p.L3Off)+f.IPLen()]
			var pseudo uint32
			if f.Src.Is4() {
				if !checksumOK(0, ip[:20]) {
					t.Error("bad IPv4 header checksum")
				}
				pseudo = sum(0, ip[12:20])
			} else {
				pseudo = sum(0, ip[8:40])
			}
			pseudo += uint32(f.Proto) + uint32(len(l4))
			if !checksumOK(pseudo, l4) {
				t.Errorf("bad %d checksum", f.Proto)
			}
		})
	}
	bad := []Flow{
		{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("fd00::1"), Proto: ProtoUDP},
		{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: 1},
		{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: ProtoUDP, Payload: 70000},
		{},
	}
	for _, f := range bad {
		if f.Validate() == nil {
			t.Errorf("Validate accepted %+v", f)
		}
	}
	if _, err := Prebuild(bad[:1]); err == nil {
		t.Error("Prebuild accepted a bad flow")
	}
}

func TestSynth(t *testing.T) {
	s := &Synth{N: 120000, Base: Flow{Src: netip.MustParseAddr("10.0.255.250"), Dst: netip.MustParseAddr("10.9.0.1"), Proto: ProtoUDP, DstPort: 9}}
	type key struct {
		a netip.Addr
		p uint16
	}
	seen := make(map[key]bool, s.N)
	scratch := make([]byte, 0, 128)
	for i := range s.Len() {
		b := s.Frame(i, scratch)
		k := key{netip.AddrFrom4([4]byte(b[26:30])), binary.BigEndian.Uint16(b[34:])}
		f := s.Flow(i)
		if k.a != f.Src || k.p != f.SrcPort {
			t.Fatalf("flow %d: frame says %v:%d, Flow says %v:%d", i, k.a, k.p, f.Src, f.SrcPort)
		}
		if seen[k] {
			t.Fatalf("flow %d repeats %v", i, k)
		}
		seen[k] = true
	}
	if got := s.Flow(50000).Src; got != netip.MustParseAddr("10.0.255.251") {
		t.Errorf("flow 50000 source %v", got)
	}
	if got := addAddr(netip.MustParseAddr("10.0.0.255"), 1); got != netip.MustParseAddr("10.0.1.0") {
		t.Errorf("10.0.0.255 + 1 = %v", got)
	}
	if got := addAddr(netip.MustParseAddr("fd00::ffff"), 0x10001); got != netip.MustParseAddr("fd00::2:0") {
		t.Errorf("fd00::ffff + 0x10001 = %v", got)
	}
	allocs := testing.AllocsPerRun(100, func() { scratch = s.Frame(7, scratch) })
	if allocs != 0 {
		t.Errorf("Synth.Frame allocates %.1f times", allocs)
	}
}

func BenchmarkSynthFrame(b *testing.B) {
	s := &Synth{N: 1000000, Base: Flow{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.9.0.1"), Proto: ProtoUDP, DstPort: 9}}
	scratch := make([]byte, 0, 128)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		scratch = s.Frame(i, scratch)
		if i++; i == s.N {
			i = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

func TestResultAdd(t *testing.T) {
	var r Result
	r.Add(Result{Sent: 3, Failed: 1, Bytes: 180, PerFlow: []uint64{2, 1}, Elapsed: 2})
	r.Add(Result{Sent: 2, Bytes: 120, PerFlow: []uint64{1, 0, 1}, Elapsed: 1})
	if r.Sent != 5 || r.Failed != 1 || r.Bytes != 300 || len(r.PerFlow) != 3 || r.PerFlow[0] != 3 || r.PerFlow[2] != 1 || r.Elapsed != 3 {
		t.Errorf("sum %+v", r)
	}
	if PerMillion(2e9, 4e6) != 5e8 {
		t.Errorf("PerMillion(2s, 4M) = %v", PerMillion(2e9, 4e6))
	}
}

func TestPackAndShuffled(t *testing.T) {
	s := &Synth{N: 70000, Base: Flow{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.9.0.1"), Proto: ProtoUDP, DstPort: 9}}
	p, err := s.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != s.N {
		t.Fatalf("%d frames, want %d", p.Len(), s.N)
	}
	var scratch []byte
	for _, i := range []int{0, 1, 49999, 50000, s.N - 1} {
		if want := s.Frame(i, scratch); string(p.Frame(i, nil)) != string(want) {
			t.Errorf("packed frame %d differs from the synthesized one", i)
		}
	}
	if _, err := (&Synth{}).Pack(); err == nil {
		t.Error("packing no flows")
	}
	bad := &Synth{N: 3, Base: Flow{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("fd00::1"), Proto: ProtoUDP}}
	if _, err := bad.Pack(); err == nil {
		t.Error("packing an invalid flow")
	}

	order := Shuffled(1000, 1)
	seen := make([]bool, 1000)
	inPlace := 0
	for i, f := range order {
		if f < 0 || f >= 1000 || seen[f] {
			t.Fatalf("order %v is not a permutation", order)
		}
		seen[f] = true
		if int(f) == i {
			inPlace++
		}
	}
	if inPlace > 10 { // a random permutation fixes about one point
		t.Errorf("%d of 1000 flows in place: not shuffled", inPlace)
	}
	if again := Shuffled(1000, 1); fmt.Sprint(again) != fmt.Sprint(order) {
		t.Error("the same seed gave another order")
	}
}

func TestSubset(t *testing.T) {
	src := &Synth{N: 100, Base: Flow{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Proto: ProtoUDP, DstPort: 9}}
	sub := Subset{Source: src, Flows: []int32{42, 7, 99}}
	if sub.Len() != 3 {
		t.Fatalf("Len = %d", sub.Len())
	}
	for i, f := range sub.Flows {
		want := src.Frame(int(f), nil)
		if got := sub.Frame(i, nil); string(got) != string(want) {
			t.Errorf("frame %d is not flow %d's", i, f)
		}
	}
}

package decode

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

func flow4(src, dst uint32, sp, dp uint16, proto uint8) Packet {
	p := Packet{Family: 4, Proto: proto, Flags: FlagPorts, SrcPort: sp, DstPort: dp}
	p.Src[0], p.Src[1], p.Src[2], p.Src[3] = byte(src>>24), byte(src>>16), byte(src>>8), byte(src)
	p.Dst[0], p.Dst[1], p.Dst[2], p.Dst[3] = byte(dst>>24), byte(dst>>16), byte(dst>>8), byte(dst)
	return p
}

func TestFlowHashSymmetric(t *testing.T) {
	var p Packet
	for _, c := range frameCases() {
		m := metaFor(&c)
		if Frame(c.data, &m, &p) != nil {
			continue
		}
		r := p
		r.Src, r.Dst, r.SrcPort, r.DstPort = p.Dst, p.Src, p.DstPort, p.SrcPort
		r.SrcMAC, r.DstMAC, r.L4Off, r.IPLen = p.DstMAC, p.SrcMAC, 0, 1 // not part of the flow
		if p.FlowHash() != r.FlowHash() {
			t.Errorf("%s: %#x one way, %#x the other", c.name, p.FlowHash(), r.FlowHash())
		}
	}
}

func TestFlowHashSeparates(t *testing.T) {
	base := flow4(0xc0000201, 0xc0000202, 50000, 80, 6)
	h := base.FlowHash()
	variants := map[string]Packet{
		"other source":      flow4(0xc0000203, 0xc0000202, 50000, 80, 6),
		"other source port": flow4(0xc0000201, 0xc0000202, 50001, 80, 6),
		"other protocol":    flow4(0xc0000201, 0xc0000202, 50000, 80, 17),
		"ports swapped":     flow4(0xc0000201, 0xc0000202, 80, 50000, 6),
	}
	six := base
	six.Family = 6
	variants["same bytes as IPv6"] = six
	frag := base
	frag.Flags |= FlagFragment
	variants["fragment"] = frag
	for name, v := range variants {
		if v.FlowHash() == h {
			t.Errorf("%s hashes like the base flow (%#x)", name, h)
		}
	}
	// Every fragment of a datagram goes where its first fragment goes.
	later := frag
	later.Flags = FlagFragment | FlagLaterFrag
	later.SrcPort, later.DstPort = 0, 0
	if later.FlowHash() != frag.FlowHash() {
		t.Errorf("later fragment %#x, first fragment %#x", later.FlowHash(), frag.FlowHash())
	}
}

// TestFlowHashSpread puts flows that differ little (one host's ephemeral
// ports, sequential addresses, a random mix) into N buckets; each bucket
// must get its share within 10%, which for these counts is several
// standard deviations: a well-mixed hash never fails, a weak one (say, a
// plain xor of the fields modulo a power of two) does.
func TestFlowHashSpread(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sets := map[string]func(i int) Packet{
		"ephemeral ports": func(i int) Packet { return flow4(0x0a000001, 0x0a000002, uint16(32768+i), 443, 6) },
		"sequential hosts": func(i int) Packet {
			return flow4(0x0a000000+uint32(i), 0xc0000202, 53, 53, 17)
		},
		"random ipv6": func(int) Packet {
			p := Packet{Family: 6, Proto: 6, Flags: FlagPorts, SrcPort: uint16(rng.Uint32()), DstPort: 443}
			for i := range p.Src {
				p.Src[i], p.Dst[i] = byte(rng.Uint32()), byte(rng.Uint32())
			}
			return p
		},
	}
	const flows = 1 << 15
	for name, gen := range sets {
		for _, n := range []int{2, 3, 4, 7, 8, 16} {
			counts := make([]int, n)
			for i := range flows {
				p := gen(i)
				counts[p.FlowHash()%uint64(n)]++
			}
			want := flows / n
			for b, c := range counts {
				if c < want*9/10 || c > want*11/10 {
					t.Errorf("%s into %d buckets: bucket %d has %d, want about %d", name, n, b, c, want)
				}
			}
		}
	}
}

// TestFlowHashAvalanche flips each input bit of random flows: about half
// of the output bits must change on average.
func TestFlowHashAvalanche(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const rounds = 200
	var flips, tries int
	for range rounds {
		p := flow4(rng.Uint32(), rng.Uint32(), uint16(rng.Uint32()), uint16(rng.Uint32()), 6)
		h := p.FlowHash()
		for bit := range 32 {
			q := p
			q.Src[bit/8] ^= 1 << (bit % 8)
			flips += bits.OnesCount64(h ^ q.FlowHash())
			q = p
			q.Dst[bit/8] ^= 1 << (bit % 8)
			flips += bits.OnesCount64(h ^ q.FlowHash())
			tries += 2
		}
		for bit := range 16 {
			q := p
			q.SrcPort ^= 1 << bit
			flips += bits.OnesCount64(h ^ q.FlowHash())
			tries++
		}
	}
	if avg := float64(flips) / float64(tries); avg < 30 || avg > 34 {
		t.Errorf("one flipped input bit changes %.2f output bits on average, want about 32", avg)
	}
}

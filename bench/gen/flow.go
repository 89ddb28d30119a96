// Package gen generates test traffic for fastop's live tests and the live
// benchmark: Ethernet frames of many flows, sent on an interface through an
// AF_PACKET socket at a given rate or as fast as the machine allows, with an
// exact count of what was sent per flow. It also reads CPU time, so capture
// cost can be given per packet.
//
// Frames are built by [Flow.AppendFrame] (Ethernet, optional in-band VLAN
// tags, IPv4 or IPv6, UDP or TCP, valid checksums), ahead of time
// ([Prebuild], or [Synth.Pack] for a million flows in one buffer) or on the
// fly ([Synth]). A run sends them round-robin or in a random order
// ([Shuffled]), one sendto per frame or, with [RunConfig.Batch], many
// frames per system call through a transmit ring shared with the kernel.
// Sending is Linux only.
package gen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// Tag is an in-band VLAN tag.
type Tag struct {
	TPID uint16 // 0x8100 (802.1Q) or 0x88a8 (802.1ad)
	TCI  uint16 // priority (3 bits), DEI, VLAN id (12 bits)
}

// Flow describes the frames of one flow.
type Flow struct {
	DstMAC, SrcMAC   [6]byte
	Tags             []Tag // in-band VLAN tags, outermost first
	Src, Dst         netip.Addr
	Proto            uint8 // 17 (UDP) or 6 (TCP)
	SrcPort, DstPort uint16
	Payload          int // transport payload bytes
}

// Protocol numbers.
const (
	ProtoTCP = 6
	ProtoUDP = 17
)

// MinFrame is the shortest Ethernet frame (without FCS); shorter frames
// are zero-padded, as a NIC would, so the frame is longer than its IP
// packet.
const MinFrame = 60

func (f *Flow) l4Len() int {
	if f.Proto == ProtoTCP {
		return 20 + f.Payload
	}
	return 8 + f.Payload
}

// IPLen returns the IP packet's length: what iftop counts.
func (f *Flow) IPLen() int {
	if f.Src.Is4() {
		return 20 + f.l4Len()
	}
	return 40 + f.l4Len()
}

// FrameLen returns the frame's length, padding included.
func (f *Flow) FrameLen() int {
	return max(14+4*len(f.Tags)+f.IPLen(), MinFrame)
}

// Validate reports a flow that AppendFrame cannot build.
func (f *Flow) Validate() error {
	switch {
	case !f.Src.IsValid() || !f.Dst.IsValid() || f.Src.Is4() != f.Dst.Is4():
		return fmt.Errorf("gen: flow addresses %v and %v are not both IPv4 or both IPv6", f.Src, f.Dst)
	case f.Proto != ProtoUDP && f.Proto != ProtoTCP:
		return fmt.Errorf("gen: flow protocol %d is not UDP or TCP", f.Proto)
	case f.Payload < 0 || f.IPLen() > 65535:
		return fmt.Errorf("gen: flow payload %d out of range", f.Payload)
	}
	return nil
}

// AppendFrame appends the flow's frame to dst. The flow must be valid.
func (f *Flow) AppendFrame(dst []byte) []byte {
	be := binary.BigEndian
	start := len(dst)
	dst = append(dst, f.DstMAC[:]...)
	dst = append(dst, f.SrcMAC[:]...)
	for _, t := range f.Tags {
		dst = be.AppendUint16(dst, t.TPID)
		dst = be.AppendUint16(dst, t.TCI)
	}
	v4 := f.Src.Is4()
	l4 := f.l4Len()
	ip := len(dst) + 2
	if v4 {
		dst = be.AppendUint16(dst, 0x0800)
		dst = append(dst, 0x45, 0)
		dst = be.AppendUint16(dst, uint16(20+l4))
		dst = append(dst, 0, 1, 0x40, 0, 64, f.Proto, 0, 0) // id 1, DF, TTL 64
		s, d := f.Src.As4(), f.Dst.As4()
		dst = append(dst, s[:]...)
		dst = append(dst, d[:]...)
		be.PutUint16(dst[ip+10:], ^fold(sum(0, dst[ip:ip+20])))
	} else {
		dst = be.AppendUint16(dst, 0x86dd)
		dst = append(dst, 0x60, 0, 0, 0)
		dst = be.AppendUint16(dst, uint16(l4))
		dst = append(dst, f.Proto, 64)
		s, d := f.Src.As16(), f.Dst.As16()
		dst = append(dst, s[:]...)
		dst = append(dst, d[:]...)
	}
	th := len(dst)
	dst = be.AppendUint16(dst, f.SrcPort)
	dst = be.AppendUint16(dst, f.DstPort)
	ck := 0
	if f.Proto == ProtoTCP {
		dst = append(dst, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0) // seq 1, ACK, window
		ck = th + 16
	} else {
		dst = be.AppendUint16(dst, uint16(l4))
		dst = append(dst, 0, 0)
		ck = th + 6
	}
	for i := range f.Payload {
		dst = append(dst, byte(i))
	}
	// Transport checksum over the pseudo-header and the segment.
	var s uint32
	if v4 {
		s = sum(s, dst[ip+12:ip+20])
	} else {
		s = sum(s, dst[ip+8:ip+40])
	}
	s += uint32(f.Proto) + uint32(l4)
	s = sum(s, dst[th:])
	c := ^fold(s)
	if c == 0 && f.Proto == ProtoUDP {
		c = 0xffff
	}
	be.PutUint16(dst[ck:], c)
	for len(dst)-start < MinFrame {
		dst = append(dst, 0)
	}
	return dst
}

// sum adds b to s as 16-bit big-endian words (RFC 1071).
func sum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// Source gives the frames to send: Len flows, and flow i's frame.
type Source interface {
	Len() int
	// Frame returns flow i's frame, built in scratch (whose capacity it
	// may reuse) or taken from a store; it is valid until the next call.
	Frame(i int, scratch []byte) []byte
}

// Frames is a Source of prebuilt frames, one per flow.
type Frames [][]byte

// Len returns the number of flows.
func (fs Frames) Len() int { return len(fs) }

// Frame returns flow i's frame.
func (fs Frames) Frame(i int, _ []byte) []byte { return fs[i] }

// Prebuild builds every flow's frame once.
func Prebuild(flows []Flow) (Frames, error) {
	fs := make(Frames, len(flows))
	for i := range flows {
		if err := flows[i].Validate(); err != nil {
			return nil, fmt.Errorf("flow %d: %w", i, err)
		}
		fs[i] = flows[i].AppendFrame(nil)
	}
	return fs, nil
}

// Synth is a Source of N distinct 5-tuples derived from Base, built on the
// fly (one million prebuilt frames would take ~100 MB): flow i has source
// port PortBase + i % PortSpan and a source address Base.Src + i / PortSpan
// (the address counts up in its low bytes).
type Synth struct {
	Base     Flow
	N        int
	PortBase uint16 // default 1024
	PortSpan int    // default 50000
}

func (s *Synth) span() int {
	if s.PortSpan <= 0 {
		return 50000
	}
	return s.PortSpan
}

// Len returns N.
func (s *Synth) Len() int { return s.N }

// Flow returns flow i.
func (s *Synth) Flow(i int) Flow {
	f := s.Base
	base := s.PortBase
	if base == 0 {
		base = 1024
	}
	f.SrcPort = base + uint16(i%s.span())
	f.Src = addAddr(s.Base.Src, uint64(i/s.span()))
	return f
}

// Frame builds flow i's frame in scratch.
func (s *Synth) Frame(i int, scratch []byte) []byte {
	f := s.Flow(i)
	return f.AppendFrame(scratch[:0])
}

// Pack builds every flow's frame ahead of time into one buffer (a million
// 60-byte frames take 60 MB, and no slice per frame), so that sending costs
// no frame building. Every frame of a Synth has the same length.
func (s *Synth) Pack() (*Packed, error) {
	if s.N <= 0 {
		return nil, fmt.Errorf("gen: no flows to build")
	}
	f := s.Flow(0)
	if err := f.Validate(); err != nil {
		return nil, err
	}
	stride := f.FrameLen()
	p := &Packed{stride: stride, buf: make([]byte, 0, s.N*stride)}
	for i := range s.N {
		f := s.Flow(i)
		p.buf = f.AppendFrame(p.buf)
		if len(p.buf) != (i+1)*stride {
			return nil, fmt.Errorf("gen: flow %d: frame of %d bytes, not %d", i, len(p.buf)-i*stride, stride)
		}
	}
	return p, nil
}

// Packed is a Source of prebuilt frames of one length, back to back in one
// buffer.
type Packed struct {
	stride int
	buf    []byte
}

// Len returns the number of flows.
func (p *Packed) Len() int { return len(p.buf) / p.stride }

// Frame returns flow i's frame (it aliases the buffer: do not modify).
func (p *Packed) Frame(i int, _ []byte) []byte {
	return p.buf[i*p.stride : (i+1)*p.stride : (i+1)*p.stride]
}

// Subset is a Source of some of another Source's flows: flow i of the
// subset is flow Flows[i] of Source. Senders that share a run's flows
// each send a Subset (a run's PerFlow then counts by place in Flows).
type Subset struct {
	Source Source
	Flows  []int32
}

// Len returns the number of flows in the subset.
func (s Subset) Len() int { return len(s.Flows) }

// Frame returns the frame of the subset's flow i.
func (s Subset) Frame(i int, scratch []byte) []byte { return s.Source.Frame(int(s.Flows[i]), scratch) }

// Shuffled returns the flows 0..n-1 in a uniformly random order (seeded,
// so runs repeat): a run that follows it sends every flow once per pass,
// in an order with no locality, as a flood from random sources arrives.
func Shuffled(n int, seed uint64) []int32 {
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	r.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	return order
}

// addAddr returns a + n, carrying across the address's bytes.
func addAddr(a netip.Addr, n uint64) netip.Addr {
	b := a.As16()
	for i := 15; i >= 0 && n > 0; i-- {
		v := uint64(b[i]) + n&0xff
		b[i] = byte(v)
		n = n>>8 + v>>8
	}
	out := netip.AddrFrom16(b)
	if a.Is4() {
		out = out.Unmap()
	}
	return out
}

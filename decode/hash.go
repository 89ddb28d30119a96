package decode

import (
	"encoding/binary"
	"math/bits"
)

// Odd 64-bit constants with well spread bits (from the digits of π); any
// such constants would do.
const (
	hashK0 = 0x243f6a8885a308d3
	hashK1 = 0x13198a2e03707344
	hashK2 = 0xa4093822299f31d0
	hashK3 = 0x082efa98ec4e6c89
)

// FlowHash returns a hash of p's flow: addresses, ports and protocol. It is
// symmetric: both directions of a conversation give the same value, so a
// reader that sends packets to worker FlowHash() % N keeps each
// conversation on one worker, as the kernel's PACKET_FANOUT_HASH does.
//
// Fragments are hashed without ports, even the first one, so every
// fragment of a datagram lands on the same worker (the kernel's symmetric
// flow dissector does not read ports from fragments either). Frames that
// are not IP (Family 0) all hash alike.
//
// It costs three 64×64→128-bit multiplies and allocates nothing. It is
// not keyed, so it is no defence against traffic crafted to collide.
func (p *Packet) FlowHash() uint64 {
	var sp, dp uint64
	if p.Flags&(FlagPorts|FlagFragment) == FlagPorts {
		sp, dp = uint64(p.SrcPort), uint64(p.DstPort)
	}
	a := endpointHash(&p.Src, sp)
	b := endpointHash(&p.Dst, dp)
	// a+b and a^b are both unchanged when the endpoints swap; mixing the
	// two keeps pairs whose sums or xors collide apart.
	return mum((a+b)^uint64(p.Proto)<<8^uint64(p.Family)^hashK2, a^b^hashK3)
}

// endpointHash mixes one address and port into 64 well-spread bits.
func endpointHash(addr *[16]byte, port uint64) uint64 {
	lo := binary.LittleEndian.Uint64(addr[0:8])
	hi := binary.LittleEndian.Uint64(addr[8:16])
	return mum(lo^hashK0, hi^port<<48^hashK1)
}

// mum folds the 128-bit product of x and y into 64 bits: every input bit
// reaches the middle of the product, so one multiply mixes well.
func mum(x, y uint64) uint64 {
	hi, lo := bits.Mul64(x, y)
	return hi ^ lo
}

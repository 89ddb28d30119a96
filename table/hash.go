package table

import (
	"encoding/binary"
	"math/bits"

	"github.com/fastop/fastop/decode"
)

// packed is a Key as five words: the form the tables store and compare.
// Word 4 holds the ports, protocol, family and hidden bits; it is never 0
// for a real key (the family is 4 or 6), so a zero word 4 marks a free slot.
type packed [5]uint64

func pack(k *Key) packed {
	return packed{
		binary.LittleEndian.Uint64(k.A[0:8]),
		binary.LittleEndian.Uint64(k.A[8:16]),
		binary.LittleEndian.Uint64(k.B[0:8]),
		binary.LittleEndian.Uint64(k.B[8:16]),
		uint64(k.APort) | uint64(k.BPort)<<16 | uint64(k.Proto)<<32 | uint64(k.Family)<<40 | uint64(k.Hidden)<<48,
	}
}

func (p *packed) key() Key {
	var k Key
	binary.LittleEndian.PutUint64(k.A[0:8], p[0])
	binary.LittleEndian.PutUint64(k.A[8:16], p[1])
	binary.LittleEndian.PutUint64(k.B[0:8], p[2])
	binary.LittleEndian.PutUint64(k.B[8:16], p[3])
	k.APort, k.BPort = uint16(p[4]), uint16(p[4]>>16)
	k.Proto, k.Family, k.Hidden = uint8(p[4]>>32), uint8(p[4]>>40), uint8(p[4]>>48)
	return k
}

// equal compares word by word, the discriminating ports word first; the
// generic == on a 40-byte array would call memequal.
func (p *packed) equal(q *packed) bool {
	return p[4] == q[4] && p[0] == q[0] && p[2] == q[2] && p[1] == q[1] && p[3] == q[3]
}

// hash folds the words into two and mixes them with one 64×64→128
// multiplication (the wyhash construction). For IPv4 the fold loses
// nothing: A sits in the low half of word 0 and B, rotated, in the high
// half. The result only places keys in the tables (equal compares whole
// keys), so an IPv6 collision costs a probe, never a wrong count.
func (p *packed) hash() uint64 {
	const (
		s0 = 0xa0761d6478bd642f
		s1 = 0xe7037ed1a0b428db
	)
	a := p[0] ^ bits.RotateLeft64(p[2], 32) ^ bits.RotateLeft64(p[3], 17)
	b := p[4] ^ p[1] ^ bits.RotateLeft64(p[3], 47)
	return mix(a^s0, b^s1)
}

// packPacket builds the key of p in k without going through a Key:
// srcLeft puts the packet's source on the left.
func packPacket(k *packed, p *decode.Packet, srcLeft bool) {
	a, b := &p.Src, &p.Dst
	var ap, bp uint64
	if p.Flags&decode.FlagPorts != 0 {
		ap, bp = uint64(p.SrcPort), uint64(p.DstPort)
	}
	if !srcLeft {
		a, b, ap, bp = b, a, bp, ap
	}
	k[0] = binary.LittleEndian.Uint64(a[0:8])
	k[1] = binary.LittleEndian.Uint64(a[8:16])
	k[2] = binary.LittleEndian.Uint64(b[0:8])
	k[3] = binary.LittleEndian.Uint64(b[8:16])
	k[4] = ap | bp<<16 | uint64(p.Proto)<<32 | uint64(p.Family)<<40
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// Control bytes of the open-addressing tables: one byte per slot, scanned
// before the slot itself is touched, so a probe reads one cache line of
// control bytes rather than several 72-byte slots.
const (
	ctrlEmpty = 0x00
	ctrlTomb  = 0x01 // a deleted slot: probes go on past it
)

// ctrlTag is a full slot's control byte: 7 bits of the hash, high bit set.
func ctrlTag(h uint64) uint8 { return uint8(h>>57) | 0x80 }

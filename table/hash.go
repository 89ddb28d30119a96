package table

import (
	"encoding/binary"
	"math/bits"

	"github.com/fastop/fastop/decode"
)

// packed is a Key as five words: the form the tables store and compare.
// Word 4 holds, from bit 0: the ports (16 + 16), the protocol (8), the
// family (4), the hidden bits (2), the VLAN ID (12) and, in the merged
// table only, the link that carried the flow (6, see MaxLinks). It is
// never 0 for a real key (the family is 4 or 6), so a zero word 4 marks a
// free slot.
type packed [5]uint64

// Bit positions in word 4 of a packed key.
const (
	familyShift = 40
	hiddenShift = 44
	vlanShift   = 46
	linkShift   = 58
	// linkBits masks the link: the hash leaves it out, so the parts of
	// one flow on several links share a probe sequence (flows.go relies
	// on it to find a flow's siblings).
	linkBits = uint64(MaxLinks-1) << linkShift
)

// MaxLinks is how many links (captured interfaces) the merged table tells
// apart: the link index takes 6 bits of a packed key.
const MaxLinks = 64

func pack(k *Key) packed {
	return packed{
		binary.LittleEndian.Uint64(k.A[0:8]),
		binary.LittleEndian.Uint64(k.A[8:16]),
		binary.LittleEndian.Uint64(k.B[0:8]),
		binary.LittleEndian.Uint64(k.B[8:16]),
		uint64(k.APort) | uint64(k.BPort)<<16 | uint64(k.Proto)<<32 | uint64(k.Family&0xf)<<familyShift |
			uint64(k.Hidden&3)<<hiddenShift | uint64(k.VLAN&0xfff)<<vlanShift,
	}
}

func (p *packed) key() Key {
	var k Key
	binary.LittleEndian.PutUint64(k.A[0:8], p[0])
	binary.LittleEndian.PutUint64(k.A[8:16], p[1])
	binary.LittleEndian.PutUint64(k.B[0:8], p[2])
	binary.LittleEndian.PutUint64(k.B[8:16], p[3])
	k.APort, k.BPort = uint16(p[4]), uint16(p[4]>>16)
	k.Proto, k.Family, k.Hidden = uint8(p[4]>>32), uint8(p[4]>>familyShift)&0xf, uint8(p[4]>>hiddenShift)&3
	k.VLAN = uint16(p[4]>>vlanShift) & 0xfff
	return k
}

// link returns the link index of a merged-table key.
func (p *packed) link() int { return int(p[4] >> linkShift) }

// sameFlow reports whether p and q are the same flow, on any links.
func (p *packed) sameFlow(q *packed) bool {
	return (p[4]^q[4])&^linkBits == 0 && p[0] == q[0] && p[2] == q[2] && p[1] == q[1] && p[3] == q[3]
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
// keys), so an IPv6 collision costs a probe, never a wrong count. The link
// bits are left out (see linkBits).
func (p *packed) hash() uint64 {
	const (
		s0 = 0xa0761d6478bd642f
		s1 = 0xe7037ed1a0b428db
	)
	a := p[0] ^ bits.RotateLeft64(p[2], 32) ^ bits.RotateLeft64(p[3], 17)
	b := p[4]&^linkBits ^ p[1] ^ bits.RotateLeft64(p[3], 47)
	return mix(a^s0, b^s1)
}

// packPacket builds the key of p in k without going through a Key:
// srcLeft puts the packet's source on the left. The VLAN is the outermost
// tag's (decode.Frame zeroes p.VLAN[0] when the frame has none).
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
	k[4] = ap | bp<<16 | uint64(p.Proto)<<32 | uint64(p.Family&0xf)<<familyShift | uint64(p.VLAN[0]&0xfff)<<vlanShift
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

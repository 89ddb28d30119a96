package table

import (
	"encoding/binary"
	"math/bits"
)

// hashKey mixes a Key into 64 bits with three 64×64→128 multiplications
// (the wyhash construction). Go's maps would do, but a table of our own
// keeps the per-packet path free of the runtime's hashing and allows
// inline entries that need one cache line per packet.
func hashKey(k *Key) uint64 {
	const (
		s0 = 0xa0761d6478bd642f
		s1 = 0xe7037ed1a0b428db
		s2 = 0x8ebc6af09c88c6e3
		s3 = 0x589965cc75374cc3
	)
	a0 := binary.LittleEndian.Uint64(k.A[0:8])
	a1 := binary.LittleEndian.Uint64(k.A[8:16])
	b0 := binary.LittleEndian.Uint64(k.B[0:8])
	b1 := binary.LittleEndian.Uint64(k.B[8:16])
	x := uint64(k.APort) | uint64(k.BPort)<<16 | uint64(k.Proto)<<32 | uint64(k.Family)<<40
	h := mix(a0^s0, a1^s1) ^ mix(b0^s2, b1^s3) ^ mix(x^s1, s2)
	return mix(h^s0, s3)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

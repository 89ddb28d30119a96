// This file holds all the unsafe code of package afpacket (and of fastop).
//
// A TPACKET_V3 ring is memory shared with the kernel. Its block status word
// (offset 8 of every block) is the hand-off between the two sides: the
// kernel fills a block, then (after smp_wmb) stores TP_STATUS_USER there;
// user space reads the block, then stores TP_STATUS_KERNEL to give it back.
// Both accesses must be atomic: a plain load may be hoisted out of the
// reader's loop or, on weakly ordered CPUs (arm64), complete after the loads
// of packet data it guards; a plain store may become visible before the last
// reads of the block, letting the kernel overwrite data still being parsed.
// sync/atomic needs a *uint32, and getting one into mmap'd memory takes
// unsafe.Pointer. Everything else in the package reads the ring through
// ordinary []byte slices (the kernel never writes a block user space owns),
// with bounds checks, so a bad offset is an error, never a fault.
//
// The file also records the x/sys struct layouts (unsafe.Sizeof and
// Offsetof) so a test can check the offsets the block walker uses against
// them without a second file importing unsafe.

package afpacket

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rxRing is one member's mapped receive ring: blocks of blockSize bytes.
type rxRing struct {
	mem       []byte
	blockSize int
	blocks    int
}

// mapRing maps the ring of fd. The length must be exactly the ring size
// and the offset 0 (packet_mmap); PROT_WRITE is needed to hand blocks back.
// No MAP_LOCKED (fails under RLIMIT_MEMLOCK, and ring pages are never
// swapped anyway) and no MAP_POPULATE (packet_mmap inserts every page).
func mapRing(fd, blockSize, blocks int) (*rxRing, error) {
	mem, err := unix.Mmap(fd, 0, blockSize*blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return &rxRing{mem: mem, blockSize: blockSize, blocks: blocks}, nil
}

// ringFromBytes wraps memory that is not a kernel ring (tests).
func ringFromBytes(mem []byte, blockSize int) *rxRing {
	return &rxRing{mem: mem, blockSize: blockSize, blocks: len(mem) / blockSize}
}

// unmap releases the mapping. No reader may touch the ring afterwards: an
// access to unmapped memory is a fatal fault, not a panic.
func (r *rxRing) unmap() error {
	if r.mem == nil {
		return nil
	}
	err := unix.Munmap(r.mem)
	r.mem = nil
	return err
}

// block returns block i; its capacity ends with the block.
func (r *rxRing) block(i int) []byte {
	off := i * r.blockSize
	return r.mem[off : off+r.blockSize : off+r.blockSize]
}

// statusWord points at block i's block_status. The offset is inside the
// block (bounds-checked by the index expression) and 4-byte aligned because
// blocks are page aligned (or, in tests, start at offsets that are
// multiples of the page size in a Go allocation, which is 8-aligned).
func (r *rxRing) statusWord(i int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.mem[i*r.blockSize+blkStatus]))
}

// userOwned reports whether the kernel has handed block i to user space.
// The atomic load orders every later read of the block after it.
func (r *rxRing) userOwned(i int) bool {
	return atomic.LoadUint32(r.statusWord(i))&unix.TP_STATUS_USER != 0
}

// release hands block i back to the kernel. The atomic store orders every
// earlier read of the block before it.
func (r *rxRing) release(i int) {
	atomic.StoreUint32(r.statusWord(i), unix.TP_STATUS_KERNEL)
}

// layout is the layout of the x/sys types, for the layout test.
type layout struct {
	BlockDescSize, BlockDescHdr                                uintptr
	HdrV1Size, HdrV1Status, HdrV1NumPkts, HdrV1First, HdrV1Len uintptr
	HdrV1Seq, HdrV1TsFirst, HdrV1TsLast                        uintptr
	Pkt3Size, Pkt3Next, Pkt3Sec, Pkt3Nsec, Pkt3Snaplen         uintptr
	Pkt3Len, Pkt3Status, Pkt3Mac, Pkt3Net, Pkt3Hv1             uintptr
	Hv1Rxhash, Hv1TCI, Hv1TPID                                 uintptr
	SllSize, SllProtocol, SllIfindex, SllHatype, SllPkttype    uintptr
	SllHalen, SllAddr                                          uintptr
	StatsV3Size, Req3Size                                      uintptr
}

var xsysLayout = layout{
	BlockDescSize: unsafe.Sizeof(unix.TpacketBlockDesc{}),
	BlockDescHdr:  unsafe.Offsetof(unix.TpacketBlockDesc{}.Hdr),

	HdrV1Size:    unsafe.Sizeof(unix.TpacketHdrV1{}),
	HdrV1Status:  unsafe.Offsetof(unix.TpacketHdrV1{}.Block_status),
	HdrV1NumPkts: unsafe.Offsetof(unix.TpacketHdrV1{}.Num_pkts),
	HdrV1First:   unsafe.Offsetof(unix.TpacketHdrV1{}.Offset_to_first_pkt),
	HdrV1Len:     unsafe.Offsetof(unix.TpacketHdrV1{}.Blk_len),
	HdrV1Seq:     unsafe.Offsetof(unix.TpacketHdrV1{}.Seq_num),
	HdrV1TsFirst: unsafe.Offsetof(unix.TpacketHdrV1{}.Ts_first_pkt),
	HdrV1TsLast:  unsafe.Offsetof(unix.TpacketHdrV1{}.Ts_last_pkt),

	Pkt3Size:    unsafe.Sizeof(unix.Tpacket3Hdr{}),
	Pkt3Next:    unsafe.Offsetof(unix.Tpacket3Hdr{}.Next_offset),
	Pkt3Sec:     unsafe.Offsetof(unix.Tpacket3Hdr{}.Sec),
	Pkt3Nsec:    unsafe.Offsetof(unix.Tpacket3Hdr{}.Nsec),
	Pkt3Snaplen: unsafe.Offsetof(unix.Tpacket3Hdr{}.Snaplen),
	Pkt3Len:     unsafe.Offsetof(unix.Tpacket3Hdr{}.Len),
	Pkt3Status:  unsafe.Offsetof(unix.Tpacket3Hdr{}.Status),
	Pkt3Mac:     unsafe.Offsetof(unix.Tpacket3Hdr{}.Mac),
	Pkt3Net:     unsafe.Offsetof(unix.Tpacket3Hdr{}.Net),
	Pkt3Hv1:     unsafe.Offsetof(unix.Tpacket3Hdr{}.Hv1),
	Hv1Rxhash:   unsafe.Offsetof(unix.TpacketHdrVariant1{}.Rxhash),
	Hv1TCI:      unsafe.Offsetof(unix.TpacketHdrVariant1{}.Vlan_tci),
	Hv1TPID:     unsafe.Offsetof(unix.TpacketHdrVariant1{}.Vlan_tpid),

	SllSize:     unsafe.Sizeof(unix.RawSockaddrLinklayer{}),
	SllProtocol: unsafe.Offsetof(unix.RawSockaddrLinklayer{}.Protocol),
	SllIfindex:  unsafe.Offsetof(unix.RawSockaddrLinklayer{}.Ifindex),
	SllHatype:   unsafe.Offsetof(unix.RawSockaddrLinklayer{}.Hatype),
	SllPkttype:  unsafe.Offsetof(unix.RawSockaddrLinklayer{}.Pkttype),
	SllHalen:    unsafe.Offsetof(unix.RawSockaddrLinklayer{}.Halen),
	SllAddr:     unsafe.Offsetof(unix.RawSockaddrLinklayer{}.Addr),

	StatsV3Size: unsafe.Sizeof(unix.TpacketStatsV3{}),
	Req3Size:    unsafe.Sizeof(unix.TpacketReq3{}),
}

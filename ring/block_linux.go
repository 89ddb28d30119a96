package ring

import (
	"encoding/binary"

	"github.com/fastop/fastop/decode"
	"golang.org/x/sys/unix"
)

// Layout of a TPACKET_V3 block (include/uapi/linux/if_packet.h). Every
// field is fixed width, so the offsets are the same on every architecture;
// values are in host byte order except sll_protocol.
const (
	// struct tpacket_block_desc, with its struct tpacket_hdr_v1 at 8.
	afBlkVersion = 0  // u32 TPACKET_V3
	afBlkStatus  = 8  // u32 block_status (atomic; see mmap_linux.go)
	afBlkNumPkts = 12 // u32 num_pkts
	afBlkFirst   = 16 // u32 offset_to_first_pkt
	afBlkLen     = 20 // u32 blk_len: bytes used, header included
	afBlkSeq     = 24 // u64 seq_num
	afBlkHdrLen  = 48 // sizeof(struct tpacket_block_desc)

	// struct tpacket3_hdr, at offset_to_first_pkt, then + tp_next_offset.
	afPktNext    = 0  // u32 tp_next_offset
	afPktSec     = 4  // u32 tp_sec
	afPktNsec    = 8  // u32 tp_nsec
	afPktSnaplen = 12 // u32 tp_snaplen: bytes present
	afPktLen     = 16 // u32 tp_len: bytes on the wire (skb->len)
	afPktStatus  = 20 // u32 tp_status
	afPktMac     = 24 // u16 tp_mac: offset from the header to the frame
	afPktNet     = 26 // u16 tp_net
	afPktTCI     = 32 // u32 hv1.tp_vlan_tci
	afPktTPID    = 36 // u16 hv1.tp_vlan_tpid
	afPktHdrLen  = 48 // sizeof(struct tpacket3_hdr)

	// struct sockaddr_ll follows the header at TPACKET_ALIGN(48) = 48.
	afSllProtocol = 48 + 2  // u16, network order
	afSllIfindex  = 48 + 4  // s32
	afSllHatype   = 48 + 8  // u16 ARPHRD_*
	afSllPkttype  = 48 + 10 // u8 PACKET_*
	afSllHalen    = 48 + 11 // u8
	afSllAddr     = 48 + 12 // [8]u8
	afSllLen      = 20

	// afPktMinMac is TPACKET3_HDRLEN: the header and sockaddr_ll come
	// before any frame byte, so tp_mac is at least this.
	afPktMinMac = afPktHdrLen + afSllLen
	// afMinEntry is the least room one packet takes in a block: its
	// headers plus one byte of frame (a zero snaplen rejects the packet),
	// rounded to the kernel's 8-byte V3 alignment.
	afMinEntry = (afPktMinMac + 1 + 7) &^ 7
)

// afMaxRecords is the most packets a block of blockSize bytes can hold,
// which sizes a member's []Record once.
func afMaxRecords(blockSize int) int {
	return (blockSize-afBlkHdrLen)/afMinEntry + 1
}

// afBlockError is a walk error: a package-level value, so the packet path
// never allocates one. It wraps ErrBadBlock.
type afBlockError struct{ what string }

func (e *afBlockError) Error() string { return "ring: corrupt ring block: " + e.what }
func (e *afBlockError) Unwrap() error { return ErrBadBlock }

var (
	afErrBlockShort   = &afBlockError{"shorter than its header"}
	afErrBlockVersion = &afBlockError{"not a TPACKET_V3 block"}
	afErrBlockLen     = &afBlockError{"used length outside the block"}
	afErrBlockCount   = &afBlockError{"more packets than fit"}
	afErrPktOffset    = &afBlockError{"packet header outside the used length"}
	afErrPktAlign     = &afBlockError{"packet header not 8-byte aligned"}
	afErrPktData      = &afBlockError{"packet data outside the used length"}
	afErrPktLen       = &afBlockError{"packet snaplen exceeds its wire length"}
	afErrPktNext      = &afBlockError{"next-packet offset overlaps the packet"}
)

// afBlockInfo summarizes a walked block.
type afBlockInfo struct {
	Seq       uint64 // the block's sequence number (1, 2, … per socket)
	NumPkts   int    // packets the block header announces
	WireBytes uint64 // sum of WireLen over the records returned
}

// afWalkBlock decodes the packet headers of one ring block into recs
// (reusing its capacity) and returns them. The block must be owned by user
// space (its status already loaded atomically); afWalkBlock reads only the
// bytes of blk and never trusts an offset it has not checked against the
// block's used length, so a corrupt block yields an error, with the records
// read before the damage, rather than a fault. Data fields alias blk. The
// walk follows the packet count, not tp_next_offset == 0, to find the end.
//
// link is the Record's Meta.Link. It allocates only when cap(recs) is below
// the block's packet count.
func afWalkBlock(blk []byte, link decode.LinkType, recs []Record) ([]Record, afBlockInfo, error) {
	recs = recs[:0]
	var info afBlockInfo
	if len(blk) < afBlkHdrLen {
		return recs, info, afErrBlockShort
	}
	ne := binary.NativeEndian
	if ne.Uint32(blk[afBlkVersion:]) != unix.TPACKET_V3 {
		return recs, info, afErrBlockVersion
	}
	num := uint64(ne.Uint32(blk[afBlkNumPkts:]))
	first := uint64(ne.Uint32(blk[afBlkFirst:]))
	used := uint64(ne.Uint32(blk[afBlkLen:]))
	info.Seq = ne.Uint64(blk[afBlkSeq:])
	info.NumPkts = int(num)
	if used > uint64(len(blk)) || used < afBlkHdrLen {
		return recs, info, afErrBlockLen
	}
	if num == 0 {
		return recs, info, nil
	}
	if num > (used-afBlkHdrLen)/afMinEntry+1 {
		return recs, info, afErrBlockCount
	}
	if uint64(cap(recs)) < num {
		recs = make([]Record, 0, num)
	}
	off := first
	for i := uint64(0); ; i++ {
		if off < afBlkHdrLen || off+afPktMinMac > used {
			return recs, info, afErrPktOffset
		}
		if off&7 != 0 {
			return recs, info, afErrPktAlign
		}
		h := blk[off:used]
		snap := uint64(ne.Uint32(h[afPktSnaplen:]))
		wire := ne.Uint32(h[afPktLen:])
		mac := uint64(ne.Uint16(h[afPktMac:]))
		if mac < afPktMinMac || off+mac+snap > used {
			return recs, info, afErrPktData
		}
		if snap > uint64(wire) {
			return recs, info, afErrPktLen
		}
		status := ne.Uint32(h[afPktStatus:])
		var m decode.Meta
		m.Link = link
		m.PktType = decode.PktType(h[afSllPkttype])
		m.WireLen = wire
		m.Ifindex = int32(ne.Uint32(h[afSllIfindex:]))
		if status&unix.TP_STATUS_VLAN_VALID != 0 {
			m.VLANOK = true
			m.VLANTCI = uint16(ne.Uint32(h[afPktTCI:]))
			m.VLANTPID = unix.ETH_P_8021Q
			if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
				m.VLANTPID = ne.Uint16(h[afPktTPID:])
			}
		}
		start := off + mac
		end := start + snap
		recs = append(recs, Record{
			Data: blk[start:end:end],
			TS:   int64(ne.Uint32(h[afPktSec:]))*1e9 + int64(ne.Uint32(h[afPktNsec:])),
			Meta: m,
		})
		info.WireBytes += uint64(wire)
		if i+1 == num {
			return recs, info, nil
		}
		// The kernel sets tp_next_offset to the 8-aligned tp_mac + snaplen
		// (prb_fill_curr_block), so the next header never overlaps this
		// packet's bytes.
		next := uint64(ne.Uint32(h[afPktNext:]))
		if next < mac+snap {
			return recs, info, afErrPktNext
		}
		off += next
	}
}

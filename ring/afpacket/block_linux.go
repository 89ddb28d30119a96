package afpacket

import (
	"encoding/binary"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"golang.org/x/sys/unix"
)

// Layout of a TPACKET_V3 block (include/uapi/linux/if_packet.h). Every
// field is fixed width, so the offsets are the same on every architecture;
// values are in host byte order except sll_protocol.
const (
	// struct tpacket_block_desc, with its struct tpacket_hdr_v1 at 8.
	blkVersion = 0  // u32 TPACKET_V3
	blkStatus  = 8  // u32 block_status (atomic; see mmap_linux.go)
	blkNumPkts = 12 // u32 num_pkts
	blkFirst   = 16 // u32 offset_to_first_pkt
	blkLen     = 20 // u32 blk_len: bytes used, header included
	blkSeq     = 24 // u64 seq_num
	blkHdrLen  = 48 // sizeof(struct tpacket_block_desc)

	// struct tpacket3_hdr, at offset_to_first_pkt, then + tp_next_offset.
	pktNext    = 0  // u32 tp_next_offset
	pktSec     = 4  // u32 tp_sec
	pktNsec    = 8  // u32 tp_nsec
	pktSnaplen = 12 // u32 tp_snaplen: bytes present
	pktLen     = 16 // u32 tp_len: bytes on the wire (skb->len)
	pktStatus  = 20 // u32 tp_status
	pktMac     = 24 // u16 tp_mac: offset from the header to the frame
	pktNet     = 26 // u16 tp_net
	pktTCI     = 32 // u32 hv1.tp_vlan_tci
	pktTPID    = 36 // u16 hv1.tp_vlan_tpid
	pktHdrLen  = 48 // sizeof(struct tpacket3_hdr)

	// struct sockaddr_ll follows the header at TPACKET_ALIGN(48) = 48.
	sllProtocol = 48 + 2  // u16, network order
	sllIfindex  = 48 + 4  // s32
	sllHatype   = 48 + 8  // u16 ARPHRD_*
	sllPkttype  = 48 + 10 // u8 PACKET_*
	sllHalen    = 48 + 11 // u8
	sllAddr     = 48 + 12 // [8]u8
	sllLen      = 20

	// pktMinMac is TPACKET3_HDRLEN: the header and sockaddr_ll come
	// before any frame byte, so tp_mac is at least this.
	pktMinMac = pktHdrLen + sllLen
	// minEntry is the least room one packet takes in a block: its
	// headers plus one byte of frame (a zero snaplen rejects the packet),
	// rounded to the kernel's 8-byte V3 alignment.
	minEntry = (pktMinMac + 1 + 7) &^ 7
)

// maxRecords is the most packets a block of blockSize bytes can hold,
// which sizes a member's []ring.Record once.
func maxRecords(blockSize int) int {
	return (blockSize-blkHdrLen)/minEntry + 1
}

// blockError is a walk error: a package-level value, so the packet path
// never allocates one. It wraps ErrBadBlock.
type blockError struct{ what string }

func (e *blockError) Error() string { return "ring: corrupt ring block: " + e.what }
func (e *blockError) Unwrap() error { return ErrBadBlock }

var (
	errBlockShort   = &blockError{"shorter than its header"}
	errBlockVersion = &blockError{"not a TPACKET_V3 block"}
	errBlockLen     = &blockError{"used length outside the block"}
	errBlockCount   = &blockError{"more packets than fit"}
	errPktOffset    = &blockError{"packet header outside the used length"}
	errPktAlign     = &blockError{"packet header not 8-byte aligned"}
	errPktData      = &blockError{"packet data outside the used length"}
	errPktLen       = &blockError{"packet snaplen exceeds its wire length"}
	errPktNext      = &blockError{"next-packet offset overlaps the packet"}
)

// blockInfo summarizes a walked block.
type blockInfo struct {
	Seq       uint64 // the block's sequence number (1, 2, … per socket)
	NumPkts   int    // packets the block header announces
	WireBytes uint64 // sum of WireLen over the records returned
}

// walkBlock decodes the packet headers of one ring block into recs
// (reusing its capacity) and returns them. The block must be owned by user
// space (its status already loaded atomically); walkBlock reads only the
// bytes of blk and never trusts an offset it has not checked against the
// block's used length, so a corrupt block yields an error, with the records
// read before the damage, rather than a fault. Data fields alias blk. The
// walk follows the packet count, not tp_next_offset == 0, to find the end.
//
// link is the Record's Meta.Link. It allocates only when cap(recs) is below
// the block's packet count.
func walkBlock(blk []byte, link decode.LinkType, recs []ring.Record) ([]ring.Record, blockInfo, error) {
	recs = recs[:0]
	var info blockInfo
	if len(blk) < blkHdrLen {
		return recs, info, errBlockShort
	}
	ne := binary.NativeEndian
	if ne.Uint32(blk[blkVersion:]) != unix.TPACKET_V3 {
		return recs, info, errBlockVersion
	}
	num := uint64(ne.Uint32(blk[blkNumPkts:]))
	first := uint64(ne.Uint32(blk[blkFirst:]))
	used := uint64(ne.Uint32(blk[blkLen:]))
	info.Seq = ne.Uint64(blk[blkSeq:])
	info.NumPkts = int(num)
	if used > uint64(len(blk)) || used < blkHdrLen {
		return recs, info, errBlockLen
	}
	if num == 0 {
		return recs, info, nil
	}
	if num > (used-blkHdrLen)/minEntry+1 {
		return recs, info, errBlockCount
	}
	if uint64(cap(recs)) < num {
		recs = make([]ring.Record, 0, num)
	}
	off := first
	for i := uint64(0); ; i++ {
		if off < blkHdrLen || off+pktMinMac > used {
			return recs, info, errPktOffset
		}
		if off&7 != 0 {
			return recs, info, errPktAlign
		}
		h := blk[off:used]
		snap := uint64(ne.Uint32(h[pktSnaplen:]))
		wire := ne.Uint32(h[pktLen:])
		mac := uint64(ne.Uint16(h[pktMac:]))
		if mac < pktMinMac || off+mac+snap > used {
			return recs, info, errPktData
		}
		if snap > uint64(wire) {
			return recs, info, errPktLen
		}
		status := ne.Uint32(h[pktStatus:])
		var m decode.Meta
		m.Link = link
		m.PktType = decode.PktType(h[sllPkttype])
		m.WireLen = wire
		m.Ifindex = int32(ne.Uint32(h[sllIfindex:]))
		if status&unix.TP_STATUS_VLAN_VALID != 0 {
			m.VLANOK = true
			m.VLANTCI = uint16(ne.Uint32(h[pktTCI:]))
			m.VLANTPID = unix.ETH_P_8021Q
			if status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
				m.VLANTPID = ne.Uint16(h[pktTPID:])
			}
		}
		start := off + mac
		end := start + snap
		recs = append(recs, ring.Record{
			Data: blk[start:end:end],
			TS:   int64(ne.Uint32(h[pktSec:]))*1e9 + int64(ne.Uint32(h[pktNsec:])),
			Meta: m,
		})
		info.WireBytes += uint64(wire)
		if i+1 == num {
			return recs, info, nil
		}
		// The kernel sets tp_next_offset to the 8-aligned tp_mac + snaplen
		// (prb_fill_curr_block), so the next header never overlaps this
		// packet's bytes.
		next := uint64(ne.Uint32(h[pktNext:]))
		if next < mac+snap {
			return recs, info, errPktNext
		}
		off += next
	}
}

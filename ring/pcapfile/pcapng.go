package pcapfile

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
)

// pcapng, as in draft-ietf-opsawg-pcapng: a sequence of blocks, each
// type(4) length(4) body length(4), the length counting the whole block and a
// multiple of 4. A Section Header Block starts each section and sets its byte
// order; the Interface Description Blocks that follow number the interfaces
// from 0; packet blocks name their interface.
const (
	pcapngSHB = 0x0a0d0d0a // Section Header Block (a palindrome: same in both orders)
	pcapngIDB = 0x00000001 // Interface Description Block
	pcapngOPB = 0x00000002 // Packet Block (obsolete)
	pcapngSPB = 0x00000003 // Simple Packet Block
	pcapngEPB = 0x00000006 // Enhanced Packet Block

	pcapngByteOrderMagic = 0x1a2b3c4d

	pcapngMinBlock = 12
	pcapngMinSHB   = 28
	pcapngMinIDB   = 20
	pcapngMinEPB   = 32 // also the OPB
	pcapngMinSPB   = 16

	// Option codes used here.
	pcapngOptEnd      = 0
	pcapngOptFlags    = 2  // epb_flags / pack_flags
	pcapngOptTSResol  = 9  // if_tsresol
	pcapngOptTSOffset = 14 // if_tsoffset

	// pcapngMaxIfaces bounds the interface list so that a file of tiny IDBs
	// cannot make it grow without limit.
	pcapngMaxIfaces = 1 << 16
)

// pcapngIface is what a packet needs from its Interface Description Block.
type pcapngIface struct {
	link    decode.LinkType
	snaplen uint32
	// Timestamp conversion to nanoseconds: ts*mul, or ts/div, or, for a
	// binary resolution 2^-shift, a 128-bit multiply and shift.
	mul   uint64
	div   uint64
	pow2  bool
	shift uint
	off   int64 // if_tsoffset, in nanoseconds
}

// ns converts a timestamp in interface units to Unix nanoseconds. Absurd
// values wrap rather than fail: the timestamp is data, not structure.
func (ifc *pcapngIface) ns(ts uint64) int64 {
	switch {
	case ifc.pow2:
		if ifc.shift == 0 {
			return int64(ts*1e9) + ifc.off
		}
		sec := ts >> ifc.shift
		frac := ts & (1<<ifc.shift - 1)
		hi, lo := bits.Mul64(frac, 1e9)
		return int64(sec*1e9+(hi<<(64-ifc.shift)|lo>>ifc.shift)) + ifc.off
	case ifc.div > 1:
		return int64(ts/ifc.div) + ifc.off
	}
	return int64(ts*ifc.mul) + ifc.off
}

// pcapngStart reads the first Section Header Block, then the blocks up to the
// first interface, so that LinkType is known once the file is open. It stops
// before a packet block: a packet before any interface is corrupt, and
// ReadBatch reports it in order.
func (f *File) pcapngStart() error {
	f.ngIfaces = f.ngIfaces[:0]
	for !f.ngHasIDB {
		got, err := f.ensure(pcapngMinBlock)
		if err != nil {
			return err
		}
		if got == 0 && f.eof {
			return nil
		}
		if got >= 4 {
			switch f.u32(f.buf[f.pos:]) {
			case pcapngEPB, pcapngSPB, pcapngOPB:
				return nil
			}
		}
		need, err := f.pcapngNext(nil)
		if err != nil {
			return err
		}
		if need > 0 {
			if err := f.fill(need); err != nil {
				return err
			}
		}
	}
	first := f.ngIfaces[0].link
	if !first.Supported() {
		return &LinkTypeError{File: f.name, LinkType: uint32(first)}
	}
	return nil
}

// pcapngNext parses blocks from f.pos until one yields a record into rec; it
// returns need > 0 when the next block is not all buffered, or an error
// (io.EOF at a clean end). With rec == nil it handles one non-packet block
// and returns (pcapngStart's lookahead).
func (f *File) pcapngNext(rec *ring.Record) (need int, err error) {
	for {
		b := f.buf[f.pos:f.end]
		if len(b) < pcapngMinBlock {
			return f.short(pcapngMinBlock, func(left int) string {
				return fmt.Sprintf("a block header needs %d bytes, %d left", pcapngMinBlock, left)
			})
		}
		typ := f.u32(b)
		if typ == pcapngSHB {
			// The section's byte order governs its own length field.
			switch binary.LittleEndian.Uint32(b[8:]) {
			case pcapngByteOrderMagic:
				f.be = false
			case bits.ReverseBytes32(pcapngByteOrderMagic):
				f.be = true
			default:
				return 0, f.corrupt("section header with a bad byte-order magic 0x%08x", binary.BigEndian.Uint32(b[8:]))
			}
		}
		blen := f.u32(b[4:])
		if blen < pcapngMinBlock || blen%4 != 0 || blen > pcapngMaxBlock {
			return 0, f.corrupt("block length %d is invalid (a multiple of 4, from %d to %d)", blen, pcapngMinBlock, pcapngMaxBlock)
		}
		if len(b) < int(blen) {
			return f.short(int(blen), func(left int) string {
				return fmt.Sprintf("block length says %d bytes, %d left", blen, left)
			})
		}
		b = b[:blen]
		if trail := f.u32(b[blen-4:]); trail != blen {
			return 0, f.corrupt("block length %d at the start, %d at the end", blen, trail)
		}
		switch typ {
		case pcapngEPB, pcapngOPB, pcapngSPB:
			if rec == nil {
				return 0, nil
			}
			if err := f.pcapngPacket(typ, b, rec); err != nil {
				return 0, err
			}
			f.pos += int(blen)
			return 0, nil
		case pcapngSHB:
			if blen < pcapngMinSHB {
				return 0, f.corrupt("section header block of %d bytes, at least %d needed", blen, pcapngMinSHB)
			}
			if major, minor := f.u16(b[12:]), f.u16(b[14:]); major != 1 {
				return 0, f.corrupt("unsupported pcapng version %d.%d (fastop reads 1.x)", major, minor)
			}
			f.ngIfaces = f.ngIfaces[:0]
		case pcapngIDB:
			if err := f.pcapngInterface(b); err != nil {
				return 0, err
			}
		}
		// Other blocks (name resolution, statistics, decryption secrets,
		// custom …) carry nothing fastop uses.
		f.pos += int(blen)
		if rec == nil {
			return 0, nil
		}
	}
}

func (f *File) pcapngInterface(b []byte) error {
	if len(b) < pcapngMinIDB {
		return f.corrupt("interface description block of %d bytes, at least %d needed", len(b), pcapngMinIDB)
	}
	if len(f.ngIfaces) >= pcapngMaxIfaces {
		return f.corrupt("more than %d interfaces in one section", pcapngMaxIfaces)
	}
	ifc := pcapngIface{link: decode.LinkType(f.u16(b[8:])), snaplen: f.u32(b[12:]), mul: 1e3} // default: microseconds
	opts := b[16 : len(b)-4]
	for len(opts) >= 4 {
		code, vlen := f.u16(opts), int(f.u16(opts[2:]))
		if code == pcapngOptEnd {
			break
		}
		padded := (vlen + 3) &^ 3
		if 4+padded > len(opts) {
			return f.corrupt("interface option %d of %d bytes runs past the block end", code, vlen)
		}
		v := opts[4 : 4+vlen]
		switch {
		case code == pcapngOptTSResol && vlen == 1:
			r := uint(v[0])
			if r&0x80 != 0 {
				if r &^= 0x80; r > 63 {
					return f.corrupt("if_tsresol 2^-%d is out of range", r)
				}
				ifc.pow2, ifc.shift = true, r
			} else {
				if r > 19 {
					return f.corrupt("if_tsresol 10^-%d is out of range", r)
				}
				ifc.mul, ifc.div = 1, 1
				for ; r < 9; r++ {
					ifc.mul *= 10
				}
				for ; r > 9; r-- {
					ifc.div *= 10
				}
			}
		case code == pcapngOptTSOffset && vlen == 8:
			if f.be {
				ifc.off = int64(binary.BigEndian.Uint64(v))
			} else {
				ifc.off = int64(binary.LittleEndian.Uint64(v))
			}
			ifc.off *= 1e9
		}
		opts = opts[4+padded:]
	}
	if !f.ngHasIDB {
		f.ngHasIDB, f.ngFirst, f.ngFirstSnap, f.ngFirstBE = true, ifc.link, ifc.snaplen, f.be
	}
	f.ngIfaces = append(f.ngIfaces, ifc)
	return nil
}

// pcapngPacket fills rec from a complete EPB, OPB or SPB.
func (f *File) pcapngPacket(typ uint32, b []byte, rec *ring.Record) error {
	var (
		id       uint32
		caplen   uint32
		wire     uint32
		dataOff  = 28
		ts       int64
		pktType  = decode.PktUnknown
		hasTS    = true
		tsHi     uint32
		tsLo     uint32
		blockLen = uint32(len(b))
	)
	switch typ {
	case pcapngSPB:
		if blockLen < pcapngMinSPB {
			return f.corrupt("simple packet block of %d bytes, at least %d needed", blockLen, pcapngMinSPB)
		}
		hasTS, dataOff = false, 12
		wire = f.u32(b[8:])
		caplen = wire
		if len(f.ngIfaces) > 0 && f.ngIfaces[0].snaplen != 0 {
			caplen = min(caplen, f.ngIfaces[0].snaplen)
		}
	default:
		if blockLen < pcapngMinEPB {
			return f.corrupt("packet block of %d bytes, at least %d needed", blockLen, pcapngMinEPB)
		}
		if typ == pcapngEPB {
			id = f.u32(b[8:])
		} else {
			id = uint32(f.u16(b[8:]))
		}
		tsHi, tsLo = f.u32(b[12:]), f.u32(b[16:])
		caplen, wire = f.u32(b[20:]), f.u32(b[24:])
	}
	if int(id) >= len(f.ngIfaces) {
		return f.corrupt("packet for interface %d, but the section describes %d", id, len(f.ngIfaces))
	}
	ifc := &f.ngIfaces[id]
	if !ifc.link.Supported() {
		return &LinkTypeError{File: f.name, LinkType: uint32(ifc.link)}
	}
	end := uint64(dataOff) + (uint64(caplen)+3)&^3
	if end > uint64(blockLen-4) {
		return f.corrupt("packet length %d runs past the end of its %d-byte block", caplen, blockLen)
	}
	if hasTS {
		ts = ifc.ns(uint64(tsHi)<<32 | uint64(tsLo))
		f.ngLastTS = ts
		pktType = f.pcapngDirection(b[end : blockLen-4])
	} else {
		ts = f.ngLastTS
	}
	data := b[dataOff : dataOff+int(caplen) : dataOff+int(caplen)]
	rec.Data = data
	rec.TS = ts
	rec.Meta = decode.Meta{Link: ifc.link, PktType: pktType, WireLen: max(wire, caplen), Ifindex: int32(id)}
	return nil
}

// pcapngDirection reads the epb_flags option: bits 0-1 are the direction
// (1 inbound, 2 outbound), bits 2-4 the reception type (1 unicast,
// 2 multicast, 3 broadcast, 4 promiscuous). Malformed options are ignored:
// they do not affect the frame.
func (f *File) pcapngDirection(opts []byte) decode.PktType {
	for len(opts) >= 4 {
		code, vlen := f.u16(opts), int(f.u16(opts[2:]))
		if code == pcapngOptEnd {
			break
		}
		padded := (vlen + 3) &^ 3
		if 4+padded > len(opts) {
			break
		}
		if code == pcapngOptFlags && vlen == 4 {
			flags := f.u32(opts[4:])
			if flags&3 == 2 {
				return decode.PktOutgoing
			}
			switch (flags >> 2) & 7 {
			case 2:
				return decode.PktMulticast
			case 3:
				return decode.PktBroadcast
			case 4:
				return decode.PktOtherHost
			}
			if flags&3 == 1 || (flags>>2)&7 == 1 {
				return decode.PktHost
			}
			return decode.PktUnknown
		}
		opts = opts[4+padded:]
	}
	return decode.PktUnknown
}

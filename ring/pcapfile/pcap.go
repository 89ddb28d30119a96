package pcapfile

import (
	"encoding/binary"
	"fmt"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
)

// Classic pcap, as in pcap-savefile(5): a 24-byte file header, then records
// of a 16-byte header and caplen bytes. The magic, read little-endian, gives
// the byte order and the timestamp unit.
const (
	pcapMagicMicro        = 0xa1b2c3d4
	pcapMagicNano         = 0xa1b23c4d
	pcapMagicMicroSwapped = 0xd4c3b2a1
	pcapMagicNanoSwapped  = 0x4d3cb2a1

	pcapFileHeaderLen   = 24
	pcapRecordHeaderLen = 16

	// pcapMaxSnaplen is libpcap's MAXIMUM_SNAPLEN, the longest record it
	// reads whatever the header's snaplen: a record may be longer than the
	// header's snaplen up to this much (libpcap tolerates it, because some
	// writers put a small snaplen in the header by mistake), never more.
	pcapMaxSnaplen = 262144

	// pcapLinkMask keeps the link type of the network field; the bits above
	// describe an FCS (pcap-linktype(7), LT_LINKTYPE in libpcap).
	pcapLinkMask = 0x03ffffff
)

func (f *File) pcapStart() error {
	got, err := f.ensure(pcapFileHeaderLen)
	if err != nil {
		return err
	}
	if got < pcapFileHeaderLen {
		return &CorruptError{File: f.name, Offset: f.Offset(), Truncated: true,
			Reason: fmt.Sprintf("the pcap file header needs %d bytes, %d present", pcapFileHeaderLen, got)}
	}
	h := f.buf[f.pos : f.pos+pcapFileHeaderLen]
	if major, minor := f.u16(h[4:]), f.u16(h[6:]); major != 2 {
		return f.corrupt("unsupported pcap version %d.%d (only 2.x exists)", major, minor)
	}
	f.pcapSnaplen = f.u32(h[16:])
	link := f.u32(h[20:]) & pcapLinkMask
	if link > 0xffff || !decode.LinkType(link).Supported() {
		return &LinkTypeError{File: f.name, LinkType: link}
	}
	f.pcapLink = decode.LinkType(link)
	f.pos += pcapFileHeaderLen
	return nil
}

// pcapNext parses the record at f.pos into rec. It returns need > 0 when
// fewer than need bytes are buffered, or an error (io.EOF at a clean end).
func (f *File) pcapNext(rec *ring.Record) (need int, err error) {
	b := f.buf[f.pos:f.end]
	if len(b) < pcapRecordHeaderLen {
		return f.short(pcapRecordHeaderLen, func(left int) string {
			return fmt.Sprintf("the record header needs %d bytes, %d left", pcapRecordHeaderLen, left)
		})
	}
	var sec, frac, caplen, wire uint32
	if f.be {
		sec, frac = binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
		caplen, wire = binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:])
	} else {
		sec, frac = binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
		caplen, wire = binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:])
	}
	if caplen > pcapMaxSnaplen {
		return 0, f.corrupt("record length %d exceeds %d bytes, the most libpcap reads in a record", caplen, pcapMaxSnaplen)
	}
	total := pcapRecordHeaderLen + int(caplen)
	if len(b) < total {
		return f.short(total, func(left int) string {
			return fmt.Sprintf("header says %d bytes, %d left", caplen, left-pcapRecordHeaderLen)
		})
	}
	ts := int64(sec) * 1e9
	if f.pcapNano {
		ts += int64(frac)
	} else {
		ts += int64(frac) * 1e3
	}
	rec.Data = b[pcapRecordHeaderLen:total:total]
	rec.TS = ts
	rec.Meta = decode.Meta{Link: f.pcapLink, PktType: decode.PktUnknown, WireLen: max(wire, caplen)}
	f.pos += total
	return 0, nil
}

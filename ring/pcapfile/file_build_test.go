package pcapfile

import (
	"encoding/binary"

	"github.com/fastop/fastop/decode"
)

// Hand-built capture files for the tests. Each builder records, next to the
// bytes, what a correct reader must return: the records, where each ends,
// and the offsets where a cut leaves a well-formed (shorter) file.

type fileWant struct {
	ts   int64
	data []byte
	meta decode.Meta
}

type fileSpec struct {
	name    string
	data    []byte
	link    decode.LinkType // what LinkType must report
	recs    []fileWant
	recEnds []int // offset just past each record of recs
	bounds  []int // offsets where a record or block starts or the file ends
}

// --- classic pcap ---

type pcapBuild struct {
	tf   fileSpec
	bo   binary.ByteOrder
	nano bool
	link decode.LinkType
}

func newPcapBuild(name string, bo binary.ByteOrder, nano bool, snaplen, linkField uint32) *pcapBuild {
	b := &pcapBuild{tf: fileSpec{name: name, link: decode.LinkType(linkField & 0xffff)}, bo: bo, nano: nano, link: decode.LinkType(linkField & 0xffff)}
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	h := make([]byte, 24)
	bo.PutUint32(h[0:], magic)
	bo.PutUint16(h[4:], 2)
	bo.PutUint16(h[6:], 4)
	bo.PutUint32(h[16:], snaplen)
	bo.PutUint32(h[20:], linkField)
	b.tf.data = h
	b.tf.bounds = []int{24}
	return b
}

// rec appends a record whose header says caplen = len(data); want is the
// timestamp and wire length the reader must report.
func (b *pcapBuild) rec(sec, frac uint32, data []byte, wire uint32, wantTS int64, wantWire uint32) *pcapBuild {
	b.raw(sec, frac, uint32(len(data)), wire, data)
	b.tf.recs = append(b.tf.recs, fileWant{ts: wantTS, data: data,
		meta: decode.Meta{Link: b.link, PktType: decode.PktUnknown, WireLen: wantWire}})
	b.tf.recEnds = append(b.tf.recEnds, len(b.tf.data))
	return b
}

// raw appends a record header and bytes as given, expecting nothing.
func (b *pcapBuild) raw(sec, frac, caplen, wire uint32, data []byte) *pcapBuild {
	h := make([]byte, 16)
	b.bo.PutUint32(h[0:], sec)
	b.bo.PutUint32(h[4:], frac)
	b.bo.PutUint32(h[8:], caplen)
	b.bo.PutUint32(h[12:], wire)
	b.tf.data = append(append(b.tf.data, h...), data...)
	b.tf.bounds = append(b.tf.bounds, len(b.tf.data))
	return b
}

func (b *pcapBuild) file() fileSpec { return b.tf }

// --- pcapng ---

type pcapngBuild struct {
	tf fileSpec
	bo binary.ByteOrder
	// links of the current section's interfaces, for the expected Meta
	links []decode.LinkType
	snaps []uint32
	first bool
}

func newPcapngBuild(name string) *pcapngBuild {
	return &pcapngBuild{tf: fileSpec{name: name, link: decode.LinkEthernet}, first: true}
}

func pcapngOpt(bo binary.ByteOrder, code uint16, val []byte) []byte {
	o := make([]byte, 4, 4+len(val)+3)
	bo.PutUint16(o[0:], code)
	bo.PutUint16(o[2:], uint16(len(val)))
	o = append(o, val...)
	for len(o)%4 != 0 {
		o = append(o, 0)
	}
	return o
}

func fileU32(bo binary.ByteOrder, v uint32) []byte {
	b := make([]byte, 4)
	bo.PutUint32(b, v)
	return b
}
func fileU64(bo binary.ByteOrder, v uint64) []byte {
	b := make([]byte, 8)
	bo.PutUint64(b, v)
	return b
}

// block appends a block of the given type around body (padded to 4 bytes),
// with options after it and an opt_endofopt when there are any.
func (b *pcapngBuild) block(typ uint32, body []byte, opts ...[]byte) *pcapngBuild {
	body = append([]byte(nil), body...)
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	for _, o := range opts {
		body = append(body, o...)
	}
	if len(opts) > 0 {
		body = append(body, 0, 0, 0, 0)
	}
	n := uint32(12 + len(body))
	blk := make([]byte, 8, n)
	b.bo.PutUint32(blk[0:], typ)
	b.bo.PutUint32(blk[4:], n)
	blk = append(blk, body...)
	blk = append(blk, fileU32(b.bo, n)...)
	b.tf.data = append(b.tf.data, blk...)
	b.tf.bounds = append(b.tf.bounds, len(b.tf.data))
	return b
}

func (b *pcapngBuild) opt(code uint16, val []byte) []byte { return pcapngOpt(b.bo, code, val) }

func (b *pcapngBuild) shb(bo binary.ByteOrder, opts ...[]byte) *pcapngBuild {
	b.bo = bo
	body := make([]byte, 16)
	bo.PutUint32(body[0:], 0x1a2b3c4d)
	bo.PutUint16(body[4:], 1)
	bo.PutUint16(body[6:], 0)
	bo.PutUint64(body[8:], 0xffffffffffffffff) // section length unknown
	b.links, b.snaps = nil, nil
	return b.block(0x0a0d0d0a, body, opts...)
}

func (b *pcapngBuild) idb(link decode.LinkType, snaplen uint32, opts ...[]byte) *pcapngBuild {
	body := make([]byte, 8)
	b.bo.PutUint16(body[0:], uint16(link))
	b.bo.PutUint32(body[4:], snaplen)
	b.links = append(b.links, link)
	b.snaps = append(b.snaps, snaplen)
	if b.first {
		b.tf.link, b.first = link, false
	}
	return b.block(1, body, opts...)
}

func (b *pcapngBuild) want(ts int64, data []byte, link decode.LinkType, wire uint32, pt decode.PktType, ifindex int32) {
	b.tf.recs = append(b.tf.recs, fileWant{ts: ts, data: data,
		meta: decode.Meta{Link: link, PktType: pt, WireLen: wire, Ifindex: ifindex}})
	b.tf.recEnds = append(b.tf.recEnds, len(b.tf.data))
}

// epb appends an Enhanced Packet Block; wantTS is the timestamp computed by
// hand from ts and the interface's resolution.
func (b *pcapngBuild) epb(id uint32, ts uint64, wantTS int64, data []byte, wire uint32, pt decode.PktType, opts ...[]byte) *pcapngBuild {
	body := make([]byte, 20, 20+len(data))
	b.bo.PutUint32(body[0:], id)
	b.bo.PutUint32(body[4:], uint32(ts>>32))
	b.bo.PutUint32(body[8:], uint32(ts))
	b.bo.PutUint32(body[12:], uint32(len(data)))
	b.bo.PutUint32(body[16:], wire)
	b.block(6, append(body, data...), opts...)
	b.want(wantTS, data, b.links[id], max(wire, uint32(len(data))), pt, int32(id))
	return b
}

// opb appends an obsolete Packet Block.
func (b *pcapngBuild) opb(id uint16, ts uint64, wantTS int64, data []byte, wire uint32, pt decode.PktType, opts ...[]byte) *pcapngBuild {
	body := make([]byte, 20, 20+len(data))
	b.bo.PutUint16(body[0:], id)
	b.bo.PutUint16(body[2:], 7) // drops count
	b.bo.PutUint32(body[4:], uint32(ts>>32))
	b.bo.PutUint32(body[8:], uint32(ts))
	b.bo.PutUint32(body[12:], uint32(len(data)))
	b.bo.PutUint32(body[16:], wire)
	b.block(2, append(body, data...), opts...)
	b.want(wantTS, data, b.links[id], max(wire, uint32(len(data))), pt, int32(id))
	return b
}

// spb appends a Simple Packet Block carrying data (already cut to the
// snaplen of interface 0 by the caller) of a frame of wire bytes.
func (b *pcapngBuild) spb(wire uint32, data []byte, wantTS int64) *pcapngBuild {
	b.block(3, append(fileU32(b.bo, wire), data...))
	b.want(wantTS, data, b.links[0], wire, decode.PktUnknown, 0)
	return b
}

func (b *pcapngBuild) file() fileSpec { return b.tf }

// fileFrame returns n recognisable bytes.
func fileFrame(n int, seed byte) []byte {
	d := make([]byte, n)
	for i := range d {
		d[i] = seed + byte(i)
	}
	return d
}

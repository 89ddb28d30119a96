package pcapfile

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/fastop/fastop/decode"
)

// Writer writes a classic pcap file: little-endian, with nanosecond
// timestamps (magic 0xa1b23c4d), so that no precision is lost from
// Record.TS. libpcap ≥ 1.5, tcpdump, tshark and fastop read it.
//
// Writer does not buffer: wrap w in a bufio.Writer (and flush it) when
// writing many records to a file.
type Writer struct {
	w       io.Writer
	snaplen uint32
	hdr     [pcapRecordHeaderLen]byte
}

// NewWriter writes the pcap file header to w. snaplen is the largest number
// of bytes kept per record; 0, or more than 262144 (libpcap's maximum, and
// the most any reader takes in a record), means 262144. The link type
// is written as given, supported by fastop or not, so tests can build files
// that fastop must refuse.
func NewWriter(w io.Writer, link decode.LinkType, snaplen uint32) (*Writer, error) {
	if snaplen == 0 || snaplen > pcapMaxSnaplen {
		snaplen = pcapMaxSnaplen
	}
	var h [pcapFileHeaderLen]byte
	binary.LittleEndian.PutUint32(h[0:], pcapMagicNano)
	binary.LittleEndian.PutUint16(h[4:], 2) // version 2.4
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], uint32(link))
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("ring: write pcap header: %w", err)
	}
	return &Writer{w: w, snaplen: snaplen}, nil
}

// WriteRecord writes one frame captured at ts (Unix nanoseconds, from 1970
// to 2106: the range of pcap's 32-bit seconds). Bytes of data beyond the
// snaplen are cut, as a capture would; wireLen is raised to len(data) when
// smaller (before the cut).
func (w *Writer) WriteRecord(ts int64, data []byte, wireLen uint32) error {
	if ts < 0 || ts/1e9 > 0xffffffff {
		return fmt.Errorf("ring: pcap writer: timestamp %d is outside pcap's range (1970 to 2106)", ts)
	}
	if uint64(len(data)) > 0xffffffff {
		return fmt.Errorf("ring: pcap writer: a frame of %d bytes does not fit pcap's 32-bit lengths", len(data))
	}
	wireLen = max(wireLen, uint32(len(data)))
	if uint64(len(data)) > uint64(w.snaplen) {
		data = data[:w.snaplen]
	}
	binary.LittleEndian.PutUint32(w.hdr[0:], uint32(ts/1e9))
	binary.LittleEndian.PutUint32(w.hdr[4:], uint32(ts%1e9))
	binary.LittleEndian.PutUint32(w.hdr[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(w.hdr[12:], wireLen)
	if _, err := w.w.Write(w.hdr[:]); err != nil {
		return fmt.Errorf("ring: write pcap record: %w", err)
	}
	if _, err := w.w.Write(data); err != nil {
		return fmt.Errorf("ring: write pcap record: %w", err)
	}
	return nil
}

// Package pcaptest reads whole pcap and pcapng files into memory for the
// filter package's tests and benchmarks. It is a stopgap until the
// production reader (ring.OpenFile) is available to the tests; it favours
// simplicity over speed and keeps every record.
package pcaptest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fastop/fastop/decode"
)

// Record is one captured frame.
type Record struct {
	Data []byte
	Meta decode.Meta
}

// File is a capture read into memory.
type File struct {
	Link      decode.LinkType
	BigEndian bool // byte order of the file (pcap header or first section)
	Snaplen   uint32
	Records   []Record
}

// ErrFormat is wrapped by every parse error.
var ErrFormat = errors.New("not a pcap or pcapng file")

// Read reads a pcap or pcapng file.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse parses the bytes of a pcap or pcapng file.
func Parse(b []byte) (*File, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrFormat, len(b))
	}
	if binary.LittleEndian.Uint32(b) == 0x0a0d0d0a {
		return parseNG(b)
	}
	return parsePcap(b)
}

func parsePcap(b []byte) (*File, error) {
	if len(b) < 24 {
		return nil, fmt.Errorf("%w: short header", ErrFormat)
	}
	var bo binary.ByteOrder
	f := &File{}
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo, f.BigEndian = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("%w: magic %#x", ErrFormat, binary.LittleEndian.Uint32(b))
	}
	f.Snaplen = bo.Uint32(b[16:])
	f.Link = decode.LinkType(bo.Uint32(b[20:]) & 0xffff)
	b = b[24:]
	for len(b) > 0 {
		if len(b) < 16 {
			return nil, fmt.Errorf("%w: truncated record header", ErrFormat)
		}
		caplen, wire := bo.Uint32(b[8:]), bo.Uint32(b[12:])
		if uint64(caplen) > uint64(len(b)-16) {
			return nil, fmt.Errorf("%w: record of %d bytes past the end", ErrFormat, caplen)
		}
		f.Records = append(f.Records, record(b[16:16+caplen], wire, f.Link))
		b = b[16+caplen:]
	}
	return f, nil
}

func record(data []byte, wire uint32, link decode.LinkType) Record {
	if wire < uint32(len(data)) {
		wire = uint32(len(data))
	}
	return Record{Data: data, Meta: decode.Meta{Link: link, PktType: decode.PktUnknown, WireLen: wire}}
}

func parseNG(b []byte) (*File, error) {
	f := &File{}
	var bo binary.ByteOrder = binary.LittleEndian
	type iface struct {
		link    decode.LinkType
		snaplen uint32
	}
	var ifaces []iface
	first := true
	for len(b) > 0 {
		if len(b) < 12 {
			return nil, fmt.Errorf("%w: truncated block", ErrFormat)
		}
		typ := bo.Uint32(b)
		if typ == 0x0a0d0d0a {
			switch binary.LittleEndian.Uint32(b[8:]) {
			case 0x1a2b3c4d:
				bo = binary.LittleEndian
			case 0x4d3c2b1a:
				bo = binary.BigEndian
			default:
				return nil, fmt.Errorf("%w: bad byte-order magic", ErrFormat)
			}
			if first {
				f.BigEndian = bo == binary.ByteOrder(binary.BigEndian)
				first = false
			}
			ifaces = ifaces[:0]
		}
		total := bo.Uint32(b[4:])
		if total < 12 || total%4 != 0 || uint64(total) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: block length %d", ErrFormat, total)
		}
		body := b[8 : total-4]
		switch typ {
		case 1: // interface description
			if len(body) < 8 {
				return nil, fmt.Errorf("%w: short interface block", ErrFormat)
			}
			ifaces = append(ifaces, iface{decode.LinkType(bo.Uint16(body)), bo.Uint32(body[4:])})
			if len(ifaces) == 1 {
				f.Link, f.Snaplen = ifaces[0].link, ifaces[0].snaplen
			}
		case 6: // enhanced packet
			if len(body) < 20 {
				return nil, fmt.Errorf("%w: short packet block", ErrFormat)
			}
			id, caplen, wire := bo.Uint32(body), bo.Uint32(body[12:]), bo.Uint32(body[16:])
			if int(id) >= len(ifaces) || uint64(caplen) > uint64(len(body)-20) {
				return nil, fmt.Errorf("%w: bad packet block", ErrFormat)
			}
			f.Records = append(f.Records, record(body[20:20+caplen], wire, ifaces[id].link))
		case 3: // simple packet
			if len(body) < 4 || len(ifaces) == 0 {
				return nil, fmt.Errorf("%w: bad simple packet block", ErrFormat)
			}
			wire := bo.Uint32(body)
			caplen := min(uint64(wire), uint64(len(body)-4))
			if s := ifaces[0].snaplen; s != 0 {
				caplen = min(caplen, uint64(s))
			}
			f.Records = append(f.Records, record(body[4:4+caplen], wire, ifaces[0].link))
		case 2: // obsolete packet block
			if len(body) < 20 {
				return nil, fmt.Errorf("%w: short packet block", ErrFormat)
			}
			id, caplen, wire := bo.Uint16(body), bo.Uint32(body[12:]), bo.Uint32(body[16:])
			if int(id) >= len(ifaces) || uint64(caplen) > uint64(len(body)-20) {
				return nil, fmt.Errorf("%w: bad packet block", ErrFormat)
			}
			f.Records = append(f.Records, record(body[20:20+caplen], wire, ifaces[id].link))
		}
		b = b[total:]
	}
	return f, nil
}

// CorpusDir returns the shared capture corpus, ../shared/corpus seen from
// the repository root (the nearest directory above the working directory
// that holds go.mod), or "" when it is absent.
func CorpusDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if st, err := os.Stat(c); err == nil && st.IsDir() {
		return c
	}
	return ""
}

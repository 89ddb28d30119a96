package pcapfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
)

// Limits of the file reader.
const (
	// bufSize is the streaming buffer: big enough that a batch rarely
	// ends early at the buffer's edge, small enough to stay in L2/L3.
	bufSize = 1 << 20
	// pcapngMaxBlock bounds one pcapng block: libpcap's limit (16 MiB,
	// MAX_BLOCKSIZE in sf-pcapng.c). A larger block is corrupt, so a damaged
	// or hostile length field cannot make the reader allocate more. A pcap
	// record is bounded by pcapMaxSnaplen.
	pcapngMaxBlock = 16 << 20
)

// File reads frames from a pcap or pcapng file, in batches. Open one with
// [Open], [NewReader] or [FromBytes].
//
// A File is not safe for concurrent use: one goroutine reads it and spreads
// the frames over workers.
type File struct {
	name   string
	r      io.Reader // nil for an in-memory file
	closer io.Closer // the *os.File that Open opened, else nil
	closed bool

	// buf[pos:end] holds the bytes read but not yet parsed; buf[0] is byte
	// base of the file. For an in-memory file buf is the caller's slice.
	buf  []byte
	pos  int
	end  int
	base int64
	eof  bool // r has reported io.EOF (always true in memory)

	ng bool // pcapng rather than pcap
	be bool // the current section is big-endian

	// pcap
	pcapLink    decode.LinkType
	pcapNano    bool
	pcapSnaplen uint32

	// pcapng: the interfaces of the current section, and the timestamp
	// given to a Simple Packet Block (which carries none).
	ngIfaces    []pcapngIface
	ngLastTS    int64
	ngFirst     decode.LinkType // link type of the file's first interface
	ngFirstSnap uint32          // its snapshot length
	ngFirstBE   bool            // the byte order of its section
	ngHasIDB    bool

	err error // sticky: io.EOF, *CorruptError, *LinkTypeError or a read error
}

// CorruptError reports a file that cannot be read past Offset. The records
// before it were good and have been returned.
type CorruptError struct {
	File   string // the name given to Open (or FromBytes)
	Offset int64  // file offset of the record or block at fault
	Reason string // what is wrong, e.g. "record length 900000 exceeds the snapshot length 65535"
	// Truncated reports that the file ends inside the record: the capture
	// was cut short, usually because its writer was killed. libpcap calls
	// this "truncated dump file".
	Truncated bool
}

func (e *CorruptError) Error() string {
	if e.Truncated {
		return fmt.Sprintf("%s: truncated record at byte %d: %s", e.File, e.Offset, e.Reason)
	}
	return fmt.Sprintf("%s: corrupt at byte %d: %s", e.File, e.Offset, e.Reason)
}

// LinkTypeError reports frames of a link type that fastop cannot decode.
// errors.Is(err, decode.ErrLinkType) holds for it.
type LinkTypeError struct {
	File     string
	LinkType uint32 // the LINKTYPE_ value found in the file
}

func (e *LinkTypeError) Error() string {
	return fmt.Sprintf("%s: unsupported link type %d (fastop reads Ethernet, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP)",
		e.File, e.LinkType)
}

// Unwrap makes errors.Is(err, decode.ErrLinkType) true.
func (e *LinkTypeError) Unwrap() error { return decode.ErrLinkType }

// Open opens a pcap or pcapng file and reads its header. It fails with a
// *[LinkTypeError] when the (first) interface's link type is not one fastop
// decodes, and with a *[CorruptError] when the header is damaged.
func Open(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	f := &File{name: path, r: fd, closer: fd, buf: make([]byte, bufSize)}
	if err := f.start(); err != nil {
		fd.Close()
		return nil, err
	}
	return f, nil
}

// NewReader is [Open] over any reader, such as a pipe from
// tcpdump -w -. name is used in errors. The reader is not closed by Close.
func NewReader(name string, r io.Reader) (*File, error) {
	return newReaderSize(name, r, bufSize)
}

// newReaderSize lets tests use a tiny buffer to exercise refills.
func newReaderSize(name string, r io.Reader, size int) (*File, error) {
	f := &File{name: name, r: r, buf: make([]byte, max(size, 16))}
	if err := f.start(); err != nil {
		return nil, err
	}
	return f, nil
}

// FromBytes is [Open] over a file already in memory. Records alias
// data, which is never copied and must not change while the File is in use.
func FromBytes(name string, data []byte) (*File, error) {
	f := &File{name: name, buf: data, end: len(data), eof: true}
	if err := f.start(); err != nil {
		return nil, err
	}
	return f, nil
}

// Name returns the name the File was opened with.
func (f *File) Name() string { return f.name }

// LinkType returns the link type of the file (for pcapng, that of the first
// interface; LinkEthernet when no interface precedes the first packet). Each
// Record carries its own in Meta.Link, which may differ in a pcapng file.
func (f *File) LinkType() decode.LinkType {
	if f.ng {
		if !f.ngHasIDB {
			return decode.LinkEthernet
		}
		return f.ngFirst
	}
	return f.pcapLink
}

// Snaplen returns the file's snapshot length: the pcap header's, or that of
// a pcapng file's first interface (0 when no interface precedes the first
// packet).
func (f *File) Snaplen() uint32 {
	if f.ng {
		return f.ngFirstSnap
	}
	return f.pcapSnaplen
}

// BigEndian reports whether the file was written big-endian (for pcapng,
// the section of its first interface). A NULL capture's address family is
// in that byte order, which the filter compiler needs to know
// (filter.Options.NullBigEndian).
func (f *File) BigEndian() bool {
	if f.ng {
		return f.ngFirstBE
	}
	return f.be
}

// Offset returns the file offset of the next record (or block) to be read.
func (f *File) Offset() int64 { return f.base + int64(f.pos) }

// Close releases the file. Records from the last batch must not be used
// after it. Closing twice is harmless.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Rewind goes back to the first record, so that a benchmark can replay a
// file without reopening it (and without allocating). It works for in-memory
// files and for readers that implement io.Seeker.
func (f *File) Rewind() error {
	if f.closed {
		return fmt.Errorf("%s: rewind: %w", f.name, os.ErrClosed)
	}
	if f.r != nil {
		s, ok := f.r.(io.Seeker)
		if !ok {
			return fmt.Errorf("%s: rewind: the reader cannot seek; open the file again", f.name)
		}
		if _, err := s.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("%s: rewind: %w", f.name, err)
		}
		f.end, f.eof = 0, false
	}
	f.pos, f.base, f.err = 0, 0, nil
	f.ngIfaces = f.ngIfaces[:0]
	f.ngLastTS, f.ngHasIDB = 0, false
	return f.start()
}

// ReadBatch fills recs[:n] with the next records, as many as fit and are
// buffered. Each Record's Data aliases the File's buffer (or, for
// FromBytes, the caller's bytes): it stays valid only until the next
// call to ReadBatch, Rewind or Close. Copy what must outlive that.
//
// At the end of the file ReadBatch returns 0, io.EOF. When the file is
// damaged it first returns the good records (n > 0, nil), then 0 and a
// *[CorruptError] (or a *[LinkTypeError] for frames of a link type fastop
// cannot decode); the error repeats on later calls. A file cut short inside
// its last record gives a CorruptError with Truncated set, as libpcap does.
func (f *File) ReadBatch(recs []ring.Record) (n int, err error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.closed {
		return 0, fmt.Errorf("%s: read: %w", f.name, os.ErrClosed)
	}
	for n < len(recs) {
		var need int
		if f.ng {
			need, err = f.pcapngNext(&recs[n])
		} else {
			need, err = f.pcapNext(&recs[n])
		}
		if err != nil {
			f.err = err
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if need == 0 {
			n++
			continue
		}
		// The next record is not all in the buffer. Refilling moves the
		// buffer's bytes, which the records handed out alias: stop here and
		// refill at the start of the next call.
		if n > 0 {
			return n, nil
		}
		if err := f.fill(need); err != nil {
			f.err = err
			return 0, err
		}
	}
	return n, nil
}

// fill makes buf[pos:end] hold at least need bytes, or reaches EOF. It
// moves the unread bytes to the front and grows the buffer only when one
// record is larger than it (doubling, so that a lying length field in a short
// file costs little).
func (f *File) fill(need int) error {
	if f.eof {
		return nil
	}
	if f.pos > 0 {
		f.end = copy(f.buf, f.buf[f.pos:f.end])
		f.base += int64(f.pos)
		f.pos = 0
	}
	zero := 0
	for f.end < need {
		if f.end == len(f.buf) {
			size := min(2*len(f.buf), need)
			nb := make([]byte, size)
			copy(nb, f.buf[:f.end])
			f.buf = nb
		}
		m, err := f.r.Read(f.buf[f.end:])
		f.end += m
		if err == io.EOF {
			f.eof = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: read at byte %d: %w", f.name, f.base+int64(f.end), err)
		}
		if m == 0 {
			if zero++; zero > 100 {
				return fmt.Errorf("%s: read: %w", f.name, io.ErrNoProgress)
			}
		}
	}
	return nil
}

// ensure is fill for the header code, which runs before any record is
// handed out: it reports how many bytes are available, up to need.
func (f *File) ensure(need int) (int, error) {
	if f.end-f.pos < need && !f.eof {
		if err := f.fill(need); err != nil {
			return 0, err
		}
	}
	return min(f.end-f.pos, need), nil
}

// start detects the format and reads the file header.
func (f *File) start() error {
	got, err := f.ensure(4)
	if err != nil {
		return err
	}
	switch got {
	case 0:
		return fmt.Errorf("%s: empty file, not a pcap or pcapng file", f.name)
	case 1, 2, 3:
		return fmt.Errorf("%s: not a pcap or pcapng file (only %d bytes)", f.name, got)
	}
	b := f.buf[f.pos:f.end]
	switch magic := binary.LittleEndian.Uint32(b); magic {
	case pcapMagicMicro, pcapMagicNano:
		f.ng, f.be, f.pcapNano = false, false, magic == pcapMagicNano
		return f.pcapStart()
	case pcapMagicMicroSwapped, pcapMagicNanoSwapped:
		f.ng, f.be, f.pcapNano = false, true, magic == pcapMagicNanoSwapped
		return f.pcapStart()
	case pcapngSHB:
		f.ng = true
		return f.pcapngStart()
	}
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		return fmt.Errorf("%s: not a pcap or pcapng file (it is gzip-compressed: gunzip it first)", f.name)
	}
	return fmt.Errorf("%s: not a pcap or pcapng file (magic 0x%08x)", f.name, binary.BigEndian.Uint32(b))
}

// short is the outcome of a record that runs past the buffered bytes:
// ask for more, or, at end of file, report a clean end (no bytes left) or a
// truncated record.
func (f *File) short(need int, reason func(left int) string) (int, error) {
	left := f.end - f.pos
	if !f.eof {
		return need, nil
	}
	if left == 0 {
		return 0, io.EOF
	}
	return 0, &CorruptError{File: f.name, Offset: f.Offset(), Reason: reason(left), Truncated: true}
}

func (f *File) corrupt(format string, args ...any) error {
	return &CorruptError{File: f.name, Offset: f.Offset(), Reason: fmt.Sprintf(format, args...)}
}

func (f *File) u16(b []byte) uint16 {
	if f.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (f *File) u32(b []byte) uint32 {
	if f.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

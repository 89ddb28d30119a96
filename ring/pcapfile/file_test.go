package pcapfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
)

var (
	fileLE = binary.LittleEndian
	fileBE = binary.BigEndian
)

// fileValid are well-formed captures covering both formats, both byte
// orders, every timestamp resolution and every block type the reader knows.
func fileValid() []fileSpec {
	const t0 = 1700000000 // 2023-11-14, a second count that fits pcap's 32 bits
	var files []fileSpec

	files = append(files, newPcapBuild("le-usec.pcap", fileLE, false, 65535, 1).
		rec(t0, 123456, fileFrame(60, 1), 60, t0*1e9+123456000, 60).
		rec(t0+1, 999999, fileFrame(1514, 2), 1514, (t0+1)*1e9+999999000, 1514).
		rec(0, 0, nil, 0, 0, 0). // an empty record is legal
		rec(0xffffffff, 1, fileFrame(61, 3), 61, 0xffffffff*1e9+1000, 61).
		file())
	files = append(files, newPcapBuild("be-nsec-snap96.pcap", fileBE, true, 96, 113).
		rec(t0, 123456789, fileFrame(96, 4), 1500, t0*1e9+123456789, 1500).
		rec(t0, 999999999, fileFrame(42, 5), 42, t0*1e9+999999999, 42).
		file())
	files = append(files, newPcapBuild("be-usec.pcap", fileBE, false, 262144, 101).
		rec(t0, 5, fileFrame(20, 6), 20, t0*1e9+5000, 20).
		file())
	files = append(files, newPcapBuild("le-nsec.pcap", fileLE, true, 65535, 229).
		rec(t0, 5, fileFrame(40, 7), 40, t0*1e9+5, 40).
		file())
	// The FCS bits above the link type (pcap-linktype(7)) are not the link type.
	files = append(files, newPcapBuild("fcs-bits.pcap", fileLE, false, 65535, 1|1<<26|2<<28).
		rec(t0, 0, fileFrame(64, 8), 64, t0*1e9, 64).
		file())
	// Tolerated as libpcap does: caplen above the header's snaplen (up to
	// 262144), a wire length below the captured length, and snaplen 0.
	files = append(files, newPcapBuild("odd-lengths.pcap", fileLE, false, 64, 0).
		rec(t0, 0, fileFrame(100, 9), 100, t0*1e9, 100).
		rec(t0, 1, fileFrame(200000, 10), 200000, t0*1e9+1000, 200000).
		rec(t0, 2, fileFrame(60, 11), 10, t0*1e9+2000, 60).
		file())
	files = append(files, newPcapBuild("snap0.pcap", fileBE, false, 0, 108).
		rec(t0, 0, fileFrame(300, 12), 300, t0*1e9, 300).
		file())

	// pcapng: three sections, the second big-endian; several interfaces of
	// different link types and resolutions; every packet block type; blocks
	// the reader must skip.
	b := newPcapngBuild("multi-section.pcapng")
	b.shb(fileLE, pcapngOpt(fileLE, 4, []byte("fastop test")))
	b.idb(decode.LinkEthernet, 65535, b.opt(2, []byte("eth0")))             // default resolution: µs
	b.idb(decode.LinkRaw, 0, b.opt(9, []byte{9}), b.opt(2, []byte("tun0"))) // ns
	b.epb(0, t0*1e6+1, t0*1e9+1000, fileFrame(60, 20), 60, decode.PktUnknown)
	b.epb(1, t0*1e9+123456789, t0*1e9+123456789, fileFrame(61, 21), 61, decode.PktUnknown)
	b.block(4, []byte{1, 0, 9, 0, 192, 0, 2, 1, 'h', 'o', 's', 't', 0, 0, 0, 0, 0, 0, 0, 0}) // name resolution: 192.0.2.1 host
	b.block(5, append(fileU32(fileLE, 0), make([]byte, 8)...))                               // interface statistics
	b.block(0x00000bad, append(fileU32(fileLE, 32473), []byte("custom")...))                 // custom block
	b.block(0x0000000a, append(fileU32(fileLE, 0x544c534b), make([]byte, 4)...))             // decryption secrets
	b.block(0x12345678, nil)                                                                 // unknown, empty body
	b.epb(0, t0*1e6+2, t0*1e9+2000, fileFrame(62, 22), 62, decode.PktHost, b.opt(2, fileU32(fileLE, 1|1<<2)))
	b.epb(0, t0*1e6+3, t0*1e9+3000, fileFrame(63, 23), 63, decode.PktOutgoing, b.opt(2, fileU32(fileLE, 2)))
	b.epb(0, t0*1e6+4, t0*1e9+4000, fileFrame(64, 24), 64, decode.PktBroadcast, b.opt(1, []byte("c")), b.opt(2, fileU32(fileLE, 1|3<<2)))
	b.epb(0, t0*1e6+5, t0*1e9+5000, fileFrame(64, 25), 64, decode.PktMulticast, b.opt(2, fileU32(fileLE, 2<<2)))
	b.epb(0, t0*1e6+6, t0*1e9+6000, fileFrame(64, 26), 64, decode.PktOtherHost, b.opt(2, fileU32(fileLE, 1|4<<2)))
	b.epb(0, t0*1e6+7, t0*1e9+7000, fileFrame(60, 27), 1000, decode.PktUnknown) // snaplen cut
	b.shb(fileBE)
	b.idb(decode.LinkLinuxSLL2, 128, b.opt(9, []byte{0x80 | 20}), b.opt(14, fileU64(fileBE, 100))) // 2^-20 s, +100 s
	b.idb(decode.LinkIPv4, 0, b.opt(9, []byte{3}))                                                 // ms
	b.idb(decode.LinkIPv6, 0, b.opt(9, []byte{12}))                                                // ps
	b.epb(0, 5<<20|1<<19, 105_500_000_000, fileFrame(80, 30), 80, decode.PktUnknown)
	// One unit of 2^-20 s is 953.67431640625 ns: the fraction is truncated.
	b.epb(0, 1<<20|1, 101_000_000_953, fileFrame(80, 31), 80, decode.PktUnknown)
	b.epb(1, t0*1e3+123, t0*1e9+123_000_000, fileFrame(20, 32), 20, decode.PktUnknown)
	b.epb(2, 123_456_789_012, 123_456_789, fileFrame(40, 33), 40, decode.PktUnknown)
	b.spb(200, fileFrame(128, 34), 123_456_789) // SPB: snaplen 128 of interface 0, previous timestamp
	b.opb(1, 42, 42_000_000, fileFrame(21, 35), 21, decode.PktOutgoing, b.opt(2, fileU32(fileBE, 2)))
	// 2^-40 s: the fraction times 10^9 needs more than 64 bits.
	b.idb(decode.LinkEthernet, 0, b.opt(9, []byte{0x80 | 40}))
	b.epb(3, 3<<40|1<<39|1<<38, 3_750_000_000, fileFrame(60, 37), 60, decode.PktUnknown)
	b.shb(fileLE)
	b.idb(decode.LinkLoop, 65535)
	b.epb(0, t0*1e6, t0*1e9, fileFrame(44, 36), 44, decode.PktUnknown)
	files = append(files, b.file())

	b = newPcapngBuild("spb.pcapng")
	b.shb(fileBE)
	b.idb(decode.LinkNull, 0) // snaplen 0: unlimited
	b.spb(1500, fileFrame(1500, 40), 0)
	b.spb(3, fileFrame(3, 41), 0)
	b.epb(0, 9, 9000, fileFrame(8, 42), 8, decode.PktUnknown)
	b.spb(77, fileFrame(77, 43), 9000)
	files = append(files, b.file())

	b = newPcapngBuild("empty-section.pcapng")
	b.shb(fileLE)
	files = append(files, b.file())

	return files
}

type fileReadMode struct {
	name  string
	open  func(name string, data []byte) (*File, error)
	batch int
}

// fileReadModes read the same bytes from memory and as streams through small
// buffers and short reads, with several batch sizes.
var fileReadModes = []fileReadMode{
	{"memory/1", FromBytes, 1},
	{"memory/256", FromBytes, 256},
	{"stream4096/3", func(n string, d []byte) (*File, error) { return newReaderSize(n, bytes.NewReader(d), 4096) }, 3},
	{"stream16/onebyte", func(n string, d []byte) (*File, error) {
		return newReaderSize(n, iotest.OneByteReader(bytes.NewReader(d)), 16)
	}, 7},
	{"stream100/half", func(n string, d []byte) (*File, error) {
		return newReaderSize(n, iotest.HalfReader(bytes.NewReader(d)), 100)
	}, 64},
	{"stream4096/dataerr", func(n string, d []byte) (*File, error) {
		return newReaderSize(n, iotest.DataErrReader(bytes.NewReader(d)), 4096)
	}, 1000},
}

// fileReadAll reads f to its end, copying each record.
func fileReadAll(t testing.TB, f *File, batch int) ([]fileWant, error) {
	t.Helper()
	recs := make([]ring.Record, batch)
	var got []fileWant
	for {
		n, err := f.ReadBatch(recs)
		if n < 0 || n > len(recs) {
			t.Fatalf("ReadBatch returned n = %d for %d slots", n, len(recs))
		}
		if n > 0 && err != nil {
			t.Fatalf("ReadBatch returned %d records and error %v", n, err)
		}
		for _, r := range recs[:n] {
			got = append(got, fileWant{ts: r.TS, data: bytes.Clone(r.Data), meta: r.Meta})
		}
		if err != nil {
			// The error sticks.
			if n2, err2 := f.ReadBatch(recs); n2 != 0 || err2 != err {
				t.Fatalf("after %v, ReadBatch returned %d, %v", err, n2, err2)
			}
			return got, err
		}
		if n == 0 {
			t.Fatal("ReadBatch returned 0 records and no error")
		}
	}
}

func fileSameRecs(t *testing.T, got, want []fileWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ts != w.ts || g.meta != w.meta || !bytes.Equal(g.data, w.data) {
			t.Fatalf("record %d:\n got ts %d meta %+v len %d\nwant ts %d meta %+v len %d",
				i, g.ts, g.meta, len(g.data), w.ts, w.meta, len(w.data))
		}
	}
}

func TestFileReadValid(t *testing.T) {
	for _, tf := range fileValid() {
		for _, m := range fileReadModes {
			t.Run(tf.name+"/"+m.name, func(t *testing.T) {
				f, err := m.open(tf.name, tf.data)
				if err != nil {
					t.Fatal(err)
				}
				if f.LinkType() != tf.link {
					t.Errorf("LinkType() = %d, want %d", f.LinkType(), tf.link)
				}
				got, err := fileReadAll(t, f, m.batch)
				if err != io.EOF {
					t.Fatalf("ended with %v, want io.EOF", err)
				}
				fileSameRecs(t, got, tf.recs)
				if f.Offset() != int64(len(tf.data)) {
					t.Errorf("Offset() = %d at the end, want %d", f.Offset(), len(tf.data))
				}
			})
		}
	}
}

// TestFileEveryPrefix cuts each valid file at every byte: the records wholly
// before the cut come back, then io.EOF when the cut falls between records
// or blocks, else a truncation error naming where the cut record starts.
func TestFileEveryPrefix(t *testing.T) {
	for _, tf := range fileValid() {
		if len(tf.data) > 4096 {
			continue // odd-lengths.pcap: its 200 kB record adds nothing here
		}
		for _, m := range fileReadModes[:4] {
			t.Run(tf.name+"/"+m.name, func(t *testing.T) {
				for cut := 0; cut <= len(tf.data); cut++ {
					fileCheckPrefix(t, tf, cut, m)
				}
			})
		}
	}
}

func fileCheckPrefix(t *testing.T, tf fileSpec, cut int, m fileReadMode) {
	t.Helper()
	var want []fileWant
	for i, end := range tf.recEnds {
		if end <= cut {
			want = append(want, tf.recs[i])
		}
	}
	atBound, start := cut == 0, 0 // start: where the cut record or block begins
	for _, b := range tf.bounds {
		if b == cut {
			atBound = true
		}
		if b <= cut {
			start = b
		}
	}
	f, err := m.open(tf.name, tf.data[:cut])
	if err != nil {
		if len(want) > 0 {
			t.Fatalf("cut %d: open failed (%v) with %d records before the cut", cut, err, len(want))
		}
		var ce *CorruptError
		switch {
		case cut < 4:
			// too short to name a format; the message says so
		case !errors.As(err, &ce) || !ce.Truncated || ce.Offset != int64(start):
			t.Fatalf("cut %d: open failed with %v, want a truncation at byte %d", cut, err, start)
		}
		return
	}
	got, err := fileReadAll(t, f, m.batch)
	fileSameRecs(t, got, want)
	if atBound {
		if err != io.EOF {
			t.Fatalf("cut %d (between blocks): ended with %v, want io.EOF", cut, err)
		}
		return
	}
	var ce *CorruptError
	if !errors.As(err, &ce) || !ce.Truncated || ce.Offset != int64(start) || ce.File != tf.name {
		t.Fatalf("cut %d: ended with %v, want a truncated record at byte %d", cut, err, start)
	}
}

// TestFileDamaged flips, one at a time, every byte of each small valid file:
// the reader must never panic, must return records that lie inside the
// file, and must agree with itself whatever the buffer and batch sizes.
func TestFileDamaged(t *testing.T) {
	for _, tf := range fileValid() {
		if len(tf.data) > 4096 {
			continue
		}
		t.Run(tf.name, func(t *testing.T) {
			data := bytes.Clone(tf.data)
			for i := range data {
				for _, x := range []byte{0xff, 0x80, 0x01} {
					data[i] ^= x
					fileCheckConsistent(t, data)
					data[i] ^= x
				}
			}
		})
	}
}

// fileCheckConsistent reads data in every mode and fails unless all agree.
func fileCheckConsistent(t testing.TB, data []byte) {
	t.Helper()
	var (
		first    []fileWant
		firstErr string
	)
	for i, m := range fileReadModes {
		f, err := m.open("fuzz.pcap", data)
		var got []fileWant
		if err == nil {
			got, err = fileReadAll(t, f, m.batch)
			if err == nil {
				t.Fatal("readAll returned a nil error")
			}
		}
		total := 0
		for _, r := range got {
			total += len(r.data)
			if uint32(len(r.data)) > r.meta.WireLen {
				t.Fatalf("%s: record of %d bytes with a wire length of %d", m.name, len(r.data), r.meta.WireLen)
			}
		}
		if total > len(data) {
			t.Fatalf("%s: %d record bytes from a %d-byte file", m.name, total, len(data))
		}
		if i == 0 {
			first, firstErr = got, err.Error()
			continue
		}
		if err.Error() != firstErr {
			t.Fatalf("%s ended with %q, %s with %q", fileReadModes[0].name, firstErr, m.name, err)
		}
		if len(got) != len(first) {
			t.Fatalf("%s read %d records, %s %d", fileReadModes[0].name, len(first), m.name, len(got))
		}
		for j := range got {
			if got[j].ts != first[j].ts || got[j].meta != first[j].meta || !bytes.Equal(got[j].data, first[j].data) {
				t.Fatalf("record %d differs between %s and %s", j, fileReadModes[0].name, m.name)
			}
		}
	}
}

func TestFileCorrupt(t *testing.T) {
	// patch overwrites a 32-bit field of a built file.
	patch := func(tf fileSpec, off int, bo binary.ByteOrder, v uint32) []byte {
		d := bytes.Clone(tf.data)
		bo.PutUint32(d[off:], v)
		return d
	}
	onePcap := func(bo binary.ByteOrder, snap uint32) *pcapBuild {
		return newPcapBuild("capture.pcap", bo, false, snap, 1).rec(1, 2, fileFrame(60, 1), 60, 1e9+2000, 60)
	}
	ng := func() *pcapngBuild {
		b := newPcapngBuild("capture.pcapng")
		b.shb(fileLE)
		b.idb(decode.LinkEthernet, 0)
		b.epb(0, 1, 1000, fileFrame(60, 1), 60, decode.PktUnknown)
		return b
	}
	ngFile := ng().file() // blocks at 0 (SHB, 28), 28 (IDB, 20), 48 (EPB, 92), end 140

	tests := []struct {
		name  string
		data  []byte
		nrecs int    // good records before the error
		err   string // the whole message
		open  bool   // the error comes from opening
	}{
		{"pcap/caplen over the bound", onePcap(fileLE, 65535).raw(1, 2, 900000, 900000, fileFrame(100, 0)).file().data, 1,
			"capture.pcap: corrupt at byte 100: record length 900000 exceeds 262144 bytes, the most libpcap reads in a record", false},
		{"pcap/caplen over the bound/be", onePcap(fileBE, 300000).raw(1, 2, 300001, 9, nil).file().data, 1,
			"capture.pcap: corrupt at byte 100: record length 300001 exceeds 262144 bytes, the most libpcap reads in a record", false},
		{"pcap/truncated record", onePcap(fileLE, 65535).raw(1, 2, 1500, 1500, fileFrame(312, 0)).file().data, 1,
			"capture.pcap: truncated record at byte 100: header says 1500 bytes, 312 left", false},
		{"pcap/truncated record header", append(onePcap(fileBE, 65535).file().data, 1, 2, 3, 4, 5), 1,
			"capture.pcap: truncated record at byte 100: the record header needs 16 bytes, 5 left", false},
		{"pcap/truncated file header", onePcap(fileLE, 65535).file().data[:20], 0,
			"capture.pcap: truncated record at byte 0: the pcap file header needs 24 bytes, 20 present", true},
		{"pcap/version", patch(onePcap(fileLE, 65535).file(), 4, fileLE, 3|4<<16), 0,
			"capture.pcap: corrupt at byte 0: unsupported pcap version 3.4 (only 2.x exists)", true},
		{"pcap/link type", newPcapBuild("capture.pcap", fileBE, true, 65535, 105).file().data, 0,
			"capture.pcap: unsupported link type 105 (fastop reads Ethernet, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP)", true},
		{"pcap/reserved link bits", newPcapBuild("capture.pcap", fileLE, false, 65535, 1|1<<16).file().data, 0,
			"capture.pcap: unsupported link type 65537 (fastop reads Ethernet, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP)", true},
		{"magic", []byte{0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0}, 0,
			"capture.pcap: not a pcap or pcapng file (magic 0x12345678)", true},
		{"gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, 0,
			"capture.pcap: not a pcap or pcapng file (it is gzip-compressed: gunzip it first)", true},
		{"empty", nil, 0, "capture.pcap: empty file, not a pcap or pcapng file", true},
		{"short", []byte{0xd4, 0xc3}, 0, "capture.pcap: not a pcap or pcapng file (only 2 bytes)", true},

		{"pcapng/trailing length", patch(ngFile, 136, fileLE, 96), 0,
			"capture.pcap: corrupt at byte 48: block length 92 at the start, 96 at the end", false},
		{"pcapng/length not a multiple of 4", patch(ngFile, 52, fileLE, 93), 0,
			"capture.pcap: corrupt at byte 48: block length 93 is invalid (a multiple of 4, from 12 to 16777216)", false},
		{"pcapng/length below 12", patch(ngFile, 52, fileLE, 8), 0,
			"capture.pcap: corrupt at byte 48: block length 8 is invalid (a multiple of 4, from 12 to 16777216)", false},
		{"pcapng/length above 16 MiB", patch(ngFile, 52, fileLE, 16<<20+4), 0,
			"capture.pcap: corrupt at byte 48: block length 16777220 is invalid (a multiple of 4, from 12 to 16777216)", false},
		{"pcapng/lying length", patch(ngFile, 52, fileLE, 16<<20), 0,
			"capture.pcap: truncated record at byte 48: block length says 16777216 bytes, 92 left", false},
		{"pcapng/unknown interface", patch(ngFile, 56, fileLE, 3), 0,
			"capture.pcap: corrupt at byte 48: packet for interface 3, but the section describes 1", false},
		{"pcapng/caplen past the block", patch(ngFile, 68, fileLE, 61), 0,
			"capture.pcap: corrupt at byte 48: packet length 61 runs past the end of its 92-byte block", false},
		{"pcapng/SHB byte-order magic", func() []byte {
			d := ng().shb(fileLE).file().data
			fileLE.PutUint32(d[148:], 0x1a2b3c4e)
			return d
		}(), 1, "capture.pcap: corrupt at byte 140: section header with a bad byte-order magic 0x4e3c2b1a", false},
		{"pcapng/SHB version", patch(ngFile, 12, fileLE, 2), 0,
			"capture.pcap: corrupt at byte 0: unsupported pcapng version 2.0 (fastop reads 1.x)", true},
		{"pcapng/new section forgets interfaces", func() []byte {
			b := ng()
			b.shb(fileBE)
			b.links = []decode.LinkType{1} // pretend interface 0 still exists
			return b.epb(0, 1, 0, fileFrame(4, 0), 4, 0).file().data
		}(), 1, "capture.pcap: corrupt at byte 168: packet for interface 0, but the section describes 0", false},
		{"pcapng/packet before any interface", func() []byte {
			b := newPcapngBuild("")
			b.shb(fileLE)
			b.links = []decode.LinkType{1}
			return b.spb(4, fileFrame(4, 0), 0).file().data
		}(), 0, "capture.pcap: corrupt at byte 28: packet for interface 0, but the section describes 0", false},
		{"pcapng/unsupported link type used by a packet", func() []byte {
			b := ng()
			b.idb(147, 0) // LINKTYPE_USER0
			b.epb(0, 1, 1000, fileFrame(60, 1), 60, decode.PktUnknown)
			return b.epb(1, 1, 1000, fileFrame(60, 1), 60, decode.PktUnknown).file().data
		}(), 2, "capture.pcap: unsupported link type 147 (fastop reads Ethernet, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP)", false},
		{"pcapng/unsupported first interface", func() []byte {
			b := newPcapngBuild("")
			b.shb(fileBE)
			return b.idb(105, 0).file().data
		}(), 0, "capture.pcap: unsupported link type 105 (fastop reads Ethernet, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP)", true},
		{"pcapng/tsresol 2^-64", func() []byte {
			b := newPcapngBuild("")
			b.shb(fileLE)
			return b.idb(1, 0, b.opt(9, []byte{0x80 | 64})).file().data
		}(), 0, "capture.pcap: corrupt at byte 28: if_tsresol 2^-64 is out of range", true},
		{"pcapng/tsresol 10^-20", func() []byte {
			b := ng()
			b.idb(1, 0, b.opt(9, []byte{20}))
			return b.file().data
		}(), 1, "capture.pcap: corrupt at byte 140: if_tsresol 10^-20 is out of range", false},
		{"pcapng/option past the block", func() []byte {
			b := newPcapngBuild("")
			b.shb(fileLE)
			d := b.idb(1, 0, b.opt(2, []byte("eth0"))).file().data
			fileLE.PutUint16(d[28+18:], 9) // if_name claims 9 bytes
			return d
		}(), 0, "capture.pcap: corrupt at byte 28: interface option 2 of 9 bytes runs past the block end", true},
		{"pcapng/truncated SHB", ngFile.data[:20], 0,
			"capture.pcap: truncated record at byte 0: block length says 28 bytes, 20 left", true},
		{"pcapng/truncated last block", ngFile.data[:100], 0,
			"capture.pcap: truncated record at byte 48: block length says 92 bytes, 52 left", false},
		{"pcapng/short IDB", func() []byte {
			b := newPcapngBuild("")
			b.shb(fileLE)
			return b.block(1, []byte{1, 0}).file().data
		}(), 0, "capture.pcap: corrupt at byte 28: interface description block of 16 bytes, at least 20 needed", true},
		{"pcapng/short EPB", func() []byte {
			b := ng()
			return b.block(6, make([]byte, 16)).file().data
		}(), 1, "capture.pcap: corrupt at byte 140: packet block of 28 bytes, at least 32 needed", false},
	}
	for _, tc := range tests {
		for _, m := range fileReadModes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				f, err := m.open("capture.pcap", tc.data)
				if err == nil {
					if tc.open {
						t.Fatal("opened, want an error from Open")
					}
					var got []fileWant
					got, err = fileReadAll(t, f, m.batch)
					if len(got) != tc.nrecs {
						t.Errorf("%d good records before the error, want %d", len(got), tc.nrecs)
					}
				} else if !tc.open {
					t.Fatalf("open: %v", err)
				}
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error\n got %v\nwant %s", err, tc.err)
				}
				var lte *LinkTypeError
				if errors.As(err, &lte) && !errors.Is(err, decode.ErrLinkType) {
					t.Error("a LinkTypeError is not decode.ErrLinkType")
				}
			})
		}
	}
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	tf := fileValid()[0]
	path := filepath.Join(dir, "capture.pcap")
	if err := os.WriteFile(path, tf.data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != path {
		t.Errorf("Name() = %q, want %q", f.Name(), path)
	}
	got, err := fileReadAll(t, f, 2)
	if err != io.EOF {
		t.Fatal(err)
	}
	fileSameRecs(t, got, tf.recs)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	f, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := f.ReadBatch(make([]ring.Record, 1)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("ReadBatch after Close: %v, want os.ErrClosed", err)
	}

	missing := filepath.Join(dir, "missing.pcap")
	if _, err := Open(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want os.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.pcap")
	os.WriteFile(bad, []byte("hello, world"), 0o644)
	if _, err := Open(bad); err == nil || err.Error() != bad+": not a pcap or pcapng file (magic 0x68656c6c)" {
		t.Errorf("Open(bad) = %v", err)
	}
}

func TestFileRewind(t *testing.T) {
	for _, tf := range fileValid() {
		t.Run(tf.name, func(t *testing.T) {
			for _, f := range []func() (*File, error){
				func() (*File, error) { return FromBytes(tf.name, tf.data) },
				func() (*File, error) { return newReaderSize(tf.name, bytes.NewReader(tf.data), 64) },
			} {
				f, err := f()
				if err != nil {
					t.Fatal(err)
				}
				for range 3 {
					got, err := fileReadAll(t, f, 5)
					if err != io.EOF {
						t.Fatal(err)
					}
					fileSameRecs(t, got, tf.recs)
					if err := f.Rewind(); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
	f, _ := NewReader("pipe", iotest.HalfReader(bytes.NewReader(fileValid()[0].data)))
	if err := f.Rewind(); err == nil {
		t.Error("Rewind on a reader that cannot seek succeeded")
	}
}

// TestBufferBounded: a huge record (a pcapng block larger than the 1 MiB
// buffer; a pcap record is at most 256 KiB) grows the streaming buffer, and
// a length field that lies about a huge block in a short file does not make
// the reader allocate what it claims.
func TestFileBufferBounded(t *testing.T) {
	big := fileFrame(3<<20, 1)
	bb := newPcapngBuild("big.pcapng")
	bb.shb(fileLE)
	bb.idb(1, 0)
	data := bb.epb(0, 1e6, 1e9, fileFrame(10, 2), 10, decode.PktUnknown).
		epb(0, 2e6, 2e9, big, 3<<20, decode.PktUnknown).
		epb(0, 3e6, 3e9, fileFrame(10, 3), 10, decode.PktUnknown).
		file()
	f, err := NewReader(data.name, bytes.NewReader(data.data))
	if err != nil {
		t.Fatal(err)
	}
	got, err := fileReadAll(t, f, 16)
	if err != io.EOF {
		t.Fatal(err)
	}
	fileSameRecs(t, got, data.recs)
	if c := cap(f.buf); c > 4<<20 {
		t.Errorf("buffer grew to %d bytes for a 3 MiB record", c)
	}

	b := newPcapngBuild("lie.pcapng")
	b.shb(fileLE)
	b.idb(1, 0)
	d := b.epb(0, 0, 0, fileFrame(2<<20, 0), 2<<20, 0).file().data
	fileLE.PutUint32(d[52:], 16<<20) // the EPB claims 16 MiB, the most a block may be
	f, err = NewReader("lie.pcapng", bytes.NewReader(d))
	if err != nil {
		t.Fatal(err)
	}
	_, err = fileReadAll(t, f, 16)
	var ce *CorruptError
	if !errors.As(err, &ce) || !ce.Truncated {
		t.Fatalf("got %v, want a truncated record", err)
	}
	if c := cap(f.buf); c > 8<<20 {
		t.Errorf("buffer grew to %d bytes for a 2 MiB file", c)
	}
}

// TestNoAllocs: steady-state reading allocates nothing, from memory or from
// a stream (where refills happen inside the measured runs).
func TestFileNoAllocs(t *testing.T) {
	data := fileManySmall(20000)
	recs := make([]ring.Record, 64)
	for _, mode := range []string{"memory", "stream"} {
		t.Run(mode, func(t *testing.T) {
			var f *File
			var err error
			if mode == "memory" {
				f, err = FromBytes("many.pcap", data)
			} else {
				f, err = newReaderSize("many.pcap", bytes.NewReader(data), 4096)
			}
			if err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(200, func() {
				if n, err := f.ReadBatch(recs); n == 0 || err != nil {
					panic(fmt.Sprint(n, err))
				}
			})
			if allocs != 0 {
				t.Errorf("ReadBatch allocates %v times per batch", allocs)
			}
		})
	}
	t.Run("pcapng", func(t *testing.T) {
		b := newPcapngBuild("many.pcapng")
		b.shb(fileBE)
		b.idb(1, 0, b.opt(9, []byte{0x80 | 30}))
		for i := range 20000 {
			b.epb(0, uint64(i), 0, fileFrame(60, byte(i)), 60, 0, b.opt(2, fileU32(fileBE, 1)))
		}
		f, err := newReaderSize("many.pcapng", bytes.NewReader(b.file().data), 4096)
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(200, func() {
			if n, err := f.ReadBatch(recs); n == 0 || err != nil {
				panic(fmt.Sprint(n, err))
			}
		})
		if allocs != 0 {
			t.Errorf("ReadBatch allocates %v times per batch", allocs)
		}
	})
}

// fileManySmall is a pcap of n 64-byte frames.
func fileManySmall(n int) []byte {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, decode.LinkEthernet, 65535)
	fr := fileFrame(64, 0)
	for i := range n {
		w.WriteRecord(int64(i)*1000, fr, 64)
	}
	return buf.Bytes()
}

// BenchmarkFileReadBatch reads 100k records of 64 bytes (pcap, and pcapng
// EPBs with a flags option), in batches of 256, per op.
func BenchmarkFileReadBatch(b *testing.B) {
	const n = 100_000
	pcap := fileManySmall(n)
	ng := newPcapngBuild("bench.pcapng")
	ng.shb(fileLE)
	ng.idb(decode.LinkEthernet, 0, ng.opt(9, []byte{9}))
	fr := fileFrame(64, 0)
	for i := range n {
		ng.epb(0, uint64(i)*1000, 0, fr, 64, 0, ng.opt(2, fileU32(fileLE, 1)))
	}
	for _, mode := range []string{"pcap/memory", "pcap/stream", "pcapng/memory", "pcapng/stream"} {
		b.Run(mode, func(b *testing.B) {
			data := pcap
			if strings.HasPrefix(mode, "pcapng") {
				data = ng.file().data
			}
			var f *File
			var err error
			if strings.HasSuffix(mode, "memory") {
				f, err = FromBytes(mode, data)
			} else {
				f, err = NewReader(mode, bytes.NewReader(data))
			}
			if err != nil {
				b.Fatal(err)
			}
			recs := make([]ring.Record, 256)
			var total int
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := f.Rewind(); err != nil {
					b.Fatal(err)
				}
				for {
					k, err := f.ReadBatch(recs)
					total += k
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			if total != n*b.N {
				b.Fatalf("read %d records in %d passes of %d", total, b.N, n)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/record")
			b.ReportMetric(float64(total)/b.Elapsed().Seconds()/1e6, "Mrec/s")
		})
	}
}

// TestHeaderFacts: Snaplen and BigEndian say what the file's header (or its
// first pcapng interface and section) says.
func TestHeaderFacts(t *testing.T) {
	for _, tc := range []struct {
		file    string
		snaplen uint32
		be      bool
	}{
		{"be-nsec-snap96.pcap", 96, true},
		{"le-usec.pcap", 65535, false},
		{"multi-section.pcapng", 65535, false}, // later sections are big-endian
	} {
		f, err := Open(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if f.Snaplen() != tc.snaplen || f.BigEndian() != tc.be {
			t.Errorf("%s: Snaplen %d, BigEndian %v; want %d, %v", tc.file, f.Snaplen(), f.BigEndian(), tc.snaplen, tc.be)
		}
		// Reading through the later sections changes neither.
		recs := make([]ring.Record, 64)
		for {
			if _, err := f.ReadBatch(recs); err != nil {
				break
			}
		}
		if f.Snaplen() != tc.snaplen || f.BigEndian() != tc.be {
			t.Errorf("%s after reading: Snaplen %d, BigEndian %v", tc.file, f.Snaplen(), f.BigEndian())
		}
		f.Close()
	}
}

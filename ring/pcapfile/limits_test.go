package pcapfile

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/fastop/fastop/ring"
)

// sparseFile writes head and then makes the file size bytes long: a hole
// the filesystem does not store, but which reads as zeros.
func sparseFile(t *testing.T, head []byte, size int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sparse")
	if err := os.WriteFile(path, head, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	return path
}

// readAllocs opens path, reads it to the end and returns the error and the
// bytes allocated meanwhile.
func readAllocs(t *testing.T, path string) (uint64, error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := Open(path)
	if err == nil {
		recs := make([]ring.Record, 16)
		for err == nil {
			_, err = f.ReadBatch(recs)
		}
		f.Close()
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

// TestLibpcapLimits: records and blocks beyond what libpcap reads (256 KiB
// per pcap record, 16 MiB per pcapng block) are corrupt, named by offset,
// and a file claiming a huge one costs no huge allocation (issue 12 item 13).
func TestLibpcapLimits(t *testing.T) {
	le := binary.LittleEndian
	pcapHead := func(snaplen, caplen uint32) []byte {
		h := make([]byte, 24+16)
		le.PutUint32(h, pcapMagicMicro)
		le.PutUint16(h[4:], 2)
		le.PutUint16(h[6:], 4)
		le.PutUint32(h[16:], snaplen)
		le.PutUint32(h[20:], 1) // Ethernet
		le.PutUint32(h[24+8:], caplen)
		le.PutUint32(h[24+12:], caplen)
		return h
	}
	ngHead := func(blen uint32) []byte {
		b := make([]byte, 0, 28+20+28)
		b = le.AppendUint32(b, pcapngSHB)
		b = le.AppendUint32(b, 28)
		b = le.AppendUint32(b, pcapngByteOrderMagic)
		b = le.AppendUint16(b, 1)
		b = le.AppendUint16(b, 0)
		b = le.AppendUint64(b, ^uint64(0))
		b = le.AppendUint32(b, 28)
		b = le.AppendUint32(b, pcapngIDB)
		b = le.AppendUint32(b, 20)
		b = le.AppendUint16(b, 1) // Ethernet
		b = le.AppendUint16(b, 0)
		b = le.AppendUint32(b, 0) // no snaplen
		b = le.AppendUint32(b, 20)
		b = le.AppendUint32(b, pcapngEPB)
		b = le.AppendUint32(b, blen)
		b = le.AppendUint32(b, 0) // interface 0
		b = le.AppendUint64(b, 0) // timestamp
		b = le.AppendUint32(b, blen-32)
		b = le.AppendUint32(b, blen-32)
		return b
	}
	tests := []struct {
		name string
		head []byte
		size int64
		want string
	}{
		{"pcap/256 MiB record, 256 MiB snaplen", pcapHead(256<<20, 256<<20), 40 + 256<<20,
			"corrupt at byte 24: record length 268435456 exceeds 262144 bytes, the most libpcap reads in a record"},
		{"pcap/just over 256 KiB", pcapHead(1<<20, 262145), 40 + 262145,
			"corrupt at byte 24: record length 262145 exceeds 262144 bytes, the most libpcap reads in a record"},
		{"pcapng/256 MiB block", ngHead(256 << 20), 48 + 256<<20,
			"corrupt at byte 48: block length 268435456 is invalid (a multiple of 4, from 12 to 16777216)"},
		{"pcapng/just over 16 MiB", ngHead(16<<20 + 4), 48 + 16<<20 + 4,
			"corrupt at byte 48: block length 16777220 is invalid (a multiple of 4, from 12 to 16777216)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := sparseFile(t, tc.head, tc.size)
			alloc, err := readAllocs(t, path)
			var ce *CorruptError
			if !errors.As(err, &ce) || !strings.HasSuffix(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant …%s", err, tc.want)
			}
			if alloc > 8<<20 {
				t.Errorf("reading allocated %d MiB", alloc>>20)
			}
		})
	}
	// At the limits the records are read (the data is all zeros).
	for _, tc := range []struct {
		name string
		head []byte
		size int64
	}{
		{"pcap/256 KiB record", pcapHead(65535, 262144), 40 + 262144},
		{"pcapng/16 MiB block", ngHead(16 << 20), 48 + 16<<20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := make([]byte, tc.size)
			copy(data, tc.head)
			if tc.name[:4] == "pcap" && tc.name[4] == 'n' {
				le.PutUint32(data[len(data)-4:], 16<<20) // trailing block length
			}
			f, err := FromBytes("edge", data)
			if err != nil {
				t.Fatal(err)
			}
			recs := make([]ring.Record, 4)
			n, err := f.ReadBatch(recs)
			if n != 1 || err != nil {
				t.Fatalf("ReadBatch = %d, %v", n, err)
			}
		})
	}
}

package pcapfile

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/fastop/fastop/decode"
)

func TestWriterRoundTrip(t *testing.T) {
	type in struct {
		ts   int64
		data []byte
		wire uint32
	}
	tests := []struct {
		name    string
		link    decode.LinkType
		snaplen uint32
		recs    []in
		want    []fileWant
	}{
		{"ethernet", decode.LinkEthernet, 65535,
			[]in{{0, fileFrame(60, 1), 60}, {1700000000_123456789, fileFrame(1514, 2), 1514}, {0xffffffff*1e9 + 999999999, nil, 0}},
			[]fileWant{{0, fileFrame(60, 1), decode.Meta{Link: 1, PktType: decode.PktUnknown, WireLen: 60}},
				{1700000000_123456789, fileFrame(1514, 2), decode.Meta{Link: 1, PktType: decode.PktUnknown, WireLen: 1514}},
				{0xffffffff*1e9 + 999999999, nil, decode.Meta{Link: 1, PktType: decode.PktUnknown, WireLen: 0}}}},
		{"snaplen cut and short wire length", decode.LinkLinuxSLL2, 96,
			[]in{{5, fileFrame(200, 3), 1500}, {6, fileFrame(200, 4), 0}, {7, fileFrame(50, 5), 10}},
			[]fileWant{{5, fileFrame(96, 3), decode.Meta{Link: 276, PktType: decode.PktUnknown, WireLen: 1500}},
				{6, fileFrame(96, 4), decode.Meta{Link: 276, PktType: decode.PktUnknown, WireLen: 200}},
				{7, fileFrame(50, 5), decode.Meta{Link: 276, PktType: decode.PktUnknown, WireLen: 50}}}},
		{"snaplen 0 means 262144", decode.LinkRaw, 0,
			[]in{{1, fileFrame(262145, 6), 262145}},
			[]fileWant{{1, fileFrame(262144, 6), decode.Meta{Link: 101, PktType: decode.PktUnknown, WireLen: 262145}}}},
		{"no records", decode.LinkNull, 65535, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, tc.link, tc.snaplen)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.recs {
				if err := w.WriteRecord(r.ts, r.data, r.wire); err != nil {
					t.Fatal(err)
				}
			}
			// The header as pcap-savefile(5) lays it out.
			h := buf.Bytes()[:24]
			snap := tc.snaplen
			if snap == 0 {
				snap = 262144
			}
			if fileLE.Uint32(h) != 0xa1b23c4d || fileLE.Uint16(h[4:]) != 2 || fileLE.Uint16(h[6:]) != 4 ||
				fileLE.Uint32(h[16:]) != snap || fileLE.Uint32(h[20:]) != uint32(tc.link) {
				t.Fatalf("header % x", h)
			}
			f, err := FromBytes("w.pcap", buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if f.LinkType() != tc.link {
				t.Errorf("LinkType() = %d, want %d", f.LinkType(), tc.link)
			}
			got, err := fileReadAll(t, f, 2)
			if err != io.EOF {
				t.Fatal(err)
			}
			fileSameRecs(t, got, tc.want)
		})
	}
}

type writerFail struct{ after int }

var errWriterDiskFull = errors.New("disk full")

func (w *writerFail) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errWriterDiskFull
	}
	w.after--
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	w, err := NewWriter(io.Discard, decode.LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range []int64{-1, (1 << 32) * 1e9} {
		if err := w.WriteRecord(ts, nil, 0); err == nil {
			t.Errorf("WriteRecord(ts %d) succeeded", ts)
		}
	}
	if _, err := NewWriter(&writerFail{0}, decode.LinkEthernet, 0); !errors.Is(err, errWriterDiskFull) {
		t.Errorf("NewWriter on a failing writer: %v", err)
	}
	for after := 1; after <= 2; after++ {
		w, err := NewWriter(&writerFail{after}, decode.LinkEthernet, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteRecord(1, fileFrame(10, 0), 10); !errors.Is(err, errWriterDiskFull) {
			t.Errorf("WriteRecord failing at write %d: %v", after+1, err)
		}
	}
}

func TestWriterNoAllocs(t *testing.T) {
	w, err := NewWriter(io.Discard, decode.LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	fr := fileFrame(64, 0)
	if allocs := testing.AllocsPerRun(100, func() { w.WriteRecord(1, fr, 64) }); allocs != 0 {
		t.Errorf("WriteRecord allocates %v times", allocs)
	}
}

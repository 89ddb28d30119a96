package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/ring/pcapfile"
	"github.com/fastop/fastop/table"
)

// udpFrame builds an Ethernet/IPv4/UDP frame whose IP total length is ipLen.
func udpFrame(src, dst netip.Addr, sp, dp uint16, ipLen int) []byte {
	b := make([]byte, 14+ipLen)
	copy(b[0:6], []byte{2, 0, 0, 0, 0, 2})
	copy(b[6:12], []byte{2, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
	ip[8] = 64
	ip[9] = 17
	s, d := src.As4(), dst.As4()
	copy(ip[12:16], s[:])
	copy(ip[16:20], d[:])
	binary.BigEndian.PutUint16(ip[20:], sp)
	binary.BigEndian.PutUint16(ip[22:], dp)
	binary.BigEndian.PutUint16(ip[24:], uint16(ipLen-20))
	return b
}

type sent struct {
	ts   int64
	data []byte
}

// capture writes frames to an in-memory pcap file.
func capture(t *testing.T, frames []sent) *pcapfile.File {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapfile.NewWriter(&buf, decode.LinkEthernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := w.WriteRecord(f.ts, f.data, uint32(len(f.data))); err != nil {
			t.Fatal(err)
		}
	}
	f, err := pcapfile.FromBytes("test.pcap", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const sec = int64(1e9)

// traffic returns 50 flows × both directions over 9 s, plus an ARP frame.
func traffic() (frames []sent, perPair map[[2]netip.Addr][2]uint64) {
	perPair = map[[2]netip.Addr][2]uint64{}
	t0 := int64(1_700_000_000) * sec
	for i := 0; i < 900; i++ {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i % 50), 1})
		b := netip.AddrFrom4([4]byte{10, 1, 0, byte(i%50 + 1)})
		n := 60 + i%700
		src, dst, sp, dp := a, b, uint16(1000+i%50), uint16(53)
		if i%3 == 0 {
			src, dst, sp, dp = b, a, dp, sp
		}
		frames = append(frames, sent{t0 + int64(i)*sec/100, udpFrame(src, dst, sp, dp, n)})
		c := perPair[[2]netip.Addr{a, b}]
		c[0] += uint64(n)
		c[1]++
		perPair[[2]netip.Addr{a, b}] = c
	}
	arp := make([]byte, 42)
	binary.BigEndian.PutUint16(arp[12:], 0x0806)
	frames = append(frames, sent{t0 + 9*sec, arp})
	return frames, perPair
}

func TestRunFileTotalsAcrossWorkers(t *testing.T) {
	frames, perPair := traffic()
	var results []string
	for _, workers := range []int{1, 2, 3} {
		var reports []*table.Snapshot
		err := RunFile(context.Background(), capture(t, frames), FileConfig{
			Workers: workers,
			Every:   true,
			Emit:    func(s *table.Snapshot) error { reports = append(reports, s); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		// 9 s of traffic plus a frame at 9 s: ticks end at 2, 4, 6, 8 s,
		// then the final report at 9 s.
		if len(reports) != 5 {
			t.Fatalf("workers=%d: %d reports, want 5", workers, len(reports))
		}
		last := reports[len(reports)-1]
		if last.Packets != 901 || last.NotIP != 1 || last.Counted != 900 || last.Members != workers {
			t.Fatalf("workers=%d: capture %+v", workers, last.Capture)
		}
		if len(last.Flows) != 50 {
			t.Fatalf("workers=%d: %d flows, want 50", workers, len(last.Flows))
		}
		rows := last.Rows(table.View{Ports: table.PortsOff}, nil)
		for _, r := range rows {
			pair := [2]netip.Addr{r.Key.AAddr(), r.Key.BAddr()}
			want := perPair[pair]
			if got := r.Sent.Bytes + r.Recv.Bytes; got != want[0] {
				t.Errorf("workers=%d: %v bytes %d, want %d", workers, pair, got, want[0])
			}
			if got := r.Sent.Packets + r.Recv.Packets; got != want[1] {
				t.Errorf("workers=%d: %v packets %d, want %d", workers, pair, got, want[1])
			}
		}
		table.SortByColumn(rows, table.Win2s, table.TwoLine)
		results = append(results, fmt.Sprint(rows, last.TX, last.RX, last.Window))
	}
	// The number of workers must not change any number.
	for i := 1; i < len(results); i++ {
		if results[i] != results[0] {
			t.Fatalf("workers change the result:\n%s\n%s", results[0], results[i])
		}
	}
}

func TestRunFileStopAfter(t *testing.T) {
	frames, _ := traffic()
	for _, tc := range []struct {
		stop    int64
		packets uint64
		window  int64
	}{
		{4 * sec, 400, 2 * sec}, // a tick boundary: a full last slot
		{5 * sec, 500, 1 * sec}, // mid-slot: the 2 s window covers 1 s
	} {
		var reports []*table.Snapshot
		err := RunFile(context.Background(), capture(t, frames), FileConfig{
			Workers:   2,
			StopAfter: tc.stop,
			Emit:      func(s *table.Snapshot) error { reports = append(reports, s); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(reports) != 1 {
			t.Fatalf("stop %d: %d reports, want 1", tc.stop, len(reports))
		}
		s := reports[0]
		if s.Packets != tc.packets || s.Window[table.Win2s] != tc.window || s.Time-s.Start != tc.stop {
			t.Fatalf("stop %ds: packets %d window %d span %d", tc.stop/sec, s.Packets, s.Window[0], s.Time-s.Start)
		}
	}
}

func TestRunFileCorruptReportsGoodPackets(t *testing.T) {
	frames, _ := traffic()
	var buf bytes.Buffer
	w, _ := pcapfile.NewWriter(&buf, decode.LinkEthernet, 65535)
	for _, fr := range frames[:10] {
		_ = w.WriteRecord(fr.ts, fr.data, uint32(len(fr.data)))
	}
	data := buf.Bytes()
	data = data[:len(data)-5] // cut the last record short
	f, err := pcapfile.FromBytes("cut.pcap", data)
	if err != nil {
		t.Fatal(err)
	}
	var reports []*table.Snapshot
	err = RunFile(context.Background(), f, FileConfig{Emit: func(s *table.Snapshot) error { reports = append(reports, s); return nil }})
	var ce *pcapfile.CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *pcapfile.CorruptError", err)
	}
	if len(reports) != 1 || reports[0].Packets != 9 {
		t.Fatalf("reports %d, packets %d: the 9 good packets must be reported", len(reports), reports[0].Packets)
	}
}

func TestRunFileEmpty(t *testing.T) {
	var reports []*table.Snapshot
	err := RunFile(context.Background(), capture(t, nil), FileConfig{Emit: func(s *table.Snapshot) error { reports = append(reports, s); return nil }})
	if err != nil || len(reports) != 1 || reports[0].Packets != 0 {
		t.Fatalf("err %v, %d reports", err, len(reports))
	}
}

// Hours of silence in a capture cost one empty report, not one per 2 s.
func TestRunFileSkipsSilence(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	t0 := int64(1_700_000_000) * sec
	frames := []sent{
		{t0, udpFrame(a, b, 1, 2, 100)},
		{t0 + 3600*sec, udpFrame(a, b, 1, 2, 200)}, // an hour later
		{t0 + 3601*sec, udpFrame(b, a, 2, 1, 300)},
	}
	var reports []*table.Snapshot
	err := RunFile(context.Background(), capture(t, frames), FileConfig{
		Every: true,
		Emit:  func(s *table.Snapshot) error { reports = append(reports, s); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	// 20 reports while the first flow decays, one showing it gone, then
	// the reports of the second burst: far fewer than the 1800 ticks.
	if n := len(reports); n < 22 || n > 30 {
		t.Fatalf("%d reports", n)
	}
	if len(reports[20].Flows) != 0 {
		t.Fatalf("report 20 should show the flow gone: %d flows", len(reports[20].Flows))
	}
	last := reports[len(reports)-1]
	if last.Counted != 3 || last.Flows[0].Sent.Bytes != 200 || last.Flows[0].Recv.Bytes != 300 {
		t.Fatalf("last report: %+v %+v", last.Capture, last.Flows)
	}
	// The windows after the silence cover real time, not the skipped gap.
	if last.Window[table.Win40s] > 40*sec || last.Window[table.Win40s] < 2*sec {
		t.Fatalf("40 s window after the gap covers %d ns", last.Window[table.Win40s])
	}
	if r := last.Rate(table.Win10s, last.Flows[0].Sent.Win[table.Win10s]); r <= 0 {
		t.Fatalf("10 s rate after the gap = %v", r)
	}
}

// sliceSource is a Source over records in memory.
type sliceSource struct{ recs []ring.Record }

func (s *sliceSource) Name() string { return "mem" }

func (s *sliceSource) ReadBatch(recs []ring.Record) (int, error) {
	n := copy(recs, s.recs)
	s.recs = s.recs[n:]
	if len(s.recs) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// Frames larger than a worker chunk's arena, and more records than a
// chunk holds, reach the workers whole: every byte is counted whatever
// the number of workers.
func TestRunFileWorkersBigFrames(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	t0 := int64(1_700_000_000) * sec
	var recs []ring.Record
	var bytes uint64
	for i := range 3000 {
		n := 46
		if i%100 == 0 {
			n = chunkArena + 1000 // a frame of its own
		}
		data := udpFrame(a, b, uint16(1000+i%37), 53, n)
		bytes += uint64(len(data))
		recs = append(recs, ring.Record{Data: data, TS: t0 + int64(i)*sec/1000, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: uint32(len(data)), PktType: decode.PktUnknown}})
	}
	for _, workers := range []int{1, 2, 3} {
		var last *table.Snapshot
		err := RunFile(context.Background(), &sliceSource{recs}, FileConfig{
			Workers: workers,
			Emit:    func(s *table.Snapshot) error { last = s; return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		if last.Packets != 3000 || last.Counted != 3000 || last.Bytes != bytes || len(last.Flows) != 37 {
			t.Fatalf("workers=%d: capture %+v, %d flows; want 3000 packets, %d bytes, 37 flows", workers, last.Capture, len(last.Flows), bytes)
		}
	}
}

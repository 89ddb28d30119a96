package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"testing"
	"time"

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

// pcapng builds a little-endian pcapng file with one Ethernet interface
// whose if_tsresol is 10^-resol, and one packet per timestamp (in that
// interface's units).
func pcapng(resol byte, frame []byte, tss ...uint64) []byte {
	le := binary.LittleEndian
	block := func(b []byte, typ uint32, body []byte) []byte {
		n := uint32(12 + len(body))
		b = le.AppendUint32(b, typ)
		b = le.AppendUint32(b, n)
		b = append(b, body...)
		return le.AppendUint32(b, n)
	}
	var shb []byte
	shb = le.AppendUint32(shb, 0x1A2B3C4D)
	shb = le.AppendUint16(shb, 1)
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, ^uint64(0))
	var idb []byte
	idb = le.AppendUint16(idb, 1) // Ethernet
	idb = le.AppendUint16(idb, 0)
	idb = le.AppendUint32(idb, 65535)
	idb = append(idb, 9, 0, 1, 0, resol, 0, 0, 0) // if_tsresol
	idb = append(idb, 0, 0, 0, 0)                 // opt_endofopt
	b := block(nil, 0x0A0D0D0A, shb)
	b = block(b, 1, idb)
	for _, ts := range tss {
		var epb []byte
		epb = le.AppendUint32(epb, 0)
		epb = le.AppendUint32(epb, uint32(ts>>32))
		epb = le.AppendUint32(epb, uint32(ts))
		epb = le.AppendUint32(epb, uint32(len(frame)))
		epb = le.AppendUint32(epb, uint32(len(frame)))
		epb = append(epb, frame...)
		for len(epb)%4 != 0 {
			epb = append(epb, 0)
		}
		b = block(b, 6, epb)
	}
	return b
}

// Timestamps that wrap or lie past any sane date cannot drive the clock:
// the replay ends at once with every packet counted and the outliers said,
// instead of closing empty ticks without end.
func TestRunFileAbsurdTimestamps(t *testing.T) {
	frame := udpFrame(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 1, 2, 100)
	for _, tc := range []struct {
		name     string
		tss      []uint64
		outliers uint64
	}{
		{"around 2^63", []uint64{1<<63 - 10, 1<<63 + 10}, 2},
		{"0 then 2^63-1000", []uint64{0, 1<<63 - 1000}, 1},
		{"2^64-1", []uint64{1_700_000_000e9, ^uint64(0), 1_700_000_001e9}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, workers := range []int{1, 2} {
				f, err := pcapfile.FromBytes("ts.pcapng", pcapng(9, frame, tc.tss...))
				if err != nil {
					t.Fatal(err)
				}
				var reports []*table.Snapshot
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err = RunFile(ctx, f, FileConfig{
					Workers: workers,
					Every:   true,
					Emit: func(s *table.Snapshot) error {
						if len(reports) > 100 {
							return errors.New("more than 100 reports")
						}
						reports = append(reports, s)
						return nil
					},
				})
				cancel()
				if err != nil {
					t.Fatalf("workers=%d: %v", workers, err)
				}
				last := reports[len(reports)-1]
				if last.Packets != uint64(len(tc.tss)) || last.Counted != uint64(len(tc.tss)) || last.Outliers != tc.outliers {
					t.Fatalf("workers=%d: %d reports, last capture %+v; want %d packets counted, %d outliers", workers, len(reports), last.Capture, len(tc.tss), tc.outliers)
				}
			}
		})
	}
}

// Every loop of the replay stops when ctx ends, also the one that closes
// ticks inside a batch.
func TestRunFileStopsWhenCancelled(t *testing.T) {
	frames, _ := traffic() // 9 s: ticks at 2, 4, 6 and 8 s, all in one batch
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := 0
	err := RunFile(ctx, capture(t, frames), FileConfig{
		Every: true,
		Emit: func(s *table.Snapshot) error {
			reports++
			cancel() // as SIGINT would, while the reader is inside a batch
			return nil
		},
	})
	if !errors.Is(err, context.Canceled) || reports != 1 {
		t.Fatalf("err %v after %d reports; want context.Canceled after 1", err, reports)
	}
}

// One packet stamped 50 years ahead in a 20 s capture does not end a
// 10 s report early or move its clock: it is counted where it lies and
// said in Outliers; everything else is as if its timestamp were right.
func TestRunFileOutlierTimestamp(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	t0 := int64(1_700_000_000) * sec
	var frames []sent
	for i := range 500 {
		frames = append(frames, sent{t0 + int64(i)*20*sec/500, udpFrame(a, b, uint16(1000+i%5), 53, 100+i)})
	}
	bad := slices.Clone(frames)
	for _, i := range []int{0, 100, 499} { // the first, one inside, the last
		bad[i].ts += 50 * 365 * 86400 * sec
		for _, stop := range []int64{0, 10 * sec} {
			for _, workers := range []int{1, 2} {
				for _, batch := range []int{0, 1, 101} { // 1 and 101: the packet after the outlier is in the next batch
					var want, got []*table.Snapshot
					for _, run := range []struct {
						frames []sent
						out    *[]*table.Snapshot
					}{{frames, &want}, {bad, &got}} {
						err := RunFile(context.Background(), capture(t, run.frames), FileConfig{
							Workers:   workers,
							BatchSize: batch,
							Every:     true,
							StopAfter: stop,
							Emit:      func(s *table.Snapshot) error { *run.out = append(*run.out, s); return nil },
						})
						if err != nil {
							t.Fatal(err)
						}
					}
					if i == 499 && stop == 0 {
						// The last packet has no neighbour after it to say
						// its timestamp is out of line: it is taken as a
						// gap, and the flows are then long gone.
						if g := got[len(got)-1]; g.Packets != 500 || g.Outliers != 0 {
							t.Fatalf("last packet 50 years ahead: capture %+v", g.Capture)
						}
						continue
					}
					if len(got) != len(want) {
						t.Fatalf("outlier %d, stop %d, workers %d: %d reports, want %d", i, stop/sec, workers, len(got), len(want))
					}
					g, w := got[len(got)-1], want[len(want)-1]
					outliers := uint64(1)
					if i == 499 && stop > 0 {
						outliers = 0 // the report ends before the last packet
					}
					if g.Outliers != outliers {
						t.Fatalf("outlier %d, stop %d: Outliers %d, want %d", i, stop/sec, g.Outliers, outliers)
					}
					g.Outliers = 0
					if i == 0 {
						// The clock starts with the first packet it can
						// follow: the slots fall 40 ms later, so a 10 s
						// report takes in one packet more.
						more := uint64(0)
						if stop > 0 {
							more = 1
						}
						if g.Start != frames[1].ts || g.Packets != w.Packets+more || g.Counted != w.Counted+more {
							t.Fatalf("first packet 50 years ahead, stop %d: start %d, capture %+v; want start %d, %+v", stop/sec, g.Start, g.Capture, frames[1].ts, w.Capture)
						}
						continue
					}
					if a, b := summary(g), summary(w); a != b || g.Time != w.Time || g.Start != w.Start {
						t.Fatalf("outlier %d, stop %d, workers %d, batch %d:\ngot  %s\nwant %s", i, stop/sec, workers, batch, a, b)
					}
				}
			}
		}
		bad[i] = frames[i]
	}
}

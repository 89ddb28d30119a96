package afpacket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"golang.org/x/sys/unix"
)

// TestLayout checks the offsets the walker uses against the kernel
// layout (docs/capture.md#struct-layout, from include/uapi/linux/if_packet.h)
// and against x/sys's struct definitions.
func TestLayout(t *testing.T) {
	x := xsysLayout
	checks := []struct {
		name      string
		got, want uintptr
	}{
		// struct tpacket_block_desc: version, offset_to_priv, then the
		// tpacket_hdr_v1 union at 8.
		{"sizeof tpacket_block_desc", x.BlockDescSize, 48},
		{"tpacket_block_desc.hdr", x.BlockDescHdr, 8},
		{"sizeof tpacket_hdr_v1", x.HdrV1Size, 40},
		{"block_status", 8 + x.HdrV1Status, blkStatus},
		{"num_pkts", 8 + x.HdrV1NumPkts, blkNumPkts},
		{"offset_to_first_pkt", 8 + x.HdrV1First, blkFirst},
		{"blk_len", 8 + x.HdrV1Len, blkLen},
		{"seq_num", 8 + x.HdrV1Seq, blkSeq},
		{"ts_first_pkt", 8 + x.HdrV1TsFirst, 32},
		{"ts_last_pkt", 8 + x.HdrV1TsLast, 40},
		{"block header length", blkHdrLen, 48},
		// struct tpacket3_hdr.
		{"sizeof tpacket3_hdr", x.Pkt3Size, pktHdrLen},
		{"tp_next_offset", x.Pkt3Next, pktNext},
		{"tp_sec", x.Pkt3Sec, pktSec},
		{"tp_nsec", x.Pkt3Nsec, pktNsec},
		{"tp_snaplen", x.Pkt3Snaplen, pktSnaplen},
		{"tp_len", x.Pkt3Len, pktLen},
		{"tp_status", x.Pkt3Status, pktStatus},
		{"tp_mac", x.Pkt3Mac, pktMac},
		{"tp_net", x.Pkt3Net, pktNet},
		{"hv1", x.Pkt3Hv1, 28},
		{"hv1.tp_rxhash", x.Pkt3Hv1 + x.Hv1Rxhash, 28},
		{"hv1.tp_vlan_tci", x.Pkt3Hv1 + x.Hv1TCI, pktTCI},
		{"hv1.tp_vlan_tpid", x.Pkt3Hv1 + x.Hv1TPID, pktTPID},
		{"sizeof tpacket3_hdr (uapi)", x.Pkt3Size, 48},
		// struct sockaddr_ll right after the header.
		{"sizeof sockaddr_ll", x.SllSize, sllLen},
		{"sll_protocol", 48 + x.SllProtocol, sllProtocol},
		{"sll_ifindex", 48 + x.SllIfindex, sllIfindex},
		{"sll_hatype", 48 + x.SllHatype, sllHatype},
		{"sll_pkttype", 48 + x.SllPkttype, sllPkttype},
		{"sll_halen", 48 + x.SllHalen, sllHalen},
		{"sll_addr", 48 + x.SllAddr, sllAddr},
		{"TPACKET3_HDRLEN", pktMinMac, 68},
		{"sizeof tpacket_stats_v3", x.StatsV3Size, 12},
		{"sizeof tpacket_req3", x.Req3Size, 28},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: offset/size %d, want %d", c.name, c.got, c.want)
		}
	}
	if unix.SizeofTpacket3Hdr != pktHdrLen || unix.SizeofSockaddrLinklayer != sllLen || unix.SizeofTpacketStatsV3 != 12 {
		t.Errorf("x/sys size constants disagree: tpacket3_hdr %d, sockaddr_ll %d, stats_v3 %d",
			unix.SizeofTpacket3Hdr, unix.SizeofSockaddrLinklayer, unix.SizeofTpacketStatsV3)
	}
}

// testPkt describes one packet of a synthetic block.
type testPkt struct {
	data    []byte // bytes in the ring (tp_snaplen = len(data))
	wire    uint32 // tp_len; 0 means len(data)
	sec     uint32
	nsec    uint32
	status  uint32 // tp_status
	tci     uint32
	tpid    uint16
	pkttype uint8
	ifindex int32
	mac     uint16 // tp_mac; 0 means 82, as for Ethernet with no reserve
}

// buildBlock lays packets out in a block of size bytes the way
// tpacket_rcv and prb_fill_curr_block do: the first header at 48, each
// next one at the 8-aligned end of the previous packet's data, the last
// tp_next_offset 0.
func buildBlock(size int, seq uint64, pkts []testPkt) []byte {
	ne := binary.NativeEndian
	b := make([]byte, size)
	ne.PutUint32(b[blkVersion:], unix.TPACKET_V3)
	ne.PutUint32(b[4:], blkHdrLen)
	ne.PutUint32(b[blkStatus:], unix.TP_STATUS_USER)
	ne.PutUint32(b[blkNumPkts:], uint32(len(pkts)))
	ne.PutUint32(b[blkFirst:], blkHdrLen)
	ne.PutUint64(b[blkSeq:], seq)
	off := blkHdrLen
	for i, p := range pkts {
		mac := int(p.mac)
		if mac == 0 {
			mac = 82
		}
		wire := p.wire
		if wire == 0 {
			wire = uint32(len(p.data))
		}
		h := b[off:]
		next := (mac + len(p.data) + 7) &^ 7
		if i < len(pkts)-1 {
			ne.PutUint32(h[pktNext:], uint32(next))
		}
		ne.PutUint32(h[pktSec:], p.sec)
		ne.PutUint32(h[pktNsec:], p.nsec)
		ne.PutUint32(h[pktSnaplen:], uint32(len(p.data)))
		ne.PutUint32(h[pktLen:], wire)
		ne.PutUint32(h[pktStatus:], p.status|unix.TP_STATUS_USER)
		ne.PutUint16(h[pktMac:], uint16(mac))
		ne.PutUint16(h[pktNet:], uint16(mac+14))
		ne.PutUint32(h[pktTCI:], p.tci)
		ne.PutUint16(h[pktTPID:], p.tpid)
		ne.PutUint16(h[48:], unix.AF_PACKET)
		ne.PutUint32(h[sllIfindex:], uint32(p.ifindex))
		ne.PutUint16(h[sllHatype:], unix.ARPHRD_ETHER)
		h[sllPkttype] = p.pkttype
		h[sllHalen] = 6
		copy(h[mac:], p.data)
		off += next
	}
	ne.PutUint32(b[blkLen:], uint32(off))
	return b
}

// testFrame returns an Ethernet frame with ethertype etype and n bytes in
// all, its bytes numbered from seed.
func testFrame(n int, etype uint16, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	if n >= 14 {
		binary.BigEndian.PutUint16(b[12:], etype)
	}
	return b
}

func TestWalkBlock(t *testing.T) {
	ipv4 := testFrame(98, 0x0800, 1)
	ipv6 := testFrame(128, 0x86dd, 2)
	qinqInner := testFrame(72, 0x8100, 3) // inner C-tag stays in the bytes
	super := testFrame(128, 0x0800, 4)
	raw := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	vlan := uint32(unix.TP_STATUS_VLAN_VALID | unix.TP_STATUS_VLAN_TPID_VALID)

	tests := []struct {
		name string
		link decode.LinkType
		pkts []testPkt
		want []ring.Record
	}{
		{
			name: "normal",
			link: decode.LinkEthernet,
			pkts: []testPkt{
				{data: ipv4, sec: 1700000000, nsec: 5, ifindex: 3},
				{data: ipv6, sec: 1700000001, nsec: 999999999, ifindex: 3, pkttype: unix.PACKET_BROADCAST},
			},
			want: []ring.Record{
				{Data: ipv4, TS: 1700000000e9 + 5, Meta: decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktHost, WireLen: 98, Ifindex: 3}},
				{Data: ipv6, TS: 1700000001e9 + 999999999, Meta: decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktBroadcast, WireLen: 128, Ifindex: 3}},
			},
		},
		{name: "empty", link: decode.LinkEthernet},
		{
			name: "priority tag: VLAN_VALID with TCI 0",
			link: decode.LinkEthernet,
			pkts: []testPkt{{data: ipv4, status: vlan, tci: 0, tpid: 0x8100}},
			want: []ring.Record{{Data: ipv4, Meta: decode.Meta{Link: decode.LinkEthernet, VLANOK: true, VLANTCI: 0, VLANTPID: 0x8100, WireLen: 98}}},
		},
		{
			name: "802.1Q tag in metadata, PCP kept",
			link: decode.LinkEthernet,
			pkts: []testPkt{{data: ipv4, status: vlan, tci: 3<<13 | 100, tpid: 0x8100}},
			want: []ring.Record{{Data: ipv4, Meta: decode.Meta{Link: decode.LinkEthernet, VLANOK: true, VLANTCI: 3<<13 | 100, VLANTPID: 0x8100, WireLen: 98}}},
		},
		{
			name: "TCI without VLAN_VALID is ignored",
			link: decode.LinkEthernet,
			pkts: []testPkt{{data: ipv4, tci: 55, tpid: 0x8100}},
			want: []ring.Record{{Data: ipv4, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: 98}}},
		},
		{
			name: "VLAN_VALID without TPID_VALID means 802.1Q",
			link: decode.LinkEthernet,
			pkts: []testPkt{{data: ipv4, status: unix.TP_STATUS_VLAN_VALID, tci: 7, tpid: 0x1234}},
			want: []ring.Record{{Data: ipv4, Meta: decode.Meta{Link: decode.LinkEthernet, VLANOK: true, VLANTCI: 7, VLANTPID: 0x8100, WireLen: 98}}},
		},
		{
			name: "QinQ: S-tag in metadata, C-tag inline",
			link: decode.LinkEthernet,
			pkts: []testPkt{{data: qinqInner, status: vlan, tci: 200, tpid: 0x88a8}},
			want: []ring.Record{{Data: qinqInner, Meta: decode.Meta{Link: decode.LinkEthernet, VLANOK: true, VLANTCI: 200, VLANTPID: 0x88a8, WireLen: 72}}},
		},
		{
			name: "outgoing",
			link: decode.LinkEthernet,
			pkts: []testPkt{{data: ipv4, pkttype: unix.PACKET_OUTGOING, ifindex: 1}},
			want: []ring.Record{{Data: ipv4, Meta: decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktOutgoing, WireLen: 98, Ifindex: 1}}},
		},
		{
			name: "GSO super-packet: tp_len far above snaplen",
			link: decode.LinkEthernet,
			pkts: []testPkt{{data: super, wire: 65226, status: unix.TP_STATUS_GSO_TCP | unix.TP_STATUS_CSUMNOTREADY}},
			want: []ring.Record{{Data: super, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: 65226}}},
		},
		{
			name: "raw IP link (tun): frame starts at the IP header",
			link: decode.LinkRaw,
			pkts: []testPkt{{data: raw, mac: 96}, {data: raw, mac: 96, pkttype: unix.PACKET_OUTGOING}},
			want: []ring.Record{
				{Data: raw, Meta: decode.Meta{Link: decode.LinkRaw, WireLen: 20}},
				{Data: raw, Meta: decode.Meta{Link: decode.LinkRaw, PktType: decode.PktOutgoing, WireLen: 20}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blk := buildBlock(4096, 7, tc.pkts)
			recs, info, err := walkBlock(blk, tc.link, make([]ring.Record, 0, 8))
			if err != nil {
				t.Fatalf("walkBlock: %v", err)
			}
			if info.Seq != 7 || info.NumPkts != len(tc.pkts) {
				t.Errorf("info = %+v, want seq 7 and %d packets", info, len(tc.pkts))
			}
			if len(recs) != len(tc.want) {
				t.Fatalf("got %d records, want %d", len(recs), len(tc.want))
			}
			var wire uint64
			for i := range recs {
				g, w := recs[i], tc.want[i]
				if !bytes.Equal(g.Data, w.Data) {
					t.Errorf("record %d: data % x, want % x", i, g.Data, w.Data)
				}
				if g.TS != w.TS || g.Meta != w.Meta {
					t.Errorf("record %d: TS %d Meta %+v, want TS %d Meta %+v", i, g.TS, g.Meta, w.TS, w.Meta)
				}
				if cap(g.Data) != len(g.Data) {
					t.Errorf("record %d: Data capacity %d reaches past the packet (len %d)", i, cap(g.Data), len(g.Data))
				}
				wire += uint64(g.Meta.WireLen)
			}
			if info.WireBytes != wire {
				t.Errorf("WireBytes %d, want %d", info.WireBytes, wire)
			}
		})
	}
}

// TestWalkBlockCorrupt damages one field at a time: each must give an
// error wrapping ErrBadBlock (never a panic), with the records before the
// damage intact.
func TestWalkBlockCorrupt(t *testing.T) {
	ne := binary.NativeEndian
	good := func() []byte {
		return buildBlock(4096, 1, []testPkt{
			{data: testFrame(98, 0x0800, 1)},
			{data: testFrame(98, 0x0800, 2)},
			{data: testFrame(98, 0x0800, 3)},
		})
	}
	second := blkHdrLen + (82+98+7)&^7
	tests := []struct {
		name     string
		damage   func(b []byte) []byte
		wantRecs int
		wantErr  error
	}{
		{"block shorter than its header", func(b []byte) []byte { return b[:40] }, 0, errBlockShort},
		{"wrong version", func(b []byte) []byte { ne.PutUint32(b[blkVersion:], unix.TPACKET_V2); return b }, 0, errBlockVersion},
		{"used length past the block", func(b []byte) []byte { ne.PutUint32(b[blkLen:], 5000); return b }, 0, errBlockLen},
		{"used length below the header", func(b []byte) []byte { ne.PutUint32(b[blkLen:], 10); return b }, 0, errBlockLen},
		{"absurd packet count", func(b []byte) []byte { ne.PutUint32(b[blkNumPkts:], 1<<30); return b }, 0, errBlockCount},
		{"first packet inside the block header", func(b []byte) []byte { ne.PutUint32(b[blkFirst:], 8); return b }, 0, errPktOffset},
		{"first packet past the used length", func(b []byte) []byte { ne.PutUint32(b[blkFirst:], 4000); return b }, 0, errPktOffset},
		{"first packet offset wraps", func(b []byte) []byte { ne.PutUint32(b[blkFirst:], 0xffffffff); return b }, 0, errPktOffset},
		{"misaligned packet", func(b []byte) []byte { ne.PutUint32(b[blkFirst:], 52); return b }, 0, errPktAlign},
		{"tp_mac inside the headers", func(b []byte) []byte { ne.PutUint16(b[second+pktMac:], 20); return b }, 1, errPktData},
		{"snaplen past the used length", func(b []byte) []byte { ne.PutUint32(b[second+pktSnaplen:], 1<<20); return b }, 1, errPktData},
		{"snaplen above the wire length", func(b []byte) []byte { ne.PutUint32(b[second+pktLen:], 10); return b }, 1, errPktLen},
		{"next offset 0 before the last packet", func(b []byte) []byte { ne.PutUint32(b[second+pktNext:], 0); return b }, 2, errPktNext},
		{"next offset overlapping the packet", func(b []byte) []byte { ne.PutUint32(b[blkHdrLen+pktNext:], 72); return b }, 1, errPktNext},
		{"next offset past the block", func(b []byte) []byte { ne.PutUint32(b[second+pktNext:], 1<<30); return b }, 2, errPktOffset},
		{"more packets announced than present", func(b []byte) []byte { ne.PutUint32(b[blkNumPkts:], 4); return b }, 3, errPktNext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blk := tc.damage(good())
			recs, _, err := walkBlock(blk, decode.LinkEthernet, nil)
			if !errors.Is(err, tc.wantErr) || !errors.Is(err, ErrBadBlock) {
				t.Fatalf("err = %v, want %v (wrapping ErrBadBlock)", err, tc.wantErr)
			}
			if len(recs) != tc.wantRecs {
				t.Errorf("%d records before the damage, want %d", len(recs), tc.wantRecs)
			}
			for i, r := range recs {
				if want := testFrame(98, 0x0800, byte(i+1)); !bytes.Equal(r.Data, want) {
					t.Errorf("record %d damaged: % x", i, r.Data)
				}
			}
		})
	}
}

// TestWalkBlockFull fills a default-size block with minimum-size entries:
// the member's preallocated records must be enough.
func TestWalkBlockFull(t *testing.T) {
	const size = DefaultBlockSize
	one := []byte{0x45}
	var pkts []testPkt
	for used := blkHdrLen; used+minEntry <= size; used += minEntry {
		pkts = append(pkts, testPkt{data: one, mac: pktMinMac})
	}
	blk := buildBlock(size, 1, pkts)
	recs := make([]ring.Record, 0, maxRecords(size))
	got, _, err := walkBlock(blk, decode.LinkRaw, recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(pkts) || &got[0] != &recs[:1][0] {
		t.Errorf("walked %d of %d packets; reused the buffer: %v", len(got), len(pkts), &got[0] == &recs[:1][0])
	}
}

func TestWalkBlockAllocs(t *testing.T) {
	var pkts []testPkt
	for i := range 20 {
		pkts = append(pkts, testPkt{data: testFrame(128, 0x0800, byte(i)), status: unix.TP_STATUS_VLAN_VALID, tci: 5})
	}
	blk := buildBlock(8192, 1, pkts)
	recs := make([]ring.Record, 0, maxRecords(8192))
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		recs, _, err = walkBlock(blk, decode.LinkEthernet, recs)
		if err != nil || len(recs) != 20 {
			t.Fatalf("walk: %d records, %v", len(recs), err)
		}
	})
	if allocs != 0 {
		t.Errorf("walkBlock allocates %.1f times per block, want 0", allocs)
	}
	// The corrupt path returns package-level errors: no allocation either.
	bad := buildBlock(8192, 1, pkts)
	binary.NativeEndian.PutUint32(bad[blkFirst:], 9)
	allocs = testing.AllocsPerRun(100, func() {
		if _, _, err := walkBlock(bad, decode.LinkEthernet, recs); err == nil {
			t.Fatal("no error")
		}
	})
	if allocs != 0 {
		t.Errorf("walkBlock allocates %.1f times on a bad block, want 0", allocs)
	}
}

func BenchmarkWalkBlock(b *testing.B) {
	// A full block of 64-byte frames at snaplen 64: the worst case
	// per byte of ring.
	var pkts []testPkt
	entry := (82 + 64 + 7) &^ 7
	for used := blkHdrLen; used+entry <= DefaultBlockSize; used += entry {
		pkts = append(pkts, testPkt{data: testFrame(64, 0x0800, byte(len(pkts)))})
	}
	blk := buildBlock(DefaultBlockSize, 1, pkts)
	recs := make([]ring.Record, 0, maxRecords(DefaultBlockSize))
	b.ReportAllocs()
	b.SetBytes(int64(len(blk)))
	for b.Loop() {
		recs, _, _ = walkBlock(blk, decode.LinkEthernet, recs)
	}
	n := float64(b.N) * float64(len(pkts))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/pkt")
	b.ReportMetric(n/b.Elapsed().Seconds()/1e6, "Mpps")
}

// FuzzWalkBlock feeds arbitrary bytes as a block: the walker must not
// panic, every record must lie inside the block's used length, and a
// result without error must have exactly num_pkts records.
func FuzzWalkBlock(f *testing.F) {
	f.Add(buildBlock(512, 1, []testPkt{{data: testFrame(60, 0x0800, 1)}, {data: testFrame(70, 0x86dd, 2)}}))
	f.Add(buildBlock(256, 1, nil))
	f.Add(buildBlock(512, 3, []testPkt{{data: testFrame(72, 0x8100, 1), status: unix.TP_STATUS_VLAN_VALID, tci: 200, tpid: 0x88a8}}))
	f.Add(make([]byte, 48))
	f.Fuzz(func(t *testing.T, blk []byte) {
		recs, info, err := walkBlock(blk, decode.LinkEthernet, nil)
		if err == nil && len(recs) != info.NumPkts {
			t.Fatalf("no error but %d records of %d", len(recs), info.NumPkts)
		}
		if err != nil && !errors.Is(err, ErrBadBlock) {
			t.Fatalf("error %v does not wrap ErrBadBlock", err)
		}
		used := 0
		if len(blk) >= blkHdrLen {
			used = int(binary.NativeEndian.Uint32(blk[blkLen:]))
		}
		for i, r := range recs {
			if len(r.Data) > used || uint32(len(r.Data)) > r.Meta.WireLen {
				t.Fatalf("record %d: %d bytes, wire %d, block used %d", i, len(r.Data), r.Meta.WireLen, used)
			}
		}
	})
}

// TestConsume runs a member's block loop over ring memory built in a Go
// slice: blocks are handed to the handler in order, released (status back
// to the kernel) only after Batch returns, and counted.
func TestConsume(t *testing.T) {
	const bs = 4096
	mem := make([]byte, 0, 3*bs)
	for i := range 3 {
		var pkts []testPkt
		for j := range i + 1 {
			pkts = append(pkts, testPkt{data: testFrame(60, 0x0800, byte(10*i+j))})
		}
		mem = append(mem, buildBlock(bs, uint64(i+1), pkts)...)
	}
	r := ringFromBytes(mem, bs)
	g := &group{link: decode.LinkEthernet}
	m := &member{g: g, sock: &socket{fd: -1, ring: r}, recs: make([]ring.Record, 0, maxRecords(bs))}
	var seen [][]byte
	h := HandlerFunc(func(recs []ring.Record) {
		if !r.userOwned(m.cur) {
			t.Errorf("block %d was released before Batch returned", m.cur)
		}
		for _, rec := range recs {
			seen = append(seen, append([]byte(nil), rec.Data...))
		}
	})
	for i := range 3 {
		if !r.userOwned(m.cur) {
			t.Fatalf("block %d not user-owned", i)
		}
		m.consume(h)
		if r.userOwned(i) {
			t.Errorf("block %d still user-owned after consume", i)
		}
	}
	if m.cur != 0 || r.userOwned(0) {
		t.Errorf("after a lap: cur %d, block 0 owned %v", m.cur, r.userOwned(0))
	}
	if len(seen) != 6 || seen[5][0] != 22 || m.c.packets.Load() != 6 || m.c.blocks.Load() != 3 || m.c.bytes.Load() != 6*60 || m.sockAccounted != 6 {
		t.Errorf("%d frames (last starts %d), counters %d packets %d blocks %d bytes, accounted %d",
			len(seen), seen[len(seen)-1][0], m.c.packets.Load(), m.c.blocks.Load(), m.c.bytes.Load(), m.sockAccounted)
	}
	// A corrupt block: counted, its packets discarded, and still released.
	binary.NativeEndian.PutUint32(mem[blkStatus:], 1)
	binary.NativeEndian.PutUint32(mem[blkFirst:], 9)
	m.consume(h)
	if m.c.badBlocks.Load() != 1 || m.c.badPkts.Load() != 1 || r.userOwned(0) {
		t.Errorf("bad block: %d bad blocks, %d bad packets, released %v", m.c.badBlocks.Load(), m.c.badPkts.Load(), !r.userOwned(0))
	}
}

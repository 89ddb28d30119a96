package ring

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/fastop/fastop/decode"
	"golang.org/x/sys/unix"
)

// TestAfLayout checks the offsets the walker uses against the kernel
// layout (the capture brief, section 1.6, from include/uapi/linux/if_packet.h)
// and against x/sys's struct definitions.
func TestAfLayout(t *testing.T) {
	x := afXsysLayout
	checks := []struct {
		name      string
		got, want uintptr
	}{
		// struct tpacket_block_desc: version, offset_to_priv, then the
		// tpacket_hdr_v1 union at 8.
		{"sizeof tpacket_block_desc", x.BlockDescSize, 48},
		{"tpacket_block_desc.hdr", x.BlockDescHdr, 8},
		{"sizeof tpacket_hdr_v1", x.HdrV1Size, 40},
		{"block_status", 8 + x.HdrV1Status, afBlkStatus},
		{"num_pkts", 8 + x.HdrV1NumPkts, afBlkNumPkts},
		{"offset_to_first_pkt", 8 + x.HdrV1First, afBlkFirst},
		{"blk_len", 8 + x.HdrV1Len, afBlkLen},
		{"seq_num", 8 + x.HdrV1Seq, afBlkSeq},
		{"ts_first_pkt", 8 + x.HdrV1TsFirst, 32},
		{"ts_last_pkt", 8 + x.HdrV1TsLast, 40},
		{"block header length", afBlkHdrLen, 48},
		// struct tpacket3_hdr.
		{"sizeof tpacket3_hdr", x.Pkt3Size, afPktHdrLen},
		{"tp_next_offset", x.Pkt3Next, afPktNext},
		{"tp_sec", x.Pkt3Sec, afPktSec},
		{"tp_nsec", x.Pkt3Nsec, afPktNsec},
		{"tp_snaplen", x.Pkt3Snaplen, afPktSnaplen},
		{"tp_len", x.Pkt3Len, afPktLen},
		{"tp_status", x.Pkt3Status, afPktStatus},
		{"tp_mac", x.Pkt3Mac, afPktMac},
		{"tp_net", x.Pkt3Net, afPktNet},
		{"hv1", x.Pkt3Hv1, 28},
		{"hv1.tp_rxhash", x.Pkt3Hv1 + x.Hv1Rxhash, 28},
		{"hv1.tp_vlan_tci", x.Pkt3Hv1 + x.Hv1TCI, afPktTCI},
		{"hv1.tp_vlan_tpid", x.Pkt3Hv1 + x.Hv1TPID, afPktTPID},
		{"sizeof tpacket3_hdr (brief)", x.Pkt3Size, 48},
		// struct sockaddr_ll right after the header.
		{"sizeof sockaddr_ll", x.SllSize, afSllLen},
		{"sll_protocol", 48 + x.SllProtocol, afSllProtocol},
		{"sll_ifindex", 48 + x.SllIfindex, afSllIfindex},
		{"sll_hatype", 48 + x.SllHatype, afSllHatype},
		{"sll_pkttype", 48 + x.SllPkttype, afSllPkttype},
		{"sll_halen", 48 + x.SllHalen, afSllHalen},
		{"sll_addr", 48 + x.SllAddr, afSllAddr},
		{"TPACKET3_HDRLEN", afPktMinMac, 68},
		{"sizeof tpacket_stats_v3", x.StatsV3Size, 12},
		{"sizeof tpacket_req3", x.Req3Size, 28},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: offset/size %d, want %d", c.name, c.got, c.want)
		}
	}
	if unix.SizeofTpacket3Hdr != afPktHdrLen || unix.SizeofSockaddrLinklayer != afSllLen || unix.SizeofTpacketStatsV3 != 12 {
		t.Errorf("x/sys size constants disagree: tpacket3_hdr %d, sockaddr_ll %d, stats_v3 %d",
			unix.SizeofTpacket3Hdr, unix.SizeofSockaddrLinklayer, unix.SizeofTpacketStatsV3)
	}
}

// afTestPkt describes one packet of a synthetic block.
type afTestPkt struct {
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

// afBuildBlock lays packets out in a block of size bytes the way
// tpacket_rcv and prb_fill_curr_block do: the first header at 48, each
// next one at the 8-aligned end of the previous packet's data, the last
// tp_next_offset 0.
func afBuildBlock(size int, seq uint64, pkts []afTestPkt) []byte {
	ne := binary.NativeEndian
	b := make([]byte, size)
	ne.PutUint32(b[afBlkVersion:], unix.TPACKET_V3)
	ne.PutUint32(b[4:], afBlkHdrLen)
	ne.PutUint32(b[afBlkStatus:], unix.TP_STATUS_USER)
	ne.PutUint32(b[afBlkNumPkts:], uint32(len(pkts)))
	ne.PutUint32(b[afBlkFirst:], afBlkHdrLen)
	ne.PutUint64(b[afBlkSeq:], seq)
	off := afBlkHdrLen
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
			ne.PutUint32(h[afPktNext:], uint32(next))
		}
		ne.PutUint32(h[afPktSec:], p.sec)
		ne.PutUint32(h[afPktNsec:], p.nsec)
		ne.PutUint32(h[afPktSnaplen:], uint32(len(p.data)))
		ne.PutUint32(h[afPktLen:], wire)
		ne.PutUint32(h[afPktStatus:], p.status|unix.TP_STATUS_USER)
		ne.PutUint16(h[afPktMac:], uint16(mac))
		ne.PutUint16(h[afPktNet:], uint16(mac+14))
		ne.PutUint32(h[afPktTCI:], p.tci)
		ne.PutUint16(h[afPktTPID:], p.tpid)
		ne.PutUint16(h[48:], unix.AF_PACKET)
		ne.PutUint32(h[afSllIfindex:], uint32(p.ifindex))
		ne.PutUint16(h[afSllHatype:], unix.ARPHRD_ETHER)
		h[afSllPkttype] = p.pkttype
		h[afSllHalen] = 6
		copy(h[mac:], p.data)
		off += next
	}
	ne.PutUint32(b[afBlkLen:], uint32(off))
	return b
}

// afTestFrame returns an Ethernet frame with ethertype etype and n bytes in
// all, its bytes numbered from seed.
func afTestFrame(n int, etype uint16, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	if n >= 14 {
		binary.BigEndian.PutUint16(b[12:], etype)
	}
	return b
}

func TestAfWalkBlock(t *testing.T) {
	ipv4 := afTestFrame(98, 0x0800, 1)
	ipv6 := afTestFrame(128, 0x86dd, 2)
	qinqInner := afTestFrame(72, 0x8100, 3) // inner C-tag stays in the bytes
	super := afTestFrame(128, 0x0800, 4)
	raw := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	vlan := uint32(unix.TP_STATUS_VLAN_VALID | unix.TP_STATUS_VLAN_TPID_VALID)

	tests := []struct {
		name string
		link decode.LinkType
		pkts []afTestPkt
		want []Record
	}{
		{
			name: "normal",
			link: decode.LinkEthernet,
			pkts: []afTestPkt{
				{data: ipv4, sec: 1700000000, nsec: 5, ifindex: 3},
				{data: ipv6, sec: 1700000001, nsec: 999999999, ifindex: 3, pkttype: unix.PACKET_BROADCAST},
			},
			want: []Record{
				{Data: ipv4, TS: 1700000000e9 + 5, Meta: decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktHost, WireLen: 98, Ifindex: 3}},
				{Data: ipv6, TS: 1700000001e9 + 999999999, Meta: decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktBroadcast, WireLen: 128, Ifindex: 3}},
			},
		},
		{name: "empty", link: decode.LinkEthernet},
		{
			name: "priority tag: VLAN_VALID with TCI 0",
			link: decode.LinkEthernet,
			pkts: []afTestPkt{{data: ipv4, status: vlan, tci: 0, tpid: 0x8100}},
			want: []Record{{Data: ipv4, Meta: decode.Meta{Link: decode.LinkEthernet, VLANOK: true, VLANTCI: 0, VLANTPID: 0x8100, WireLen: 98}}},
		},
		{
			name: "802.1Q tag in metadata, PCP kept",
			link: decode.LinkEthernet,
			pkts: []afTestPkt{{data: ipv4, status: vlan, tci: 3<<13 | 100, tpid: 0x8100}},
			want: []Record{{Data: ipv4, Meta: decode.Meta{Link: decode.LinkEthernet, VLANOK: true, VLANTCI: 3<<13 | 100, VLANTPID: 0x8100, WireLen: 98}}},
		},
		{
			name: "TCI without VLAN_VALID is ignored",
			link: decode.LinkEthernet,
			pkts: []afTestPkt{{data: ipv4, tci: 55, tpid: 0x8100}},
			want: []Record{{Data: ipv4, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: 98}}},
		},
		{
			name: "VLAN_VALID without TPID_VALID means 802.1Q",
			link: decode.LinkEthernet,
			pkts: []afTestPkt{{data: ipv4, status: unix.TP_STATUS_VLAN_VALID, tci: 7, tpid: 0x1234}},
			want: []Record{{Data: ipv4, Meta: decode.Meta{Link: decode.LinkEthernet, VLANOK: true, VLANTCI: 7, VLANTPID: 0x8100, WireLen: 98}}},
		},
		{
			name: "QinQ: S-tag in metadata, C-tag inline",
			link: decode.LinkEthernet,
			pkts: []afTestPkt{{data: qinqInner, status: vlan, tci: 200, tpid: 0x88a8}},
			want: []Record{{Data: qinqInner, Meta: decode.Meta{Link: decode.LinkEthernet, VLANOK: true, VLANTCI: 200, VLANTPID: 0x88a8, WireLen: 72}}},
		},
		{
			name: "outgoing",
			link: decode.LinkEthernet,
			pkts: []afTestPkt{{data: ipv4, pkttype: unix.PACKET_OUTGOING, ifindex: 1}},
			want: []Record{{Data: ipv4, Meta: decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktOutgoing, WireLen: 98, Ifindex: 1}}},
		},
		{
			name: "GSO super-packet: tp_len far above snaplen",
			link: decode.LinkEthernet,
			pkts: []afTestPkt{{data: super, wire: 65226, status: unix.TP_STATUS_GSO_TCP | unix.TP_STATUS_CSUMNOTREADY}},
			want: []Record{{Data: super, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: 65226}}},
		},
		{
			name: "raw IP link (tun): frame starts at the IP header",
			link: decode.LinkRaw,
			pkts: []afTestPkt{{data: raw, mac: 96}, {data: raw, mac: 96, pkttype: unix.PACKET_OUTGOING}},
			want: []Record{
				{Data: raw, Meta: decode.Meta{Link: decode.LinkRaw, WireLen: 20}},
				{Data: raw, Meta: decode.Meta{Link: decode.LinkRaw, PktType: decode.PktOutgoing, WireLen: 20}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blk := afBuildBlock(4096, 7, tc.pkts)
			recs, info, err := afWalkBlock(blk, tc.link, make([]Record, 0, 8))
			if err != nil {
				t.Fatalf("afWalkBlock: %v", err)
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

// TestAfWalkBlockCorrupt damages one field at a time: each must give an
// error wrapping ErrBadBlock (never a panic), with the records before the
// damage intact.
func TestAfWalkBlockCorrupt(t *testing.T) {
	ne := binary.NativeEndian
	good := func() []byte {
		return afBuildBlock(4096, 1, []afTestPkt{
			{data: afTestFrame(98, 0x0800, 1)},
			{data: afTestFrame(98, 0x0800, 2)},
			{data: afTestFrame(98, 0x0800, 3)},
		})
	}
	second := afBlkHdrLen + (82+98+7)&^7
	tests := []struct {
		name     string
		damage   func(b []byte) []byte
		wantRecs int
		wantErr  error
	}{
		{"block shorter than its header", func(b []byte) []byte { return b[:40] }, 0, afErrBlockShort},
		{"wrong version", func(b []byte) []byte { ne.PutUint32(b[afBlkVersion:], unix.TPACKET_V2); return b }, 0, afErrBlockVersion},
		{"used length past the block", func(b []byte) []byte { ne.PutUint32(b[afBlkLen:], 5000); return b }, 0, afErrBlockLen},
		{"used length below the header", func(b []byte) []byte { ne.PutUint32(b[afBlkLen:], 10); return b }, 0, afErrBlockLen},
		{"absurd packet count", func(b []byte) []byte { ne.PutUint32(b[afBlkNumPkts:], 1<<30); return b }, 0, afErrBlockCount},
		{"first packet inside the block header", func(b []byte) []byte { ne.PutUint32(b[afBlkFirst:], 8); return b }, 0, afErrPktOffset},
		{"first packet past the used length", func(b []byte) []byte { ne.PutUint32(b[afBlkFirst:], 4000); return b }, 0, afErrPktOffset},
		{"first packet offset wraps", func(b []byte) []byte { ne.PutUint32(b[afBlkFirst:], 0xffffffff); return b }, 0, afErrPktOffset},
		{"misaligned packet", func(b []byte) []byte { ne.PutUint32(b[afBlkFirst:], 52); return b }, 0, afErrPktAlign},
		{"tp_mac inside the headers", func(b []byte) []byte { ne.PutUint16(b[second+afPktMac:], 20); return b }, 1, afErrPktData},
		{"snaplen past the used length", func(b []byte) []byte { ne.PutUint32(b[second+afPktSnaplen:], 1<<20); return b }, 1, afErrPktData},
		{"snaplen above the wire length", func(b []byte) []byte { ne.PutUint32(b[second+afPktLen:], 10); return b }, 1, afErrPktLen},
		{"next offset 0 before the last packet", func(b []byte) []byte { ne.PutUint32(b[second+afPktNext:], 0); return b }, 2, afErrPktNext},
		{"next offset overlapping the packet", func(b []byte) []byte { ne.PutUint32(b[afBlkHdrLen+afPktNext:], 72); return b }, 1, afErrPktNext},
		{"next offset past the block", func(b []byte) []byte { ne.PutUint32(b[second+afPktNext:], 1<<30); return b }, 2, afErrPktOffset},
		{"more packets announced than present", func(b []byte) []byte { ne.PutUint32(b[afBlkNumPkts:], 4); return b }, 3, afErrPktNext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blk := tc.damage(good())
			recs, _, err := afWalkBlock(blk, decode.LinkEthernet, nil)
			if !errors.Is(err, tc.wantErr) || !errors.Is(err, ErrBadBlock) {
				t.Fatalf("err = %v, want %v (wrapping ErrBadBlock)", err, tc.wantErr)
			}
			if len(recs) != tc.wantRecs {
				t.Errorf("%d records before the damage, want %d", len(recs), tc.wantRecs)
			}
			for i, r := range recs {
				if want := afTestFrame(98, 0x0800, byte(i+1)); !bytes.Equal(r.Data, want) {
					t.Errorf("record %d damaged: % x", i, r.Data)
				}
			}
		})
	}
}

// TestAfWalkBlockFull fills a default-size block with minimum-size entries:
// the member's preallocated records must be enough.
func TestAfWalkBlockFull(t *testing.T) {
	const size = DefaultBlockSize
	one := []byte{0x45}
	var pkts []afTestPkt
	for used := afBlkHdrLen; used+afMinEntry <= size; used += afMinEntry {
		pkts = append(pkts, afTestPkt{data: one, mac: afPktMinMac})
	}
	blk := afBuildBlock(size, 1, pkts)
	recs := make([]Record, 0, afMaxRecords(size))
	got, _, err := afWalkBlock(blk, decode.LinkRaw, recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(pkts) || &got[0] != &recs[:1][0] {
		t.Errorf("walked %d of %d packets; reused the buffer: %v", len(got), len(pkts), &got[0] == &recs[:1][0])
	}
}

func TestAfWalkBlockAllocs(t *testing.T) {
	var pkts []afTestPkt
	for i := range 20 {
		pkts = append(pkts, afTestPkt{data: afTestFrame(128, 0x0800, byte(i)), status: unix.TP_STATUS_VLAN_VALID, tci: 5})
	}
	blk := afBuildBlock(8192, 1, pkts)
	recs := make([]Record, 0, afMaxRecords(8192))
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		recs, _, err = afWalkBlock(blk, decode.LinkEthernet, recs)
		if err != nil || len(recs) != 20 {
			t.Fatalf("walk: %d records, %v", len(recs), err)
		}
	})
	if allocs != 0 {
		t.Errorf("afWalkBlock allocates %.1f times per block, want 0", allocs)
	}
	// The corrupt path returns package-level errors: no allocation either.
	bad := afBuildBlock(8192, 1, pkts)
	binary.NativeEndian.PutUint32(bad[afBlkFirst:], 9)
	allocs = testing.AllocsPerRun(100, func() {
		if _, _, err := afWalkBlock(bad, decode.LinkEthernet, recs); err == nil {
			t.Fatal("no error")
		}
	})
	if allocs != 0 {
		t.Errorf("afWalkBlock allocates %.1f times on a bad block, want 0", allocs)
	}
}

func BenchmarkAfWalkBlock(b *testing.B) {
	// A full 256 KiB block of 64-byte frames at snaplen 64: the worst case
	// per byte of ring.
	var pkts []afTestPkt
	entry := (82 + 64 + 7) &^ 7
	for used := afBlkHdrLen; used+entry <= DefaultBlockSize; used += entry {
		pkts = append(pkts, afTestPkt{data: afTestFrame(64, 0x0800, byte(len(pkts)))})
	}
	blk := afBuildBlock(DefaultBlockSize, 1, pkts)
	recs := make([]Record, 0, afMaxRecords(DefaultBlockSize))
	b.ReportAllocs()
	b.SetBytes(int64(len(blk)))
	for b.Loop() {
		recs, _, _ = afWalkBlock(blk, decode.LinkEthernet, recs)
	}
	n := float64(b.N) * float64(len(pkts))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/pkt")
	b.ReportMetric(n/b.Elapsed().Seconds()/1e6, "Mpps")
}

// FuzzAfWalkBlock feeds arbitrary bytes as a block: the walker must not
// panic, every record must lie inside the block's used length, and a
// result without error must have exactly num_pkts records.
func FuzzAfWalkBlock(f *testing.F) {
	f.Add(afBuildBlock(512, 1, []afTestPkt{{data: afTestFrame(60, 0x0800, 1)}, {data: afTestFrame(70, 0x86dd, 2)}}))
	f.Add(afBuildBlock(256, 1, nil))
	f.Add(afBuildBlock(512, 3, []afTestPkt{{data: afTestFrame(72, 0x8100, 1), status: unix.TP_STATUS_VLAN_VALID, tci: 200, tpid: 0x88a8}}))
	f.Add(make([]byte, 48))
	f.Fuzz(func(t *testing.T, blk []byte) {
		recs, info, err := afWalkBlock(blk, decode.LinkEthernet, nil)
		if err == nil && len(recs) != info.NumPkts {
			t.Fatalf("no error but %d records of %d", len(recs), info.NumPkts)
		}
		if err != nil && !errors.Is(err, ErrBadBlock) {
			t.Fatalf("error %v does not wrap ErrBadBlock", err)
		}
		used := 0
		if len(blk) >= afBlkHdrLen {
			used = int(binary.NativeEndian.Uint32(blk[afBlkLen:]))
		}
		for i, r := range recs {
			if len(r.Data) > used || uint32(len(r.Data)) > r.Meta.WireLen {
				t.Fatalf("record %d: %d bytes, wire %d, block used %d", i, len(r.Data), r.Meta.WireLen, used)
			}
		}
	})
}

// TestAfConsume runs a member's block loop over ring memory built in a Go
// slice: blocks are handed to the handler in order, released (status back
// to the kernel) only after Batch returns, and counted.
func TestAfConsume(t *testing.T) {
	const bs = 4096
	mem := make([]byte, 0, 3*bs)
	for i := range 3 {
		var pkts []afTestPkt
		for j := range i + 1 {
			pkts = append(pkts, afTestPkt{data: afTestFrame(60, 0x0800, byte(10*i+j))})
		}
		mem = append(mem, afBuildBlock(bs, uint64(i+1), pkts)...)
	}
	r := afRingFromBytes(mem, bs)
	g := &afGroup{link: decode.LinkEthernet}
	m := &afMember{g: g, sock: &afSock{fd: -1, ring: r}, recs: make([]Record, 0, afMaxRecords(bs))}
	var seen [][]byte
	h := HandlerFunc(func(recs []Record) {
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
	binary.NativeEndian.PutUint32(mem[afBlkStatus:], 1)
	binary.NativeEndian.PutUint32(mem[afBlkFirst:], 9)
	m.consume(h)
	if m.c.badBlocks.Load() != 1 || m.c.badPkts.Load() != 1 || r.userOwned(0) {
		t.Errorf("bad block: %d bad blocks, %d bad packets, released %v", m.c.badBlocks.Load(), m.c.badPkts.Load(), !r.userOwned(0))
	}
}

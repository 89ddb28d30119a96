package decode

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// corpusDir finds testdata/corpus relative to this file: the repository
// root is this package's parent.
func corpusDir(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file to find the corpus")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "testdata", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("test corpus missing (it is part of the repository: restore testdata/corpus): %v", err)
	}
	return dir
}

// capRec is one record of a capture file.
type capRec struct {
	link LinkType
	wire uint32
	data []byte
}

// readCapture is a minimal pcap / pcapng record iterator, enough for the
// corpus: either byte order, micro- or nanosecond pcap, and pcapng SHB,
// IDB, EPB and SPB blocks (others skipped). The real reader lives in ring.
func readCapture(b []byte) ([]capRec, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("capture of %d bytes: too short for a magic number", len(b))
	}
	if binary.LittleEndian.Uint32(b) == 0x0a0d0d0a {
		return readPcapng(b)
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("unknown capture magic %x", b[:4])
	}
	if len(b) < 24 {
		return nil, errors.New("pcap header cut")
	}
	link := LinkType(bo.Uint32(b[20:24]) & 0xffff)
	var recs []capRec
	for off := 24; off < len(b); {
		if len(b)-off < 16 {
			return recs, fmt.Errorf("pcap record header cut at %d", off)
		}
		incl := int(bo.Uint32(b[off+8:]))
		wire := bo.Uint32(b[off+12:])
		off += 16
		if incl > len(b)-off {
			return recs, fmt.Errorf("pcap record of %d bytes cut at %d", incl, off)
		}
		recs = append(recs, capRec{link: link, wire: wire, data: b[off : off+incl : off+incl]})
		off += incl
	}
	return recs, nil
}

func readPcapng(b []byte) ([]capRec, error) {
	var (
		bo    binary.ByteOrder = binary.LittleEndian
		links []LinkType
		snaps []uint32
		recs  []capRec
	)
	for off := 0; off < len(b); {
		if len(b)-off < 12 {
			return recs, fmt.Errorf("pcapng block header cut at %d", off)
		}
		if binary.LittleEndian.Uint32(b[off:]) == 0x0a0d0d0a { // section header: byte order may change
			switch binary.LittleEndian.Uint32(b[off+8:]) {
			case 0x1a2b3c4d:
				bo = binary.LittleEndian
			case 0x4d3c2b1a:
				bo = binary.BigEndian
			default:
				return recs, fmt.Errorf("pcapng byte-order magic %x", b[off+8:off+12])
			}
			links, snaps = links[:0], snaps[:0]
		}
		typ, size := bo.Uint32(b[off:]), int(bo.Uint32(b[off+4:]))
		if size < 12 || size%4 != 0 || size > len(b)-off {
			return recs, fmt.Errorf("pcapng block of %d bytes at %d", size, off)
		}
		body := b[off+8 : off+size-4]
		switch typ {
		case 1: // interface description
			if len(body) < 8 {
				return recs, errors.New("pcapng IDB cut")
			}
			links = append(links, LinkType(bo.Uint16(body)))
			snaps = append(snaps, bo.Uint32(body[4:]))
		case 6: // enhanced packet
			if len(body) < 20 {
				return recs, errors.New("pcapng EPB cut")
			}
			ifc, incl, wire := int(bo.Uint32(body)), int(bo.Uint32(body[12:])), bo.Uint32(body[16:])
			if ifc >= len(links) || incl > len(body)-20 {
				return recs, fmt.Errorf("pcapng EPB interface %d, %d bytes", ifc, incl)
			}
			recs = append(recs, capRec{link: links[ifc], wire: wire, data: body[20 : 20+incl : 20+incl]})
		case 3: // simple packet
			if len(body) < 4 || len(links) == 0 {
				return recs, errors.New("pcapng SPB cut or before an IDB")
			}
			wire := bo.Uint32(body)
			incl := min(int(wire), len(body)-4)
			if snaps[0] != 0 {
				incl = min(incl, int(snaps[0]))
			}
			recs = append(recs, capRec{link: links[0], wire: wire, data: body[4 : 4+incl : 4+incl]})
		}
		off += size
	}
	return recs, nil
}

func TestReadCaptureFixtures(t *testing.T) {
	frame := hx(ethHdr, "0800", ip4TCP, tcp50000to80)
	le := hx("d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000",
		"01000000 00000000 36000000 40000000") // 54 captured, 64 on the wire
	le = append(le, frame...)
	be := hx("a1b23c4d 0002 0004 00000000 00000000 0000ffff 00000065",
		"00000001 00000000 00000014 00000014")
	be = append(be, frame[14:34]...)
	ng := hx("0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000",
		"01000000 14000000 0100 0000 00000000 14000000",
		"06000000 58000000 00000000 00000000 00000000 36000000 36000000")
	ng = append(ng, frame...)
	ng = append(ng, hx("0000 58000000")...) // pad to 4, trailing length
	for _, c := range []struct {
		name string
		file []byte
		link LinkType
		wire uint32
		data []byte
	}{
		{"pcap little-endian", le, LinkEthernet, 64, frame},
		{"pcap big-endian nanoseconds", be, LinkRaw, 20, frame[14:34]},
		{"pcapng", ng, LinkEthernet, 54, frame},
	} {
		recs, err := readCapture(c.file)
		if err != nil || len(recs) != 1 {
			t.Fatalf("%s: %d records, %v", c.name, len(recs), err)
		}
		if r := recs[0]; r.link != c.link || r.wire != c.wire || string(r.data) != string(c.data) {
			t.Errorf("%s: got link %d wire %d data %x", c.name, r.link, r.wire, r.data)
		}
	}
}

// verdicts maps a capture path (under pcap/) and a filter expression to
// libpcap's per-packet verdicts from golden/verdicts.tsv.
type verdicts map[string]map[string][]bool

func loadVerdicts(t *testing.T, dir string) verdicts {
	f, err := os.Open(filepath.Join(dir, "golden", "verdicts.tsv"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := verdicts{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 5 {
			t.Fatalf("verdicts.tsv: %d columns in %q", len(cols), sc.Text())
		}
		n, err := strconv.Atoi(cols[2])
		if err != nil {
			t.Fatalf("verdicts.tsv: packet count %q: %v", cols[2], err)
		}
		bm, err := hex.DecodeString(cols[4])
		if err != nil || len(bm)*8 < n {
			t.Fatalf("verdicts.tsv: bitmap %q for %d packets: %v", cols[4], n, err)
		}
		acc := make([]bool, n)
		for i := range acc {
			acc[i] = bm[i/8]&(1<<(i%8)) != 0
		}
		if v[cols[0]] == nil {
			v[cols[0]] = map[string][]bool{}
		}
		v[cols[0]][cols[1]] = acc
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

// decoded is one corpus packet with Frame's verdict.
type decoded struct {
	err error
	p   Packet
}

func hasPort(d *decoded, port uint16) bool {
	p := &d.p
	return d.err == nil && p.Flags&FlagPorts != 0 && p.Proto != protoUDPLite && (p.SrcPort == port || p.DstPort == port)
}

// libpcapPortsVisible: libpcap reads ports only where the transport header
// follows the fixed IP header (no IPv6 extension headers walked) of an
// untagged frame; fastop finds more, so only there must they agree.
func libpcapPortsVisible(d *decoded) bool {
	return d.err == nil && d.p.NVLAN == 0 && (d.p.Family == 4 || d.p.L4Off == d.p.L3Off+40)
}

// libpcapCheck pairs a filter expression with what Frame must say about a
// packet libpcap accepts (must) and about one it rejects, for packets where
// the two can be compared (where).
type libpcapCheck struct {
	expr  string
	where func(*decoded) bool // nil: every packet
	ours  func(*decoded) bool
	// headerErrs: a packet whose IP header Frame rejected (ErrTruncated,
	// ErrMalformed) is "ip" or "ip6" to libpcap, which reads only the link
	// header, but Frame does not say which, so it is compared one way only.
	headerErrs bool
}

func libpcapChecks() []libpcapCheck {
	untagged := func(d *decoded) bool { return d.p.NVLAN == 0 }
	ipv := func(fam uint8) func(*decoded) bool {
		return func(d *decoded) bool {
			// A cut or bogus IP header is still "ip" to libpcap, which only
			// looks at the link header's protocol field.
			return (d.err == nil && d.p.Family == fam) || d.err == ErrTruncated || d.err == ErrMalformed
		}
	}
	port := func(n uint16) func(*decoded) bool { return func(d *decoded) bool { return hasPort(d, n) } }
	return []libpcapCheck{
		{expr: "ip", where: untagged, ours: ipv(4), headerErrs: true},
		{expr: "ip6", where: untagged, ours: ipv(6), headerErrs: true},
		{expr: "ip proto 6", where: func(d *decoded) bool { return untagged(d) && d.err == nil },
			ours: func(d *decoded) bool { return d.p.Family == 4 && d.p.Proto == protoTCP }},
		{expr: "ip proto 132", where: func(d *decoded) bool { return untagged(d) && d.err == nil },
			ours: func(d *decoded) bool { return d.p.Family == 4 && d.p.Proto == protoSCTP }},
		{expr: "ip6 protochain 6", where: func(d *decoded) bool {
			return untagged(d) && d.err == nil && d.p.Flags&FlagTruncated == 0
		}, ours: func(d *decoded) bool { return d.p.Family == 6 && d.p.Proto == protoTCP }},
		{expr: "protochain 58", where: func(d *decoded) bool {
			return untagged(d) && d.err == nil && d.p.Flags&FlagTruncated == 0
		}, ours: func(d *decoded) bool { return d.p.Proto == protoICMPv6 }},
		{expr: "port 22", where: libpcapPortsVisible, ours: port(22)},
		{expr: "port 80 or port 443", where: libpcapPortsVisible, ours: func(d *decoded) bool { return hasPort(d, 80) || hasPort(d, 443) }},
		{expr: "port domain", where: libpcapPortsVisible, ours: port(53)},
		{expr: "src port 22", where: libpcapPortsVisible, ours: func(d *decoded) bool { return hasPort(d, 22) && d.p.SrcPort == 22 }},
		{expr: "dst port 80", where: libpcapPortsVisible, ours: func(d *decoded) bool { return hasPort(d, 80) && d.p.DstPort == 80 }},
		{expr: "icmp[icmptype] == icmp-unreach", where: func(d *decoded) bool { return untagged(d) && d.err == nil },
			ours: func(d *decoded) bool { return d.p.Family == 4 && d.p.Proto == protoICMP && d.p.ICMPType == 3 }},
		{expr: "icmp6[icmp6type] == icmp6-echo", where: func(d *decoded) bool {
			return untagged(d) && d.err == nil && (d.p.Family != 6 || d.p.L4Off == d.p.L3Off+40)
		}, ours: func(d *decoded) bool { return d.p.Family == 6 && d.p.Proto == protoICMPv6 && d.p.ICMPType == 128 }},
		{expr: "vlan 100", ours: func(d *decoded) bool { return d.p.NVLAN > 0 && d.p.VLAN[0] == 100 }},
		{expr: "vlan and vlan 20", ours: func(d *decoded) bool { return d.p.NVLAN > 1 && d.p.VLAN[1] == 20 }},
		{expr: "vlan 300 and vlan 20 and udp", ours: func(d *decoded) bool {
			return d.err == nil && d.p.NVLAN == 2 && d.p.VLAN == [3]uint16{300, 20} && d.p.Proto == protoUDP
		}},
		{expr: "outbound", ours: func(d *decoded) bool { return d.p.PktType == PktOutgoing }},
		{expr: "inbound", ours: func(d *decoded) bool { return d.p.PktType != PktOutgoing }},
	}
}

// TestCorpus decodes every capture of the corpus: no panic, every
// invariant, and agreement with libpcap's golden verdicts wherever libpcap's
// view of a packet and fastop's can be compared.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	golden := loadVerdicts(t, dir)
	var files []string
	err := filepath.WalkDir(filepath.Join(dir, "pcap"), func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && (strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng")) {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no captures under the corpus's pcap/")
	}
	checks := libpcapChecks()
	var total, ipTotal, compared int
	accepted := map[string]int{} // per expression: packets compared that libpcap accepts
	seen := map[string]int{}     // per expression: packets compared
	for _, path := range files {
		rel, _ := filepath.Rel(filepath.Join(dir, "pcap"), path)
		rel = filepath.ToSlash(rel)
		t.Run(rel, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := readCapture(b)
			if err != nil {
				t.Fatalf("reading %s: %v", rel, err)
			}
			got := make([]decoded, len(recs))
			counts := map[error]int{}
			for i, r := range recs {
				m := Meta{Link: r.link, WireLen: r.wire, PktType: PktUnknown}
				d := &got[i]
				d.err = Frame(r.data, &m, &d.p)
				counts[d.err]++
				if d.err == nil {
					checkInvariants(t, r.data, &m, &d.p)
				}
				var again Packet
				if err := Frame(r.data, &m, &again); err != d.err || again != d.p {
					t.Fatalf("packet %d: decoding twice differs", i)
				}
			}
			total += len(recs)
			ipTotal += counts[nil]
			t.Logf("%d packets: %d IP, %d not IP, %d truncated, %d malformed, %d unsupported link",
				len(recs), counts[nil], counts[ErrNotIP], counts[ErrTruncated], counts[ErrMalformed], counts[ErrLinkType])
			if counts[ErrLinkType] != 0 {
				t.Errorf("%d packets of an unsupported link type", counts[ErrLinkType])
			}

			v := golden[rel]
			if v == nil {
				return
			}
			libpcapIP := 0
			for i := range recs {
				if (v["ip"] != nil && v["ip"][i]) || (v["ip6"] != nil && v["ip6"][i]) {
					libpcapIP++
				}
			}
			if libpcapIP > 0 && counts[nil]+counts[ErrTruncated]+counts[ErrMalformed] == 0 {
				t.Errorf("libpcap sees %d IP packets but Frame found none", libpcapIP)
			}
			if libpcapIP > 1 && counts[nil] == 0 {
				t.Errorf("libpcap sees %d IP packets but Frame could count none", libpcapIP)
			}
			for _, c := range checks {
				acc, ok := v[c.expr]
				if !ok {
					continue
				}
				if len(acc) != len(recs) {
					t.Fatalf("%q: %d verdicts for %d packets", c.expr, len(acc), len(recs))
				}
				for i := range recs {
					d := &got[i]
					if c.where != nil && !c.where(d) {
						continue
					}
					compared++
					seen[c.expr]++
					if acc[i] {
						accepted[c.expr]++
					}
					ours := c.ours(d)
					if acc[i] && !ours {
						t.Errorf("packet %d: libpcap accepts %q, Frame says err=%v %+v", i, c.expr, d.err, d.p)
					}
					if !acc[i] && ours && !(c.headerErrs && (d.err == ErrTruncated || d.err == ErrMalformed)) {
						t.Errorf("packet %d: libpcap rejects %q, Frame says err=%v %+v", i, c.expr, d.err, d.p)
					}
				}
			}
		})
	}
	t.Logf("%d files, %d packets, %d decoded as IP, %d verdicts compared with libpcap", len(files), total, ipTotal, compared)
	if ipTotal == 0 {
		t.Error("no IP packet decoded in the whole corpus")
	}
	if golden == nil {
		return
	}
	for _, c := range checks {
		// A check that never meets an accepted packet proves nothing.
		if accepted[c.expr] == 0 {
			t.Errorf("%q: no packet libpcap accepts among %d compared", c.expr, seen[c.expr])
		}
		t.Logf("%-32q %5d compared, %4d accepted by libpcap", c.expr, seen[c.expr], accepted[c.expr])
	}
}

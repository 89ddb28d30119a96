package cmd

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/ring/pcapfile"
)

// tuple is a uniflow's 5-tuple as a collector shows it.
type tuple struct {
	src, dst netip.Addr
	sport    uint16
	dport    uint16
	proto    uint8
}

func (u tuple) String() string {
	return fmt.Sprintf("%s:%d > %s:%d/%d", u.src, u.sport, u.dst, u.dport, u.proto)
}

type counts struct{ packets, bytes uint64 }

// genFlow is one direction of a generated conversation.
type genFlow struct {
	t     tuple
	start time.Duration // first packet
	n     int           // packets
	gap   time.Duration // between packets
	pause time.Duration // silence after half of the packets (0: none)
}

// writeFlowCapture writes a pcap of conversations chosen to exercise the
// exporter: IPv4 and IPv6, TCP, UDP and ICMP, both directions, a flow that
// outlives the active timeout, flows that pause longer than the table keeps
// an idle flow (so the table forgets them and counts them again from zero)
// and many short ones. It returns what every uniflow carried: packets and IP
// bytes, the oracle the collectors' readings are checked against.
func writeFlowCapture(t *testing.T, path string) map[tuple]counts {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 7))
	var flows []genFlow
	add := func(src, dst string, sport, dport uint16, proto uint8, start time.Duration, n int, gap, pause time.Duration, reply bool) {
		u := tuple{netip.MustParseAddr(src), netip.MustParseAddr(dst), sport, dport, proto}
		flows = append(flows, genFlow{u, start, n, gap, pause})
		if reply {
			r := tuple{u.dst, u.src, u.dport, u.sport, proto}
			flows = append(flows, genFlow{r, start + gap/2, n / 2, 2 * gap, pause})
		}
	}
	add("10.1.0.1", "10.1.0.2", 40000, 443, 6, 0, 300, 500*time.Millisecond, 0, true)                        // 150 s: active timeouts
	add("fd00::1", "fd00::2", 50000, 5201, 17, time.Second, 120, time.Second, 0, true)                       // IPv6 UDP
	add("10.1.0.3", "10.1.0.4", 5353, 53, 17, 2*time.Second, 10, 500*time.Millisecond, 70*time.Second, true) // pauses past the table's 40 s
	add("fd00::3", "fd00::4", 40001, 22, 6, 3*time.Second, 20, time.Second, 60*time.Second, true)
	add("10.1.0.5", "10.1.0.6", 0, 0, 1, 4*time.Second, 8, time.Second, 0, false)             // ICMP
	add("fd00::5", "fd00::6", 0, 0, 58, 5*time.Second, 8, time.Second, 50*time.Second, false) // ICMPv6
	for i := range 60 {
		src := fmt.Sprintf("10.2.%d.%d", i/200, i%200+1)
		add(src, "10.9.9.9", uint16(30000+i), 80, 6, time.Duration(rng.IntN(120))*time.Second, 1+rng.IntN(6), 300*time.Millisecond, 0, rng.IntN(2) == 0)
	}

	type pkt struct {
		ts   time.Duration
		flow int
		size int
	}
	var pkts []pkt
	want := map[tuple]counts{}
	for i, f := range flows {
		ts := f.start
		for j := range f.n {
			if f.pause > 0 && j == f.n/2 {
				ts += f.pause
			}
			size := 60 + rng.IntN(1300)
			pkts = append(pkts, pkt{ts, i, size})
			c := want[f.t]
			c.packets++
			c.bytes += uint64(size)
			want[f.t] = c
			ts += f.gap
		}
	}
	sort.SliceStable(pkts, func(a, b int) bool { return pkts[a].ts < pkts[b].ts })

	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(file)
	w, err := pcapfile.NewWriter(bw, decode.LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()
	for _, p := range pkts {
		frame := buildFrame(flows[p.flow].t, p.size)
		if err := w.WriteRecord(base+int64(p.ts), frame, uint32(len(frame))); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

// buildFrame builds an Ethernet frame whose IP packet is ipLen bytes long.
func buildFrame(u tuple, ipLen int) []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	var l4 []byte
	switch u.proto {
	case 6:
		l4 = make([]byte, 20)
		binary.BigEndian.PutUint16(l4[0:], u.sport)
		binary.BigEndian.PutUint16(l4[2:], u.dport)
		l4[12] = 5 << 4
		l4[13] = 0x10 // ACK: no SYN, FIN or RST, so no exporter ends the flow early
	case 17:
		l4 = make([]byte, 8)
		binary.BigEndian.PutUint16(l4[0:], u.sport)
		binary.BigEndian.PutUint16(l4[2:], u.dport)
	default:
		l4 = []byte{8, 0, 0, 0, 0, 1, 0, 1} // echo request
		if u.proto == 58 {
			l4[0] = 128
		}
	}
	if u.src.Is4() {
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		h := make([]byte, 20)
		h[0] = 0x45
		binary.BigEndian.PutUint16(h[2:], uint16(ipLen))
		h[8] = 64
		h[9] = u.proto
		s, d := u.src.As4(), u.dst.As4()
		copy(h[12:], s[:])
		copy(h[16:], d[:])
		var sum uint32
		for i := 0; i < 20; i += 2 {
			sum += uint32(binary.BigEndian.Uint16(h[i:]))
		}
		for sum > 0xffff {
			sum = sum&0xffff + sum>>16
		}
		binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
		b = append(b, h...)
		if u.proto == 17 {
			binary.BigEndian.PutUint16(l4[4:], uint16(ipLen-20))
		}
	} else {
		b = binary.BigEndian.AppendUint16(b, 0x86dd)
		h := make([]byte, 40)
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(ipLen-40))
		h[6] = u.proto
		h[7] = 64
		s, d := u.src.As16(), u.dst.As16()
		copy(h[8:], s[:])
		copy(h[24:], d[:])
		b = append(b, h...)
		if u.proto == 17 {
			binary.BigEndian.PutUint16(l4[4:], uint16(ipLen-40))
		}
	}
	b = append(b, l4...)
	for len(b) < 14+ipLen {
		b = append(b, byte(len(b)))
	}
	return b
}

// freeUDPPort returns a UDP port on 127.0.0.1 that nothing uses right now.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// collector is a running nfcapd.
type collector struct {
	addr string
	dir  string
	cmd  *exec.Cmd
	// vlans, after records: the tagged records' counts by uniflow and
	// vlanId ("TUPLE vlan N").
	vlans map[string]counts
}

// startNfcapd starts nfcapd (Debian's nfdump package) on a free port of
// 127.0.0.1, storing flows under a temporary directory.
func startNfcapd(t *testing.T) *collector {
	t.Helper()
	return startNfcapdWith(t, exec.Command)
}

// startNfcapdWith starts nfcapd with command (e.g. in a namespace).
func startNfcapdWith(t *testing.T, command func(string, ...string) *exec.Cmd) *collector {
	t.Helper()
	requireTool(t, "nfcapd")
	requireTool(t, "nfdump")
	c := &collector{dir: t.TempDir()}
	port := freeUDPPort(t)
	c.addr = fmt.Sprintf("127.0.0.1:%d", port)
	c.cmd = command("nfcapd", "-w", c.dir, "-b", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "3600")
	log, err := os.Create(filepath.Join(t.TempDir(), "nfcapd.log"))
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stdout, c.cmd.Stderr = log, log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	// nfcapd binds within a few milliseconds; wait until the port is taken.
	for i := 0; ; i++ {
		if _, ok := c.queued(t); ok {
			break
		}
		if i == 250 {
			t.Fatalf("nfcapd did not bind %s", c.addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

// drain waits until nfcapd has read every datagram queued on its socket
// (/proc/net/udp's rx_queue): it drops what is still queued when it stops.
func (c *collector) drain(t *testing.T) {
	t.Helper()
	for i := 0; ; i++ {
		if queued, _ := c.queued(t); !queued {
			break
		}
		if i == 500 {
			t.Fatalf("nfcapd did not read its socket in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The last datagram read may still be being stored.
	time.Sleep(200 * time.Millisecond)
}

// queued reads nfcapd's socket in /proc/PID/net/udp (its namespace's):
// whether datagrams wait on it, and whether it is bound at all.
func (c *collector) queued(t *testing.T) (queued, bound bool) {
	t.Helper()
	_, port, _ := net.SplitHostPort(c.addr)
	p, _ := strconv.Atoi(port)
	local := fmt.Sprintf("0100007F:%04X", p)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/udp", c.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[1] == local {
			_, rx, _ := strings.Cut(f[4], ":")
			return strings.Trim(rx, "0") != "", true
		}
	}
	return false, false
}

// flows stops nfcapd (it writes its file at exit) and reads every flow
// back with nfdump, adding up packets and bytes per 5-tuple. ICMP's type
// and code, which NetFlow exporters put in the destination port, are
// dropped: fastop's keys have no ports for ICMP.
func (c *collector) flows(t *testing.T) (map[tuple]counts, int) {
	got, n, _ := c.records(t)
	return got, n
}

// stopAndDump waits for what was sent, stops nfcapd and returns every
// record it stored, as nfdump's JSON.
func (c *collector) stopAndDump(t *testing.T) []byte {
	t.Helper()
	c.drain(t)
	c.cmd.Process.Signal(syscall.SIGTERM)
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("nfcapd: %v", err)
	}
	out, err := exec.Command("nfdump", "-R", c.dir, "-o", "json").CombinedOutput()
	if err != nil {
		t.Fatalf("nfdump: %v: %s", err, out)
	}
	return out
}

// records is flows, and also counts the records by their "in,out,dir"
// columns (ingress and egress ifindex, flowDirection).
func (c *collector) records(t *testing.T) (map[tuple]counts, int, map[string]int) {
	t.Helper()
	out := c.stopAndDump(t)
	var recs []struct {
		Packets uint64 `json:"in_packets"`
		Bytes   uint64 `json:"in_bytes"`
		Proto   uint8  `json:"proto"`
		Src4    string `json:"src4_addr"`
		Dst4    string `json:"dst4_addr"`
		Src6    string `json:"src6_addr"`
		Dst6    string `json:"dst6_addr"`
		SrcPort uint16 `json:"src_port"`
		DstPort uint16 `json:"dst_port"`
		In      uint32 `json:"input_snmp"`
		Out     uint32 `json:"output_snmp"`
		Dir     uint8  `json:"direction"`
		VLAN    uint16 `json:"src_vlan"` // IPFIX vlanId
	}
	// With no flow, nfdump prints "[" and a line saying so, not JSON.
	if strings.Contains(string(out), "{") {
		if err := json.Unmarshal(out, &recs); err != nil {
			t.Fatalf("nfdump -o json: %v: %.300s", err, out)
		}
	}
	got := map[tuple]counts{}
	ifs := map[string]int{}
	c.vlans = map[string]counts{}
	for _, r := range recs {
		var u tuple
		u.src, _ = netip.ParseAddr(r.Src4 + r.Src6)
		u.dst, _ = netip.ParseAddr(r.Dst4 + r.Dst6)
		u.src, u.dst = u.src.Unmap(), u.dst.Unmap()
		u.proto = r.Proto
		if u.proto != 1 && u.proto != 58 {
			u.sport, u.dport = r.SrcPort, r.DstPort
		}
		n := got[u]
		n.packets += r.Packets
		n.bytes += r.Bytes
		got[u] = n
		ifs[fmt.Sprintf("%d,%d,%d", r.In, r.Out, r.Dir)]++
		if r.VLAN != 0 {
			k := fmt.Sprint(u, " vlan ", r.VLAN)
			v := c.vlans[k]
			v.packets += r.Packets
			v.bytes += r.Bytes
			c.vlans[k] = v
		}
	}
	return got, len(recs), ifs
}

func compareFlows(t *testing.T, who string, got, want map[tuple]counts) {
	t.Helper()
	var tp, tb, wp, wb uint64
	for u, w := range want {
		wp += w.packets
		wb += w.bytes
		if g := got[u]; g != w {
			t.Errorf("%s: %v: %d packets %d bytes, want %d packets %d bytes", who, u, g.packets, g.bytes, w.packets, w.bytes)
		}
	}
	for u, g := range got {
		tp += g.packets
		tb += g.bytes
		if _, ok := want[u]; !ok {
			t.Errorf("%s: %v: %d packets %d bytes that were never sent", who, u, g.packets, g.bytes)
		}
	}
	if tp != wp || tb != wb {
		t.Errorf("%s: totals %d packets %d bytes, want %d packets %d bytes", who, tp, tb, wp, wb)
	}
}

// fastop -r turns a capture into IPFIX records that nfcapd stores and
// nfdump reads back exactly: packets and bytes per uniflow 5-tuple and in
// total. softflowd -r, the reference exporter, passes the same check on the
// same file, so the oracle is the collector, not fastop's own idea of it.
func TestIPFIXFileToNfcapd(t *testing.T) {
	pcap := filepath.Join(t.TempDir(), "flows.pcap")
	want := writeFlowCapture(t, pcap)

	t.Run("fastop", func(t *testing.T) {
		c := startNfcapd(t)
		// -l: fastop leaves IPv6 link-local out unless asked; softflowd counts everything.
		if _, err := runFastop(t, "-r", pcap, "-l", "--ipfix", c.addr, "--ipfix-mtu", "600"); err != nil {
			t.Fatal(err)
		}
		got, records := c.flows(t)
		compareFlows(t, "fastop", got, want)
		// Long flows were cut by the active timeout, paused ones by the idle
		// timeout: more records than uniflows.
		if records <= len(want) {
			t.Errorf("%d records for %d uniflows: no timeout cut any flow", records, len(want))
		}
	})
	t.Run("softflowd", func(t *testing.T) {
		requireTool(t, "softflowd")
		c := startNfcapd(t)
		logPath := filepath.Join(t.TempDir(), "softflowd.log")
		log, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		// softflowd 1.1.0 hangs reading a file when its control socket's
		// path has 13 characters or more (found here): a short relative one.
		sf := exec.Command("softflowd", "-r", pcap, "-n", c.addr, "-v", "10", "-6", "-d", "-c", "c", "-p", "p")
		sf.Dir = t.TempDir()
		sf.Stdout, sf.Stderr = log, log
		if err := sf.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- sf.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				b, _ := os.ReadFile(logPath)
				t.Fatalf("softflowd: %v: %s", err, b)
			}
		case <-time.After(20 * time.Second):
			sf.Process.Kill()
			<-done
			b, _ := os.ReadFile(logPath)
			t.Fatalf("softflowd -r did not finish in 20 s: %s", b)
		}
		got, _ := c.flows(t)
		compareFlows(t, "softflowd", got, want)
	})
	for _, max := range []string{"4", "8", "30"} {
		t.Run("folded into other/max-flows="+max, func(t *testing.T) {
			foldedExport(t, pcap, want, max)
		})
	}
}

// foldedExport exports pcap with a flow table too small for it: the rows
// that give way and the flows refused a row go to "other", whose aggregate
// records keep the totals exact.
func foldedExport(t *testing.T, pcap string, want map[tuple]counts, maxFlows string) {
	{
		c := startNfcapd(t)
		if _, err := runFastop(t, "-r", pcap, "-l", "--ipfix", c.addr, "--max-flows", maxFlows); err != nil {
			t.Fatal(err)
		}
		got, _ := c.flows(t)
		var tp, tb, wp, wb uint64
		for _, g := range got {
			tp += g.packets
			tb += g.bytes
		}
		for _, w := range want {
			wp += w.packets
			wb += w.bytes
		}
		if tp != wp || tb != wb {
			t.Errorf("with a full table: totals %d packets %d bytes, want %d packets %d bytes", tp, tb, wp, wb)
		}
		// Every flow that kept a row is exported with no more than it
		// carried (the rest of it went to the aggregate record).
		for u, g := range got {
			if u.src.IsValid() && (g.packets > want[u].packets || g.bytes > want[u].bytes) {
				t.Errorf("%v: %d packets %d bytes exported, but it carried %d packets %d bytes", u, g.packets, g.bytes, want[u].packets, want[u].bytes)
			}
		}
	}
}

// A collector that does not resolve, or whose host refuses, is one line at
// start naming --ipfix; nothing is read.
func TestIPFIXBadCollector(t *testing.T) {
	pcap := filepath.Join(t.TempDir(), "flows.pcap")
	writeFlowCapture(t, pcap)
	refused := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	tests := []struct {
		collector, want string
	}{
		{"no-such-host.invalid:4739", `--ipfix no-such-host.invalid:4739: cannot resolve "no-such-host.invalid"`},
		{refused, "--ipfix " + refused + ": " + refused + " refuses: nothing listens on that UDP port"},
		{"127.0.0.1", "--ipfix 127.0.0.1: expected HOST:PORT"},
		{"127.0.0.1:notaport", `--ipfix 127.0.0.1:notaport: bad port "notaport"`},
	}
	for _, tc := range tests {
		t.Run(tc.collector, func(t *testing.T) {
			out, err := runFastop(t, "-r", pcap, "-t", "--ipfix", tc.collector)
			if err == nil {
				t.Fatal("fastop ran")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tc.want) {
				t.Errorf("error %q, want it to start with %q", msg, tc.want)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
}

// Every capture of the corpus, exported by fastop -r into nfcapd: nfdump
// reads back the totals fastop's own JSON report gives (its counting is
// checked against tshark elsewhere) and, for captures in which no flow
// left the table (the final report still holds every flow), every
// uniflow's packets and bytes. softflowd is not the reference here: it
// decodes differently (IPv6 extension headers as the protocol, fragments,
// invalid lengths, link types it does not read); the generated capture
// above is where both are held to the same numbers.
func TestIPFIXCorpus(t *testing.T) {
	dir := corpusDir(t)
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return nil
	})
	protos := map[string]uint8{}
	for p := range 256 {
		protos[naming.ProtoName(uint8(p))] = uint8(p)
	}
	perFlow, tagged := 0, 0
	for _, f := range files {
		name, _ := filepath.Rel(dir, f)
		t.Run(name, func(t *testing.T) {
			out, jerr := runFastop(t, "-r", f, "-l", "-P", "--json")
			c := startNfcapd(t)
			_, xerr := runFastop(t, "-r", f, "-l", "--ipfix", c.addr)
			got, _ := c.flows(t)
			gotVLAN := c.vlans
			if (jerr == nil) != (xerr == nil) {
				t.Fatalf("--json: %v; --ipfix: %v", jerr, xerr)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var last struct {
				Flows []struct {
					Src, Dst   string
					SrcPort    *uint16 `json:"src_port"`
					DstPort    *uint16 `json:"dst_port"`
					Proto      *string
					VLAN       *uint16
					Sent, Recv struct{ Bytes, Packets uint64 }
				}
				Totals struct {
					Sent, Recv struct{ Bytes, Packets uint64 }
				}
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
				t.Fatalf("last report: %v", err)
			}
			wantTotal := counts{last.Totals.Sent.Packets + last.Totals.Recv.Packets, last.Totals.Sent.Bytes + last.Totals.Recv.Bytes}
			var gotTotal, inReport counts
			for _, g := range got {
				gotTotal.packets += g.packets
				gotTotal.bytes += g.bytes
			}
			if gotTotal != wantTotal {
				t.Errorf("nfdump: %d packets %d bytes in all; fastop's report says %d packets %d bytes", gotTotal.packets, gotTotal.bytes, wantTotal.packets, wantTotal.bytes)
			}
			want := map[tuple]counts{}
			wantVLAN := map[string]counts{}
			for _, fl := range last.Flows {
				if fl.Src == "other" || fl.Proto == nil {
					return
				}
				var u tuple
				u.src, u.dst = netip.MustParseAddr(fl.Src), netip.MustParseAddr(fl.Dst)
				u.proto = protos[*fl.Proto]
				if fl.SrcPort != nil && u.proto != 1 && u.proto != 58 {
					u.sport = *fl.SrcPort
				}
				if fl.DstPort != nil && u.proto != 1 && u.proto != 58 {
					u.dport = *fl.DstPort
				}
				r := tuple{u.dst, u.src, u.dport, u.sport, u.proto}
				for _, x := range []struct {
					u tuple
					c counts
				}{{u, counts{fl.Sent.Packets, fl.Sent.Bytes}}, {r, counts{fl.Recv.Packets, fl.Recv.Bytes}}} {
					if x.c.packets > 0 {
						c := want[x.u]
						c.packets += x.c.packets
						c.bytes += x.c.bytes
						want[x.u] = c
						inReport.packets += x.c.packets
						inReport.bytes += x.c.bytes
						if fl.VLAN != nil {
							k := fmt.Sprint(x.u, " vlan ", *fl.VLAN)
							v := wantVLAN[k]
							v.packets += x.c.packets
							v.bytes += x.c.bytes
							wantVLAN[k] = v
						}
					}
				}
			}
			if inReport == wantTotal {
				perFlow++
				compareFlows(t, name, got, want)
				// Tagged flows: the records' vlanId, with their counts.
				if !maps.Equal(gotVLAN, wantVLAN) {
					t.Errorf("%s: tagged records %v, fastop's report %v", name, gotVLAN, wantVLAN)
				}
				if len(wantVLAN) > 0 {
					tagged++
				}
			}
		})
	}
	t.Logf("%d captures, %d of them checked flow by flow, %d with VLAN-tagged flows", len(files), perFlow, tagged)
	if tagged == 0 {
		t.Errorf("no capture checked had VLAN-tagged flows (synthetic/synth-eth.pcap has)")
	}
	if perFlow < len(files)/2 {
		t.Errorf("only %d of %d captures checked flow by flow", perFlow, len(files))
	}
}

package afpacket

// Privileged tests of Group: real AF_PACKET rings in network namespaces and
// veth pairs that each test creates (with unique names) and always removes,
// fed by bench/gen. They skip, saying why, when not run as root; as root
// they must pass (CI runs as root).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/gen"
	"github.com/fastop/fastop/bench/netns"
	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/ring/filter"
	"golang.org/x/sys/unix"
)

// liveNet is a test topology: a generator namespace and a capture
// namespace joined by a veth pair (A in gns, B in cns).
type liveNet struct {
	t        *testing.T
	gns, cns *netns.NS
	veth     *netns.Veth
	send     *gen.Sender
	genMAC   [6]byte
	capMAC   [6]byte
	capIndex int
	genIndex int
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping live capture test: it needs root (CAP_NET_RAW for the rings, CAP_SYS_ADMIN and CAP_NET_ADMIN for its namespaces); run go test as root, as CI does")
	}
	if err := netns.Available(); err != nil {
		t.Skipf("skipping live capture test: %v", err)
	}
}

func newLiveNet(t *testing.T) *liveNet {
	requireRoot(t)
	l := &liveNet{t: t, gns: netns.NewT(t), cns: netns.NewT(t)}
	l.veth = netns.NewVethT(t, l.gns, l.cns)
	l.refresh()
	return l
}

// refresh reads both ends' MACs and indexes and opens a sender on A (again,
// after the pair was re-created).
func (l *liveNet) refresh() {
	t := l.t
	t.Helper()
	if err := l.cns.Do(func() error {
		ifi, err := LookupInterface(l.veth.B)
		if err != nil {
			return err
		}
		l.capMAC, l.capIndex = [6]byte(ifi.MAC), ifi.Index
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if l.send != nil {
		l.send.Close()
	}
	if err := l.gns.Do(func() error {
		ifi, err := LookupInterface(l.veth.A)
		if err != nil {
			return err
		}
		l.genMAC, l.genIndex = [6]byte(ifi.MAC), ifi.Index
		l.send, err = gen.NewSender(l.veth.A, false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s := l.send
	t.Cleanup(func() { s.Close() })
}

// open opens a group in ns (the capture side unless told otherwise).
func (l *liveNet) open(ns *netns.NS, cfg Config) *Group {
	l.t.Helper()
	g, err := openIn(ns, cfg)
	if err != nil {
		l.t.Fatalf("Open(%+v): %v", cfg, err)
	}
	l.t.Cleanup(func() { g.Close() })
	return g
}

func openIn(ns *netns.NS, cfg Config) (*Group, error) {
	var g *Group
	err := ns.Do(func() error {
		var err error
		g, err = Open(&cfg)
		return err
	})
	return g, err
}

// runningState is a Group's Run in a goroutine.
type runningState struct {
	cancel context.CancelFunc
	done   chan error
}

func startRun(t *testing.T, g *Group, newHandler func(int) Handler) *runningState {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningState{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- g.Run(ctx, newHandler) }()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// stop cancels Run and returns its result. The limit only catches a hang.
func (r *runningState) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
		return nil
	}
}

// waitFor polls cond; the limit only catches a hang, it is no timing
// assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pairKey is a directed host pair; flowKey an unordered 5-tuple.
type pairKey struct{ src, dst netip.Addr }
type flowKey struct {
	a, b   netip.AddrPort
	proto  uint8
	family uint8
}
type countOf struct{ packets, bytes uint64 }

func canonical(p *decode.Packet) flowKey {
	a := netip.AddrPortFrom(p.SrcAddr(), p.SrcPort)
	b := netip.AddrPortFrom(p.DstAddr(), p.DstPort)
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	return flowKey{a, b, p.Proto, p.Family}
}

// collector is a test Handler: it decodes every record with
// decode.Frame and counts packets and IP bytes per host pair and 5-tuple.
// Each member has its own; they are read only after Run returned.
type collector struct {
	member  int
	pairs   map[pairKey]countOf
	flows   map[flowKey]uint64
	vlans   map[string]uint64 // per VLAN shape, for the VLAN test
	snaps   map[int]uint64    // records per captured length
	bad     []string          // unexpected records (first few)
	notIP   uint64
	idle    atomic.Uint64
	records atomic.Uint64
	check   func(r *ring.Record, p *decode.Packet) string // extra per-record check, "" if fine
	stall   time.Duration                                 // sleep per non-empty batch
	pkt     decode.Packet
}

func newCollector(member int) *collector {
	return &collector{
		member: member,
		pairs:  map[pairKey]countOf{},
		flows:  map[flowKey]uint64{},
		vlans:  map[string]uint64{},
		snaps:  map[int]uint64{},
	}
}

func (c *collector) Batch(recs []ring.Record) {
	if len(recs) == 0 {
		c.idle.Add(1)
		return
	}
	for i := range recs {
		r := &recs[i]
		p := &c.pkt
		if err := decode.Frame(r.Data, &r.Meta, p); err != nil {
			c.notIP++
			c.note(fmt.Sprintf("member %d: %v: % x", c.member, err, r.Data))
			continue
		}
		k := pairKey{p.SrcAddr(), p.DstAddr()}
		v := c.pairs[k]
		v.packets++
		v.bytes += uint64(p.IPLen)
		c.pairs[k] = v
		c.flows[canonical(p)]++
		c.vlans[fmt.Sprint(p.VLAN[:p.NVLAN], r.Meta.VLANOK, r.Meta.VLANTCI, r.Meta.VLANTPID, r.Meta.WireLen)]++
		c.snaps[len(r.Data)]++
		if c.check != nil {
			if msg := c.check(r, p); msg != "" {
				c.note(fmt.Sprintf("member %d: %s", c.member, msg))
			}
		}
	}
	c.records.Add(uint64(len(recs)))
	if c.stall > 0 {
		time.Sleep(c.stall)
	}
}

func (c *collector) note(s string) {
	if len(c.bad) < 5 {
		c.bad = append(c.bad, s)
	}
}

// collectors makes one collector per member, configured by setup.
func collectors(n int, setup func(c *collector)) ([]*collector, func(int) Handler) {
	cs := make([]*collector, n)
	for i := range cs {
		cs[i] = newCollector(i)
		if setup != nil {
			setup(cs[i])
		}
	}
	return cs, func(i int) Handler { return cs[i] }
}

// testFlows returns flows between 8 IPv4 and 4 IPv6 host pairs, 16 port
// pairs each, in both directions, with payloads of minPay to minPay+99
// bytes, addressed from gen to cap (so the capture side sees them as
// PACKET_HOST).
func (l *liveNet) testFlows(minPay int) []gen.Flow {
	var flows []gen.Flow
	add := func(src, dst netip.Addr, sp, dp uint16, pay int, proto uint8) {
		flows = append(flows, gen.Flow{DstMAC: l.capMAC, SrcMAC: l.genMAC, Src: src, Dst: dst,
			Proto: proto, SrcPort: sp, DstPort: dp, Payload: pay})
	}
	for h := range 12 {
		var a, b netip.Addr
		if h < 8 {
			a = netip.AddrFrom4([4]byte{10, 1, byte(h), 1})
			b = netip.AddrFrom4([4]byte{10, 2, byte(h), 2})
		} else {
			a = netip.MustParseAddr(fmt.Sprintf("fd00:1::%x", h))
			b = netip.MustParseAddr(fmt.Sprintf("fd00:2::%x", h))
		}
		for p := range 16 {
			proto := uint8(gen.ProtoUDP)
			if p%3 == 0 {
				proto = gen.ProtoTCP
			}
			pay := minPay + (h*16+p)%100
			sp, dp := uint16(20000+p), uint16(443+p)
			add(a, b, sp, dp, pay, proto)
			add(b, a, dp, sp, minPay+(pay-minPay)/2, proto)
		}
	}
	return flows
}

// expectOf returns what sending res over flows should give per host pair.
func expectOf(flows []gen.Flow, res *gen.Result) map[pairKey]countOf {
	want := map[pairKey]countOf{}
	for i := range flows {
		n := res.PerFlow[i]
		if n == 0 {
			continue
		}
		k := pairKey{flows[i].Src, flows[i].Dst}
		v := want[k]
		v.packets += n
		v.bytes += n * uint64(flows[i].IPLen())
		want[k] = v
	}
	return want
}

// checkCounts compares what the collectors saw with want, and checks
// that every 5-tuple (both directions) was seen by exactly one member.
func checkCounts(t *testing.T, cs []*collector, want map[pairKey]countOf) {
	t.Helper()
	checkCountsSplit(t, cs, want, false)
}

// checkCountsSplit is checkCounts; with mayMove, flows may have moved
// between members (the fanout group was re-formed: member order changes on
// down/up, and a re-created group is new), so only the totals are checked.
func checkCountsSplit(t *testing.T, cs []*collector, want map[pairKey]countOf, mayMove bool) {
	t.Helper()
	got := map[pairKey]countOf{}
	owner := map[flowKey]int{}
	for _, c := range cs {
		for _, b := range c.bad {
			t.Errorf("unexpected record: %s", b)
		}
		for k, v := range c.pairs {
			g := got[k]
			g.packets += v.packets
			g.bytes += v.bytes
			got[k] = g
		}
		for k := range c.flows {
			if m, ok := owner[k]; ok && !mayMove {
				t.Errorf("flow %v split across members %d and %d", k, m, c.member)
			}
			owner[k] = c.member
		}
	}
	for k, w := range want {
		if g := got[k]; g != w {
			t.Errorf("%v -> %v: got %d packets / %d IP bytes, want %d / %d", k.src, k.dst, g.packets, g.bytes, w.packets, w.bytes)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%v -> %v: %d unexpected packets", k.src, k.dst, g.packets)
		}
	}
}

// checkStats checks the group's accounting once everything was read.
func checkStats(t *testing.T, g *Group, sent uint64) Stats {
	t.Helper()
	s := g.Stats()
	if s.Packets != sent || s.KernelPackets != sent || s.Drops != 0 || s.Discarded != 0 || s.BadBlocks != 0 {
		t.Errorf("stats: packets %d, kernel %d, drops %d, discarded %d, bad blocks %d; want %d delivered of %d, no loss",
			s.Packets, s.KernelPackets, s.Drops, s.Discarded, s.BadBlocks, sent, sent)
	}
	var sum uint64
	for _, m := range s.Members {
		sum += m.Packets
	}
	if sum != s.Packets || len(s.Members) != g.Members() {
		t.Errorf("member stats add up to %d of %d (%d members)", sum, s.Packets, len(s.Members))
	}
	return s
}

func (l *liveNet) sendFlows(flows []gen.Flow, count uint64, rate float64) gen.Result {
	l.t.Helper()
	frames, err := gen.Prebuild(flows)
	if err != nil {
		l.t.Fatal(err)
	}
	res, err := l.send.Run(context.Background(), gen.RunConfig{Source: frames, Count: count, Rate: rate})
	if err != nil {
		l.t.Fatal(err)
	}
	if res.Failed != 0 {
		l.t.Fatalf("the generator had %d frames refused (last: %v) at %.0f pps", res.Failed, res.LastErr, rate)
	}
	return res
}

// TestLiveExactCounts: a paced run of known frames over 384 flows; per host
// pair, packets and IP bytes equal what was sent, nothing is duplicated,
// and each flow (both directions) lands on exactly one member.
func TestLiveExactCounts(t *testing.T) {
	for _, members := range []int{1, 2} {
		t.Run(fmt.Sprintf("members=%d", members), func(t *testing.T) {
			l := newLiveNet(t)
			g := l.open(l.cns, Config{Interface: l.veth.B, Members: members})
			if g.Members() != members || g.RingBytes() != int64(members)*32<<20 {
				t.Errorf("Members %d, RingBytes %d", g.Members(), g.RingBytes())
			}
			start := time.Now()
			cs, nh := collectors(members, func(c *collector) {
				c.check = func(r *ring.Record, p *decode.Packet) string {
					switch {
					case r.Meta.Link != decode.LinkEthernet || r.Meta.PktType != decode.PktHost || int(r.Meta.Ifindex) != l.capIndex:
						return fmt.Sprintf("meta %+v, want Ethernet, host, ifindex %d", r.Meta, l.capIndex)
					case r.TS < start.Add(-time.Second).UnixNano() || r.TS > time.Now().Add(time.Second).UnixNano():
						return fmt.Sprintf("timestamp %v outside the test", time.Unix(0, r.TS))
					case len(r.Data) > DefaultSnaplen || int(r.Meta.WireLen) < len(r.Data):
						return fmt.Sprintf("%d bytes captured of %d", len(r.Data), r.Meta.WireLen)
					case p.SrcMAC != l.genMAC || p.DstMAC != l.capMAC:
						return fmt.Sprintf("MACs %x -> %x", p.SrcMAC, p.DstMAC)
					}
					return ""
				}
			})
			run := startRun(t, g, nh)
			flows := l.testFlows(0)
			const count = 20000
			res := l.sendFlows(flows, count, 50000)
			waitFor(t, "every frame to be delivered", func() bool { return g.Stats().Packets >= res.Sent })
			if err := run.stop(t); err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkCounts(t, cs, expectOf(flows, &res))
			s := checkStats(t, g, res.Sent)
			if s.Bytes != res.Bytes {
				t.Errorf("wire bytes %d, want %d (the frame lengths)", s.Bytes, res.Bytes)
			}
			if members > 1 {
				for _, m := range s.Members {
					if m.Packets == 0 {
						t.Errorf("a member got nothing of %d flows: %+v", len(flows), s.Members)
					}
				}
			}
			if !s.IfaceOK || s.Iface.RxPackets < res.Sent {
				t.Errorf("interface counters %+v (ok %v): want at least %d received", s.Iface, s.IfaceOK, res.Sent)
			}
			if cpu, err := g.CPUTime(); err != nil || cpu <= 0 {
				t.Errorf("CPUTime = %v, %v", cpu, err)
			}
			t.Logf("%d frames at %.0f pps: %+v", res.Sent, res.PPS(), s.Members)
		})
	}
}

// TestLiveDropAccounting: a tiny ring and a stalled handler at a high rate.
// The capture is on the sending interface, where the kernel's tap sees
// every frame the generator sent (before any receive-side queue could drop
// it), so what the kernel saw is known exactly.
func TestLiveDropAccounting(t *testing.T) {
	l := newLiveNet(t)
	g := l.open(l.gns, Config{Interface: l.veth.A, BlockSize: os.Getpagesize() * 4, Blocks: 4, BlockTimeout: 5 * time.Millisecond})
	cs, nh := collectors(1, func(c *collector) {
		c.stall = 20 * time.Millisecond
		c.check = func(r *ring.Record, p *decode.Packet) string {
			if r.Meta.PktType != decode.PktOutgoing {
				return fmt.Sprintf("packet type %d on the sending side, want outgoing", r.Meta.PktType)
			}
			return ""
		}
	})
	run := startRun(t, g, nh)
	flows := l.testFlows(0)
	res, err := l.send.Run(context.Background(), gen.RunConfig{Source: mustOK(gen.Prebuild(flows)), Count: 50000, Rate: 100000})
	if err != nil {
		t.Fatal(err)
	}
	// Refusals the veth reports after the tap saw the frame (ENOBUFS)
	// count as seen by the kernel; others cannot happen here.
	seen := res.Sent + res.Failed
	if res.Failed != 0 && !errors.Is(res.LastErr, syscall.ENOBUFS) {
		t.Fatalf("generator refusals: %d, last %v", res.Failed, res.LastErr)
	}
	var s Stats
	waitFor(t, "the ring to drain", func() bool {
		s = g.Stats()
		return s.KernelPackets >= seen && s.Packets+s.Drops+s.Discarded == s.KernelPackets
	})
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}
	for _, b := range cs[0].bad {
		t.Errorf("unexpected record: %s", b)
	}
	if s.KernelPackets != seen || s.Packets+s.Drops != seen || s.Drops == 0 || s.Freezes == 0 {
		t.Errorf("captured %d + dropped %d (+ discarded %d) = kernel %d; want %d, with drops and freezes (freezes %d)",
			s.Packets, s.Drops, s.Discarded, s.KernelPackets, seen, s.Freezes)
	}
	if cs[0].records.Load() != s.Packets {
		t.Errorf("handler saw %d records, stats say %d", cs[0].records.Load(), s.Packets)
	}
	t.Logf("sent %d at %.0f pps: captured %d, dropped %d, freezes %d", res.Sent, res.PPS(), s.Packets, s.Drops, s.Freezes)
}

func mustOK[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestLiveVLAN: the outer tag arrives in metadata (TPID and TCI, a TCI of
// 0 included), inner tags in-band, and decode keys them right.
func TestLiveVLAN(t *testing.T) {
	l := newLiveNet(t)
	g := l.open(l.cns, Config{Interface: l.veth.B})
	cs, nh := collectors(1, nil)
	run := startRun(t, g, nh)
	type kind struct {
		name  string
		tags  []gen.Tag
		v6    bool
		nvlan []uint16 // decode's VLAN ids, outermost first
		tci   uint16   // metadata TCI
		tpid  uint16   // metadata TPID
	}
	kinds := []kind{
		{"untagged", nil, false, []uint16{}, 0, 0},
		{"802.1Q PCP 3 VID 100", []gen.Tag{{TPID: 0x8100, TCI: 3<<13 | 100}}, false, []uint16{100}, 3<<13 | 100, 0x8100},
		{"priority tag VID 0", []gen.Tag{{TPID: 0x8100, TCI: 5 << 13}}, true, []uint16{0}, 5 << 13, 0x8100},
		{"QinQ 88a8:200 / 8100:20", []gen.Tag{{TPID: 0x88a8, TCI: 200}, {TPID: 0x8100, TCI: 20}}, false, []uint16{200, 20}, 200, 0x88a8},
		{"double 802.1Q 300 / 30", []gen.Tag{{TPID: 0x8100, TCI: 300}, {TPID: 0x8100, TCI: 30}}, true, []uint16{300, 30}, 300, 0x8100},
	}
	var flows []gen.Flow
	for i, k := range kinds {
		f := gen.Flow{DstMAC: l.capMAC, SrcMAC: l.genMAC, Tags: k.tags, Proto: gen.ProtoUDP, SrcPort: 1000, DstPort: uint16(2000 + i), Payload: 10}
		if k.v6 {
			f.Src, f.Dst = netip.MustParseAddr("fd00::1"), netip.MustParseAddr(fmt.Sprintf("fd00::%d", 100+i))
		} else {
			f.Src, f.Dst = netip.MustParseAddr("10.9.0.1"), netip.AddrFrom4([4]byte{10, 9, 1, byte(i)})
		}
		flows = append(flows, f)
	}
	const per = 200
	res := l.sendFlows(flows, per*uint64(len(flows)), 20000)
	waitFor(t, "every frame to be delivered", func() bool { return g.Stats().Packets >= res.Sent })
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, cs, expectOf(flows, &res))
	for i, k := range kinds {
		wire := flows[i].FrameLen()
		if len(k.tags) > 0 {
			wire -= 4 // the outer tag left the bytes for the metadata
		}
		key := fmt.Sprint(k.nvlan, len(k.tags) > 0, k.tci, k.tpid, wire)
		if got := cs[0].vlans[key]; got != per {
			t.Errorf("%s: %d records shaped %s, want %d (all shapes: %v)", k.name, got, key, per, cs[0].vlans)
		}
	}
	checkStats(t, g, res.Sent)
}

// TestLiveLoopback: on lo the kernel shows each packet twice (outgoing and
// received); the group must count it once.
func TestLiveLoopback(t *testing.T) {
	requireRoot(t)
	ns := netns.NewT(t)
	if err := ns.SetUp("lo", true); err != nil {
		t.Fatal(err)
	}
	g, err := openIn(ns, Config{Interface: "lo", Members: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	cs, nh := collectors(2, func(c *collector) {
		c.check = func(r *ring.Record, p *decode.Packet) string {
			if r.Meta.PktType != decode.PktHost || p.SrcMAC != [6]byte{} || p.DstPort != 7777 || r.Meta.Link != decode.LinkEthernet {
				return fmt.Sprintf("meta %+v, MAC %x, port %d", r.Meta, p.SrcMAC, p.DstPort)
			}
			return ""
		}
	})
	run := startRun(t, g, nh)
	const n = 300
	if err := ns.Do(func() error {
		// A listener, so no ICMP port-unreachable adds packets.
		lc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7777})
		if err != nil {
			return err
		}
		defer lc.Close()
		c, err := net.DialUDP("udp4", nil, lc.LocalAddr().(*net.UDPAddr))
		if err != nil {
			return err
		}
		defer c.Close()
		buf := make([]byte, 1500)
		for i := range n {
			if _, err := c.Write(buf[:i%100]); err != nil {
				return err
			}
			if _, err := lc.Read(buf); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the datagrams", func() bool { return g.Stats().Packets >= n })
	time.Sleep(3 * DefaultBlockTimeout) // a duplicate would arrive by now
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}
	var total, bytes uint64
	for _, c := range cs {
		for _, b := range c.bad {
			t.Errorf("unexpected record: %s", b)
		}
		for _, v := range c.pairs {
			total += v.packets
			bytes += v.bytes
		}
	}
	var want uint64
	for i := range n {
		want += uint64(28 + i%100)
	}
	if total != n || bytes != want {
		t.Errorf("lo: %d packets / %d IP bytes, want %d / %d (each packet once)", total, bytes, n, want)
	}
	checkStats(t, g, n)
}

// openFDs counts this process's open descriptors of the kinds a group opens
// (sockets, eventfds, namespace handles); others (pidfds and pipes of the
// ip commands the test runs) come and go on their own schedule.
func openFDs(t *testing.T) int {
	return len(fdList(t))
}

func fdList(t *testing.T) []string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		l, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && (strings.HasPrefix(l, "socket:") || strings.Contains(l, "eventfd") || strings.HasPrefix(l, "net:")) {
			out = append(out, e.Name()+"="+l)
		}
	}
	return out
}

// TestLiveClose: Close while readers are blocked in poll returns promptly
// and leaks no descriptor or goroutine; Close is idempotent, safe from
// several goroutines and from a handler, and works without Run.
func TestLiveClose(t *testing.T) {
	l := newLiveNet(t)
	cfg := Config{Interface: l.veth.B, Members: 2}

	t.Run("while blocked", func(t *testing.T) {
		fdl, gor := fdList(t), runtime.NumGoroutine()
		fds := len(fdl)
		g, err := openIn(l.cns, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cs, nh := collectors(2, nil)
		done := make(chan error, 1)
		go func() { done <- g.Run(context.Background(), nh) }()
		waitFor(t, "both readers to go idle", func() bool { return cs[0].idle.Load() > 1 && cs[1].idle.Load() > 1 })
		closed := make(chan error, 4)
		for range 4 {
			go func() { closed <- g.Close() }()
		}
		for range 4 {
			if err := <-closed; err != nil {
				t.Errorf("Close: %v", err)
			}
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run after Close: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after Close")
		}
		if err := g.Run(context.Background(), nh); !errors.Is(err, ErrClosed) {
			t.Errorf("Run after Close: %v, want ErrClosed", err)
		}
		waitFor(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= gor })
		if got := openFDs(t); got != fds {
			t.Errorf("%d descriptors open after Close, %d before Open: %v, then %v", got, fds, fdl, fdList(t))
		}
	})

	t.Run("without Run", func(t *testing.T) {
		fds := openFDs(t)
		g, err := openIn(l.cns, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if openFDs(t) <= fds {
			t.Error("Open opened no descriptors")
		}
		if g.State() != StateUp {
			t.Errorf("state %v, want up", g.State())
		}
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		if err := g.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if got := openFDs(t); got != fds {
			t.Errorf("%d descriptors after Close, %d before", got, fds)
		}
	})

	t.Run("from a handler", func(t *testing.T) {
		g, err := openIn(l.cns, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var once atomic.Bool
		done := make(chan error, 1)
		inHandler := make(chan error, 1)
		go func() {
			done <- g.Run(context.Background(), func(int) Handler {
				return HandlerFunc(func([]ring.Record) {
					if once.CompareAndSwap(false, true) {
						inHandler <- g.Close()
					}
				})
			})
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close from a handler deadlocked")
		}
		// The handler cannot wait for the teardown: it is told so, and a
		// later Close waits for it and reports its result.
		if err := <-inHandler; !errors.Is(err, ErrClosePending) {
			t.Errorf("Close from a handler: %v, want ErrClosePending", err)
		}
		if err := g.Close(); err != nil {
			t.Errorf("Close after Close from a handler: %v", err)
		}
		if !g.impl.is(phaseClosed) {
			t.Error("the group is not closed after Close returned")
		}
	})

	t.Run("Run twice", func(t *testing.T) {
		g, err := openIn(l.cns, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		_, nh := collectors(2, nil)
		run := startRun(t, g, nh)
		waitFor(t, "Run to start", func() bool { return g.impl.is(phaseRunning) })
		if err := g.Run(context.Background(), nh); err == nil {
			t.Error("a second Run was accepted")
		}
		if err := run.stop(t); err != nil {
			t.Error(err)
		}
	})
}

// TestLiveInterfaceChanges: the interface goes down and up, then is deleted
// and re-created (new index), while Run keeps running; the state is
// reported and traffic is counted again afterwards.
func TestLiveInterfaceChanges(t *testing.T) {
	l := newLiveNet(t)
	g := l.open(l.cns, Config{Interface: l.veth.B, Members: 2, IdleInterval: 20 * time.Millisecond})
	cs, nh := collectors(2, nil)
	run := startRun(t, g, nh)
	var sent uint64
	var want map[pairKey]countOf
	phase := func(name string) {
		flows := l.testFlows(0)
		res := l.sendFlows(flows, 2000, 20000)
		sent += res.Sent
		for k, v := range expectOf(flows, &res) {
			if want == nil {
				want = map[pairKey]countOf{}
			}
			w := want[k]
			w.packets += v.packets
			w.bytes += v.bytes
			want[k] = w
		}
		waitFor(t, name+": frames delivered", func() bool { return g.Stats().Packets >= sent })
	}
	state := func(s State) {
		waitFor(t, "state "+s.String(), func() bool { return g.State() == s })
	}
	state(StateUp)
	phase("before")

	if err := l.cns.SetUp(l.veth.B, false); err != nil {
		t.Fatal(err)
	}
	state(StateDown)
	idle := cs[0].idle.Load()
	waitFor(t, "idle batches while down", func() bool { return cs[0].idle.Load() > idle+2 })
	if err := l.cns.SetUp(l.veth.B, true); err != nil {
		t.Fatal(err)
	}
	state(StateUp)
	phase("after down/up")

	oldIndex := l.capIndex
	if err := l.veth.Delete(); err != nil {
		t.Fatal(err)
	}
	state(StateGone)
	idle = cs[1].idle.Load()
	waitFor(t, "idle batches while gone", func() bool { return cs[1].idle.Load() > idle+2 })
	if err := l.veth.Create(); err != nil {
		t.Fatal(err)
	}
	l.refresh()
	if l.capIndex == oldIndex {
		t.Logf("the re-created interface kept index %d", oldIndex)
	}
	waitFor(t, "the members to be re-created", func() bool { return g.Stats().Reopens >= 1 && g.State() == StateUp })
	phase("after delete/re-create")

	select {
	case err := <-run.done:
		t.Fatalf("Run returned while the interface changed: %v", err)
	default:
	}
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}
	checkCountsSplit(t, cs, want, true)
	s := g.Stats()
	if s.Packets != sent || s.Drops != 0 || s.Packets+s.Drops+s.Discarded != s.KernelPackets {
		t.Errorf("stats %+v: want %d delivered, no drops, and delivered + dropped + discarded = kernel", s, sent)
	}
}

// TestLiveSetFilter swaps the kernel filter on a running 2-member group
// while traffic flows: nothing is lost or counted twice, and both filters
// were in effect at some point (their snaplens differ).
func TestLiveSetFilter(t *testing.T) {
	l := newLiveNet(t)
	g := l.open(l.cns, Config{Interface: l.veth.B, Members: 2})
	cs, nh := collectors(2, nil)
	run := startRun(t, g, nh)
	// IPv4 or IPv6 (untagged), keeping 64 bytes.
	alt := filter.Program{
		{Op: opLdhAbs, K: 12},
		{Op: opJeq, K: 0x0800, Jt: 1},
		{Op: opJeq, K: 0x86dd, Jf: 1},
		{Op: opRetK, K: 64},
		{Op: opRetK, K: 0},
	}
	flows := l.testFlows(150) // every frame longer than both snaplens
	stop := make(chan struct{})
	swapped := make(chan int, 1)
	go func() {
		n := 0
		defer func() { swapped <- n }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(3 * time.Millisecond):
			}
			p := alt
			if n%2 == 1 {
				p = nil
			}
			if err := g.SetFilter(p); err != nil {
				t.Errorf("SetFilter: %v", err)
				return
			}
			n++
		}
	}()
	res := l.sendFlows(flows, 30000, 40000)
	close(stop)
	swaps := <-swapped
	waitFor(t, "every frame to be delivered", func() bool { return g.Stats().Packets >= res.Sent })
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, cs, expectOf(flows, &res))
	checkStats(t, g, res.Sent)
	var short, long uint64
	for _, c := range cs {
		short += c.snaps[64]
		long += c.snaps[DefaultSnaplen]
	}
	if short == 0 || long == 0 || short+long != res.Sent {
		t.Errorf("%d swaps: %d frames cut at 64, %d at %d, of %d", swaps, short, long, DefaultSnaplen, res.Sent)
	}
	if err := g.SetFilter(filter.Program{{Op: 0xffff}}); !errors.Is(err, ErrFilter) {
		t.Errorf("a bad program: err = %v, want ErrFilter", err)
	}
}

// TestLiveOpenErrors: missing and down interfaces give the documented
// errors; WaitUp captures once the interface comes up.
func TestLiveOpenErrors(t *testing.T) {
	l := newLiveNet(t)
	_, err := openIn(l.cns, Config{Interface: "eth9"})
	if !errors.Is(err, ErrNoSuchInterface) || !containsAll(err.Error(), `"eth9" not found`, "have: lo, "+l.veth.B) {
		t.Errorf("missing interface: %v", err)
	}
	if err := l.cns.SetUp(l.veth.B, false); err != nil {
		t.Fatal(err)
	}
	_, err = openIn(l.cns, Config{Interface: l.veth.B})
	if !errors.Is(err, ErrInterfaceDown) || !containsAll(err.Error(), "is down", "ip link set "+l.veth.B+" up") {
		t.Errorf("down interface: %v", err)
	}
	g := l.open(l.cns, Config{Interface: l.veth.B, Members: 2, WaitUp: true})
	if s := g.State(); s != StateDown {
		t.Errorf("state %v, want down", s)
	}
	cs, nh := collectors(2, nil)
	run := startRun(t, g, nh)
	if err := l.cns.SetUp(l.veth.B, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "state up", func() bool { return g.State() == StateUp })
	flows := l.testFlows(0)
	res := l.sendFlows(flows, 3000, 30000)
	waitFor(t, "every frame", func() bool { return g.Stats().Packets >= res.Sent })
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, cs, expectOf(flows, &res))
	checkStats(t, g, res.Sent)

	// Two groups on one interface get distinct fanout ids.
	g1 := l.open(l.cns, Config{Interface: l.veth.B, Members: 2})
	g2 := l.open(l.cns, Config{Interface: l.veth.B, Members: 2})
	if g1.impl.fanoutID == g2.impl.fanoutID {
		t.Errorf("two groups share fanout id %d", g1.impl.fanoutID)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// TestLiveTun: an interface without a link-layer header (tun,
// ARPHRD_NONE) gives raw-IP records (decode.LinkRaw).
func TestLiveTun(t *testing.T) {
	requireRoot(t)
	ns := netns.NewT(t)
	name := netns.IfName("t")
	var tunfd int
	if err := ns.Do(func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			unix.Close(fd)
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(fd)
			return fmt.Errorf("TUNSETIFF: %w", err)
		}
		tunfd = fd
		return nil
	}); err != nil {
		t.Skipf("skipping: cannot create a tun device here: %v", err)
	}
	defer unix.Close(tunfd)
	if err := ns.SetUp(name, true); err != nil {
		t.Fatal(err)
	}
	g, err := openIn(ns, Config{Interface: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	cs, nh := collectors(1, func(c *collector) {
		c.check = func(r *ring.Record, p *decode.Packet) string {
			if r.Meta.Link != decode.LinkRaw || r.Meta.PktType != decode.PktHost || p.Flags&decode.FlagMAC != 0 {
				return fmt.Sprintf("meta %+v, flags %v", r.Meta, p.Flags)
			}
			return ""
		}
	})
	run := startRun(t, g, nh)
	flows := []gen.Flow{
		{Src: netip.MustParseAddr("10.7.0.1"), Dst: netip.MustParseAddr("10.7.0.2"), Proto: gen.ProtoUDP, SrcPort: 1, DstPort: 2, Payload: 30},
		{Src: netip.MustParseAddr("fd07::1"), Dst: netip.MustParseAddr("fd07::2"), Proto: gen.ProtoTCP, SrcPort: 3, DstPort: 4, Payload: 300},
	}
	const per = 100
	res := gen.Result{PerFlow: make([]uint64, len(flows))}
	for i := range 2 * per {
		f := &flows[i%2]
		frame := f.AppendFrame(nil)
		if _, err := unix.Write(tunfd, frame[14:14+f.IPLen()]); err != nil {
			t.Fatal(err)
		}
		res.PerFlow[i%2]++
		res.Sent++
	}
	waitFor(t, "the packets", func() bool { return g.Stats().Packets >= res.Sent })
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, cs, expectOf(flows, &res))
	checkStats(t, g, res.Sent)
}

// TestLivePromisc: Promisc raises the interface's promiscuity while the
// group is open and the kernel drops it again on Close.
func TestLivePromisc(t *testing.T) {
	l := newLiveNet(t)
	promisc := func() bool {
		var on bool
		if err := l.cns.Do(func() error {
			nl, err := openNetlink()
			if err != nil {
				return err
			}
			defer nl.close()
			info, err := nl.link(l.veth.B)
			on = info.Promisc > 0
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return on
	}
	if promisc() {
		t.Fatal("promiscuous before the test")
	}
	g := l.open(l.cns, Config{Interface: l.veth.B, Members: 2, Promisc: true})
	if !promisc() {
		t.Error("not promiscuous with Promisc set")
	}
	g.Close()
	if promisc() {
		t.Error("still promiscuous after Close")
	}
}

// TestLivePinned: CPUs pins each member's reader thread; a CPU that does
// not exist fails Open.
func TestLivePinned(t *testing.T) {
	l := newLiveNet(t)
	last := runtime.NumCPU() - 1
	g := l.open(l.cns, Config{Interface: l.veth.B, Members: 2, CPUs: []int{last}})
	for i, m := range g.impl.members {
		b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/status", m.tid.Load()))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("Cpus_allowed_list:\t%d\n", last)
		if !strings.Contains(string(b), want) {
			t.Errorf("member %d: want %q in its thread status", i, want)
		}
	}
	fds := openFDs(t)
	_, err := openIn(l.cns, Config{Interface: l.veth.B, Members: 2, CPUs: []int{0, 4095}})
	if !errors.Is(err, ErrInvalidConfig) || !errors.Is(err, unix.EINVAL) {
		t.Errorf("pinning to CPU 4095: %v", err)
	}
	if got := openFDs(t); got != fds {
		t.Errorf("a failed Open left descriptors: %d, %d before", got, fds)
	}
}

// TestLiveOpenBadFilter: a program the kernel would refuse fails Open with
// ErrFilter, before any socket is made.
func TestLiveOpenBadFilter(t *testing.T) {
	l := newLiveNet(t)
	_, err := openIn(l.cns, Config{Interface: l.veth.B, Filter: filter.Program{{Op: opJa, K: 5}, {Op: opRetK}}})
	if !errors.Is(err, ErrFilter) || !errors.Is(err, filter.ErrInvalidProgram) {
		t.Errorf("Open with a jump past the end: %v", err)
	}
}

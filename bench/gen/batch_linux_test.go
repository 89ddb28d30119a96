package gen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/netns"
	"golang.org/x/sys/unix"
)

// rxCapture is a raw packet socket on the receiving end of a veth pair: it
// counts the IPv4 UDP frames that arrive, by source port (a flow of the
// tests' sources), and how they arrived (the kernel's packet type).
type rxCapture struct {
	fd int
}

func openRxCapture(t *testing.T, ns *netns.NS, dev string) *rxCapture {
	t.Helper()
	c := &rxCapture{fd: -1}
	if err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		proto := int(binary.BigEndian.Uint16([]byte{0x00, 0x03})) // ETH_P_ALL
		proto = int(uint16(proto)>>8 | uint16(proto)<<8)
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return err
		}
		c.fd = fd
		// Room for every frame of a test: it is read after the run.
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 256<<20); err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifi.Index})
	}); err != nil {
		if c.fd >= 0 {
			unix.Close(c.fd)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(c.fd) })
	return c
}

// read counts the frames received until want of them came, or nothing
// came for half a second.
func (c *rxCapture) read(t *testing.T, want uint64) (byPort map[uint16]uint64, byType map[uint8]uint64, total uint64) {
	t.Helper()
	byPort, byType = map[uint16]uint64{}, map[uint8]uint64{}
	buf := make([]byte, 65536)
	quiet := time.Now()
	for total < want && time.Since(quiet) < 500*time.Millisecond {
		n, from, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
		if err == unix.EAGAIN || err == unix.EINTR {
			time.Sleep(time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		quiet = time.Now()
		f := buf[:n]
		if n < 14+20+8 || binary.BigEndian.Uint16(f[12:14]) != 0x0800 || f[14+9] != ProtoUDP {
			continue
		}
		total++
		byPort[binary.BigEndian.Uint16(f[14+20:])]++
		if ll, ok := from.(*unix.SockaddrLinklayer); ok {
			byType[ll.Pkttype]++
		}
	}
	return byPort, byType, total
}

// snmpIP reads a namespace's IP counters (the Ip lines of
// /proc/net/snmp): InReceives counts every packet the IP stack took in.
func snmpIP(t *testing.T, ns *netns.NS, field string) uint64 {
	t.Helper()
	out, err := ns.Exec("cat", "/proc/net/snmp")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "Ip:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, name := range names {
			if name == field && i < len(f) {
				v, err := strconv.ParseUint(f[i], 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
		}
	}
	t.Fatalf("no Ip %s in /proc/net/snmp: %s", field, out)
	return 0
}

// batchLab is a sender in one namespace and a capture on the other end of
// a veth pair.
type batchLab struct {
	a, b *netns.NS
	veth *netns.Veth
	s    *Sender
	cap  *rxCapture
	mac  [6]byte // the receiving end's MAC
}

func newBatchLab(t *testing.T, bypass bool) *batchLab {
	l := &batchLab{a: netns.NewT(t), b: netns.NewT(t)}
	l.veth = netns.NewVethT(t, l.a, l.b)
	if err := l.a.Do(func() error {
		var err error
		l.s, err = NewSender(l.veth.A, bypass)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.s.Close() })
	if err := l.b.Do(func() error {
		ifi, err := net.InterfaceByName(l.veth.B)
		if err == nil {
			l.mac = [6]byte(ifi.HardwareAddr)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	l.cap = openRxCapture(t, l.b, l.veth.B)
	return l
}

// check compares a run with what the receiving end got: every frame sent
// arrived, flow by flow, and nothing else did.
func (l *batchLab) check(t *testing.T, res Result, port func(flow int) uint16) map[uint8]uint64 {
	t.Helper()
	byPort, byType, total := l.cap.read(t, res.Sent)
	if total != res.Sent {
		t.Errorf("the capture got %d frames, the sender says %d sent", total, res.Sent)
	}
	var sum uint64
	for flow, n := range res.PerFlow {
		sum += n
		if got := byPort[port(flow)]; got != n {
			t.Errorf("flow %d: %d sent, %d received", flow, n, got)
		}
	}
	if sum != res.Sent {
		t.Errorf("per-flow counts add to %d of %d sent", sum, res.Sent)
	}
	return byType
}

func synthPort(flow int) uint16 { return 1024 + uint16(flow) }

func TestSendBatch(t *testing.T) {
	l := newBatchLab(t, true)
	src := &Synth{N: 1000, Base: Flow{DstMAC: l.mac, Src: netip.MustParseAddr("10.1.0.1"), Dst: netip.MustParseAddr("10.2.0.1"), Proto: ProtoUDP, DstPort: 9, Payload: 10}}
	order := Shuffled(src.N, 3)
	for _, tc := range []struct {
		name    string
		cfg     RunConfig
		perFlow func(flow int) uint64 // 0: no per-flow check beyond the capture's
		minTime time.Duration
	}{
		// 5500 = 21 batches of 256 and one of 124; 5 passes and a half.
		{"round robin, a partial last batch", RunConfig{Batch: 256, Count: 5500}, func(f int) uint64 { return 5 + b2u(f < 500) }, 0},
		{"random order, odd batch", RunConfig{Batch: 7, Count: 3000, Order: order}, func(int) uint64 { return 3 }, 0},
		{"the largest batch, more than a pass", RunConfig{Batch: MaxBatch, Count: 10000, Order: order}, func(int) uint64 { return 10 }, 0},
		{"a batch larger than the count", RunConfig{Batch: 512, Count: 100}, func(f int) uint64 { return b2u(f < 100) }, 0},
		// Frame k goes at k/Rate: 1999 frames after the first, 20 kHz.
		{"paced", RunConfig{Batch: 256, Count: 2000, Rate: 20000, Order: order}, func(int) uint64 { return 2 }, 1999 * time.Second / 20000},
		{"one sendto per frame", RunConfig{Batch: 1, Count: 2000}, func(int) uint64 { return 2 }, 0},
		{"bounded by time", RunConfig{Batch: 64, Duration: 50 * time.Millisecond, Rate: 20000}, nil, 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Source = src
			before := rxPackets(t, l.b, l.veth.B)
			res, err := l.s.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Failed != 0 || (cfg.Count > 0 && res.Sent != cfg.Count) {
				t.Errorf("sent %d, refused %d (%v), want %d sent", res.Sent, res.Failed, res.LastErr, cfg.Count)
			}
			if res.Bytes != res.Sent*MinFrame {
				t.Errorf("%d bytes for %d minimum-size frames", res.Bytes, res.Sent)
			}
			if res.Elapsed < tc.minTime {
				t.Errorf("took %v, want at least %v", res.Elapsed, tc.minTime)
			}
			if tc.perFlow != nil {
				for f, n := range res.PerFlow {
					if want := tc.perFlow(f); n != want {
						t.Fatalf("flow %d sent %d times, want %d", f, n, want)
					}
				}
			}
			l.check(t, res, synthPort)
			if got := rxPackets(t, l.b, l.veth.B) - before; got != res.Sent {
				t.Errorf("%s received %d frames, the sender says %d", l.veth.B, got, res.Sent)
			}
		})
	}
	// Batches are paced, not bursts: at 2,000 frames/s, 100 frames take
	// their 50 ms even with room for all of them in one batch.
	res, err := l.s.Run(context.Background(), RunConfig{Source: src, Batch: 256, Count: 101, Rate: 2000})
	if err != nil || res.Elapsed < 50*time.Millisecond || res.Sent != 101 {
		t.Errorf("paced run: %d sent in %v: %v", res.Sent, res.Elapsed, err)
	}
	l.cap.read(t, res.Sent)
	if _, err := l.s.Run(context.Background(), RunConfig{Source: src, Batch: MaxBatch + 1, Count: 1}); err == nil {
		t.Errorf("a batch of %d was accepted", MaxBatch+1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err := l.s.Run(ctx, RunConfig{Source: src, Batch: 256}); err != nil || res.Sent != 0 {
		t.Errorf("cancelled run sent %d: %v", res.Sent, err)
	}

	// The interface disappears: the run stops with an error.
	if err := l.veth.Delete(); err != nil {
		t.Fatal(err)
	}
	res, err = l.s.Run(context.Background(), RunConfig{Source: src, Batch: 64, Count: 100})
	if !errors.Is(err, unix.ENXIO) && !errors.Is(err, unix.ENODEV) {
		t.Errorf("sending on a deleted interface: %v (%+v)", err, res)
	}
	if res.Sent != 0 || res.Failed == 0 {
		t.Errorf("on a deleted interface: %d sent, %d refused", res.Sent, res.Failed)
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// TestSendBatchRefused sends frames the receiving end refuses amid frames
// it takes (it drops frames longer than its MTU, and the sender hears
// ENOBUFS): refused frames count in Failed and are not sent again, and
// the rest of their batch still goes, each counted for its flow.
func TestSendBatchRefused(t *testing.T) {
	l := newBatchLab(t, true)
	if err := l.b.IP("link", "set", "dev", l.veth.B, "mtu", "1000"); err != nil {
		t.Fatal(err)
	}
	var flows []Flow
	for i := range 100 {
		f := Flow{DstMAC: l.mac, Src: netip.MustParseAddr("10.1.0.1"), Dst: netip.MustParseAddr("10.2.0.1"), Proto: ProtoUDP, SrcPort: 1024 + uint16(i), DstPort: 9}
		if i%3 == 1 {
			f.Payload = 1100 // longer than the receiver's MTU
		}
		flows = append(flows, f)
	}
	frames, err := Prebuild(flows)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 16, 256} {
		t.Run(strconv.Itoa(batch), func(t *testing.T) {
			res, err := l.s.Run(context.Background(), RunConfig{Source: frames, Batch: batch, Count: 1000, Order: Shuffled(len(flows), 9)})
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range res.PerFlow {
				want := uint64(10)
				if i%3 == 1 {
					want = 0
				}
				if n != want {
					t.Errorf("flow %d: %d sent, want %d", i, n, want)
				}
			}
			if res.Failed != 330 || res.Sent != 670 || !errors.Is(res.LastErr, unix.ENOBUFS) {
				t.Errorf("%d sent, %d refused (%v), want 670 and 330 (ENOBUFS)", res.Sent, res.Failed, res.LastErr)
			}
			l.check(t, res, func(f int) uint16 { return 1024 + uint16(f) })
		})
	}
	// The receiving end is down: every frame is refused, none is lost
	// count of.
	if err := l.b.SetUp(l.veth.B, false); err != nil {
		t.Fatal(err)
	}
	res, err := l.s.Run(context.Background(), RunConfig{Source: frames, Batch: 64, Count: 500})
	if err != nil || res.Sent != 0 || res.Failed != 500 {
		t.Errorf("to a link that is down: %d sent, %d refused: %v", res.Sent, res.Failed, err)
	}
}

// TestSendBatchLongFrames mixes frames of every size: those too long for
// a transmit ring slot go by sendto, in their place in the order.
func TestSendBatchLongFrames(t *testing.T) {
	l := newBatchLab(t, false)
	for _, c := range []struct {
		ns  *netns.NS
		dev string
	}{{l.a, l.veth.A}, {l.b, l.veth.B}} {
		if err := c.ns.IP("link", "set", "dev", c.dev, "mtu", "9000"); err != nil {
			t.Fatal(err)
		}
	}
	var flows []Flow
	var bytes uint64
	for i, payload := range []int{10, 1400, 3000, 0, txMaxFrame - 42, txMaxFrame - 41, 8000} {
		flows = append(flows, Flow{DstMAC: l.mac, Src: netip.MustParseAddr("10.1.0.1"), Dst: netip.MustParseAddr("10.2.0.1"), Proto: ProtoUDP, SrcPort: 1024 + uint16(i), DstPort: 9, Payload: payload})
		bytes += uint64(flows[i].FrameLen())
	}
	frames, err := Prebuild(flows)
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.s.Run(context.Background(), RunConfig{Source: frames, Batch: 32, Count: uint64(len(flows)) * 20})
	if err != nil || res.Failed != 0 {
		t.Fatalf("%v, %d refused (%v)", err, res.Failed, res.LastErr)
	}
	if res.Bytes != 20*bytes {
		t.Errorf("%d bytes sent, want %d", res.Bytes, 20*bytes)
	}
	for i, n := range res.PerFlow {
		if n != 20 {
			t.Errorf("flow %d (%d bytes): %d sent, want 20", i, flows[i].FrameLen(), n)
		}
	}
	l.check(t, res, func(f int) uint16 { return 1024 + uint16(f) })
}

// TestSendMirror sends frames to a MAC that is not the receiver's, as a
// mirror port delivers other hosts' traffic: a capture gets every one,
// as PACKET_OTHERHOST, and the receiver's IP stack none; frames to the
// receiver's own MAC reach its IP stack.
func TestSendMirror(t *testing.T) {
	l := newBatchLab(t, true)
	for _, tc := range []struct {
		name   string
		dst    [6]byte
		typ    uint8
		toHost bool
	}{
		{"to the receiver", l.mac, unix.PACKET_HOST, true},
		{"to a foreign MAC", [6]byte{0x02, 0xfa, 0x57, 0, 0, 1}, unix.PACKET_OTHERHOST, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &Synth{N: 500, Base: Flow{DstMAC: tc.dst, Src: netip.MustParseAddr("10.1.0.1"), Dst: netip.MustParseAddr("10.2.0.1"), Proto: ProtoUDP, DstPort: 9}}
			in0 := snmpIP(t, l.b, "InReceives")
			res, err := l.s.Run(context.Background(), RunConfig{Source: src, Batch: 128, Count: 5000})
			if err != nil || res.Sent != 5000 {
				t.Fatalf("%d sent, %d refused: %v", res.Sent, res.Failed, err)
			}
			byType := l.check(t, res, synthPort)
			if byType[tc.typ] != res.Sent {
				t.Errorf("frames arrived as %v, want all %d as packet type %d", byType, res.Sent, tc.typ)
			}
			in := snmpIP(t, l.b, "InReceives") - in0
			if tc.toHost && in < res.Sent || !tc.toHost && in != 0 {
				t.Errorf("the receiver's IP stack took in %d packets of %d sent", in, res.Sent)
			}
		})
	}
}

package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/gen"
	"github.com/fastop/fastop/bench/netns"
	"github.com/fastop/fastop/ring/afpacket"
)

// signalWriter collects output and closes ready once it has seen mark.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	mark  string
	once  sync.Once
	ready chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.mark) {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

// liveRig is a pair of test namespaces joined by a veth pair, with a
// generator on one end and fastop capturing on the other.
type liveRig struct {
	gns, cns       *netns.NS
	veth           *netns.Veth
	capMAC, genMAC [6]byte
	sender         *gen.Sender
}

func newLiveRig(t *testing.T) *liveRig {
	t.Helper()
	r := &liveRig{gns: netns.NewT(t), cns: netns.NewT(t)}
	r.veth = netns.NewVethT(t, r.gns, r.cns)
	if err := r.cns.Do(func() error {
		ifi, err := afpacket.LookupInterface(r.veth.B)
		r.capMAC = [6]byte(ifi.MAC)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.gns.Do(func() error {
		ifi, err := afpacket.LookupInterface(r.veth.A)
		if err != nil {
			return err
		}
		r.genMAC = [6]byte(ifi.MAC)
		r.sender, err = gen.NewSender(r.veth.A, false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.sender.Close() })
	return r
}

// run starts fastop with args (plus -i VETH --json -L 0) in the capture
// namespace, sends count frames over flows once it is capturing, and
// returns what was sent and fastop's last report.
func (r *liveRig) run(t *testing.T, flows []gen.Flow, count uint64, args ...string) (gen.Result, jsonReport) {
	t.Helper()
	frames, err := gen.Prebuild(flows)
	if err != nil {
		t.Fatal(err)
	}
	errOut := &signalWriter{mark: "interface: " + r.veth.B, ready: make(chan struct{})}
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- r.cns.Do(func() error {
			root := NewRootCommand(IO{In: strings.NewReader(""), Out: &out, ErrOut: errOut}, nil)
			root.SetArgs(append([]string{"-i", r.veth.B, "--json", "-L", "0"}, args...))
			return root.ExecuteContext(context.Background())
		})
	}()
	select {
	case <-errOut.ready:
	case err := <-done:
		t.Fatalf("fastop ended before capturing: %v: %s", err, errOut.buf.String())
	}
	res, err := r.sender.Run(context.Background(), gen.RunConfig{Source: frames, Count: count, Rate: 20000})
	if err != nil || res.Failed != 0 {
		t.Fatalf("generator: %v, %d refused", err, res.Failed)
	}
	if err := <-done; err != nil {
		t.Fatalf("fastop: %v (stderr: %s)", err, errOut.buf.String())
	}
	var last jsonReport
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 16<<20)
	reports := 0
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("bad JSON %q: %v", sc.Text(), err)
		}
		reports++
	}
	if reports != 1 {
		t.Fatalf("-s printed %d reports, want 1", reports)
	}
	return res, last
}

// flowPairs is what fastop should report per host pair for the flows
// that pass keep.
func flowPairs(flows []gen.Flow, res gen.Result, keep func(*gen.Flow) bool) map[string]pairTotals {
	want := map[string]pairTotals{}
	for i := range flows {
		if keep(&flows[i]) && res.PerFlow[i] > 0 {
			add(want, pairKey(flows[i].Src.String(), flows[i].Dst.String()), pairTotals{res.PerFlow[i], res.PerFlow[i] * uint64(flows[i].IPLen())})
		}
	}
	return want
}

func reportPairs(r jsonReport) map[string]pairTotals {
	got := map[string]pairTotals{}
	for _, f := range r.Flows {
		add(got, pairKey(*f.Src, *f.Dst), pairTotals{f.Sent.Packets + f.Recv.Packets, f.Sent.Bytes + f.Recv.Bytes})
	}
	return got
}

// The whole live path, through the command line: frames sent between two
// test namespaces are counted by `fastop -i VETH --json -s N --fanout F`,
// per host pair, to the packet and the IP byte, with nothing dropped.
func TestLiveJSONCountsEveryPacket(t *testing.T) {
	for _, fanout := range []int{1, 2} {
		t.Run(fmt.Sprintf("fanout=%d", fanout), func(t *testing.T) {
			rig := newLiveRig(t)
			var flows []gen.Flow
			for i := range 100 {
				a := netip.AddrFrom4([4]byte{10, 7, byte(i), 1})
				b := netip.AddrFrom4([4]byte{10, 8, byte(i % 10), 2})
				if i%4 == 3 {
					a = netip.MustParseAddr(fmt.Sprintf("fd00:7::%x", i))
					b = netip.MustParseAddr(fmt.Sprintf("fd00:8::%x", i%10))
				}
				proto := uint8(gen.ProtoUDP)
				if i%2 == 0 {
					proto = gen.ProtoTCP
				}
				flows = append(flows,
					gen.Flow{DstMAC: rig.capMAC, SrcMAC: rig.genMAC, Src: a, Dst: b, Proto: proto, SrcPort: uint16(30000 + i), DstPort: 443, Payload: i % 300},
					gen.Flow{DstMAC: rig.capMAC, SrcMAC: rig.genMAC, Src: b, Dst: a, Proto: proto, SrcPort: 443, DstPort: uint16(30000 + i), Payload: 2 * (i % 300)})
			}
			res, last := rig.run(t, flows, 20000, "-s", "4", "--fanout", fmt.Sprint(fanout), "-P")
			want := flowPairs(flows, res, func(*gen.Flow) bool { return true })
			comparePairs(t, fmt.Sprintf("fanout %d", fanout), reportPairs(last), want)
			if last.Capture.Dropped != 0 || last.Capture.Counted != res.Sent || last.Capture.Packets != res.Sent {
				t.Errorf("counted %d of %d sent (%d captured), %d dropped", last.Capture.Counted, res.Sent, last.Capture.Packets, last.Capture.Dropped)
			}
		})
	}
}

// A compiled filter runs in the kernel on every fanout member: exactly the
// matching flows are counted, VLAN tags (the outer one in metadata, the
// inner one in the frame) match as libpcap's live programs match them, and
// the kernel never hands fastop the rest.
func TestLiveFilterInKernel(t *testing.T) {
	// On a live socket the kernel has moved the outer tag to metadata, so,
	// as with libpcap, a primitive without "vlan" sees single-tagged
	// frames as untagged, and frames with a second (in-band) tag not at all.
	inBand := func(f *gen.Flow) bool { return len(f.Tags) >= 2 }
	for _, tc := range []struct {
		expr string
		keep func(*gen.Flow) bool
	}{
		{"tcp and port 443", func(f *gen.Flow) bool {
			return !inBand(f) && f.Proto == gen.ProtoTCP && (f.SrcPort == 443 || f.DstPort == 443)
		}},
		{"net 10.8.0.0/16 and not port 53", func(f *gen.Flow) bool {
			return !inBand(f) && (f.Src.As4()[1] == 8 || f.Dst.As4()[1] == 8) && f.SrcPort != 53 && f.DstPort != 53
		}},
		{"vlan 100", func(f *gen.Flow) bool { return len(f.Tags) > 0 && f.Tags[0].TCI&0xfff == 100 }},
		{"vlan and vlan 20 and udp", func(f *gen.Flow) bool {
			return len(f.Tags) == 2 && f.Tags[1].TCI&0xfff == 20 && f.Proto == gen.ProtoUDP
		}},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			rig := newLiveRig(t)
			var flows []gen.Flow
			for i := range 48 {
				f := gen.Flow{DstMAC: rig.capMAC, SrcMAC: rig.genMAC,
					Src: netip.AddrFrom4([4]byte{10, byte(7 + i%2), byte(i), 1}), Dst: netip.AddrFrom4([4]byte{10, 9, byte(i % 6), 2}),
					Proto: gen.ProtoUDP, SrcPort: uint16(40000 + i), DstPort: []uint16{443, 53, 80}[i%3], Payload: 20 + i}
				if i%4 < 2 {
					f.Proto = gen.ProtoTCP
				}
				switch i % 6 {
				case 1:
					f.Tags = []gen.Tag{{TPID: 0x8100, TCI: 100}}
				case 2:
					f.Tags = []gen.Tag{{TPID: 0x8100, TCI: 200}}
				case 3:
					f.Tags = []gen.Tag{{TPID: 0x88a8, TCI: 300}, {TPID: 0x8100, TCI: 20}}
				}
				flows = append(flows, f)
			}
			res, last := rig.run(t, flows, 4800, "-s", "3", "--fanout", "2", "-P", "-f", tc.expr)
			want := flowPairs(flows, res, tc.keep)
			if len(want) == 0 || len(want) == len(flows) {
				t.Fatalf("the filter should keep some flows and drop others: keeps %d of %d", len(want), len(flows))
			}
			comparePairs(t, tc.expr, reportPairs(last), want)
			var kept uint64
			for _, p := range want {
				kept += p.Packets
			}
			// The kernel filtered: fastop saw only the matching packets.
			if last.Capture.Packets != kept || last.Capture.Counted != kept || last.Capture.Dropped != 0 {
				t.Errorf("capture %+v, want exactly the %d matching packets", last.Capture, kept)
			}
		})
	}
}

// failAfter accepts n writes, then fails every write as a full disk does.
type failAfter struct {
	mu sync.Mutex
	n  int
}

func (w *failAfter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 {
		return 0, syscall.ENOSPC
	}
	w.n--
	return len(p), nil
}

// The first report that cannot be written ends a live capture at once,
// with that error (one line, exit 1), instead of capturing on in silence
// until a signal.
func TestLiveReportWriteFailureEndsRun(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	for _, tc := range []struct {
		name string
		out  io.Writer
		args []string
	}{
		{"json to /dev/full", full, []string{"--json"}},
		{"text, the third write fails", &failAfter{n: 2}, []string{"-t"}}, // the header, one report, then ENOSPC
	} {
		t.Run(tc.name, func(t *testing.T) {
			gns, cns := netns.NewT(t), netns.NewT(t)
			veth := netns.NewVethT(t, gns, cns)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var errOut bytes.Buffer
			t0 := time.Now()
			err := cns.Do(func() error {
				root := NewRootCommand(IO{In: strings.NewReader(""), Out: tc.out, ErrOut: &errOut}, nil)
				root.SetArgs(append([]string{"-i", veth.B, "-n", "-N"}, tc.args...))
				return root.ExecuteContext(ctx)
			})
			took := time.Since(t0)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("err = %v, want ENOSPC (stderr: %s)", err, errOut.String())
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is more than one line", err)
			}
			// Reports come every 2 s: the run must end at the failed
			// one, not at the 60 s deadline.
			if took > 20*time.Second {
				t.Fatalf("the run went on for %v after the write failed", took)
			}
		})
	}
}

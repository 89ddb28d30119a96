package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/fastop/fastop/bench/gen"
	"github.com/fastop/fastop/bench/netns"
	"github.com/fastop/fastop/ring"
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

// The whole live path, through the command line: frames sent between two
// test namespaces are counted by `fastop -i VETH --json -s N --fanout F`,
// per host pair, to the packet and the IP byte, with nothing dropped.
func TestLiveJSONCountsEveryPacket(t *testing.T) {
	for _, fanout := range []int{1, 2} {
		t.Run(fmt.Sprintf("fanout=%d", fanout), func(t *testing.T) {
			gns, cns := netns.NewT(t), netns.NewT(t)
			veth := netns.NewVethT(t, gns, cns)
			var capMAC, genMAC [6]byte
			if err := cns.Do(func() error {
				ifi, err := ring.LookupInterface(veth.B)
				capMAC = [6]byte(ifi.MAC)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			var sender *gen.Sender
			if err := gns.Do(func() error {
				ifi, err := ring.LookupInterface(veth.A)
				if err != nil {
					return err
				}
				genMAC = [6]byte(ifi.MAC)
				sender, err = gen.NewSender(veth.A, false)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer sender.Close()

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
					gen.Flow{DstMAC: capMAC, SrcMAC: genMAC, Src: a, Dst: b, Proto: proto, SrcPort: uint16(30000 + i), DstPort: 443, Payload: i % 300},
					gen.Flow{DstMAC: capMAC, SrcMAC: genMAC, Src: b, Dst: a, Proto: proto, SrcPort: 443, DstPort: uint16(30000 + i), Payload: 2 * (i % 300)})
			}
			frames, err := gen.Prebuild(flows)
			if err != nil {
				t.Fatal(err)
			}

			errOut := &signalWriter{mark: "interface: " + veth.B, ready: make(chan struct{})}
			var out bytes.Buffer
			done := make(chan error, 1)
			go func() {
				done <- cns.Do(func() error {
					root := NewRootCommand(IO{In: strings.NewReader(""), Out: &out, ErrOut: errOut}, nil)
					root.SetArgs([]string{"-i", veth.B, "--json", "-s", "4", "--fanout", fmt.Sprint(fanout), "-P"})
					return root.ExecuteContext(context.Background())
				})
			}()
			select {
			case <-errOut.ready:
			case err := <-done:
				t.Fatalf("fastop ended before capturing: %v: %s", err, errOut.buf.String())
			}
			res, err := sender.Run(context.Background(), gen.RunConfig{Source: frames, Count: 20000, Rate: 20000})
			if err != nil || res.Failed != 0 {
				t.Fatalf("generator: %v, %d refused", err, res.Failed)
			}
			if err := <-done; err != nil {
				t.Fatalf("fastop: %v (stderr: %s)", err, errOut.buf.String())
			}

			want := map[string]pairTotals{}
			for i, f := range flows {
				add(want, pairKey(f.Src.String(), f.Dst.String()), pairTotals{res.PerFlow[i], res.PerFlow[i] * uint64(f.IPLen())})
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
				t.Fatalf("-s 4 printed %d reports, want 1", reports)
			}
			got := map[string]pairTotals{}
			for _, f := range last.Flows {
				add(got, pairKey(*f.Src, *f.Dst), pairTotals{f.Sent.Packets + f.Recv.Packets, f.Sent.Bytes + f.Recv.Bytes})
			}
			comparePairs(t, fmt.Sprintf("fanout %d", fanout), got, want)
			if last.Capture.Dropped != 0 || last.Capture.Counted != res.Sent || last.Capture.Packets != res.Sent {
				t.Errorf("counted %d of %d sent (%d captured), %d dropped", last.Capture.Counted, res.Sent, last.Capture.Packets, last.Capture.Dropped)
			}
		})
	}
}

package gen

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/netns"
	"golang.org/x/sys/unix"
)

// rxPackets reads an interface's receive counter with ip -s -j.
func rxPackets(t *testing.T, ns *netns.NS, dev string) uint64 {
	t.Helper()
	out, err := ns.Exec("ip", "-s", "-j", "link", "show", "dev", dev)
	if err != nil {
		t.Fatal(err)
	}
	var links []struct {
		Stats64 struct {
			RX struct {
				Packets uint64 `json:"packets"`
			} `json:"rx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -j output %s: %v", out, err)
	}
	return links[0].Stats64.RX.Packets
}

func TestSend(t *testing.T) {
	a, b := netns.NewT(t), netns.NewT(t)
	v := netns.NewVethT(t, a, b)
	var s *Sender
	if err := a.Do(func() error {
		var err error
		s, err = NewSender(v.A, false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	src := &Synth{N: 1000, Base: Flow{Src: netip.MustParseAddr("10.1.0.1"), Dst: netip.MustParseAddr("10.2.0.1"), Proto: ProtoUDP, DstPort: 9, Payload: 10}}
	before := rxPackets(t, b, v.B)

	res, err := s.Run(context.Background(), RunConfig{Source: src, Count: 5500, Rate: 50000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent+res.Failed != 5500 || res.Failed != 0 {
		t.Errorf("sent %d, failed %d (%v), want 5500 sent", res.Sent, res.Failed, res.LastErr)
	}
	var sum uint64
	for i, n := range res.PerFlow {
		sum += n
		want := uint64(5) // round robin: 5500 = 5 × 1000 + 500
		if i < 500 {
			want = 6
		}
		if n != want {
			t.Errorf("flow %d sent %d times, want %d", i, n, want)
		}
	}
	if sum != res.Sent {
		t.Errorf("per-flow counts add to %d of %d", sum, res.Sent)
	}
	if got := rxPackets(t, b, v.B) - before; got != res.Sent {
		t.Errorf("%s received %d frames, the sender says %d", v.B, got, res.Sent)
	}
	if res.Bytes != res.Sent*uint64(MinFrame) {
		t.Errorf("bytes %d for %d minimum-size frames", res.Bytes, res.Sent)
	}

	// In a random order, pass after pass: every flow once per pass.
	order := Shuffled(src.N, 7)
	res, err = s.Run(context.Background(), RunConfig{Source: src, Count: 3000, Order: order})
	if err != nil || res.Failed != 0 {
		t.Fatalf("ordered run: %v, %d refused", err, res.Failed)
	}
	for i, n := range res.PerFlow {
		if n != 3 {
			t.Fatalf("ordered run: flow %d sent %d times, want 3", i, n)
		}
	}
	if _, err := s.Run(context.Background(), RunConfig{Source: src, Count: 1, Order: order[:10]}); err == nil {
		t.Error("an order of 10 flows for 1000 was accepted")
	}
	// A duration shorter than MinCount frames take: MinCount wins.
	res, err = s.Run(context.Background(), RunConfig{Source: src, Duration: time.Nanosecond, MinCount: 2000})
	if err != nil || res.Sent+res.Failed < 2000 {
		t.Errorf("MinCount run: %d sent, %d refused, %v", res.Sent, res.Failed, err)
	}

	// Bounded by time, and by the context.
	res, err = s.Run(context.Background(), RunConfig{Source: src, Duration: 50 * time.Millisecond, Rate: 10000})
	if err != nil || res.Sent == 0 || res.Elapsed < 50*time.Millisecond {
		t.Errorf("duration run: %+v, %v", res.Elapsed, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res, err = s.Run(ctx, RunConfig{Source: src}); err != nil || res.Sent > 64 {
		t.Errorf("cancelled run sent %d: %v", res.Sent, err)
	}
	if _, err := s.Run(context.Background(), RunConfig{}); err == nil {
		t.Error("a run without flows was accepted")
	}

	// The interface disappears: Run stops with an error.
	if err := v.Delete(); err != nil {
		t.Fatal(err)
	}
	res, err = s.Run(context.Background(), RunConfig{Source: src, Count: 10})
	if !errors.Is(err, unix.ENXIO) && !errors.Is(err, unix.ENODEV) {
		t.Errorf("sending on a deleted interface: %v (%+v)", err, res)
	}
	if _, err := NewSender("fastop-none0", false); err == nil {
		t.Error("NewSender on a missing interface")
	}
}

func TestCPU(t *testing.T) {
	before, err := ProcessCPU()
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for start := time.Now(); time.Since(start) < 30*time.Millisecond; {
		x++
	}
	after, err := ProcessCPU()
	if err != nil || after.Total() <= before.Total() {
		t.Errorf("process CPU %v then %v (%v), after %d loops", before, after, err, x)
	}
	if _, err := ThreadCPU(); err != nil {
		t.Error(err)
	}
	if _, err := PidCPU(os.Getpid()); err != nil {
		t.Error(err)
	}
	if d, err := ProcCPU(os.Getpid()); err != nil || d <= 0 {
		t.Errorf("ProcCPU = %v, %v", d, err)
	}
	if d, err := TaskCPU(os.Getpid(), unix.Gettid()); err != nil || d <= 0 {
		t.Errorf("TaskCPU = %v, %v", d, err)
	}
}

func TestPeakRSS(t *testing.T) {
	if _, err := parseHWM("Name:\tx\nVmHWM:\t  1234 kB\nVmRSS:\t 1000 kB\n"); err != nil {
		t.Fatal(err)
	}
	if v, _ := parseHWM("VmHWM:\t  1234 kB\n"); v != 1234<<10 {
		t.Errorf("VmHWM 1234 kB read as %d", v)
	}
	if _, err := parseHWM("VmRSS:\t 1000 kB\n"); err == nil {
		t.Error("a status without VmHWM")
	}
	if err := ResetPeakRSS(); err != nil {
		t.Fatal(err)
	}
	before, err := PeakRSS(0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = 1
	}
	after, err := PeakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after < before+60<<20 {
		t.Errorf("peak RSS %d then %d after touching 64 MiB", before, after)
	}
	runtime.KeepAlive(b)
}

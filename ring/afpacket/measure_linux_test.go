package afpacket

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/gen"
	"github.com/fastop/fastop/ring"
)

// TestLiveMeasure is an opt-in measurement, not a test: with
// FASTOP_LIVE_MEASURE=1 (and root) it sends minimum-size frames over
// FASTOP_LIVE_FLOWS flows (default 1000) as fast as the generator can,
// for FASTOP_LIVE_SECONDS per phase (default 3), and logs offered rate,
// captured rate, drops and capture CPU per million packets for: no capture,
// fastop with 1 and 2 members, and tcpdump -w /dev/null on the same
// traffic. Run it with
//
//	FASTOP_LIVE_MEASURE=1 go test -run TestLiveMeasure -v ./ring/
func TestLiveMeasure(t *testing.T) {
	if os.Getenv("FASTOP_LIVE_MEASURE") == "" {
		t.Skip("skipping the live measurement: set FASTOP_LIVE_MEASURE=1 to run it")
	}
	l := newLiveNet(t)
	secs, _ := strconv.Atoi(os.Getenv("FASTOP_LIVE_SECONDS"))
	if secs <= 0 {
		secs = 3
	}
	nflows, _ := strconv.Atoi(os.Getenv("FASTOP_LIVE_FLOWS"))
	if nflows <= 0 {
		nflows = 1000
	}
	dur := time.Duration(secs) * time.Second
	src := &gen.Synth{N: nflows, Base: gen.Flow{DstMAC: l.capMAC, SrcMAC: l.genMAC,
		Src: netip.MustParseAddr("10.1.0.1"), Dst: netip.MustParseAddr("10.2.0.1"), Proto: gen.ProtoUDP, DstPort: 9}}
	// The sender bypasses the qdisc and the taps of its own interface:
	// only the receiving side is captured.
	var sender *gen.Sender
	if err := l.gns.Do(func() error {
		var err error
		sender, err = gen.NewSender(l.veth.A, true)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	blast := func() gen.Result {
		res, err := sender.Run(context.Background(), gen.RunConfig{Source: src, Duration: dur})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	t.Logf("%d flows of %d-byte frames, %v per phase, %d CPUs", nflows, gen.MinFrame, dur, runtime.NumCPU())
	t.Logf("%-22s %10s %10s %10s %10s %14s", "capture", "offered", "captured", "dropped", "CPU", "CPU per Mpkt")
	res := blast()
	t.Logf("%-22s %10.0f %10s %10s %10s %14s", "none", res.PPS(), "-", "-", "-", "-")

	for _, members := range []int{1, 2} {
		g := l.open(l.cns, Config{Interface: l.veth.B, Members: members})
		var n, touched atomic.Uint64
		run := startRun(t, g, func(int) Handler {
			// Count, and read one byte of every frame so the data is
			// touched as a decoder would.
			return HandlerFunc(func(recs []ring.Record) {
				var sum uint64
				for i := range recs {
					sum += uint64(recs[i].Data[0])
				}
				n.Add(uint64(len(recs)))
				touched.Add(sum)
			})
		})
		time.Sleep(50 * time.Millisecond)
		cpu0, _ := g.CPUTime()
		s0 := g.Stats()
		res := blast()
		time.Sleep(100 * time.Millisecond) // the last blocks retire
		s := g.Stats()
		cpu, _ := g.CPUTime()
		run.stop(t)
		g.Close()
		captured, drops := s.Packets-s0.Packets, s.Drops-s0.Drops
		c := cpu - cpu0
		t.Logf("%-22s %10.0f %10.0f %10d %10v %14v", fmt.Sprintf("fastop, %d member(s)", members), res.PPS(),
			float64(captured)/res.Elapsed.Seconds(), drops, c.Round(time.Millisecond), gen.PerMillion(c, captured).Round(time.Millisecond))
		if captured+drops != res.Sent {
			t.Logf("  (kernel saw %d of %d sent: the rest was dropped before the tap)", s.KernelPackets-s0.KernelPackets, res.Sent)
		}
	}

	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Logf("tcpdump not installed: %v", err)
		return
	}
	args := []string{"-i", l.veth.B, "-w", "/dev/null", "-s", "128", "-B", "32768", "-n", "ip or ip6"}
	cmd := l.cns.Command("tcpdump", args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for line := range lines {
		if strings.Contains(line, "listening on") {
			break
		}
	}
	pid := cmd.Process.Pid
	cpu0, err := gen.ProcCPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	res = blast()
	time.Sleep(1100 * time.Millisecond) // tcpdump's 1 s ring timeout
	cpu, _ := gen.ProcCPU(pid)
	cmd.Process.Signal(syscall.SIGINT)
	var out []string
	for line := range lines {
		out = append(out, line)
	}
	cmd.Wait()
	num := func(re string) uint64 {
		m := regexp.MustCompile(`(\d+) packets? ` + re).FindStringSubmatch(strings.Join(out, "\n"))
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseUint(m[1], 10, 64)
		return v
	}
	captured, drops := num("captured"), num("dropped by kernel")
	c := cpu - cpu0
	t.Logf("%-22s %10.0f %10.0f %10d %10v %14v", "tcpdump -w /dev/null", res.PPS(), float64(captured)/res.Elapsed.Seconds(),
		drops, c.Round(time.Millisecond), gen.PerMillion(c, captured).Round(time.Millisecond))
	t.Logf("tcpdump %s: %s", strings.Join(args, " "), strings.Join(out, "; "))
}

package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/gen"
	"github.com/fastop/fastop/bench/netns"
	"github.com/fastop/fastop/ring/afpacket"
)

// The soak test runs only when SOAK gives its length (make soak: SOAK=10m).
const soakEnv = "SOAK"

// Bounds the soak asserts, after the first cycle (the warm-up).
const (
	soakRSSGrowth   = 16 << 20 // bytes RSS may grow from the first half's peak to the second half's
	soakThreadSlack = 2        // threads above the first settled count (the Go runtime may add one)
)

// soakReport is the part of a JSON report the soak reads.
type soakReport struct {
	Time    time.Time `json:"time"`
	Capture struct {
		Packets uint64 `json:"packets"`
		Dropped uint64 `json:"dropped"`
		Counted uint64 `json:"counted"`
	} `json:"capture"`
	Interfaces []struct {
		Down bool `json:"down"`
	} `json:"interfaces"`
}

// soakProc is the fastop process under test and what it reported.
type soakProc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	last   soakReport
	n      int // reports read
	stderr strings.Builder
	done   chan error
}

func (p *soakProc) latest() (soakReport, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, p.n
}

// settle waits until the capture is up and two reports in a row, the
// first at least a report period after now, count the same: everything
// sent before has been counted. It returns that report.
func (p *soakProc) settle(t *testing.T) soakReport {
	t.Helper()
	since := time.Now()
	deadline := since.Add(60 * time.Second)
	var prev soakReport
	prevN := -1
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		r, n := p.latest()
		if n == prevN || r.Time.Before(since.Add(2500*time.Millisecond)) || len(r.Interfaces) == 0 || r.Interfaces[0].Down {
			continue
		}
		if prevN >= 0 && r.Capture == prev.Capture {
			return r
		}
		prev, prevN = r, n
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Fatalf("fastop did not settle (capture up, counts steady) within a minute; stderr:\n%s", p.stderr.String())
	return soakReport{}
}

// sample is one reading of the process's resources.
type sample struct {
	at                time.Duration
	rss               int64
	fds, threads      int
	settled, warmedUp bool
}

func readSample(pid int) (sample, error) {
	var s sample
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			s.rss = n << 10
		case "Threads":
			s.threads = int(n)
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return s, err
	}
	s.fds = len(fds)
	return s, nil
}

// soakFrames builds the flood (64-byte frames over many UDP flows) and the
// IMIX (7 small : 4 medium : 1 large, IPv4 and IPv6, TCP and UDP) for the
// current MAC addresses of the pair.
func soakFrames(t *testing.T, capMAC, genMAC [6]byte) (flood *gen.Synth, imix gen.Frames) {
	t.Helper()
	flood = &gen.Synth{N: 4096, Base: gen.Flow{DstMAC: capMAC, SrcMAC: genMAC,
		Src: netip.MustParseAddr("10.50.0.1"), Dst: netip.MustParseAddr("10.60.0.1"), Proto: gen.ProtoUDP, DstPort: 53, Payload: 18}}
	var flows []gen.Flow
	for i := range 48 {
		f := gen.Flow{DstMAC: capMAC, SrcMAC: genMAC, Proto: gen.ProtoUDP, SrcPort: uint16(20000 + i), DstPort: 443,
			Src: netip.AddrFrom4([4]byte{10, 51, byte(i), 1}), Dst: netip.AddrFrom4([4]byte{10, 61, byte(i % 5), 1})}
		hdr := 28
		if i%3 == 2 {
			f.Src = netip.MustParseAddr(fmt.Sprintf("fd00:51::%x", i+1))
			f.Dst = netip.MustParseAddr(fmt.Sprintf("fd00:61::%x", i%5+1))
			hdr = 48
		}
		if i%2 == 1 {
			f.Proto = gen.ProtoTCP
			hdr += 12
		}
		switch i % 12 {
		case 0, 1, 2, 3, 4, 5, 6:
			f.Payload = 64 - 18 - hdr
		case 7, 8, 9, 10:
			f.Payload = 594 - 18 - hdr
		default:
			f.Payload = 1500 - hdr
		}
		f.Payload = max(f.Payload, 0)
		flows = append(flows, f)
	}
	imix, err := gen.Prebuild(flows)
	if err != nil {
		t.Fatal(err)
	}
	return flood, imix
}

// TestSoak runs fastop (the binary, as `make build` builds it) on a veth
// pair for $SOAK, in cycles of a flood, idle, IMIX and a fault (the
// capture interface down and up, or the pair deleted and re-created), and
// checks: every frame sent while the capture was up is counted or
// reported dropped, per phase; RSS plateaus after the first cycle (the
// second half's peak at most soakRSSGrowth above the first half's); open
// descriptors come back to the same count after every fault; threads do
// not grow (fastop exposes no goroutine count; Go runs them on these).
func TestSoak(t *testing.T) {
	length, err := time.ParseDuration(os.Getenv(soakEnv))
	if err != nil || length <= 0 {
		t.Skipf("skipping: set %s to a duration (make soak runs SOAK=10m)", soakEnv)
	}
	if os.Geteuid() != 0 {
		t.Fatal("the soak test needs root (network namespaces)")
	}
	dir, err := os.MkdirTemp("", "fastop-soak-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "fastop")
	build := exec.Command("go", "build", "-o", bin, "github.com/fastop/fastop/cmd/fastop")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}

	gns, cns := netns.NewT(t), netns.NewT(t)
	// No IPv6 of the kernel's own (MLD, DAD, router solicitations) on the
	// pair, whose re-creation would send some: only the generator talks.
	for _, ns := range []*netns.NS{gns, cns} {
		for _, k := range []string{"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6"} {
			if err := ns.Sysctl(k, "1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	veth := netns.NewVethT(t, gns, cns)
	var sender *gen.Sender
	var flood *gen.Synth
	var imix gen.Frames
	openSender := func() {
		var capMAC, genMAC [6]byte
		if err := cns.Do(func() error {
			ifi, err := afpacket.LookupInterface(veth.B)
			capMAC = [6]byte(ifi.MAC)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := gns.Do(func() error {
			ifi, err := afpacket.LookupInterface(veth.A)
			if err != nil {
				return err
			}
			genMAC = [6]byte(ifi.MAC)
			sender, err = gen.NewSender(veth.A, false)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		flood, imix = soakFrames(t, capMAC, genMAC)
	}
	openSender()
	defer func() { sender.Close() }()

	p := &soakProc{cmd: cns.Command(bin, "-i", veth.B, "--json", "-L", "5", "-n", "--fanout", "2"), done: make(chan error, 1)}
	p.cmd.Env = append(os.Environ(), "HOME="+dir)
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.stderr}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := p.cmd.Process.Pid
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var r soakReport
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				p.done <- fmt.Errorf("bad JSON %q: %v", sc.Text(), err)
				return
			}
			p.mu.Lock()
			p.last, p.n = r, p.n+1
			p.mu.Unlock()
		}
		p.done <- p.cmd.Wait()
	}()
	defer func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			p.cmd.Process.Kill()
		}
	}()
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || exe != bin {
		time.Sleep(500 * time.Millisecond) // ip netns exec has not exec'd yet
		if exe, err = os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err != nil || exe != bin {
			t.Fatalf("pid %d runs %q (%v), not fastop", pid, exe, err)
		}
	}

	start := time.Now()
	var samples []sample
	var smu sync.Mutex
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		tk := time.NewTicker(2 * time.Second)
		defer tk.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tk.C:
			}
			if s, err := readSample(pid); err == nil {
				s.at = time.Since(start)
				smu.Lock()
				samples = append(samples, s)
				smu.Unlock()
			}
		}
	}()
	settled := func(warm bool) {
		if s, err := readSample(pid); err == nil {
			s.at, s.settled, s.warmedUp = time.Since(start), true, warm
			smu.Lock()
			samples = append(samples, s)
			smu.Unlock()
		}
	}

	base := p.settle(t)
	settled(false)
	var totalSent, totalDropped, phases uint64
	phase := func(name string, src gen.Source, d time.Duration, rate float64) {
		t.Helper()
		res, err := sender.Run(context.Background(), gen.RunConfig{Source: src, Duration: d, Rate: rate})
		if err != nil {
			t.Fatalf("%s: generator: %v", name, err)
		}
		after := p.settle(t)
		counted := after.Capture.Counted - base.Capture.Counted
		dropped := after.Capture.Dropped - base.Capture.Dropped
		phases++
		totalSent += res.Sent
		totalDropped += dropped
		t.Logf("%7.1fs %-6s sent %9d (%7.0f/s, %d refused by the veth), counted %9d, dropped %d",
			time.Since(start).Seconds(), name, res.Sent, res.PPS(), res.Failed, counted, dropped)
		if counted+dropped != res.Sent {
			t.Errorf("%s: sent %d, fastop counted %d and reported %d dropped: %d unaccounted for",
				name, res.Sent, counted, dropped, int64(res.Sent)-int64(counted+dropped))
		}
		base = after
	}
	for cycle := 0; time.Since(start) < length; cycle++ {
		phase("flood", flood, 10*time.Second, 0)
		time.Sleep(10 * time.Second)
		idle := p.settle(t)
		if idle.Capture != base.Capture {
			t.Errorf("idle: counts moved from %+v to %+v with nothing sent", base.Capture, idle.Capture)
		}
		t.Logf("%7.1fs idle", time.Since(start).Seconds())
		phase("imix", imix, 10*time.Second, 30000)
		switch cycle % 2 {
		case 0:
			if err := cns.SetUp(veth.B, false); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * time.Second)
			if err := cns.SetUp(veth.B, true); err != nil {
				t.Fatal(err)
			}
			t.Logf("%7.1fs down/up", time.Since(start).Seconds())
		case 1:
			sender.Close()
			if err := veth.Delete(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(3 * time.Second)
			if err := veth.Create(); err != nil {
				t.Fatal(err)
			}
			openSender()
			t.Logf("%7.1fs deleted and re-created", time.Since(start).Seconds())
		}
		base = p.settle(t)
		settled(true)
		if t.Failed() {
			break
		}
	}
	close(stopSampling)
	sampling.Wait()

	// Resources: the first cycle warms up; then RSS plateaus, descriptors
	// return to the same count after every fault, threads stay put.
	var warm []sample
	for _, s := range samples {
		if s.warmedUp {
			warm = append(warm, s)
		}
	}
	if len(warm) < 2 {
		t.Fatalf("only %d settled samples after warm-up: give SOAK more time (at least 3m)", len(warm))
	}
	var firstPeak, secondPeak, minRSS int64
	firstWarm := warm[0].at
	half := firstWarm + (time.Since(start)-firstWarm)/2
	minRSS = 1 << 62
	maxThreads := 0
	for _, s := range samples {
		if s.at < firstWarm {
			continue
		}
		minRSS = min(minRSS, s.rss)
		maxThreads = max(maxThreads, s.threads)
		if s.at < half {
			firstPeak = max(firstPeak, s.rss)
		} else {
			secondPeak = max(secondPeak, s.rss)
		}
	}
	t.Logf("%d traffic phases, %d frames sent, %d reported dropped; RSS after warm-up %.1f–%.1f MiB (first-half peak %.1f, second-half peak %.1f), fds %d, threads %d–%d, %d samples",
		phases, totalSent, totalDropped, float64(minRSS)/(1<<20), float64(max(firstPeak, secondPeak))/(1<<20),
		float64(firstPeak)/(1<<20), float64(secondPeak)/(1<<20), warm[0].fds, warm[0].threads, maxThreads, len(samples))
	if secondPeak > firstPeak+soakRSSGrowth {
		t.Errorf("RSS grew from a first-half peak of %d to %d bytes (bound: %d MiB)", firstPeak, secondPeak, soakRSSGrowth>>20)
	}
	for _, s := range warm {
		if s.fds != warm[0].fds {
			t.Errorf("at %v, settled: %d open descriptors, %d after the first cycle", s.at, s.fds, warm[0].fds)
		}
	}
	if maxThreads > warm[0].threads+soakThreadSlack {
		t.Errorf("threads grew from %d to %d", warm[0].threads, maxThreads)
	}
	select {
	case err := <-p.done:
		t.Fatalf("fastop ended during the soak: %v; stderr:\n%s", err, p.stderr.String())
	default:
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

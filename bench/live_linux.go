//go:build linux

package bench

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
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fastop/fastop/bench/gen"
	"github.com/fastop/fastop/bench/netns"
	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring/afpacket"
	"github.com/fastop/fastop/ring/filter"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/pipeline"
	"golang.org/x/sys/unix"
)

// Timing of the live benchmark's phases.
const (
	// liveStartup lets the ring readers reach their first poll before the
	// clock starts.
	liveStartup = 100 * time.Millisecond
	// liveDrainTimeout bounds the wait for the ring to hand over the last
	// frames (one block timeout, 20 ms, is the usual wait).
	liveDrainTimeout = 3 * time.Second
	// tcpdumpStartTimeout bounds the wait for tcpdump's "listening on".
	tcpdumpStartTimeout = 10 * time.Second
	// tcpdumpStopTimeout bounds the wait for tcpdump to exit after SIGINT.
	tcpdumpStopTimeout = 5 * time.Second
)

// Live runs the live benchmark described at [LiveOptions]: every round
// sends the same traffic once per capture (fastop, then tcpdump when
// asked) and measures it. The namespaces and the veth pair it creates are
// removed before it returns, also on error and when ctx is cancelled
// (Ctrl-C); those of a process killed outright are removed by the next
// run (netns.Sweep). It needs root.
//
// The generator runs as a child process: the running binary again
// (os.Executable), which package bench's init turns into the generator
// when liveGenEnv is set, so any program that links this package can run
// the benchmark with nothing more to wire.
func Live(ctx context.Context, o LiveOptions) (res LiveResult, err error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return LiveResult{}, err
	}
	if os.Geteuid() != 0 {
		return LiveResult{}, fmt.Errorf("live benchmark: it creates network namespaces and a veth pair: run it as root: %w", ErrLiveRoot)
	}
	if err := netns.Available(); err != nil {
		return LiveResult{}, fmt.Errorf("live benchmark: %w", err)
	}
	if o.Tcpdump {
		if _, err := exec.LookPath("tcpdump"); err != nil {
			return LiveResult{}, fmt.Errorf("live benchmark: install tcpdump for the comparison, or leave it out: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return LiveResult{}, err
	}
	netns.Sweep() // leftovers of killed runs; a failure here harms nothing

	lab, err := newLiveLab(o)
	if err != nil {
		return LiveResult{}, err
	}
	defer func() {
		if cerr := lab.close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("live benchmark: cleaning up: %w", cerr))
		}
	}()

	res = LiveResult{
		Flows:    o.Flows,
		FrameLen: liveFrameLen,
		Fanout:   o.Fanout,
		Mode:     o.Mode.String(),
		Rate:     o.Rate,
		Duration: o.Duration,
		Count:    o.Count,
		Passes:   o.Passes,
		Rounds:   o.Rounds,
		Filter:   o.Filter,
		Batch:    o.Batch,
		Mirror:   o.Mirror,
		Senders:  o.Senders,
		CPUs:     runtime.NumCPU(),
		Kernel:   kernelRelease(),
	}
	lab.logf("%s", res.header())
	for round := 1; round <= o.Rounds; round++ {
		// This process's peak memory, from here: what fastop needs (the
		// heap earlier rounds left goes back to the kernel first).
		debug.FreeOSMemory()
		if err := gen.ResetPeakRSS(); err != nil {
			return LiveResult{}, fmt.Errorf("live benchmark: %w", err)
		}
		run, err := lab.runFastop(ctx, o, round)
		if err != nil {
			return LiveResult{}, err
		}
		if run.PeakRSS, err = gen.PeakRSS(0); err != nil {
			return LiveResult{}, fmt.Errorf("live benchmark: %w", err)
		}
		res.RingBytes = lab.ringBytes / int64(o.Fanout)
		res.Runs = append(res.Runs, run)
		lab.logRun(run)
		if !o.Tcpdump {
			continue
		}
		res.TcpdumpKiB = lab.ringBytes >> 10
		run, err = lab.runTcpdump(ctx, o, round, res.TcpdumpKiB)
		if err != nil {
			return LiveResult{}, err
		}
		res.Runs = append(res.Runs, run)
		lab.logRun(run)
	}
	res.summarize()
	return res, nil
}

// liveLab is the benchmark's network: a generator namespace and a capture
// namespace joined by a veth pair (A sends, B captures).
type liveLab struct {
	gns, cns  *netns.NS
	veth      *netns.Veth
	capIface  afpacket.Interface
	genMAC    [6]byte
	ringBytes int64 // the capture group's ring memory in all
	log       func(format string, args ...any)
}

func newLiveLab(o LiveOptions) (l *liveLab, err error) {
	l = &liveLab{log: func(string, ...any) {}}
	if o.Log != nil {
		l.log = func(format string, args ...any) { fmt.Fprintf(o.Log, format+"\n", args...) }
	}
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("live benchmark: %w", err), l.close())
		}
	}()
	if l.gns, err = netns.New(); err != nil {
		return l, err
	}
	if l.cns, err = netns.New(); err != nil {
		return l, err
	}
	if l.veth, err = netns.NewVeth(l.gns, l.cns); err != nil {
		return l, err
	}
	if err = l.cns.Do(func() error {
		var err error
		l.capIface, err = afpacket.LookupInterface(l.veth.B)
		return err
	}); err != nil {
		return l, err
	}
	if err = l.gns.Do(func() error {
		ifi, err := afpacket.LookupInterface(l.veth.A)
		l.genMAC = [6]byte(ifi.MAC)
		return err
	}); err != nil {
		return l, err
	}
	l.log("live: generator on %s in %s, capture on %s in %s", l.veth.A, l.gns.Name, l.veth.B, l.cns.Name)
	return l, nil
}

// close removes everything newLiveLab made. Deleting a namespace deletes
// its end of the pair, but the pair goes first, so no interface outlives
// the run even while a socket still pins a namespace.
func (l *liveLab) close() error {
	var errs []error
	if l.veth != nil {
		errs = append(errs, l.veth.Close())
	}
	for _, n := range []*netns.NS{l.gns, l.cns} {
		if n != nil {
			errs = append(errs, n.Close())
		}
	}
	return errors.Join(errs...)
}

func (l *liveLab) logf(format string, args ...any) { l.log(format, args...) }

func (l *liveLab) logRun(r LiveRun) {
	l.log("live: round %d %-7s offered %s pps, sent %s, captured %s, dropped %s, lost %s, CPU %s ms/Mpkt, generator %s ms/Mpkt",
		r.Round, r.Capture, group(uint64(r.OfferedPPS)), group(r.Sent), group(r.Captured), group(r.Drops), group(r.Lost),
		ms(r.CPUPerMpkt), ms(r.GenCPUPerMpkt))
}

// The generator runs in a process of its own: this binary again, turned
// into the generator by liveGenEnv (see init). Sharing one Go runtime with
// the capture would blur the capture's CPU figure: the generator's
// sleeps and system calls make the runtime hand processors between threads
// and wake the system monitor, work done on threads that are not the
// generator's (about a tenth of a CPU at 20,000 frames/s here).
const liveGenEnv = "FASTOP_BENCH_LIVE_GENERATOR"

func init() {
	if cfg, ok := os.LookupEnv(liveGenEnv); ok {
		os.Exit(generatorMain(cfg, os.Stdin, os.Stdout))
	}
}

// genConfig is what the generator process sends.
type genConfig struct {
	Iface          string
	SrcMAC, DstMAC [6]byte
	Flows          int
	Count          uint64
	Duration       time.Duration
	Passes         int // with Duration: send every flow at least this many times
	Rate           float64
	Batch          int // frames per system call
	Senders        int // sending threads, each with its share of the flows
}

// genReport is what the generator process sent, and its CPU time.
type genReport struct {
	Sent, Failed uint64
	Elapsed      time.Duration
	CPU          time.Duration // the generator process, all threads
	LastErr      string        `json:",omitempty"` // the last refusal
	Err          string        `json:",omitempty"` // the generator failed
}

// generatorMain is the generator process: it opens its sender, says
// "ready", waits for a line on in, sends, and writes a genReport as JSON.
func generatorMain(cfgJSON string, in io.Reader, out io.Writer) int {
	fail := func(err error) int {
		json.NewEncoder(out).Encode(genReport{Err: err.Error()})
		return 1
	}
	var cfg genConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		return fail(fmt.Errorf("generator configuration: %w", err))
	}
	// The senders skip the qdisc and the taps of their own end: only the
	// receiving end is captured, and sending costs no more than it must.
	senders := make([]*gen.Sender, max(cfg.Senders, 1))
	for i := range senders {
		s, err := gen.NewSender(cfg.Iface, true)
		if err != nil {
			return fail(err)
		}
		defer s.Close()
		senders[i] = s
	}
	synth := &gen.Synth{N: cfg.Flows, Base: gen.Flow{
		DstMAC: cfg.DstMAC, SrcMAC: cfg.SrcMAC,
		Src: netip.MustParseAddr("10.1.0.1"), Dst: netip.MustParseAddr("10.2.0.1"),
		Proto: gen.ProtoUDP, DstPort: 9,
	}}
	// Every frame is built, and the order drawn, before the clock starts:
	// sending then costs a copy into the transmit ring per frame and a
	// system call per batch, at any flow count.
	src, err := synth.Pack()
	if err != nil {
		return fail(err)
	}
	runs := senderRuns(src, gen.Shuffled(cfg.Flows, 1), cfg)
	fmt.Fprintln(out, "ready")
	if _, err := bufio.NewReader(in).ReadString('\n'); err != nil {
		return 1 // the benchmark is gone
	}
	c0, err := gen.ProcessCPU()
	if err != nil {
		return fail(err)
	}
	res, err := sendAll(senders, runs)
	if err != nil {
		return fail(err)
	}
	c1, err := gen.ProcessCPU()
	if err != nil {
		return fail(err)
	}
	r := genReport{Sent: res.Sent, Failed: res.Failed, Elapsed: res.Elapsed, CPU: c1.Sub(c0).Total()}
	if res.LastErr != nil {
		r.LastErr = res.LastErr.Error()
	}
	if err := json.NewEncoder(out).Encode(r); err != nil {
		return 1
	}
	return 0
}

// mirrorMAC is where --mirror frames go: a locally administered unicast
// address no interface of the benchmark has, so the capture interface
// receives them as PACKET_OTHERHOST, as a mirror port's traffic.
var mirrorMAC = [6]byte{0x02, 0xfa, 0x57, 0x00, 0x00, 0x01}

// senderRuns splits a run over cfg.Senders senders: each sends its own
// contiguous share of the random order, pass after pass (so every flow is
// still sent once per pass, in a random order), its share of the count
// and of the rate, for the whole duration and at least the passes over
// its share.
func senderRuns(src gen.Source, order []int32, cfg genConfig) []gen.RunConfig {
	n := max(cfg.Senders, 1)
	runs := make([]gen.RunConfig, n)
	for i := range runs {
		part := gen.Subset{Source: src, Flows: order[i*len(order)/n : (i+1)*len(order)/n]}
		rc := gen.RunConfig{Source: part, Duration: cfg.Duration, Rate: cfg.Rate / float64(n), Batch: cfg.Batch}
		if cfg.Count > 0 {
			rc.Count = cfg.Count / uint64(n)
			if uint64(i) < cfg.Count%uint64(n) {
				rc.Count++
			}
		} else {
			rc.MinCount = uint64(cfg.Passes) * uint64(part.Len())
		}
		runs[i] = rc
	}
	return runs
}

// sendAll runs every sender on a thread of its own, all at once, and adds
// up what they sent; the elapsed time is from the first start to the last
// end.
func sendAll(senders []*gen.Sender, runs []gen.RunConfig) (gen.Result, error) {
	results := make([]gen.Result, len(senders))
	errs := make([]error, len(senders))
	var wg sync.WaitGroup
	start := time.Now()
	for i := range senders {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			results[i], errs[i] = senders[i].Run(context.Background(), runs[i])
		})
	}
	wg.Wait()
	var res gen.Result
	res.Elapsed = time.Since(start)
	for _, r := range results {
		res.Sent += r.Sent
		res.Failed += r.Failed
		res.Bytes += r.Bytes
		if r.LastErr != nil {
			res.LastErr = r.LastErr
		}
	}
	return res, errors.Join(errs...)
}

// genProc is a started generator process, ready to send.
type genProc struct {
	cmd    *exec.Cmd
	held   *heldProc
	stdin  io.WriteCloser
	lines  chan string
	stderr bytes.Buffer
	reaped bool
}

// startGenerator starts the generator in the generator namespace and
// waits until it is ready to send.
func (l *liveLab) startGenerator(ctx context.Context, o LiveOptions) (*genProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("live benchmark: find this program to run the generator: %w", err)
	}
	dst := [6]byte(l.capIface.MAC)
	if o.Mirror {
		dst = mirrorMAC
	}
	cfg, err := json.Marshal(genConfig{Iface: l.veth.A, SrcMAC: l.genMAC, DstMAC: dst,
		Flows: o.Flows, Count: o.Count, Duration: o.Duration, Passes: o.Passes, Rate: o.Rate, Batch: o.Batch, Senders: o.Senders})
	if err != nil {
		return nil, err
	}
	p := &genProc{lines: make(chan string, 4)}
	p.cmd = l.gns.Command(exe)
	p.cmd.Env = append(os.Environ(), liveGenEnv+"="+string(cfg))
	p.cmd.Stderr = &p.stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if p.held, err = startHeld(p.cmd); err != nil {
		return nil, fmt.Errorf("live benchmark: start the generator: %w", err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	line, err := p.next(ctx, 10*time.Second)
	if err != nil {
		p.close()
		return nil, err
	}
	if line != "ready" {
		p.close()
		return nil, p.failure(line)
	}
	return p, nil
}

// next returns the generator's next line of output.
func (p *genProc) next(ctx context.Context, timeout time.Duration) (string, error) {
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	select {
	case line, ok := <-p.lines:
		if !ok {
			return "", p.failure("")
		}
		return line, nil
	case <-expire:
		return "", fmt.Errorf("live benchmark: the generator said nothing for %v", timeout)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// failure turns a generator's last words into an error.
func (p *genProc) failure(line string) error {
	var r genReport
	if json.Unmarshal([]byte(line), &r) == nil && r.Err != "" {
		return fmt.Errorf("live benchmark: generator: %s", r.Err)
	}
	p.close()
	return fmt.Errorf("live benchmark: the generator failed: %q %s", line, bytes.TrimSpace(p.stderr.Bytes()))
}

// run tells the generator to send and waits for its report.
func (p *genProc) run(ctx context.Context) (genReport, error) {
	if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
		return genReport{}, fmt.Errorf("live benchmark: start sending: %w", err)
	}
	line, err := p.next(ctx, 0)
	if err != nil {
		return genReport{}, err
	}
	var r genReport
	if err := json.Unmarshal([]byte(line), &r); err != nil || r.Err != "" {
		return genReport{}, p.failure(line)
	}
	if r.Sent == 0 {
		return r, fmt.Errorf("live benchmark: the generator sent nothing (%d refused: %s)", r.Failed, r.LastErr)
	}
	return r, nil
}

// close ends the generator (at once, if it still runs) and reaps it.
func (p *genProc) close() {
	if p.reaped {
		return
	}
	p.reaped = true
	p.stdin.Close()
	p.cmd.Process.Kill()
	for range p.lines {
	}
	p.held.wait()
}

// heldProc is a child process started from a thread that is held until
// the child is reaped: the child's parent-death signal (SIGKILL, so that it
// never outlives this process) follows the thread that started it, and Go
// may end a thread whose goroutine exits while locked to it.
type heldProc struct {
	cmd     *exec.Cmd
	release chan struct{}
	once    sync.Once
}

func startHeld(cmd *exec.Cmd) (*heldProc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	h := &heldProc{cmd: cmd, release: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		started <- cmd.Start()
		<-h.release
	}()
	if err := <-started; err != nil {
		close(h.release)
		return nil, err
	}
	return h, nil
}

// wait waits for the child (whose pipes must have been read to the end)
// and lets the starting thread go.
func (h *heldProc) wait() error {
	err := h.cmd.Wait()
	h.once.Do(func() { close(h.release) })
	return err
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// classifier knows the capture interface's MAC and addresses, as
// `fastop -i` does.
func (l *liveLab) classifier() *table.Classifier {
	var cfg table.ClassifierConfig
	if len(l.capIface.MAC) == 6 && !l.capIface.Loopback {
		cfg.MACs = append(cfg.MACs, [6]byte(l.capIface.MAC))
	}
	for _, p := range l.capIface.Addrs {
		cfg.Addrs = append(cfg.Addrs, p.Addr())
	}
	return table.NewClassifier(cfg)
}

// runFastop captures one run of the traffic with a ring group feeding the
// streaming engine, wired as `fastop -i` wires them.
func (l *liveLab) runFastop(ctx context.Context, o LiveOptions, round int) (LiveRun, error) {
	run := LiveRun{Capture: "fastop", Round: round}
	var prog filter.Program
	if o.Filter != "" {
		var err error
		prog, err = filter.Compile(o.Filter, filter.Options{Link: decode.LinkEthernet, Live: true, IPOnly: true, Snaplen: afpacket.DefaultSnaplen})
		if err != nil {
			return run, fmt.Errorf("live benchmark: %w", err)
		}
	}
	var g *afpacket.Group
	if err := l.cns.Do(func() error {
		var err error
		// A mirror port's traffic is for other hosts: fastop captures it
		// in promiscuous mode (-p), as tcpdump does by default.
		g, err = afpacket.Open(&afpacket.Config{Interface: l.veth.B, Members: o.Fanout, Mode: o.Mode, Buffer: o.Buffer, Filter: prog, Promisc: o.Mirror})
		return err
	}); err != nil {
		return run, fmt.Errorf("live benchmark: %w", err)
	}
	defer g.Close()
	l.ringBytes = g.RingBytes()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	type result struct {
		snap *table.Snapshot
		err  error
	}
	runDone := make(chan result, 1)
	go func() {
		snap, err := pipeline.RunLive(runCtx, pipeline.LiveConfig{
			Groups:     []pipeline.Group{g},
			Classifier: l.classifier(),
			MaxFlows:   o.MaxFlows,
		})
		runDone <- result{snap, err}
	}()
	// finish stops the readers and waits for the final snapshot.
	var snap *table.Snapshot
	var runErr error
	var finishOnce sync.Once
	finish := func() {
		finishOnce.Do(func() {
			stop()
			r := <-runDone
			snap, runErr = r.snap, r.err
		})
	}
	defer finish()

	gp, err := l.startGenerator(ctx, o)
	if err != nil {
		return run, err
	}
	defer gp.close()
	if err := sleepCtx(ctx, liveStartup); err != nil {
		return run, err
	}
	p0, err := gen.ProcessCPU()
	if err != nil {
		return run, err
	}
	r0, err := g.CPUTime()
	if err != nil {
		return run, err
	}
	sent, err := gp.run(ctx)
	if err != nil {
		return run, err
	}
	st := drainRing(ctx, g, sent.Sent, o.Filter != "")
	r1, err := g.CPUTime()
	if err != nil {
		return run, err
	}
	pd, err := gen.ProcessCPU()
	if err != nil {
		return run, err
	}
	finish()
	p1, err := gen.ProcessCPU()
	if err != nil {
		return run, err
	}
	if err := ctx.Err(); err != nil {
		return run, err
	}
	if runErr != nil {
		return run, fmt.Errorf("live benchmark: capture on %w", runErr)
	}

	fillSent(&run, sent)
	run.Seen = st.KernelPackets
	run.Captured = st.Packets
	run.Drops = st.Drops
	run.Unread = sub(st.KernelPackets, st.Packets+st.Drops)
	run.Counted = snap.Counted
	run.Flows = len(snap.Flows)
	snap.Release()
	run.Lost = sub(run.Sent, run.Counted)
	if o.Filter != "" {
		// Only what passed the filter can be counted.
		run.Lost = sub(run.Seen, run.Counted)
	}
	run.CapturedPPS = pps(run.Captured, run.Elapsed)
	run.SelfCPU = p1.Sub(p0).Total()
	run.CPU = run.SelfCPU
	run.CPUPerMpkt = perMillion(run.CPU, run.Captured)
	run.CPUPerSentMpkt = perMillion(run.CPU, run.Sent)
	run.FinishCPU = p1.Sub(pd).Total()
	run.ReaderCPU = r1 - r0
	run.ReaderCPUPerMpkt = perMillion(run.ReaderCPU, run.Captured)
	return run, nil
}

// drainRing waits until the kernel has seen every frame sent and the
// readers have delivered (or the kernel dropped) every frame it saw, or
// until liveDrainTimeout: then the shortfall shows as unread or lost. With
// a filter the kernel sees only what passes it, so it waits instead for
// that count to stay still for a while (the generator has finished).
func drainRing(ctx context.Context, g *afpacket.Group, sent uint64, filtered bool) afpacket.Stats {
	deadline := time.Now().Add(liveDrainTimeout)
	var last uint64
	still := time.Now()
	for {
		st := g.Stats()
		if st.KernelPackets != last {
			last, still = st.KernelPackets, time.Now()
		}
		seenAll := st.KernelPackets >= sent || filtered && time.Since(still) > 300*time.Millisecond
		if seenAll && st.Packets+st.Drops >= st.KernelPackets {
			return st
		}
		if time.Now().After(deadline) || sleepCtx(ctx, 5*time.Millisecond) != nil {
			return st
		}
	}
}

func fillSent(run *LiveRun, sent genReport) {
	run.Sent = sent.Sent
	run.Failed = sent.Failed
	run.Elapsed = sent.Elapsed
	run.OfferedPPS = pps(sent.Sent, sent.Elapsed)
	run.GenCPU = sent.CPU
	run.GenCPUPerMpkt = perMillion(sent.CPU, sent.Sent)
}

// sub returns a - b, or 0 when b ≥ a.
func sub(a, b uint64) uint64 {
	if b >= a {
		return 0
	}
	return a - b
}

func pps(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// tcpdumpArgs is the tcpdump command line of the comparison: headers
// only, to nowhere, with as much ring memory as fastop's group.
func tcpdumpArgs(iface string, kib int64, expr string) []string {
	f := "ip or ip6"
	if expr != "" {
		f = "(" + expr + ") and (ip or ip6)"
	}
	return []string{"-i", iface, "-w", "/dev/null", "-s", strconv.Itoa(afpacket.DefaultSnaplen),
		"-B", strconv.FormatInt(kib, 10), "-n", f}
}

// runTcpdump captures one run of the traffic with tcpdump -w /dev/null in
// the capture namespace.
func (l *liveLab) runTcpdump(ctx context.Context, o LiveOptions, round int, kib int64) (LiveRun, error) {
	run := LiveRun{Capture: "tcpdump", Round: round}
	cmd := l.cns.Command("tcpdump", tcpdumpArgs(l.veth.B, kib, o.Filter)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return run, fmt.Errorf("live benchmark: tcpdump: %w", err)
	}
	held, err := startHeld(cmd)
	if err != nil {
		return run, fmt.Errorf("live benchmark: start tcpdump: %w", err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var out []string
	exited := false
	// reap reads the rest of tcpdump's output (the pipe closes when it
	// exits) and waits for it, killing it after timeout.
	reap := func(timeout time.Duration) {
		t := time.NewTimer(timeout)
		defer t.Stop()
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					held.wait()
					exited = true
					return
				}
				out = append(out, line)
			case <-t.C:
				cmd.Process.Kill()
				t.Reset(time.Hour)
			}
		}
	}
	defer func() {
		if !exited {
			cmd.Process.Kill()
			reap(tcpdumpStopTimeout)
		}
	}()

	wait := time.NewTimer(tcpdumpStartTimeout)
	defer wait.Stop()
	for listening := false; !listening; {
		select {
		case line, ok := <-lines:
			if !ok {
				reap(tcpdumpStopTimeout)
				return run, fmt.Errorf("live benchmark: tcpdump exited before it listened: %s", strings.Join(out, "; "))
			}
			out = append(out, line)
			listening = strings.Contains(line, "listening on")
		case <-wait.C:
			return run, fmt.Errorf("live benchmark: tcpdump did not start listening in %v: %s", tcpdumpStartTimeout, strings.Join(out, "; "))
		case <-ctx.Done():
			return run, ctx.Err()
		}
	}

	gp, err := l.startGenerator(ctx, o)
	if err != nil {
		return run, err
	}
	defer gp.close()
	pid := cmd.Process.Pid
	p0, err := gen.ProcessCPU()
	if err != nil {
		return run, err
	}
	t0, err := gen.ProcCPU(pid)
	if err != nil {
		return run, err
	}
	sent, err := gp.run(ctx)
	if err != nil {
		return run, err
	}
	if err := sleepCtx(ctx, tcpdumpDrain); err != nil {
		return run, err
	}
	t1, err := gen.ProcCPU(pid)
	if err != nil {
		return run, err
	}
	if run.PeakRSS, err = gen.PeakRSS(pid); err != nil {
		return run, err
	}
	p1, err := gen.ProcessCPU()
	if err != nil {
		return run, err
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		return run, fmt.Errorf("live benchmark: stop tcpdump: %w", err)
	}
	reap(tcpdumpStopTimeout)
	st := parseTcpdumpStats(strings.Join(out, "\n"))
	if !st.ok {
		return run, fmt.Errorf("live benchmark: tcpdump printed no statistics when stopped: %s", strings.Join(out, "; "))
	}

	fillSent(&run, sent)
	run.Seen = st.received
	run.Captured = st.captured
	run.Drops = st.dropped
	run.Unread = sub(st.received, st.captured+st.dropped)
	run.Lost = sub(run.Sent, run.Captured)
	if o.Filter != "" {
		run.Lost = sub(run.Seen, run.Captured)
	}
	run.CapturedPPS = pps(run.Captured, run.Elapsed)
	run.CPU = t1 - t0
	run.CPUPerMpkt = perMillion(run.CPU, run.Captured)
	run.CPUPerSentMpkt = perMillion(run.CPU, run.Sent)
	run.SelfCPU = p1.Sub(p0).Total()
	return run, nil
}

// kernelRelease returns uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

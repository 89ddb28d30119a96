package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/gen"
	"github.com/fastop/fastop/bench/netns"
	"github.com/fastop/fastop/ring/afpacket"
)

func TestLiveOptionsCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    LiveOptions
		bad  string // part of the error; "" means valid
	}{
		{"zero value", LiveOptions{}, ""},
		{"everything", LiveOptions{Fanout: 4, Mode: afpacket.FanoutLB, Flows: 1_000_000, Rate: 1e6, Duration: time.Second, Count: 10, Buffer: 1 << 20, MaxFlows: 10, Rounds: 3, Tcpdump: true}, ""},
		{"fanout too wide", LiveOptions{Fanout: afpacket.MaxMembers + 1}, "fanout 257"},
		{"negative fanout", LiveOptions{Fanout: -1}, "fanout -1"},
		{"bad mode", LiveOptions{Mode: afpacket.FanoutQM + 1}, "fanout mode"},
		{"too many flows", LiveOptions{Flows: MaxLiveFlows + 1}, "flows"},
		{"negative flows", LiveOptions{Flows: -5}, "-5 flows"},
		{"negative rate", LiveOptions{Rate: -1}, "rate -1"},
		{"negative duration", LiveOptions{Duration: -time.Second}, "duration -1s"},
		{"negative buffer", LiveOptions{Buffer: -1}, "ring buffer -1"},
		{"negative max flows", LiveOptions{MaxFlows: -1}, "max flows -1"},
		{"too many rounds", LiveOptions{Rounds: 101}, "101 rounds"},
		{"negative passes", LiveOptions{Passes: -2}, "-2 passes"},
		{"one frame per sendto", LiveOptions{Batch: 1}, ""},
		{"the largest batch", LiveOptions{Batch: gen.MaxBatch, Mirror: true}, ""},
		{"batch too large", LiveOptions{Batch: gen.MaxBatch + 1}, "batch of 4097"},
		{"negative batch", LiveOptions{Batch: -1}, "batch of -1"},
		{"two senders", LiveOptions{Senders: 2}, ""},
		{"too many senders", LiveOptions{Senders: MaxLiveSenders + 1}, "65 senders"},
		{"more senders than flows", LiveOptions{Senders: 3, Flows: 2}, "3 senders for 2 flows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.withDefaults().check()
			switch {
			case tc.bad == "" && err != nil:
				t.Fatalf("valid options refused: %v", err)
			case tc.bad != "" && (err == nil || !errors.Is(err, ErrLiveOptions) || !strings.Contains(err.Error(), tc.bad)):
				t.Fatalf("got %v, want an ErrLiveOptions error mentioning %q", err, tc.bad)
			}
		})
	}
}

func TestLiveOptionsDefaults(t *testing.T) {
	for _, tc := range []struct {
		in, want LiveOptions
	}{
		{LiveOptions{}, LiveOptions{Fanout: 1, Mode: afpacket.FanoutHash, Flows: DefaultLiveFlows, Duration: DefaultLiveDuration, Rounds: 1, Passes: DefaultLivePasses, Batch: DefaultLiveBatch, Senders: 1}},
		// A count alone bounds the run: no default duration is added.
		{LiveOptions{Count: 500}, LiveOptions{Fanout: 1, Mode: afpacket.FanoutHash, Flows: DefaultLiveFlows, Count: 500, Rounds: 1, Passes: DefaultLivePasses, Batch: DefaultLiveBatch, Senders: 1}},
		{LiveOptions{Fanout: 2, Mode: afpacket.FanoutCPU, Flows: 7, Duration: time.Second, Rounds: 3, Passes: 1, Batch: 1, Mirror: true, Senders: 3},
			LiveOptions{Fanout: 2, Mode: afpacket.FanoutCPU, Flows: 7, Duration: time.Second, Rounds: 3, Passes: 1, Batch: 1, Mirror: true, Senders: 3}},
	} {
		if got := tc.in.withDefaults(); got != tc.want {
			t.Errorf("withDefaults(%+v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseTcpdumpStats(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  string
		want tcpdumpStats
	}{
		{"typical", "tcpdump: listening on fo1b, link-type EN10MB (Ethernet), snapshot length 128 bytes\n" +
			"20000 packets captured\n20000 packets received by filter\n0 packets dropped by kernel\n",
			tcpdumpStats{20000, 20000, 0, true}},
		{"singular and drops", "1 packet captured\n5 packets received by filter\n4 packets dropped by kernel",
			tcpdumpStats{1, 5, 4, true}},
		{"trailing spaces and CR-free noise", "tcpdump: pcap_loop: interrupted\n  12 packets captured  \n12 packets received by filter\n0 packets dropped by kernel\n3 packets dropped by interface\n",
			tcpdumpStats{12, 12, 0, true}},
		{"missing drop line", "12 packets captured\n12 packets received by filter\n", tcpdumpStats{12, 12, 0, false}},
		{"not at line start", "saw 12 packets captured\n12 packets received by filter\n0 packets dropped by kernel", tcpdumpStats{0, 12, 0, false}},
		{"empty", "", tcpdumpStats{}},
		{"overflow", "99999999999999999999999 packets captured\n1 packet received by filter\n0 packets dropped by kernel", tcpdumpStats{0, 1, 0, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseTcpdumpStats(tc.out); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseTcpdumpStats(f *testing.F) {
	f.Add("20000 packets captured\n20000 packets received by filter\n0 packets dropped by kernel\n")
	f.Add("1 packet captured\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, out string) {
		s := parseTcpdumpStats(out)
		// Whatever it found must be written in out as tcpdump writes it.
		if s.ok {
			for _, line := range []string{
				strconv.FormatUint(s.captured, 10) + " packet",
				strconv.FormatUint(s.received, 10) + " packet",
				strconv.FormatUint(s.dropped, 10) + " packet",
			} {
				if !strings.Contains(out, line) {
					t.Fatalf("%+v: %q is not in %q", s, line, out)
				}
			}
		}
		// One line holds one count at most.
		nonzero := 0
		for _, v := range []uint64{s.captured, s.received, s.dropped} {
			if v != 0 {
				nonzero++
			}
		}
		if !strings.Contains(out, "\n") && (nonzero > 1 || s.ok) {
			t.Fatalf("one line gave %+v: %q", s, out)
		}
	})
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1}, 1}, // the lower middle: a value some run had
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 4, 1, 9}, 4},
	} {
		in := slices.Clone(tc.in)
		if got := median(in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("median reordered its argument: %v", in)
		}
	}
}

func TestLiveSummaryAndString(t *testing.T) {
	r := LiveResult{Flows: 1000, FrameLen: liveFrameLen, Fanout: 2, Mode: "hash", Duration: 5 * time.Second,
		RingBytes: 32 << 20, TcpdumpKiB: 65536, Rounds: 3, CPUs: 2, Kernel: "6.1", Batch: 256, Mirror: true}
	for i, f := range []struct {
		fastopCPU, tcpdumpCPU time.Duration
		drops                 uint64
	}{{200, 900, 0}, {100, 700, 5}, {300, 800, 0}} {
		r.Runs = append(r.Runs,
			LiveRun{Capture: "fastop", Round: i + 1, Sent: 1_000_000, Captured: 1_000_000, Counted: 1_000_000, Flows: 1000,
				OfferedPPS: float64(900_000 + i), CapturedPPS: float64(900_000 + i), PeakRSS: uint64(70+i) * 1e6,
				CPUPerMpkt: f.fastopCPU * time.Millisecond, ReaderCPUPerMpkt: f.fastopCPU * time.Millisecond / 2, GenCPUPerMpkt: time.Second},
			LiveRun{Capture: "tcpdump", Round: i + 1, Sent: 1_000_000, Captured: 1_000_000 - f.drops, Drops: f.drops, Lost: f.drops,
				OfferedPPS: 800_000, CapturedPPS: 800_000, PeakRSS: 40e6,
				CPUPerMpkt: f.tcpdumpCPU * time.Millisecond, GenCPUPerMpkt: time.Second})
	}
	r.summarize()
	if r.Fastop.Runs != 3 || r.Fastop.CPUPerMpkt != 200*time.Millisecond || r.Fastop.ReaderCPUPerMpkt != 100*time.Millisecond ||
		r.Fastop.OfferedPPS != 900_001 || r.Fastop.Sent != 3_000_000 || r.Fastop.MaxDrops != 0 ||
		r.Fastop.PeakRSS != 72e6 || r.Fastop.Counted != 3_000_000 {
		t.Errorf("fastop summary %+v", r.Fastop)
	}
	if r.Tcpdump == nil || r.Tcpdump.Runs != 3 || r.Tcpdump.CPUPerMpkt != 800*time.Millisecond ||
		r.Tcpdump.MaxDrops != 5 || r.Tcpdump.MaxLost != 5 || r.Tcpdump.Counted != 3_000_000-5 || r.Tcpdump.PeakRSS != 40e6 {
		t.Fatalf("tcpdump summary %+v", r.Tcpdump)
	}
	if r.Ratio != 4 {
		t.Errorf("ratio %v, want 4", r.Ratio)
	}
	s := r.String()
	for _, want := range []string{
		"1,000 flows of 60-byte IPv4/UDP frames, built before the clock starts, sent in a random order, as fast as possible, up to 256 frames per send (transmit ring), to a foreign MAC (--mirror: a mirror port's traffic, dropped by the capture host's IP stack on arrival), 5s per run, fanout 2 (hash), ring 32 MiB per member",
		"72 max",
		"median   fastop",
		"200.0",
		"5 max",
		"fastop: 200.0 ms of CPU per million packets",
		"tcpdump -w /dev/null: 800.0 ms (its process): fastop uses 4.0× less",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("table lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "\n"); n != 1+1+6+2+1 {
		t.Errorf("table has %d lines, want 11:\n%s", n, s)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back LiveResult
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Ratio != 4 || back.Tcpdump == nil || back.Tcpdump.CPUPerMpkt != 800*time.Millisecond || len(back.Runs) != 6 {
		t.Errorf("JSON round trip lost figures: %s", b)
	}
	for _, want := range []string{`"cpu_per_mpkt_ns":200000000`, `"batch":256`, `"mirror":true`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}

	// A sweep of two points: one row each, with tcpdump beside fastop.
	r2 := r
	r2.Flows = 1_000_000
	r2.Runs = slices.Clone(r.Runs)
	r2.Runs[0].Drops, r2.Runs[0].Lost = 17, 17
	r2.summarize()
	r2.Runs[0].Counted -= 17
	r2.summarize()
	sw := SweepTable([]LiveResult{r, r2})
	lines := strings.Split(sw, "\n")
	if len(lines) != 1+1+2+1+1 || !strings.HasPrefix(lines[0], "live sweep: 60-byte frames, built before the clock starts, random order, up to 256 frames per send (transmit ring), to a foreign MAC") {
		t.Fatalf("sweep table:\n%s", sw)
	}
	for i, want := range [][]string{
		{"1,000", "900,001", "3,000,000", "3,000,000", "0", "0", "200.0", "72", "2,999,995", "5", "800.0", "40", "0.25×", "generator"},
		{"1,000,000", "900,001", "3,000,000", "2,999,983", "17", "17", "200.0", "72", "2,999,995", "5", "800.0", "40", "0.25×", "fastop"},
	} {
		if got := strings.Fields(lines[2+i]); !slices.Equal(got, want) {
			t.Errorf("sweep row %d: %q, want %q", i, got, want)
		}
	}

	// fastop dearer than tcpdump: the comparison says "more".
	r.Tcpdump.CPUPerMpkt = 100 * time.Millisecond
	r.Ratio = 0.5
	if s := r.String(); !strings.Contains(s, "tcpdump -w /dev/null: 100.0 ms (its process): fastop uses 2.0× more") {
		t.Errorf("ratio 0.5 reads:\n%s", s)
	}

	// Without tcpdump: no summary, no ratio, no comparison line.
	r.Runs = slices.DeleteFunc(r.Runs, func(run LiveRun) bool { return run.Capture == "tcpdump" })
	r.summarize()
	if r.Tcpdump != nil || r.Ratio != 0 || strings.Contains(r.String(), "tcpdump") {
		t.Errorf("fastop alone: %+v\n%s", r.Tcpdump, r)
	}
}

// ownNamespaces lists the namespaces this process has in /run/netns.
func ownNamespaces(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/run/netns")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	prefix := netns.Prefix + strconv.Itoa(os.Getpid()) + "-"
	var names []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	return names
}

// requireLive skips unless namespaces can be made here.
func requireLive(t *testing.T) {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("skipping live benchmark test: %v", err)
	}
}

// checkCleanedUp fails if a namespace of this process that was not there
// before is left.
func checkCleanedUp(t *testing.T, before []string) {
	t.Helper()
	if after := ownNamespaces(t); !slices.Equal(after, before) {
		t.Errorf("namespaces left behind: %v (before: %v)", after, before)
	}
}

// A short live run counts every frame sent, through the ring and the whole
// pipeline, drops nothing, and measures CPU; tcpdump on the same traffic
// captures every frame too.
func TestLive(t *testing.T) {
	requireLive(t)
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Fatalf("tcpdump is the comparison here (apt-get install tcpdump; .ci/run installs it): %v", err)
	}
	for _, tc := range []struct {
		fanout  int
		tcpdump bool
		batch   int
		// mirror: to a foreign MAC, as a mirror port delivers: both
		// captures still get every frame, fastop counts every one (by
		// addresses: neither MAC is the interface's).
		mirror  bool
		senders int // several: each its share of the flows
	}{{1, true, 0, false, 0}, {2, false, 1, false, 0}, {2, true, 64, true, 0}, {2, false, 0, false, 3}} {
		t.Run(fmt.Sprintf("fanout=%d,tcpdump=%v,batch=%d,mirror=%v,senders=%d", tc.fanout, tc.tcpdump, tc.batch, tc.mirror, tc.senders), func(t *testing.T) {
			before := ownNamespaces(t)
			const count = 20000
			res, err := Live(context.Background(), LiveOptions{Fanout: tc.fanout, Flows: 1000, Count: count, Rate: 20000, Tcpdump: tc.tcpdump, Batch: tc.batch, Mirror: tc.mirror, Senders: tc.senders})
			if err != nil {
				t.Fatal(err)
			}
			checkCleanedUp(t, before)
			t.Logf("\n%s", res)
			wantRuns := 1
			if tc.tcpdump {
				wantRuns = 2
			}
			if len(res.Runs) != wantRuns || res.Fanout != tc.fanout || res.Flows != 1000 || res.Count != count || res.RingBytes != afpacket.DefaultBlocks*afpacket.DefaultBlockSize ||
				res.Batch != max(tc.batch, 1) && !(tc.batch == 0 && res.Batch == DefaultLiveBatch) || res.Mirror != tc.mirror || res.Senders != max(tc.senders, 1) {
				t.Fatalf("result header %+v", res)
			}
			f := res.Runs[0]
			if f.Capture != "fastop" || f.Sent != count || f.Failed != 0 {
				t.Fatalf("fastop run sent %d of %d (%d refused)", f.Sent, count, f.Failed)
			}
			if f.Captured != f.Sent || f.Counted != f.Sent || f.Seen != f.Sent || f.Drops != 0 || f.Unread != 0 || f.Lost != 0 {
				t.Errorf("fastop: sent %d, kernel saw %d, captured %d, counted %d, dropped %d, unread %d, lost %d",
					f.Sent, f.Seen, f.Captured, f.Counted, f.Drops, f.Unread, f.Lost)
			}
			if f.Flows != 1000 {
				t.Errorf("fastop's table holds %d flows, want 1000", f.Flows)
			}
			if f.CPU <= 0 || f.CPUPerMpkt <= 0 || f.ReaderCPU <= 0 || f.ReaderCPUPerMpkt <= 0 || f.GenCPU <= 0 || f.OfferedPPS <= 0 || f.CapturedPPS <= 0 {
				t.Errorf("fastop figures not all positive: %+v", f)
			}
			if f.ReaderCPU > f.CPU || f.FinishCPU > f.CPU {
				t.Errorf("reader CPU %v or finishing CPU %v exceeds the capture side's %v, which includes them", f.ReaderCPU, f.FinishCPU, f.CPU)
			}
			if f.PeakRSS < 10<<20 || f.PeakRSS > 2<<30 {
				t.Errorf("fastop's peak RSS %d bytes: not a plausible figure", f.PeakRSS)
			}
			if res.Fastop.Runs != 1 || res.Fastop.MaxLost != 0 || res.Fastop.CPUPerMpkt != f.CPUPerMpkt {
				t.Errorf("fastop summary %+v", res.Fastop)
			}
			if !tc.tcpdump {
				if res.Tcpdump != nil {
					t.Errorf("tcpdump summary without tcpdump: %+v", res.Tcpdump)
				}
				return
			}
			d := res.Runs[1]
			if d.Capture != "tcpdump" || d.Sent != count || d.Captured != d.Sent || d.Seen != d.Sent || d.Drops != 0 || d.Lost != 0 {
				t.Errorf("tcpdump: sent %d, seen %d, captured %d, dropped %d, lost %d", d.Sent, d.Seen, d.Captured, d.Drops, d.Lost)
			}
			if d.CPU <= 0 || d.CPUPerMpkt <= 0 || d.GenCPU <= 0 || d.PeakRSS < 1<<20 {
				t.Errorf("tcpdump figures not all positive: %+v", d)
			}
			if res.Tcpdump == nil || res.Ratio <= 0 || res.TcpdumpKiB != int64(tc.fanout)*res.RingBytes>>10 {
				t.Errorf("tcpdump summary %+v, ratio %v, -B %d KiB", res.Tcpdump, res.Ratio, res.TcpdumpKiB)
			}
		})
	}
}

// A run bound by a duration far too short for its passes goes on until
// every flow was sent that many times, and fastop counts every frame.
func TestLivePasses(t *testing.T) {
	requireLive(t)
	const flows, passes = 5000, 2
	res, err := Live(context.Background(), LiveOptions{Flows: flows, Duration: time.Millisecond, Passes: passes, Rate: 50000})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Runs[0]
	if f.Sent+f.Failed < flows*passes || f.Counted != f.Sent || f.Flows != flows {
		t.Errorf("sent %d (%d refused) for %d flows × %d passes; counted %d; %d flows in the table", f.Sent, f.Failed, flows, passes, f.Counted, f.Flows)
	}
}

// With a kernel filter that passes a tenth of the flows, both captures see
// exactly that tenth (every flow is sent once per pass), fastop counts all of
// it, and the CPU per frame sent is reported.
func TestLiveKernelFilter(t *testing.T) {
	requireLive(t)
	const count = 20000
	res, err := Live(context.Background(), LiveOptions{Fanout: 2, Flows: 1000, Count: count, Rate: 20000, Tcpdump: true,
		Filter: "udp src portrange 1024-1123"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", res)
	for _, r := range res.Runs {
		if r.Sent != count || r.Seen != count/10 || r.Captured != r.Seen || r.Drops != 0 || r.Lost != 0 {
			t.Errorf("%s: sent %d, passed the filter %d (want %d), captured %d, dropped %d, lost %d", r.Capture, r.Sent, r.Seen, count/10, r.Captured, r.Drops, r.Lost)
		}
		if r.Capture == "fastop" && r.Counted != r.Seen {
			t.Errorf("fastop counted %d of the %d that passed", r.Counted, r.Seen)
		}
		if r.CPUPerSentMpkt <= 0 || r.CPUPerSentMpkt >= r.CPUPerMpkt {
			t.Errorf("%s: CPU per sent Mpkt %v, per captured %v", r.Capture, r.CPUPerSentMpkt, r.CPUPerMpkt)
		}
	}
	if !strings.Contains(res.String(), "with the kernel filter") {
		t.Errorf("the summary does not say what the filter saved:\n%s", res)
	}
}

// An error after the namespaces exist (the ring refuses a one-page buffer)
// still removes them.
func TestLiveCleanupAfterError(t *testing.T) {
	requireLive(t)
	before := ownNamespaces(t)
	_, err := Live(context.Background(), LiveOptions{Buffer: 4096, Count: 1000})
	if !errors.Is(err, afpacket.ErrInvalidConfig) || !strings.Contains(err.Error(), "--buffer") {
		t.Fatalf("Live with a one-page ring: %v, want the ring's invalid-configuration error", err)
	}
	checkCleanedUp(t, before)
}

// Cancelling the context (Ctrl-C) mid-run stops the generator and removes
// the namespaces; so does one cancelled before the start, which creates
// nothing.
func TestLiveCleanupOnCancel(t *testing.T) {
	requireLive(t)
	_, tcpdumpErr := exec.LookPath("tcpdump")
	for _, after := range []time.Duration{0, 300 * time.Millisecond} {
		t.Run(after.String(), func(t *testing.T) {
			before := ownNamespaces(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if after == 0 {
				cancel()
			} else {
				time.AfterFunc(after, cancel)
			}
			_, err := Live(ctx, LiveOptions{Duration: time.Minute, Rate: 10000, Tcpdump: tcpdumpErr == nil})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled Live returned %v, want context.Canceled", err)
			}
			checkCleanedUp(t, before)
		})
	}
}

// Asked for the comparison without tcpdump installed, Live says so and
// creates nothing.
func TestLiveWithoutTcpdump(t *testing.T) {
	requireLive(t)
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(ip, filepath.Join(dir, "ip")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	before := ownNamespaces(t)
	_, err = Live(context.Background(), LiveOptions{Count: 100, Tcpdump: true})
	if !errors.Is(err, exec.ErrNotFound) || !strings.Contains(err.Error(), "install tcpdump") {
		t.Fatalf("Live without tcpdump: %v", err)
	}
	checkCleanedUp(t, before)
}

// The generator process reports its failures as JSON and a non-zero exit.
func TestGeneratorMainErrors(t *testing.T) {
	for _, tc := range []struct {
		name, cfg, want string
	}{
		{"not JSON", "{", "generator configuration"},
		{"no such interface", `{"Iface":"fastop-none0","Flows":1,"Count":1}`, "fastop-none0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			code := generatorMain(tc.cfg, strings.NewReader("go\n"), &out)
			var r genReport
			if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
				t.Fatalf("output %q: %v", out.String(), err)
			}
			if code == 0 || !strings.Contains(r.Err, tc.want) || r.Sent != 0 {
				t.Errorf("exit %d, report %+v, want a failure mentioning %q", code, r, tc.want)
			}
		})
	}
}

// Without root, Live refuses at once with ErrLiveRoot and says to run as
// root. As root the test runs itself again as nobody.
func TestLiveNeedsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		_, err := Live(context.Background(), LiveOptions{Count: 10})
		if !errors.Is(err, ErrLiveRoot) || !strings.Contains(err.Error(), "run it as root") {
			t.Fatalf("Live as uid %d: %v, want ErrLiveRoot", os.Geteuid(), err)
		}
		return
	}
	netns.RerunAsNobody(t, "TestLiveNeedsRoot")
}

// envList reads a comma-separated list of integers from an environment
// variable, or returns def.
func envList(t *testing.T, name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			t.Fatalf("%s=%q: %v", name, v, err)
		}
		out = append(out, n)
	}
	return out
}

// TestLiveMeasure is an opt-in measurement, not a test: with
// FASTOP_LIVE_MEASURE=1 (and root) it runs the live benchmark at every
// flow count of FASTOP_LIVE_FLOWS (default 1000,100000,1000000) and fanout
// of FASTOP_LIVE_FANOUT (default 1,2), FASTOP_LIVE_ROUNDS rounds each
// (default 3), FASTOP_LIVE_SECONDS per run (default 5), at
// FASTOP_LIVE_RATE frames/s (default 0: as fast as the generator can),
// with tcpdump on the same traffic, and logs each table and its JSON:
//
//	FASTOP_LIVE_MEASURE=1 go test -run TestLiveMeasure -v -timeout 1h ./bench/
func TestLiveMeasure(t *testing.T) {
	if os.Getenv("FASTOP_LIVE_MEASURE") == "" {
		t.Skip("skipping the live measurement: set FASTOP_LIVE_MEASURE=1 to run it")
	}
	requireLive(t)
	flows := envList(t, "FASTOP_LIVE_FLOWS", []int{1000, 100_000, 1_000_000})
	fanouts := envList(t, "FASTOP_LIVE_FANOUT", []int{1, 2})
	rounds := envList(t, "FASTOP_LIVE_ROUNDS", []int{3})[0]
	secs := envList(t, "FASTOP_LIVE_SECONDS", []int{5})[0]
	rate := envList(t, "FASTOP_LIVE_RATE", []int{0})[0]
	_, err := exec.LookPath("tcpdump")
	withTcpdump := err == nil
	if !withTcpdump {
		t.Logf("tcpdump not installed: measuring fastop alone: %v", err)
	}
	var summary []string
	for _, nf := range flows {
		for _, fo := range fanouts {
			res, err := Live(context.Background(), LiveOptions{Fanout: fo, Flows: nf, Rate: float64(rate),
				Duration: time.Duration(secs) * time.Second, Rounds: rounds, Tcpdump: withTcpdump, Log: testLog{t}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(res)
			t.Logf("\n%s%s", res, b)
			var finish []time.Duration
			for _, r := range res.Runs {
				if r.Capture == "fastop" {
					finish = append(finish, r.FinishCPU)
				}
			}
			line := fmt.Sprintf("%9d flows, fanout %d: offered %9s pps, fastop %7s ms/Mpkt (readers %7s; finishing %s ms in all), max drops %d, max lost %d",
				nf, fo, group(uint64(res.Fastop.OfferedPPS)), ms(res.Fastop.CPUPerMpkt), ms(res.Fastop.ReaderCPUPerMpkt),
				ms(median(finish)), res.Fastop.MaxDrops, res.Fastop.MaxLost)
			if res.Tcpdump != nil {
				line += fmt.Sprintf("; tcpdump offered %9s pps, %7s ms/Mpkt, max drops %d, max lost %d; tcpdump/fastop CPU %.2f",
					group(uint64(res.Tcpdump.OfferedPPS)), ms(res.Tcpdump.CPUPerMpkt), res.Tcpdump.MaxDrops, res.Tcpdump.MaxLost, res.Ratio)
			}
			summary = append(summary, line)
		}
	}
	t.Logf("medians of %d rounds, %d s per run:\n%s", rounds, secs, strings.Join(summary, "\n"))
}

// testLog writes progress lines to the test log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// The header says how the generator sent and where the frames went, so a
// table never hides which generator set its offered rate.
func TestLiveHeaderGenerator(t *testing.T) {
	for _, tc := range []struct {
		batch  int
		mirror bool
		want   []string
	}{
		{1, false, []string{"one sendto per frame", "to the capture interface's MAC (its IP stack receives them)"}},
		{0, false, []string{"one sendto per frame"}},
		{64, false, []string{"up to 64 frames per send (transmit ring)", "to the capture interface's MAC"}},
		{256, true, []string{"up to 256 frames per send (transmit ring)", "to a foreign MAC (--mirror"}},
	} {
		r := LiveResult{Flows: 10, FrameLen: liveFrameLen, Fanout: 1, Mode: "hash", Count: 5, Rounds: 1, Batch: tc.batch, Mirror: tc.mirror, Senders: 1}
		h := r.header()
		for _, w := range tc.want {
			if !strings.Contains(h, w) {
				t.Errorf("batch %d, mirror %v: header lacks %q: %s", tc.batch, tc.mirror, w, h)
			}
		}
		if strings.Contains(h, "foreign") != tc.mirror {
			t.Errorf("mirror %v: header %s", tc.mirror, h)
		}
	}
}

// Several senders share a run: every flow in exactly one share, in the
// random order, the count and the rate split, passes kept per share.
func TestSenderRuns(t *testing.T) {
	src := gen.Frames(make([][]byte, 10))
	order := gen.Shuffled(10, 1)
	for _, tc := range []struct {
		cfg        genConfig
		counts     []uint64
		minCounts  []uint64
		shareSizes []int
	}{
		{genConfig{Flows: 10, Count: 7, Rate: 300, Batch: 4}, []uint64{7}, []uint64{0}, []int{10}},
		{genConfig{Flows: 10, Count: 7, Rate: 300, Senders: 3}, []uint64{3, 2, 2}, []uint64{0, 0, 0}, []int{3, 3, 4}},
		{genConfig{Flows: 10, Duration: time.Second, Passes: 2, Senders: 4}, []uint64{0, 0, 0, 0}, []uint64{4, 6, 4, 6}, []int{2, 3, 2, 3}},
	} {
		runs := senderRuns(src, order, tc.cfg)
		n := max(tc.cfg.Senders, 1)
		if len(runs) != n {
			t.Fatalf("%+v: %d runs", tc.cfg, len(runs))
		}
		var flows []int32
		for i, rc := range runs {
			part := rc.Source.(gen.Subset)
			flows = append(flows, part.Flows...)
			if rc.Count != tc.counts[i] || rc.MinCount != tc.minCounts[i] || part.Len() != tc.shareSizes[i] ||
				rc.Rate != tc.cfg.Rate/float64(n) || rc.Duration != tc.cfg.Duration || rc.Batch != tc.cfg.Batch || rc.Order != nil {
				t.Errorf("%+v: sender %d: %+v (%d flows)", tc.cfg, i, rc, part.Len())
			}
		}
		if !slices.Equal(flows, order) {
			t.Errorf("%+v: the shares %v are not the order %v", tc.cfg, flows, order)
		}
	}
}

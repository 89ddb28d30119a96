package bench

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fastop/fastop/bench/gen"
	"github.com/fastop/fastop/ring/afpacket"
)

// LiveOptions configure [Live], the live benchmark: it builds two network
// namespaces joined by a veth pair, sends synthetic frames from one end and
// captures them on the other with a ring group feeding the same engine
// (decode, direction rules, per-member deltas, merger) as `fastop -i`, and
// optionally runs tcpdump -w /dev/null on the same traffic. The zero value
// is valid: 1,000 flows, one member, as fast as the generator can, 5 s,
// one round, no tcpdump.
type LiveOptions struct {
	Fanout   int                 // fanout members of the capture group (0: 1)
	Mode     afpacket.FanoutMode // how the kernel spreads packets over them (0: hash)
	Flows    int                 // distinct 5-tuples, each sent once per pass in a random order (0: 1,000)
	Rate     float64             // frames per second offered (0: as fast as the generator can)
	Duration time.Duration       // sending time of each run (0: 5 s, unless Count is set)
	Count    uint64              // frames sent by each run (0: as many as Duration allows)
	// Passes is the least number of passes over the flows a run makes when
	// it is bound by Duration: a run goes on past Duration until every
	// flow was sent Passes times (0: 3). With Count, Count alone decides.
	Passes   int
	Buffer   int64 // ring memory per member in bytes (0: the ring's default, 32 MiB)
	MaxFlows int   // bound on the flow table (0: table.DefaultMaxFlows)
	Rounds   int   // runs of each capture; the summaries are medians (0: 1)
	Tcpdump  bool  // also run tcpdump -w /dev/null on the same traffic in every round
	// Filter is a pcap-filter expression both captures apply in the kernel
	// (fastop's compiled program; tcpdump's libpcap one). With a filter,
	// CPU per million *sent* frames shows what the kernel filter saves.
	Filter string
	// Batch is how many frames the generator hands the kernel per system
	// call, through a transmit ring (0: gen.DefaultBatch; 1: one sendto
	// per frame, the generator of earlier versions).
	Batch int
	// Mirror sends the frames to a unicast MAC address that is not the
	// capture interface's, as a switch's mirror (SPAN) port delivers
	// other hosts' traffic: the capture, promiscuous, sees every frame,
	// and the capture namespace's IP stack drops them on arrival
	// (PACKET_OTHERHOST) instead of routing them. The receiving kernel's
	// work, charged to the generator on a veth, is then smaller, so the
	// generator offers more. Without Mirror the frames are addressed to
	// the capture interface, as to a host that receives them.
	Mirror bool
	// Senders is the number of the generator's sending threads (0: 1).
	// Each sends its own share of the flows (a contiguous part of the
	// random order, so each flow is still sent once per pass) at its
	// share of Rate. On a veth the receiving kernel's work runs on the
	// sending thread, so one sender keeps about one CPU busy: more
	// senders offer more, on CPUs the capture then shares.
	Senders int
	Log     io.Writer // progress lines for people (nil: quiet)
}

// Defaults and limits of LiveOptions.
const (
	DefaultLiveFlows    = 1000
	DefaultLiveDuration = 5 * time.Second
	DefaultLivePasses   = 3
	DefaultLiveBatch    = gen.DefaultBatch
	MaxLiveSenders      = 64
	// MaxLiveFlows bounds Flows: the generator keeps one counter per flow.
	MaxLiveFlows = MaxSynthFlows
)

// liveFrameLen is the captured length of every frame the live benchmark
// sends: the shortest Ethernet frame (64 bytes on the wire with the FCS),
// the worst case per byte.
const liveFrameLen = 60

// tcpdumpDrain is how long a tcpdump run waits after the last frame before
// it stops tcpdump: libpcap asks the kernel to retire a partly filled ring
// block after 1 s (tcpdump's default timeout), and tcpdump then writes it.
const tcpdumpDrain = 1500 * time.Millisecond

// Errors of the live benchmark.
var (
	// ErrLiveOptions marks LiveOptions that Live cannot honour.
	ErrLiveOptions = errors.New("bad live benchmark options")
	// ErrLiveRoot: the benchmark creates namespaces and a veth pair.
	ErrLiveRoot = errors.New("the live benchmark needs root")
)

func (o LiveOptions) withDefaults() LiveOptions {
	if o.Fanout == 0 {
		o.Fanout = 1
	}
	if o.Mode == 0 {
		o.Mode = afpacket.FanoutHash
	}
	if o.Flows == 0 {
		o.Flows = DefaultLiveFlows
	}
	if o.Duration == 0 && o.Count == 0 {
		o.Duration = DefaultLiveDuration
	}
	if o.Rounds == 0 {
		o.Rounds = 1
	}
	if o.Passes == 0 {
		o.Passes = DefaultLivePasses
	}
	if o.Batch == 0 {
		o.Batch = DefaultLiveBatch
	}
	if o.Senders == 0 {
		o.Senders = 1
	}
	return o
}

func (o LiveOptions) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("live benchmark: "+format+": %w", append(args, ErrLiveOptions)...)
	}
	switch {
	case o.Fanout < 1 || o.Fanout > afpacket.MaxMembers:
		return bad("fanout %d: use 1 to %d", o.Fanout, afpacket.MaxMembers)
	case o.Mode > afpacket.FanoutQM:
		return bad("fanout mode %v: use hash, cpu, lb or qm", o.Mode)
	case o.Flows < 1 || o.Flows > MaxLiveFlows:
		return bad("%d flows: use 1 to %d", o.Flows, MaxLiveFlows)
	case o.Rate < 0 || o.Rate > 1e9:
		return bad("rate %g frames/s: use 0 (as fast as possible) up to 1e9", o.Rate)
	case o.Duration < 0:
		return bad("duration %v is negative", o.Duration)
	case o.Buffer < 0:
		return bad("ring buffer %d bytes is negative", o.Buffer)
	case o.MaxFlows < 0:
		return bad("max flows %d is negative", o.MaxFlows)
	case o.Rounds < 1 || o.Rounds > 100:
		return bad("%d rounds: use 1 to 100", o.Rounds)
	case o.Passes < 1 || o.Passes > 1000:
		return bad("%d passes: use 1 to 1000", o.Passes)
	case o.Batch < 1 || o.Batch > gen.MaxBatch:
		return bad("batch of %d frames: use 1 to %d", o.Batch, gen.MaxBatch)
	case o.Senders < 1 || o.Senders > MaxLiveSenders:
		return bad("%d senders: use 1 to %d", o.Senders, MaxLiveSenders)
	case o.Senders > o.Flows:
		return bad("%d senders for %d flows: each sender needs a flow", o.Senders, o.Flows)
	}
	return nil
}

// LiveRun is what one capture of one round measured. Counts are frames.
//
// The generator is a process of its own (this program again), so the
// capture side is measured as a whole process, for fastop as for tcpdump.
// CPU is its CPU time (user + system, all threads) from just before the
// first frame is sent until the capture has accounted for the last one:
//   - fastop: this process (getrusage): the ring readers (decode, direction
//     rules and deltas included), the merger (tick merges and snapshots),
//     the garbage collector and the runtime, stopping the readers and the
//     final snapshot, and the benchmark's own few polls (a tcpdump run's
//     SelfCPU shows their size). ReaderCPU is the reader threads alone
//     (Group.CPUTime).
//   - tcpdump: the tcpdump process (schedstat of its threads), up to just
//     before it is told to stop.
//
// Neither includes the kernel's receive path (the socket filter, the
// fanout hash, the copy into the ring): on a veth it runs as softirq work
// on the sending thread, so it is in GenCPU, the generator process's CPU
// time, for both captures alike (unless the kernel accounts softirq time
// apart, CONFIG_IRQ_TIME_ACCOUNTING, when it is in no one's figure).
type LiveRun struct {
	Capture string `json:"capture"` // "fastop" or "tcpdump"
	Round   int    `json:"round"`   // 1-based

	Sent       uint64        `json:"sent"`   // frames the kernel accepted from the generator
	Failed     uint64        `json:"failed"` // frames it refused (a full backlog)
	Elapsed    time.Duration `json:"elapsed_ns"`
	OfferedPPS float64       `json:"offered_pps"` // Sent / Elapsed

	Seen        uint64  `json:"seen"`         // frames that passed the capture's kernel filter (tp_packets; tcpdump's "received by filter")
	Captured    uint64  `json:"captured"`     // frames delivered to user space (fastop: to the pipeline; tcpdump: written)
	Counted     uint64  `json:"counted"`      // fastop: frames the pipeline accounted to flows (tcpdump: 0)
	Flows       int     `json:"flows"`        // fastop: flows in the final table (tcpdump: 0)
	Drops       uint64  `json:"drops"`        // frames the kernel dropped for want of ring space
	Unread      uint64  `json:"unread"`       // seen, not dropped, and still not read when the capture stopped
	Lost        uint64  `json:"lost"`         // Sent minus what the capture accounted for (fastop: Counted; tcpdump: Captured)
	CapturedPPS float64 `json:"captured_pps"` // Captured / Elapsed

	CPU              time.Duration `json:"cpu_ns"`
	CPUPerMpkt       time.Duration `json:"cpu_per_mpkt_ns"`      // CPU per million captured frames
	CPUPerSentMpkt   time.Duration `json:"cpu_per_sent_mpkt_ns"` // CPU per million frames sent (what a filter saves)
	ReaderCPU        time.Duration `json:"reader_cpu_ns,omitempty"`
	ReaderCPUPerMpkt time.Duration `json:"reader_cpu_per_mpkt_ns,omitempty"`
	// FinishCPU is the part of a fastop run's CPU spent after the last
	// frame was delivered: stopping the readers, the last merge and the
	// final snapshot (one-off costs that grow with the flow count).
	FinishCPU     time.Duration `json:"finish_cpu_ns,omitempty"`
	GenCPU        time.Duration `json:"gen_cpu_ns"` // the generator process: its sends and the kernel's receive path
	GenCPUPerMpkt time.Duration `json:"gen_cpu_per_mpkt_ns"`
	// SelfCPU is this process's CPU time over the run: fastop's CPU for a
	// fastop run; for a tcpdump run, the benchmark's own overhead, the
	// noise floor of fastop's figure.
	SelfCPU time.Duration `json:"self_cpu_ns"`
	// PeakRSS is the capture process's peak resident memory over the run
	// (VmHWM), rings included: for fastop this benchmark's process (its
	// peak is reset before the run; the generator is another process),
	// for tcpdump its process.
	PeakRSS uint64 `json:"peak_rss_bytes"`
}

// LiveSummary is one capture's figures over all rounds: medians of the
// rates and CPU costs, and the worst losses.
type LiveSummary struct {
	Capture          string        `json:"capture"`
	Runs             int           `json:"runs"`
	OfferedPPS       float64       `json:"offered_pps"`
	CapturedPPS      float64       `json:"captured_pps"`
	CPUPerMpkt       time.Duration `json:"cpu_per_mpkt_ns"`
	CPUPerSentMpkt   time.Duration `json:"cpu_per_sent_mpkt_ns"`
	ReaderCPUPerMpkt time.Duration `json:"reader_cpu_per_mpkt_ns,omitempty"`
	GenCPUPerMpkt    time.Duration `json:"gen_cpu_per_mpkt_ns"`
	PeakRSS          uint64        `json:"peak_rss_bytes"` // the largest of the runs
	Counted          uint64        `json:"counted"`        // fastop: frames counted, over all runs (tcpdump: captured)
	Sent             uint64        `json:"sent"`           // frames over all runs
	MaxDrops         uint64        `json:"max_drops"`      // the most any run dropped
	MaxLost          uint64        `json:"max_lost"`       // the most any run lost
}

// LiveResult is what [Live] measured.
type LiveResult struct {
	Flows      int           `json:"flows"`
	FrameLen   int           `json:"frame_len"` // captured bytes per frame (4 more on the wire)
	Fanout     int           `json:"fanout"`
	Mode       string        `json:"fanout_mode"`
	Rate       float64       `json:"rate"` // requested frames/s; 0: as fast as possible
	Duration   time.Duration `json:"duration_ns"`
	Count      uint64        `json:"count"`
	Passes     int           `json:"passes"`      // least passes over the flows per run (with Duration)
	RingBytes  int64         `json:"ring_bytes"`  // ring memory per member
	TcpdumpKiB int64         `json:"tcpdump_kib"` // tcpdump's -B: the group's ring memory in all
	Rounds     int           `json:"rounds"`
	Filter     string        `json:"filter,omitempty"`
	Batch      int           `json:"batch"`   // frames per system call of the generator (1: sendto per frame)
	Mirror     bool          `json:"mirror"`  // frames to a foreign MAC (see LiveOptions.Mirror)
	Senders    int           `json:"senders"` // the generator's sending threads
	CPUs       int           `json:"cpus"`
	Kernel     string        `json:"kernel"`

	Runs    []LiveRun    `json:"runs"` // every run, in the order they ran
	Fastop  LiveSummary  `json:"fastop"`
	Tcpdump *LiveSummary `json:"tcpdump,omitempty"`
	// Ratio is tcpdump's CPU per million packets over fastop's (0 without
	// tcpdump): how many times less CPU fastop spends.
	Ratio float64 `json:"ratio,omitempty"`
}

// summarize fills r's summaries and ratio from r.Runs.
func (r *LiveResult) summarize() {
	r.Fastop = summarizeRuns("fastop", r.Runs)
	r.Tcpdump = nil
	r.Ratio = 0
	if s := summarizeRuns("tcpdump", r.Runs); s.Runs > 0 {
		r.Tcpdump = &s
		if r.Fastop.CPUPerMpkt > 0 {
			r.Ratio = float64(s.CPUPerMpkt) / float64(r.Fastop.CPUPerMpkt)
		}
	}
}

func summarizeRuns(capture string, runs []LiveRun) LiveSummary {
	s := LiveSummary{Capture: capture}
	var offered, captured []float64
	var cpu, cpuSent, reader, gen []time.Duration
	for _, r := range runs {
		if r.Capture != capture {
			continue
		}
		s.Runs++
		s.Sent += r.Sent
		s.PeakRSS = max(s.PeakRSS, r.PeakRSS)
		if r.Capture == "fastop" {
			s.Counted += r.Counted
		} else {
			s.Counted += r.Captured
		}
		s.MaxDrops = max(s.MaxDrops, r.Drops)
		s.MaxLost = max(s.MaxLost, r.Lost)
		offered = append(offered, r.OfferedPPS)
		captured = append(captured, r.CapturedPPS)
		cpu = append(cpu, r.CPUPerMpkt)
		cpuSent = append(cpuSent, r.CPUPerSentMpkt)
		reader = append(reader, r.ReaderCPUPerMpkt)
		gen = append(gen, r.GenCPUPerMpkt)
	}
	if s.Runs == 0 {
		return s
	}
	s.OfferedPPS = median(offered)
	s.CapturedPPS = median(captured)
	s.CPUPerMpkt = median(cpu)
	s.CPUPerSentMpkt = median(cpuSent)
	s.ReaderCPUPerMpkt = median(reader)
	s.GenCPUPerMpkt = median(gen)
	return s
}

// median returns the middle value (the lower one of an even count's two:
// a figure some run really had).
func median[T int64 | float64 | time.Duration](v []T) T {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[(len(v)-1)/2]
}

// perMillion returns cpu per million packets.
func perMillion(cpu time.Duration, packets uint64) time.Duration {
	if packets == 0 {
		return 0
	}
	return time.Duration(float64(cpu) * 1e6 / float64(packets))
}

// ms formats a duration as milliseconds with one decimal.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

// mb formats bytes as whole megabytes (10^6).
func mb(b uint64) string {
	if b == 0 {
		return "-"
	}
	return strconv.FormatUint((b+500_000)/1_000_000, 10)
}

// group formats n with thousands separators.
func group(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// amount says how much each run sends.
func (r *LiveResult) amount() string {
	var amount []string
	if r.Count > 0 {
		amount = append(amount, group(r.Count)+" frames")
	}
	if r.Duration > 0 {
		amount = append(amount, r.Duration.String())
	}
	s := strings.Join(amount, " or ") + " per run"
	if r.Count == 0 && r.Passes > 0 {
		s += fmt.Sprintf(" and at least %d passes over the flows", r.Passes)
	}
	return s
}

func (r *LiveResult) header() string {
	rate := "as fast as possible"
	if r.Rate > 0 {
		rate = group(uint64(r.Rate)) + " frames/s"
	}
	ringMem := ""
	if r.RingBytes > 0 { // known once a group was opened
		ringMem = fmt.Sprintf(", ring %d MiB per member", r.RingBytes>>20)
	}
	filt := ""
	if r.Filter != "" {
		filt = fmt.Sprintf(", kernel filter %q", r.Filter)
	}
	return fmt.Sprintf("live: %s flows of %d-byte IPv4/UDP frames, built before the clock starts, sent in a random order, %s, %s, %s, %s, fanout %d (%s)%s%s, %d round(s); %d CPUs, Linux %s",
		group(uint64(r.Flows)), r.FrameLen, rate, r.sending(), r.addressing(), r.amount(), r.Fanout, r.Mode,
		ringMem, filt, r.Rounds, r.CPUs, r.Kernel)
}

// sending says how the generator hands frames to the kernel.
func (r *LiveResult) sending() string {
	s := "one sendto per frame"
	if r.Batch > 1 {
		s = fmt.Sprintf("up to %d frames per send (transmit ring)", r.Batch)
	}
	if r.Senders > 1 {
		s += fmt.Sprintf(", %d sending threads", r.Senders)
	}
	return s
}

// addressing says where the frames go: to the capture host, or past it.
func (r *LiveResult) addressing() string {
	if r.Mirror {
		return "to a foreign MAC (--mirror: a mirror port's traffic, dropped by the capture host's IP stack on arrival)"
	}
	return "to the capture interface's MAC (its IP stack receives them)"
}

// String formats r as a table for people: every run, then the medians and
// the comparison. CPU columns are milliseconds per million captured frames.
func (r LiveResult) String() string {
	var b strings.Builder
	b.WriteString(r.header())
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tcapture\toffered pps\tcaptured pps\tsent\tcaptured\tcounted\tdropped\tlost\tflows\tCPU ms/Mpkt\treaders ms/Mpkt\tgenerator ms/Mpkt\tpeak RSS MB\t")
	for _, run := range r.Runs {
		counted, flows, readers := "-", "-", "-"
		if run.Capture == "fastop" {
			counted, flows, readers = group(run.Counted), group(uint64(run.Flows)), ms(run.ReaderCPUPerMpkt)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			run.Round, run.Capture, group(uint64(run.OfferedPPS)), group(uint64(run.CapturedPPS)),
			group(run.Sent), group(run.Captured), counted, group(run.Drops), group(run.Lost), flows,
			ms(run.CPUPerMpkt), readers, ms(run.GenCPUPerMpkt), mb(run.PeakRSS))
	}
	for _, s := range []*LiveSummary{&r.Fastop, r.Tcpdump} {
		if s == nil || s.Runs == 0 {
			continue
		}
		readers := "-"
		if s.Capture == "fastop" {
			readers = ms(s.ReaderCPUPerMpkt)
		}
		fmt.Fprintf(tw, "median\t%s\t%s\t%s\t%s\t\t\t%s\t%s\t\t%s\t%s\t%s\t%s max\t\n",
			s.Capture, group(uint64(s.OfferedPPS)), group(uint64(s.CapturedPPS)), group(s.Sent),
			group(s.MaxDrops)+" max", group(s.MaxLost)+" max", ms(s.CPUPerMpkt), readers, ms(s.GenCPUPerMpkt), mb(s.PeakRSS))
	}
	tw.Flush()
	fmt.Fprintf(&b, "fastop: %s ms of CPU per million packets (its whole process)", ms(r.Fastop.CPUPerMpkt))
	if r.Tcpdump != nil {
		fmt.Fprintf(&b, "; tcpdump -w /dev/null: %s ms (its process)", ms(r.Tcpdump.CPUPerMpkt))
		switch {
		case r.Ratio >= 1:
			fmt.Fprintf(&b, ": fastop uses %.1f× less", r.Ratio)
		case r.Ratio > 0:
			fmt.Fprintf(&b, ": fastop uses %.1f× more", 1/r.Ratio)
		}
	}
	b.WriteString("\n")
	if r.Filter != "" {
		fmt.Fprintf(&b, "with the kernel filter, per million frames sent: fastop %s ms", ms(r.Fastop.CPUPerSentMpkt))
		if r.Tcpdump != nil {
			fmt.Fprintf(&b, ", tcpdump %s ms", ms(r.Tcpdump.CPUPerSentMpkt))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// tcpdumpStats is what tcpdump prints on stderr when it stops.
type tcpdumpStats struct {
	captured, received, dropped uint64
	ok                          bool // all three lines were there
}

var tcpdumpStatRE = regexp.MustCompile(`(?m)^\s*(\d+) packets? (captured|received by filter|dropped by kernel)\s*$`)

// parseTcpdumpStats reads tcpdump's closing statistics ("N packets
// captured", "N packets received by filter", "N packets dropped by
// kernel"); ok says whether all three were found.
func parseTcpdumpStats(out string) tcpdumpStats {
	var s tcpdumpStats
	var seen [3]bool
	for _, m := range tcpdumpStatRE.FindAllStringSubmatch(out, -1) {
		v, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			continue
		}
		switch m[2] {
		case "captured":
			s.captured, seen[0] = v, true
		case "received by filter":
			s.received, seen[1] = v, true
		case "dropped by kernel":
			s.dropped, seen[2] = v, true
		}
	}
	s.ok = seen[0] && seen[1] && seen[2]
	return s
}

// Limit says what bounded a point run as fast as the generator goes: the
// generator, when fastop counted every frame it sent (fastop might take
// more), or the capture, when frames were dropped or lost.
func (r *LiveResult) Limit() string {
	switch {
	case r.Rate > 0:
		return "rate set"
	case r.Fastop.MaxDrops == 0 && r.Fastop.MaxLost == 0:
		return "generator"
	default:
		return "fastop"
	}
}

// SweepTable formats the points of a --flows sweep as one table: per
// point the offered rate, what fastop counted, dropped and lost, its CPU
// per million packets and its peak memory, and tcpdump's figures beside
// them (medians over the rounds; drops and losses are the worst round).
func SweepTable(points []LiveResult) string {
	var b strings.Builder
	if len(points) > 0 {
		p := points[0]
		fmt.Fprintf(&b, "live sweep: %d-byte frames, built before the clock starts, random order, %s, %s; %s; fanout %d (%s), %d round(s) per point; %d CPUs, Linux %s\n",
			p.FrameLen, p.sending(), p.addressing(), p.amount(), p.Fanout, p.Mode, p.Rounds, p.CPUs, p.Kernel)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "flows\toffered pps\tsent\tcounted\tdropped\tlost\tCPU ms/Mpkt\tpeak RSS MB\ttcpdump captured\tdropped\tCPU ms/Mpkt\tpeak RSS MB\tCPU vs tcpdump\tlimit\t")
	for i := range points {
		p := &points[i]
		f := &p.Fastop
		td := []string{"-", "-", "-", "-", "-"}
		if t := p.Tcpdump; t != nil {
			td = []string{group(t.Counted), group(t.MaxDrops), ms(t.CPUPerMpkt), mb(t.PeakRSS), "-"}
			if p.Ratio > 0 {
				td[4] = strconv.FormatFloat(1/p.Ratio, 'f', 2, 64) + "×"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			group(uint64(p.Flows)), group(uint64(f.OfferedPPS)), group(f.Sent), group(f.Counted), group(f.MaxDrops), group(f.MaxLost),
			ms(f.CPUPerMpkt), mb(f.PeakRSS), td[0], td[1], td[2], td[3], td[4], p.Limit())
	}
	tw.Flush()
	b.WriteString("CPU vs tcpdump: fastop's CPU per packet over tcpdump's (below 1: fastop spends less). limit: \"generator\" when fastop counted every frame sent (the generator's top rate bounds the point), \"fastop\" when frames were dropped or lost.\n")
	return b.String()
}

package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/fastop/fastop/bench"
	"github.com/fastop/fastop/ring/afpacket"
	"github.com/fastop/fastop/ring/priv"
	"github.com/fastop/fastop/table"
	"github.com/spf13/cobra"
)

type benchOptions struct {
	Workers   int
	Rounds    int
	MaxFlows  int
	JSON      bool
	Synthetic bool
	Synth     bench.SynthOptions
	Flows     flowList // --flows: one count, or (--live) a sweep
	Profile   string

	Live       bool
	Fanout     int
	FanoutMode string
	Rate       float64
	Buffer     string
	Tcpdump    bool
	Filter     string
	Passes     int
	Batch      int
	Mirror     bool
	Senders    int
}

// flowList is --flows: a flow count, or a comma-separated list of them
// (a --live sweep).
type flowList []int

func (l *flowList) String() string {
	parts := make([]string, len(*l))
	for i, n := range *l {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

func (l *flowList) Set(v string) error {
	var out flowList
	for part := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a flow count (a positive whole number; several: 1000,10000)", part)
		}
		out = append(out, n)
	}
	*l = out
	return nil
}

func (l *flowList) Type() string { return "n[,n...]" }

func (o *benchOptions) addFlags(c *cobra.Command) {
	fs := c.Flags()
	fs.IntVar(&o.Workers, "workers", runtime.NumCPU(), "workers to spread packets over by flow hash (as fastop -r --workers)")
	fs.IntVar(&o.Rounds, "rounds", 3, "replays per file; figures are medians")
	fs.IntVar(&o.MaxFlows, "max-flows", table.DefaultMaxFlows, "bound on the flow table")
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object per result")
	fs.BoolVar(&o.Synthetic, "synthetic", false, "generate traffic in memory instead of reading files")
	o.Flows = flowList{1000}
	fs.Var(&o.Flows, "flows", "distinct flows (synthetic: both directions of each); --live takes a list for a sweep: 1000,10000,100000,1000000")
	fs.IntVar(&o.Synth.Packets, "packets", 0, "synthetic: frames in all (default: max(4M, 4 × flows))")
	fs.Var(&o.Synth.Size, "size", "synthetic: frame sizes, 64 or imix")
	fs.Var(&o.Synth.Mix, "mix", "synthetic: traffic shapes, any of v4,v6,vlan,qinq (default v4)")
	fs.DurationVar(&o.Synth.Duration, "duration", 0, "synthetic: capture time the frames span (default 10s)")
	fs.Uint64Var(&o.Synth.Seed, "seed", 1, "synthetic: random seed")
	fs.BoolVar(&o.Synth.Copy, "copy-frames", false, "synthetic: give every packet its own bytes, as a ring does")
	fs.StringVar(&o.Profile, "cpuprofile", "", "write a CPU profile of the replays to a new `file` (go tool pprof); it must not exist, and under sudo it is created as the user who ran sudo")
	fs.BoolVar(&o.Live, "live", false, "live: send --flows flows between two network namespaces of its own and capture them with the ring (root)")
	fs.IntVar(&o.Fanout, "fanout", 1, "live: fanout members")
	fs.StringVar(&o.FanoutMode, "fanout-mode", "hash", "live: hash, cpu, lb or qm")
	fs.Float64Var(&o.Rate, "rate", 0, "live: frames per second to offer (0: as fast as the generator goes)")
	fs.StringVar(&o.Buffer, "buffer", "32M", "live: ring memory per member")
	fs.BoolVar(&o.Tcpdump, "tcpdump", false, "live: also capture the same traffic with tcpdump -w /dev/null and compare CPU and drops")
	fs.StringVar(&o.Filter, "filter", "", "live: a pcap-filter `expression` both captures apply in the kernel")
	fs.IntVar(&o.Passes, "passes", bench.DefaultLivePasses, "live: a run goes on past --duration until every flow was sent this many times")
	fs.IntVar(&o.Batch, "batch", bench.DefaultLiveBatch, "live: frames the generator hands the kernel per system call, through a transmit ring (1: one sendto per frame)")
	fs.BoolVar(&o.Mirror, "mirror", false, "live: send to a foreign MAC, as a mirror port delivers other hosts' traffic: the capture host's IP stack drops the frames at once, so the generator offers more")
	fs.IntVar(&o.Senders, "senders", 1, "live: the generator's sending threads, each with its share of the flows and of --rate (each keeps about a CPU busy)")
}

func newBenchCommand(streams IO) *cobra.Command {
	o := &benchOptions{}
	c := &cobra.Command{
		Use:   "bench [FILE... | --synthetic]",
		Short: "replay captures through decode and the flow tables and report packets per second",
		Long: `bench loads each capture into memory and replays it exactly as fastop -r replays
a file: one reader spreads the frames over --workers by the symmetric flow hash
(as the kernel's fanout spreads them), and the deltas are merged every 2 s of
capture time. It prints packets, flows, Mpps, ns/packet per worker, merge time
per tick, peak heap and allocations per packet.`,
		RunE: func(c *cobra.Command, args []string) error {
			if o.Profile != "" {
				stop, err := startProfile(o.Profile)
				if err != nil {
					return err
				}
				defer stop()
			}
			if o.MaxFlows < 1 || o.MaxFlows > maxFlowsLimit {
				return usageErrorf("--max-flows %d: out of range; use 1 to %d", o.MaxFlows, maxFlowsLimit)
			}
			if !o.Live {
				// Replays open no socket.
				if err := limitPrivileges(streams.ErrOut, false); err != nil {
					return err
				}
			}
			if o.Live {
				if o.Synthetic || len(args) > 0 {
					return usageErrorf("bench: --live sends its own traffic: no files, no --synthetic")
				}
				return runBenchLive(c.Context(), o, streams)
			}
			if len(o.Flows) != 1 {
				return usageErrorf("--flows %s: a list is a sweep, for --live only", o.Flows.String())
			}
			o.Synth.Flows = o.Flows[0]
			if o.Synthetic == (len(args) > 0) {
				return usageErrorf("bench: give capture files, --synthetic or --live (one of them)")
			}
			if o.Workers < 1 || o.Workers > 256 {
				return usageErrorf("--workers %d: use 1 to 256", o.Workers)
			}
			if o.Rounds < 1 {
				return usageErrorf("--rounds %d: must be at least 1", o.Rounds)
			}
			if o.Synthetic {
				capture, err := bench.Synthetic(o.Synth)
				if err != nil {
					return &usageError{err}
				}
				r := bench.Replay(capture, bench.Options{Workers: o.Workers, Rounds: o.Rounds, MaxFlows: o.MaxFlows})
				return printBench(streams, o.JSON, r)
			}
			for _, path := range args {
				capture, err := bench.Load(path)
				if err != nil {
					return err
				}
				r := bench.Replay(capture, bench.Options{Workers: o.Workers, Rounds: o.Rounds, MaxFlows: o.MaxFlows})
				if err := printBench(streams, o.JSON, r); err != nil {
					return err
				}
			}
			return nil
		},
	}
	o.addFlags(c)
	return c
}

func printBench(streams IO, asJSON bool, r bench.Result) error {
	if !asJSON {
		_, err := fmt.Fprintln(streams.Out, r)
		return err
	}
	b, err := json.Marshal(map[string]any{
		"name":              r.Name,
		"packets":           r.Packets,
		"flows":             r.Flows,
		"workers":           r.Workers,
		"rounds":            r.Rounds,
		"elapsed_ns":        r.Elapsed.Nanoseconds(),
		"mpps":              r.Mpps,
		"ns_per_packet":     r.NsPerPacket,
		"cpu_ns_per_packet": r.CPUNsPerPacket,
		"tick_p50_ns":       r.TickP50.Nanoseconds(),
		"tick_p99_ns":       r.TickP99.Nanoseconds(),
		"ticks":             r.Ticks,
		"peak_heap_bytes":   r.PeakHeap,
		"allocs_per_pkt":    r.AllocsPerPk,
		"counted":           r.Counted,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(streams.Out, "%s\n", b)
	return err
}

// startProfile starts a CPU profile into path and returns its stop. The
// file must be new: fastop may run as root (a sudo rule for it), and must
// not let --cpuprofile overwrite a file, follow a link or write to a
// device; under sudo it is created as the user who ran sudo.
func startProfile(path string) (func(), error) {
	f, err := priv.CreateNew(path)
	switch {
	case errors.Is(err, os.ErrExist) || errors.Is(err, syscall.ELOOP):
		return nil, usageErrorf("--cpuprofile %s: the file exists; fastop writes a profile only to a new file (it never overwrites a file or follows a symbolic link): remove it or name a new one", path)
	case errors.Is(err, os.ErrPermission):
		if uid, _, ok := priv.SudoUser(); ok {
			return nil, fmt.Errorf("--cpuprofile %s: permission denied to user %d, who ran sudo (fastop creates the profile as that user): name a file in a directory they may write", path, uid)
		}
		return nil, fmt.Errorf("--cpuprofile %s: permission denied: name a file in a directory you may write", path)
	case err != nil:
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// runBenchLive runs the live benchmark: the ring and the whole pipeline on
// traffic between two namespaces of its own, optionally against tcpdump.
func runBenchLive(ctx context.Context, o *benchOptions, streams IO) error {
	mode, err := afpacket.ParseFanoutMode(o.FanoutMode)
	if err != nil {
		return &usageError{fmt.Errorf("--fanout-mode: %w", err)}
	}
	buf, err := parseSize(o.Buffer)
	if err != nil {
		return usageErrorf("--buffer: %v", err)
	}
	var points []bench.LiveResult
	for _, flows := range o.Flows {
		res, err := bench.Live(ctx, bench.LiveOptions{
			Fanout:   o.Fanout,
			Mode:     mode,
			Flows:    flows,
			Rate:     o.Rate,
			Duration: o.Synth.Duration,
			Count:    uint64(o.Synth.Packets),
			Passes:   o.Passes,
			Buffer:   buf,
			MaxFlows: o.MaxFlows,
			Rounds:   o.Rounds,
			Tcpdump:  o.Tcpdump,
			Filter:   o.Filter,
			Batch:    o.Batch,
			Mirror:   o.Mirror,
			Senders:  o.Senders,
			Log:      streams.ErrOut,
		})
		if errors.Is(err, bench.ErrLiveOptions) {
			return &usageError{err}
		}
		if err != nil {
			return err
		}
		points = append(points, res)
		if o.JSON {
			b, err := json.Marshal(res)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(streams.Out, "%s\n", b); err != nil {
				return err
			}
			continue
		}
		if _, err := fmt.Fprintln(streams.Out, res.String()); err != nil {
			return err
		}
	}
	if !o.JSON && len(points) > 1 {
		_, err = fmt.Fprint(streams.Out, bench.SweepTable(points))
	}
	return err
}

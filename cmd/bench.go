package cmd

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/fastop/fastop/bench"
	"github.com/spf13/cobra"
)

type benchOptions struct {
	Workers  int
	Rounds   int
	MaxFlows int
	JSON     bool
}

func (o *benchOptions) addFlags(c *cobra.Command) {
	fs := c.Flags()
	fs.IntVar(&o.Workers, "workers", runtime.NumCPU(), "workers (one OS thread each) to spread packets over by flow hash")
	fs.IntVar(&o.Rounds, "rounds", 3, "replays per file; figures are medians")
	fs.IntVar(&o.MaxFlows, "max-flows", 1<<20, "bound on the flow table")
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object per result")
}

func newBenchCommand(streams IO) *cobra.Command {
	o := &benchOptions{}
	c := &cobra.Command{
		Use:   "bench FILE...",
		Short: "replay captures through decode and the flow tables and report packets per second",
		Long: `bench loads each capture into memory and replays it through the same workers and
merger that live capture uses: frames are spread over --workers by the symmetric
flow hash (as the kernel's fanout spreads them), and deltas are merged every 2 s
of capture time. It prints packets, flows, Mpps, ns/packet per worker, merge time
per tick, peak heap and allocations per packet.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if o.Workers < 1 || o.Workers > 256 {
				return usageErrorf("--workers %d: use 1 to 256", o.Workers)
			}
			if o.Rounds < 1 {
				return usageErrorf("--rounds %d: must be at least 1", o.Rounds)
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
		"name":            r.Name,
		"packets":         r.Packets,
		"flows":           r.Flows,
		"workers":         r.Workers,
		"rounds":          r.Rounds,
		"elapsed_ns":      r.Elapsed.Nanoseconds(),
		"mpps":            r.Mpps,
		"ns_per_packet":   r.NsPerPacket,
		"tick_p50_ns":     r.TickP50.Nanoseconds(),
		"tick_p99_ns":     r.TickP99.Nanoseconds(),
		"ticks":           r.Ticks,
		"peak_heap_bytes": r.PeakHeap,
		"allocs_per_pkt":  r.AllocsPerPk,
		"counted":         r.Counted,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(streams.Out, "%s\n", b)
	return err
}

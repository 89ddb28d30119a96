package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/fastop/fastop/bench/gen"
	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/ring/pcapfile"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/pipeline"
)

// Capture is a capture held in memory: records aliasing one buffer.
type Capture struct {
	Name    string
	Records []ring.Record
	Bytes   uint64 // wire bytes
}

// Load reads a pcap or pcapng file into memory. A damaged file is an error:
// a benchmark over part of a file would mislead.
func Load(path string) (*Capture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := pcapfile.FromBytes(path, data)
	if err != nil {
		return nil, err
	}
	c := &Capture{Name: path}
	batch := make([]ring.Record, 1024)
	for {
		n, err := f.ReadBatch(batch)
		for _, r := range batch[:n] {
			// Records of an in-memory file alias data, which stays alive,
			// so keeping them past the next ReadBatch is safe here.
			c.Records = append(c.Records, r)
			c.Bytes += uint64(r.Meta.WireLen)
		}
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Options configure a replay.
type Options struct {
	Workers  int // members, each on its own locked OS thread (≥ 1)
	Rounds   int // replays; the figures are medians (≥ 1)
	MaxFlows int // bound on the merged table (0: table.DefaultMaxFlows)
	Batch    int // records per Batch call, like a ring block (0: 1024)
	// Snaplen is how many bytes of each frame the replay keeps, as the
	// ring keeps only the headers (0: 128, fastop's default --snaplen;
	// the wire length is kept whole).
	Snaplen int
}

// Result is what one replay measured. Times are medians over the rounds.
type Result struct {
	Name        string
	Packets     int
	Flows       int // flows in the table at the end
	Workers     int
	Rounds      int
	Elapsed     time.Duration // wall time of the replay (all workers)
	Mpps        float64       // packets / Elapsed
	NsPerPacket float64       // per worker: the busiest worker's time / its packets, not counting time spent waiting for the merger
	// CPUNsPerPacket is the same worker's CPU time (its thread's
	// getrusage) per packet: on a shared machine it leaves out the time
	// the worker waited for a CPU, which wall time counts. 0 where the
	// thread's CPU time cannot be read (outside Linux).
	CPUNsPerPacket float64
	TickP50        time.Duration // merge + snapshot per tick
	TickP99        time.Duration
	Ticks          int
	PeakHeap       uint64  // bytes, sampled at every tick
	AllocsPerPk    float64 // heap allocations per packet over the whole replay
	Counted        uint64  // packets accounted to flows
}

// Replay runs c through the pipeline. Records are spread over the workers
// by the symmetric flow hash before the clock starts, as the kernel's fanout
// would, the first Snaplen bytes of each worker's frames copied into one arena as into a ring; each
// worker then replays its share in batches of Batch records, handing deltas
// to the merger at every 2 s of capture time, as a live member does. Unlike
// a live member, it waits for the merger when the merger is a tick behind
// (the replay runs faster than real time): the figures are those of the
// whole pipeline, merger included.
func Replay(c *Capture, o Options) Result {
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.Rounds < 1 {
		o.Rounds = 1
	}
	if o.Batch <= 0 {
		o.Batch = 1024
	}
	if o.Snaplen <= 0 {
		o.Snaplen = 128
	}
	parts := spread(c.Records, o.Workers, o.Snaplen)
	var rounds []Result
	for range o.Rounds {
		rounds = append(rounds, replayOnce(c, parts, o))
	}
	slices.SortFunc(rounds, func(a, b Result) int { return int(a.Elapsed - b.Elapsed) })
	r := rounds[len(rounds)/2]
	r.Rounds = o.Rounds
	return r
}

// share is one worker's part of a capture, laid out as a ring reader
// would see it: frame bytes one after another in one arena, and
// per-packet metadata without pointers, so the garbage collector never
// scans millions of records during a replay.
type share struct {
	arena []byte
	pkts  []packet
}

type packet struct {
	off  uint64
	n    uint32
	ts   int64
	meta decode.Meta
}

// spread deals the records out to the workers by the symmetric flow hash.
func spread(recs []ring.Record, workers, snaplen int) []share {
	parts := make([]share, workers)
	var size uint64
	for i := range recs {
		size += uint64(min(len(recs[i].Data), snaplen))
	}
	for w := range parts {
		// Room for an even share and a little more: the hash spreads
		// evenly, and append grows the rare part that outgrows it.
		parts[w].arena = make([]byte, 0, size/uint64(workers)+size/16+64)
		parts[w].pkts = make([]packet, 0, len(recs)/workers+len(recs)/16+16)
	}
	var p decode.Packet
	for i := range recs {
		w := 0
		if workers > 1 && decode.Frame(recs[i].Data, &recs[i].Meta, &p) == nil {
			w = int(p.FlowHash() % uint64(workers))
		}
		s := &parts[w]
		data := recs[i].Data[:min(len(recs[i].Data), snaplen)]
		meta := recs[i].Meta
		meta.WireLen = max(meta.WireLen, uint32(len(recs[i].Data)))
		s.pkts = append(s.pkts, packet{off: uint64(len(s.arena)), n: uint32(len(data)), ts: recs[i].TS, meta: meta})
		s.arena = append(s.arena, data...)
	}
	return parts
}

func replayOnce(c *Capture, parts []share, o Options) Result {
	res := Result{Name: c.Name, Packets: len(c.Records), Workers: o.Workers}
	if len(c.Records) == 0 {
		return res
	}
	start := c.Records[0].TS
	var peakHeap uint64
	var ms runtime.MemStats
	e := pipeline.NewEngine(pipeline.EngineConfig{
		Members:      o.Workers,
		Start:        start,
		MaxFlows:     o.MaxFlows,
		WaitForSpare: true,
		OnClose: func(*table.Flows) {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
		},
	})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	busy := make([]time.Duration, o.Workers)
	cpu := make([]time.Duration, o.Workers)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			m := e.Member(w)
			sh := &parts[w]
			batch := make([]ring.Record, o.Batch)
			c0, cerr := gen.ThreadCPU()
			ws := time.Now()
			for i := 0; i < len(sh.pkts); {
				// Fill a batch as a ring reader fills one from a block.
				n := min(len(sh.pkts)-i, o.Batch)
				for j := range n {
					pk := &sh.pkts[i+j]
					batch[j] = ring.Record{Data: sh.arena[pk.off : pk.off+uint64(pk.n) : pk.off+uint64(pk.n)], TS: pk.ts, Meta: pk.meta}
				}
				m.Batch(batch[:n])
				i += n
			}
			busy[w] = time.Since(ws) - m.Waited()
			if c1, err := gen.ThreadCPU(); err == nil && cerr == nil {
				cpu[w] = c1.Sub(c0).Total()
			}
			m.Flush()
		}()
	}
	wg.Wait()
	last := c.Records[len(c.Records)-1].TS
	snap := e.Wait(max(last, start))
	res.Elapsed = time.Since(t0)
	runtime.ReadMemStats(&after)
	peakHeap = max(peakHeap, after.HeapInuse)

	res.Flows = len(snap.Flows)
	res.Counted = snap.Counted
	res.Mpps = float64(res.Packets) / res.Elapsed.Seconds() / 1e6
	for w := range parts {
		if n := len(parts[w].pkts); n > 0 {
			if v := float64(busy[w].Nanoseconds()) / float64(n); v > res.NsPerPacket {
				res.NsPerPacket = v
				res.CPUNsPerPacket = float64(cpu[w].Nanoseconds()) / float64(n)
			}
		}
	}
	ticks := slices.Clone(e.TickTimes())
	slices.Sort(ticks)
	res.Ticks = len(ticks)
	if len(ticks) > 0 {
		res.TickP50 = ticks[len(ticks)/2]
		res.TickP99 = ticks[min(len(ticks)-1, len(ticks)*99/100)]
	}
	res.PeakHeap = peakHeap
	res.AllocsPerPk = float64(after.Mallocs-before.Mallocs) / float64(res.Packets)
	return res
}

// String formats r as one line for people.
func (r Result) String() string {
	return fmt.Sprintf("%s: %d packets, %d flows, %d workers: %.2f Mpps, %.1f ns/packet per worker (%.1f ns of CPU), tick p50 %v p99 %v (%d ticks), peak heap %.1f MiB, %.3f allocs/packet",
		r.Name, r.Packets, r.Flows, r.Workers, r.Mpps, r.NsPerPacket, r.CPUNsPerPacket, r.TickP50, r.TickP99, r.Ticks, float64(r.PeakHeap)/(1<<20), r.AllocsPerPk)
}

package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
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
	Workers  int // workers to spread packets over (≥ 1)
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
	NsPerPacket float64       // per worker: the busiest worker's counting time / its packets (reading, dispatch and merges not included)
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

// Replay runs c through the pipeline exactly as fastop -r runs a file
// (pipeline.RunFile, with a report closed at every 2 s of capture time):
// one reader spreads each batch of Batch records over the workers by the
// symmetric flow hash, as the kernel's fanout would, and the deltas are
// merged at every tick. Only the source differs: the first Snaplen bytes
// of each frame are copied into one arena before the clock starts, as a
// ring keeps them, so no disk read is measured.
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
	src := newMemSource(c, o.Snaplen)
	var rounds []Result
	for range o.Rounds {
		rounds = append(rounds, replayOnce(c, src, o))
	}
	slices.SortFunc(rounds, func(a, b Result) int { return int(a.Elapsed - b.Elapsed) })
	r := rounds[len(rounds)/2]
	r.Rounds = o.Rounds
	return r
}

// memSource is a capture laid out as a ring reader would see it: frame
// bytes one after another in one arena, and per-packet metadata without
// pointers, so the garbage collector never scans millions of records
// during a replay. It implements pipeline.Source.
type memSource struct {
	name  string
	arena []byte
	pkts  []packet
	next  int
}

type packet struct {
	off  uint64
	n    uint32
	ts   int64
	meta decode.Meta
}

func newMemSource(c *Capture, snaplen int) *memSource {
	var size uint64
	for i := range c.Records {
		size += uint64(min(len(c.Records[i].Data), snaplen))
	}
	s := &memSource{name: c.Name, arena: make([]byte, 0, size), pkts: make([]packet, 0, len(c.Records))}
	for i := range c.Records {
		r := &c.Records[i]
		data := r.Data[:min(len(r.Data), snaplen)]
		meta := r.Meta
		meta.WireLen = max(meta.WireLen, uint32(len(r.Data)))
		s.pkts = append(s.pkts, packet{off: uint64(len(s.arena)), n: uint32(len(data)), ts: r.TS, meta: meta})
		s.arena = append(s.arena, data...)
	}
	return s
}

func (s *memSource) Name() string { return s.name }

// ReadBatch fills recs as a ring reader fills a batch from a block.
func (s *memSource) ReadBatch(recs []ring.Record) (int, error) {
	n := min(len(s.pkts)-s.next, len(recs))
	for j := range n {
		pk := &s.pkts[s.next+j]
		end := pk.off + uint64(pk.n)
		recs[j] = ring.Record{Data: s.arena[pk.off:end:end], TS: pk.ts, Meta: pk.meta}
	}
	s.next += n
	if s.next == len(s.pkts) {
		return n, io.EOF
	}
	return n, nil
}

func replayOnce(c *Capture, src *memSource, o Options) Result {
	res := Result{Name: c.Name, Packets: len(c.Records), Workers: o.Workers}
	if len(c.Records) == 0 {
		return res
	}
	src.next = 0
	var peakHeap uint64
	var ms runtime.MemStats
	var last *table.Snapshot
	st := pipeline.FileStats{ThreadCPU: func() (time.Duration, error) {
		c, err := gen.ThreadCPU()
		return c.Total(), err
	}}
	cfg := pipeline.FileConfig{
		Workers:   o.Workers,
		MaxFlows:  o.MaxFlows,
		BatchSize: o.Batch,
		Every:     true,
		Stats:     &st,
		Emit: func(s *table.Snapshot) error {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
			if last != nil {
				last.Release()
			}
			last = s // the final report is the last one
			return nil
		},
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	if err := pipeline.RunFile(context.Background(), src, cfg); err != nil {
		panic(fmt.Sprintf("bench: replay of an in-memory capture failed: %v", err)) // nothing in it can fail
	}
	res.Elapsed = time.Since(t0)
	runtime.ReadMemStats(&after)
	peakHeap = max(peakHeap, after.HeapInuse)

	res.Flows = len(last.Flows)
	res.Counted = last.Counted
	last.Release()
	res.Mpps = float64(res.Packets) / res.Elapsed.Seconds() / 1e6
	for w, busy := range st.Busy {
		if n := st.Packets[w]; n > 0 {
			if v := float64(busy.Nanoseconds()) / float64(n); v > res.NsPerPacket {
				res.NsPerPacket = v
				res.CPUNsPerPacket = float64(st.CPU[w].Nanoseconds()) / float64(n)
			}
		}
	}
	ticks := slices.Clone(st.Ticks)
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

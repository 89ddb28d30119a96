package gen

import "time"

// RunConfig says what a [Sender] sends.
type RunConfig struct {
	Source   Source
	Count    uint64        // frames to attempt (0: no limit)
	Duration time.Duration // how long to send (0: no limit)
	// MinCount keeps a Duration-bound run going until this many frames
	// were attempted (several passes over a million flows take longer
	// than a short Duration). Count and ctx still stop it.
	MinCount uint64
	Rate     float64 // frames per second (0: as fast as possible)
	// Order is the order flows are sent in, one pass after another: a
	// permutation of 0..Source.Len()-1 (see Shuffled). Nil: 0, 1, 2, ….
	Order []int32
	// Batch is how many frames one system call hands to the kernel, at
	// most (0 or 1: one sendto per frame). Above 1 the sender writes the
	// frames into a transmit ring shared with the kernel (PACKET_TX_RING)
	// and sends them with one call: the cost of a system call, large on
	// a virtual machine, is shared by the batch. With Rate, a batch holds
	// only the frames that are due, so pacing stays as fine as before.
	Batch int
}

// Batching limits.
const (
	// DefaultBatch is a good Batch for sending as fast as possible: a
	// system call per 256 frames costs little per frame, and the frames
	// of one batch (256 transmit-ring slots, 512 KiB) stay in the cache.
	DefaultBatch = 256
	// MaxBatch bounds Batch: the transmit ring has this many slots.
	MaxBatch = 4096
)

// Result is what a run sent.
type Result struct {
	Sent    uint64        // frames the kernel accepted
	Failed  uint64        // frames it refused (see Sender.Run)
	Bytes   uint64        // frame bytes of the sent frames
	PerFlow []uint64      // frames sent per flow (index as in the Source)
	Elapsed time.Duration // from the first attempt to the last
	LastErr error         // the last refusal, if any
}

// PPS returns the offered rate: frames sent per second.
func (r *Result) PPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

// Add adds o's counts to r (for runs in phases).
func (r *Result) Add(o Result) {
	r.Sent += o.Sent
	r.Failed += o.Failed
	r.Bytes += o.Bytes
	r.Elapsed += o.Elapsed
	if len(r.PerFlow) < len(o.PerFlow) {
		r.PerFlow = append(r.PerFlow, make([]uint64, len(o.PerFlow)-len(r.PerFlow))...)
	}
	for i, v := range o.PerFlow {
		r.PerFlow[i] += v
	}
	if o.LastErr != nil {
		r.LastErr = o.LastErr
	}
}

// CPU is CPU time split into user and system time.
type CPU struct {
	User, System time.Duration
}

// Total returns user + system time.
func (c CPU) Total() time.Duration { return c.User + c.System }

// Sub returns c - o.
func (c CPU) Sub(o CPU) CPU { return CPU{c.User - o.User, c.System - o.System} }

// PerMillion returns the CPU time per million packets, given the packets
// handled while the CPU time was spent.
func PerMillion(cpu time.Duration, packets uint64) time.Duration {
	if packets == 0 {
		return 0
	}
	return time.Duration(float64(cpu) * 1e6 / float64(packets))
}

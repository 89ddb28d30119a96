package pipeline

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/crash"
)

// Source is what a replay reads, in capture order: a capture file
// (*pcapfile.File), or records held in memory (fastop bench).
type Source interface {
	Name() string
	// ReadBatch fills recs and returns how many it filled; their Data may
	// be valid only until the next call. It returns io.EOF at the end.
	ReadBatch(recs []ring.Record) (int, error)
}

// FileStats is what a replay measured, for fastop bench.
type FileStats struct {
	Ticks   []time.Duration // per closed tick: merge and close, the snapshot included (when one is built), Emit excluded
	Busy    []time.Duration // per worker: time spent counting
	Packets []uint64        // per worker: packets counted
	CPU     []time.Duration // per worker: its thread's CPU time counting (with ThreadCPU)
	// ThreadCPU, when set, returns the calling thread's CPU time; each
	// worker is then locked to its thread for the replay. An error
	// leaves CPU at 0.
	ThreadCPU func() (time.Duration, error)
}

// FileConfig configures a file replay.
type FileConfig struct {
	Workers    int               // workers to spread packets over (≥ 1)
	Classifier *table.Classifier // direction rules
	MaxFlows   int               // bound on the merged table (0: table.DefaultMaxFlows)
	Every      bool              // emit a report at every 2 s tick of capture time
	StopAfter  int64             // nanoseconds of capture time after which to report once and stop (0: read to the end)
	BatchSize  int               // records per ReadBatch (0: 1024)
	Filter     *Filter           // run on every record (nil: none)
	// Emit receives each report, on the reader's goroutine, and should
	// Release it when done. An error stops the replay and is returned.
	Emit func(*table.Snapshot) error
	// Stats, when set, is filled with timings (a few clock reads per
	// batch).
	Stats *FileStats
	// Tick sees every closed tick's snapshot before Emit, on the reader's
	// goroutine, whether reports are emitted at each tick or not (IPFIX
	// export needs them all). It must not keep or release the snapshot.
	Tick func(*table.Snapshot)
}

// RunFile replays a capture through the pipeline: the one tick driver for
// files, which fastop -r and fastop bench both run. It emits a report at
// every tick when cfg.Every is set, and always one final report: at
// cfg.StopAfter, or at the end of the file. If the file is damaged, the packets before the
// damage are counted and reported, and the file's error is returned after
// the final report.
func RunFile(ctx context.Context, f Source, cfg FileConfig) error {
	if st := cfg.Stats; st != nil && st.ThreadCPU != nil && cfg.Workers <= 1 {
		// The one worker counts on this goroutine.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	r := newFileRun(f, cfg)
	defer r.stop()
	return r.run(ctx)
}

type fileRun struct {
	f        Source
	cfg      FileConfig
	workers  []*Worker
	recs     []ring.Record
	queues   []*workQueue   // per worker, with more than one
	wg       sync.WaitGroup // sync: workers still busy
	flows    *table.Flows
	started  bool
	boundary int64         // end of the slot being filled
	stopAt   int64         // 0: none
	last     int64         // timestamp of the newest record on the clock
	haveLast bool          // last is set
	shown    bool          // the last closed tick had flows to show
	hashPkt  decode.Packet // the dispatcher's, for the flow hash
	outliers uint64        // records whose timestamps the clock ignored
	carry    []ring.Record // records waiting for the next batch to be judged
	carryBuf []byte        // their bytes
}

func newFileRun(f Source, cfg FileConfig) *fileRun {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1024
	}
	if cfg.Classifier == nil {
		cfg.Classifier = table.NewClassifier(table.ClassifierConfig{})
	}
	r := &fileRun{f: f, cfg: cfg, recs: make([]ring.Record, cfg.BatchSize)}
	if st := cfg.Stats; st != nil {
		st.Busy = make([]time.Duration, cfg.Workers)
		st.Packets = make([]uint64, cfg.Workers)
		st.CPU = make([]time.Duration, cfg.Workers)
	}
	for range cfg.Workers {
		w := NewWorker(cfg.Classifier, cfg.MaxFlows)
		w.SetFilter(cfg.Filter)
		r.workers = append(r.workers, w)
	}
	if cfg.Workers > 1 {
		for i := range r.workers {
			q := &workQueue{todo: make(chan *chunk, queueChunks), free: make(chan *chunk, queueChunks)}
			for range queueChunks {
				q.free <- &chunk{recs: make([]ring.Record, 0, chunkRecords), arena: make([]byte, 0, chunkArena)}
			}
			r.queues = append(r.queues, q)
			go r.serve(i, q)
		}
	}
	return r
}

// With more than one worker the reader hands each worker its records in
// chunks, copied out of the file's buffer (which the next read reuses), and
// goes on reading while the workers count: the workers wait for each other
// only at a tick's end, not at every batch.
const (
	queueChunks  = 4         // chunks per worker: bounds the memory and how far the reader runs ahead
	chunkRecords = 1024      // records per chunk
	chunkArena   = 256 << 10 // frame bytes per chunk (a larger frame gets a chunk of its own)
)

// chunk is a run of records for one worker, their bytes in its arena.
type chunk struct {
	recs  []ring.Record
	arena []byte
}

// workQueue carries chunks to one worker and back. A nil chunk asks the
// worker to say (r.wg.Done) that it has counted everything before it.
type workQueue struct {
	todo chan *chunk
	free chan *chunk
	cur  *chunk // being filled by the reader
}

// serve runs worker i: it counts each chunk and gives it back.
func (r *fileRun) serve(i int, q *workQueue) {
	defer crash.Guard()
	w := r.workers[i]
	st := r.cfg.Stats
	var cpu0 time.Duration
	cpuOK := false
	if st != nil && st.ThreadCPU != nil {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c, err := st.ThreadCPU()
		cpu0, cpuOK = c, err == nil
	}
	for c := range q.todo {
		if c == nil {
			if cpuOK {
				// This thread only counts: its CPU time so far is
				// the worker's.
				if c1, err := st.ThreadCPU(); err == nil {
					st.CPU[i] = c1 - cpu0
				}
			}
			r.wg.Done()
			continue
		}
		crash.Point("file-worker")
		var t0 time.Time
		if st != nil {
			t0 = time.Now()
		}
		w.Process(c.recs)
		if st != nil {
			st.Busy[i] += time.Since(t0)
			st.Packets[i] += uint64(len(c.recs))
		}
		c.recs, c.arena = c.recs[:0], c.arena[:0]
		q.free <- c
	}
}

// send hands q's chunk being filled to its worker.
func (q *workQueue) send() {
	if q.cur != nil && len(q.cur.recs) > 0 {
		q.todo <- q.cur
		q.cur = nil
	}
}

// push copies rec into q's chunk, handing full chunks to the worker.
func (q *workQueue) push(rec *ring.Record) {
	c := q.cur
	if c != nil && (len(c.recs) == cap(c.recs) || len(c.arena)+len(rec.Data) > cap(c.arena) && len(c.recs) > 0) {
		q.send()
		c = nil
	}
	if c == nil {
		c = <-q.free
		q.cur = c
	}
	start := len(c.arena)
	c.arena = append(c.arena, rec.Data...) // grows only for a frame larger than chunkArena
	end := len(c.arena)
	c.recs = append(c.recs, ring.Record{Data: c.arena[start:end:end], TS: rec.TS, Meta: rec.Meta})
}

// sync waits until every worker has counted every record handed to it, so
// that their deltas can be read.
func (r *fileRun) sync() {
	if len(r.queues) == 0 {
		return
	}
	r.wg.Add(len(r.queues))
	for _, q := range r.queues {
		q.send()
		q.todo <- nil
	}
	r.wg.Wait()
}

func (r *fileRun) stop() {
	for _, q := range r.queues {
		close(q.todo)
	}
}

// Timestamps the replay's clock follows. A record outside [0, maxTS) (after
// the year 2116, or before 1970: a wrapped or absurd value) cannot be placed
// on the clock without overflowing its arithmetic; one that jumps more than
// outlierGap ahead of the clock and of the record after it is a glitch, not
// a gap in the traffic. Either is an outlier: counted with its neighbours,
// in the slot being filled, and reported in Capture.Outliers.
const (
	maxTS      = int64(1) << 62
	outlierGap = int64(table.SlotDuration)
)

// lookahead is the first usable timestamp after a run of records, when the
// records after it are not in hand.
type lookahead struct {
	ts    int64
	known bool // ts is set, or there is nothing after (at the end)
	has   bool // a record follows
}

func sane(ts int64) bool { return ts >= 0 && ts < maxTS }

// firstSane returns the first usable timestamp in recs.
func firstSane(recs []ring.Record) (int64, bool) {
	for i := range recs {
		if sane(recs[i].TS) {
			return recs[i].TS, true
		}
	}
	return 0, false
}

func (r *fileRun) run(ctx context.Context) error {
	var readErr error
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		crash.Point("replay")
		n, err := r.f.ReadBatch(r.recs)
		end := err != nil
		if len(r.carry) > 0 {
			// Records whose fate waited for this batch.
			la := lookahead{known: true}
			la.ts, la.has = firstSane(r.recs[:n])
			if done, err := r.finishCarry(ctx, la); done || err != nil {
				return err
			}
		}
		if n > 0 {
			if done, err := r.batch(ctx, r.recs[:n], lookahead{known: end}); done || err != nil {
				return err
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
	}
	if !r.started {
		r.begin(0)
	}
	if err := r.final(max(r.last, r.flows.SlotStart())); err != nil {
		return err
	}
	return readErr
}

// finishCarry counts the records carried over from the last batch.
func (r *fileRun) finishCarry(ctx context.Context, la lookahead) (bool, error) {
	carry := r.carry
	r.carry = r.carry[:0]
	done, err := r.batch(ctx, carry, la)
	r.carryBuf = r.carryBuf[:0]
	return done, err
}

func (r *fileRun) begin(t0 int64) {
	r.started = true
	r.flows = table.NewFlows(table.FlowsConfig{Start: t0, MaxFlows: r.cfg.MaxFlows, Interfaces: []string{r.f.Name()}})
	r.boundary = t0 + int64(table.SlotDuration)
	if r.cfg.StopAfter > 0 {
		r.stopAt = t0 + min(r.cfg.StopAfter, maxTS)
	}
}

// batch counts recs, closing ticks where their timestamps cross slot
// boundaries. It reports done when the stop time was reached. A record
// that jumps ahead of the clock is judged by the next usable timestamp:
// when that is not in recs, la gives it, or, when la does not know it yet,
// the records from that one on are copied aside and counted with the next
// batch.
func (r *fileRun) batch(ctx context.Context, recs []ring.Record, la lookahead) (done bool, err error) {
	seg := 0
	for i := range recs {
		ts := recs[i].TS
		if !sane(ts) {
			r.outliers++
			continue
		}
		if !r.haveLast || ts > r.last+outlierGap {
			next, ok := firstSane(recs[i+1:])
			if !ok {
				if !la.known {
					r.process(recs[seg:i])
					r.keep(recs[i:])
					return false, nil
				}
				next, ok = la.ts, la.has
			}
			if ok && ts > next+outlierGap {
				r.outliers++
				continue
			}
		}
		if !r.started {
			r.begin(ts)
		}
		for {
			next := r.boundary
			if r.stopAt > 0 && r.stopAt <= next {
				next = r.stopAt
			}
			if ts < next {
				break
			}
			if err := ctx.Err(); err != nil {
				return false, err
			}
			r.process(recs[seg:i])
			seg = i
			if next == r.stopAt {
				return true, r.final(r.stopAt)
			}
			if r.skipSilence(ts) {
				continue
			}
			if err := r.closeTick(r.boundary); err != nil {
				return false, err
			}
			r.boundary += int64(table.SlotDuration)
		}
		r.last = max(r.last, ts)
		r.haveLast = true
	}
	r.process(recs[seg:])
	return false, nil
}

// keep copies recs aside, their bytes too (the next read reuses the
// file's buffer). Whatever was kept before has been counted by now.
func (r *fileRun) keep(recs []ring.Record) {
	for i := range recs {
		r.carryBuf = append(r.carryBuf, recs[i].Data...)
	}
	off := 0
	for i := range recs {
		rec := recs[i]
		n := len(rec.Data)
		rec.Data = r.carryBuf[off : off+n : off+n]
		r.carry = append(r.carry, rec)
		off += n
	}
}

// process counts a segment that lies within one slot (with more than one
// worker: hands it out, to be counted by the next sync).
func (r *fileRun) process(seg []ring.Record) {
	if len(seg) == 0 {
		return
	}
	if len(r.workers) == 1 {
		if st := r.cfg.Stats; st != nil {
			var c0 time.Duration
			var cerr error
			if st.ThreadCPU != nil {
				c0, cerr = st.ThreadCPU()
			}
			t0 := time.Now()
			r.workers[0].Process(seg)
			st.Busy[0] += time.Since(t0)
			st.Packets[0] += uint64(len(seg))
			if st.ThreadCPU != nil && cerr == nil {
				if c1, err := st.ThreadCPU(); err == nil {
					st.CPU[0] += c1 - c0
				}
			}
			return
		}
		r.workers[0].Process(seg)
		return
	}
	nw := uint64(len(r.workers))
	p := &r.hashPkt
	for i := range seg {
		// Frames that do not decode all go to worker 0; they only bump
		// counters there.
		var w uint64
		if decode.Frame(seg[i].Data, &seg[i].Meta, p) == nil {
			w = p.FlowHash() % nw
		}
		r.queues[w].push(&seg[i])
	}
}

// skipSilence jumps over a stretch of capture with no traffic and nothing
// left in the table: closing thousands of empty slots one by one would print
// thousands of empty reports. It stops short of the stop time.
func (r *fileRun) skipSilence(ts int64) bool {
	// The first empty tick is closed and reported as usual, so a reader
	// sees the flows go; only the silence after it is skipped.
	if !r.flows.Empty() || r.shown {
		return false
	}
	r.sync()
	for _, w := range r.workers {
		if w.Delta().Capture.Packets != 0 {
			return false
		}
	}
	slot := int64(table.SlotDuration)
	start := r.flows.SlotStart() - r.flows.Tick()*slot // slot 0
	target := (ts - start) / slot
	if r.stopAt > 0 {
		target = min(target, (r.stopAt-start)/slot)
	}
	if target <= r.flows.Tick() {
		return false
	}
	r.flows.Skip(target, start+target*slot)
	r.boundary = start + (target+1)*slot
	return true
}

func (r *fileRun) mergeAll() {
	r.sync()
	for _, w := range r.workers {
		d := w.Delta()
		r.flows.Merge(d)
		d.Reset()
	}
}

func (r *fileRun) closeTick(end int64) error {
	var t0 time.Time
	if r.cfg.Stats != nil {
		t0 = time.Now()
	}
	r.mergeAll()
	if r.cfg.Tick == nil && !(r.cfg.Every && r.cfg.Emit != nil) {
		// Nobody reads this tick (-s N before its report): close it
		// without building its rows.
		r.shown = !r.flows.Empty()
		r.flows.Advance(end)
		if r.cfg.Stats != nil {
			r.cfg.Stats.Ticks = append(r.cfg.Stats.Ticks, time.Since(t0))
		}
		return nil
	}
	snap := r.flows.Close(end)
	snap.Members = len(r.workers)
	snap.Outliers = r.outliers
	if r.cfg.Stats != nil {
		r.cfg.Stats.Ticks = append(r.cfg.Stats.Ticks, time.Since(t0))
	}
	r.shown = len(snap.Flows) > 0
	if r.cfg.Tick != nil {
		r.cfg.Tick(snap)
	}
	if r.cfg.Every && r.cfg.Emit != nil {
		return r.cfg.Emit(snap)
	}
	snap.Release()
	return nil
}

func (r *fileRun) final(end int64) error {
	r.mergeAll()
	for _, w := range r.workers {
		w.Delta().Shrink()
	}
	freeForFinal(r.flows)
	snap := r.flows.Snapshot(end)
	snap.Members = len(r.workers)
	snap.Outliers = r.outliers
	if r.cfg.Emit != nil {
		return r.cfg.Emit(snap)
	}
	return nil
}

package pipeline

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/ring/pcapfile"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/crash"
)

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
}

// RunFile replays f through the pipeline. It emits a report at every tick
// when cfg.Every is set, and always one final report: at cfg.StopAfter, or
// at the end of the file. If the file is damaged, the packets before the
// damage are counted and reported, and the file's error is returned after
// the final report.
func RunFile(ctx context.Context, f *pcapfile.File, cfg FileConfig) error {
	r := newFileRun(f, cfg)
	defer r.stop()
	return r.run(ctx)
}

type fileRun struct {
	f        *pcapfile.File
	cfg      FileConfig
	workers  []*Worker
	lists    [][]int32 // per worker: indexes into recs of the current segment
	recs     []ring.Record
	kick     []chan struct{}
	wg       sync.WaitGroup
	flows    *table.Flows
	started  bool
	boundary int64         // end of the slot being filled
	stopAt   int64         // 0: none
	last     int64         // timestamp of the newest record
	shown    bool          // the last closed tick had flows to show
	hashPkt  decode.Packet // the dispatcher's, for the flow hash
}

func newFileRun(f *pcapfile.File, cfg FileConfig) *fileRun {
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
	for range cfg.Workers {
		w := NewWorker(cfg.Classifier, cfg.MaxFlows)
		w.SetFilter(cfg.Filter)
		r.workers = append(r.workers, w)
	}
	if cfg.Workers > 1 {
		r.lists = make([][]int32, cfg.Workers)
		for i := range r.workers {
			ch := make(chan struct{})
			r.kick = append(r.kick, ch)
			go r.serve(i, ch)
		}
	}
	return r
}

// serve runs worker i: each kick processes its share of the segment.
func (r *fileRun) serve(i int, kick <-chan struct{}) {
	defer crash.Guard()
	w := r.workers[i]
	for range kick {
		crash.Point("file-worker")
		if w.filter != nil {
			w.loadFilter()
		}
		for _, j := range r.lists[i] {
			w.Record(&r.recs[j])
		}
		r.wg.Done()
	}
}

func (r *fileRun) stop() {
	for _, ch := range r.kick {
		close(ch)
	}
}

func (r *fileRun) run(ctx context.Context) error {
	var readErr error
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		crash.Point("replay")
		n, err := r.f.ReadBatch(r.recs)
		if n > 0 {
			if done, err := r.batch(r.recs[:n]); done || err != nil {
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

func (r *fileRun) begin(t0 int64) {
	r.started = true
	r.flows = table.NewFlows(table.FlowsConfig{Start: t0, MaxFlows: r.cfg.MaxFlows, Interfaces: []string{r.f.Name()}})
	r.boundary = t0 + int64(table.SlotDuration)
	if r.cfg.StopAfter > 0 {
		r.stopAt = t0 + r.cfg.StopAfter
	}
}

// batch counts recs, closing ticks where their timestamps cross slot
// boundaries. It reports done when the stop time was reached.
func (r *fileRun) batch(recs []ring.Record) (done bool, err error) {
	if !r.started {
		r.begin(recs[0].TS)
	}
	seg := 0
	for i := range recs {
		ts := recs[i].TS
		for {
			next := r.boundary
			if r.stopAt > 0 && r.stopAt <= next {
				next = r.stopAt
			}
			if ts < next {
				break
			}
			r.process(recs[seg:i], seg)
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
	}
	r.process(recs[seg:], seg)
	return false, nil
}

// process counts a segment that lies within one slot; base is its offset
// in r.recs.
func (r *fileRun) process(seg []ring.Record, base int) {
	if len(seg) == 0 {
		return
	}
	if len(r.workers) == 1 {
		r.workers[0].Process(seg)
		return
	}
	for i := range r.lists {
		r.lists[i] = r.lists[i][:0]
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
		r.lists[w] = append(r.lists[w], int32(base+i))
	}
	r.wg.Add(len(r.workers))
	for _, ch := range r.kick {
		ch <- struct{}{}
	}
	r.wg.Wait()
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
	for _, w := range r.workers {
		d := w.Delta()
		r.flows.Merge(d)
		d.Reset()
	}
}

func (r *fileRun) closeTick(end int64) error {
	r.mergeAll()
	snap := r.flows.Close(end)
	snap.Members = len(r.workers)
	r.shown = len(snap.Flows) > 0
	if r.cfg.Every && r.cfg.Emit != nil {
		return r.cfg.Emit(snap)
	}
	snap.Release()
	return nil
}

func (r *fileRun) final(end int64) error {
	r.mergeAll()
	snap := r.flows.Snapshot(end)
	snap.Members = len(r.workers)
	if r.cfg.Emit != nil {
		return r.cfg.Emit(snap)
	}
	return nil
}

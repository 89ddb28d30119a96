package pipeline

import (
	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/table"
)

// Worker is the per-packet path: decode, classify, count. Each worker owns
// its Delta; nothing here is shared with another goroutine while Process
// runs.
type Worker struct {
	cls   *table.Classifier
	delta *table.Delta
	pkt   decode.Packet
	key   table.Key
}

// NewWorker returns a worker that counts into a fresh Delta.
func NewWorker(cls *table.Classifier, maxFlows int) *Worker {
	return &Worker{cls: cls, delta: table.NewDelta(maxFlows)}
}

// Delta returns the delta the worker is counting into.
func (w *Worker) Delta() *table.Delta { return w.delta }

// Swap makes d the worker's delta and returns the previous one.
func (w *Worker) Swap(d *table.Delta) *table.Delta {
	old := w.delta
	w.delta = d
	return old
}

// Process counts a batch of records.
func (w *Worker) Process(recs []ring.Record) {
	for i := range recs {
		w.Record(&recs[i])
	}
}

// Record counts one record.
func (w *Worker) Record(r *ring.Record) {
	d := w.delta
	d.Capture.Packets++
	d.Capture.Bytes += uint64(max(r.Meta.WireLen, uint32(len(r.Data))))
	switch err := decode.Frame(r.Data, &r.Meta, &w.pkt); err {
	case nil:
	case decode.ErrNotIP:
		d.Capture.NotIP++
		return
	default:
		d.Capture.Undecodable++
		return
	}
	dir, sent := w.cls.Classify(&w.pkt, &w.key)
	if dir == table.DirIgnored {
		d.Capture.Ignored++
		return
	}
	d.Add(&w.key, dir, sent, w.pkt.IPLen)
}

// ringDecode decodes r into h.pkt for the dispatcher's flow hash.
func ringDecode(h *Worker, r *ring.Record) bool {
	return decode.Frame(r.Data, &r.Meta, &h.pkt) == nil
}

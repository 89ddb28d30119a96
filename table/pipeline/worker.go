package pipeline

import (
	"sync/atomic"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/ring/filter"
	"github.com/fastop/fastop/table"
)

// Filter is a filter program that workers run in fastop's VM (for files:
// live captures filter in the kernel). Set swaps it while workers run;
// each worker picks the new program up at its next batch, so a packet is
// judged by exactly one program.
type Filter struct {
	p atomic.Pointer[filter.Program]
}

// NewFilter returns a Filter holding p (nil or empty: accept everything).
func NewFilter(p filter.Program) (*Filter, error) {
	f := &Filter{}
	return f, f.Set(p)
}

// Set validates p and makes it the program workers run.
func (f *Filter) Set(p filter.Program) error {
	if len(p) > 0 {
		if _, err := filter.NewVM(p); err != nil {
			return err
		}
	}
	f.p.Store(&p)
	return nil
}

// Worker is the per-packet path: decode, classify, count. Each worker owns
// its Delta; nothing here is shared with another goroutine while Process
// runs.
type Worker struct {
	cls    *table.Classifier
	delta  *table.Delta
	pkt    decode.Packet
	filter *Filter
	prog   *filter.Program                 // the program vm runs
	vm     *filter.VM                      // nil: no filter
	bond   *atomic.Pointer[table.BondLink] // nil: the link is no bond's
	bl     *table.BondLink                 // what bond held at the batch's start
	pend   [pendBatch]table.Pending        // classified, waiting to be counted (Process)
}

// pendBatch is how many packets Process classifies before counting them:
// enough for the table's cache misses to overlap, few enough to stay in L1
// (2 KiB). 32, not 16: in three sets of alternating runs on two days
// (bench --live --flows 100000 --fanout 2; 6, 7 and 9 runs a side) the
// readers' median went from 128.5 to 117, 118.7 to 112.7 and 133.6 to
// 130.4 ms per million packets. Each set's runs overlap; the direction
// held in all three. At a million flows no change showed (3 runs a side,
// twice).
const pendBatch = 32

// BondLinks holds, per source, the bond configuration that workers check
// the source's transmitted packets against. The refresher swaps a
// source's pointer; each worker picks it up at its next batch, so the
// packet path takes no lock.
type BondLinks struct {
	p []atomic.Pointer[table.BondLink]
}

// NewBondLinks returns BondLinks for n sources, none of them a bond's.
func NewBondLinks(n int) *BondLinks {
	return &BondLinks{p: make([]atomic.Pointer[table.BondLink], n)}
}

// Set makes l source i's configuration (nil: not checked).
func (b *BondLinks) Set(i int, l *table.BondLink) {
	if i >= 0 && i < len(b.p) {
		b.p[i].Store(l)
	}
}

// Get returns source i's configuration.
func (b *BondLinks) Get(i int) *table.BondLink {
	if i < 0 || i >= len(b.p) {
		return nil
	}
	return b.p[i].Load()
}

// SetBond makes the worker check transmitted packets against source i of
// b (nil b: none).
func (w *Worker) SetBond(b *BondLinks, i int) {
	w.bond, w.bl = nil, nil
	if b != nil && i >= 0 && i < len(b.p) {
		w.bond = &b.p[i]
	}
}

// SetFilter makes the worker run f's program on every record (nil: none).
func (w *Worker) SetFilter(f *Filter) { w.filter = f }

// NewWorker returns a worker that counts into a fresh Delta sized for a
// merged table of maxFlows.
func NewWorker(cls *table.Classifier, maxFlows int) *Worker {
	return &Worker{cls: cls, delta: table.NewDelta(table.DeltaLimit(maxFlows))}
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
	if w.filter != nil {
		w.loadFilter()
	}
	if w.bond != nil {
		w.bl = w.bond.Load()
	}
	d := w.delta
	if !d.Large() {
		for i := range recs {
			w.record(&recs[i])
		}
		d.Capture.Packets += uint64(len(recs))
		return
	}
	n := 0
	for i := range recs {
		if !w.decode(&recs[i]) {
			continue
		}
		if d.Prepare(w.cls, &w.pkt, &w.pend[n]) == table.DirIgnored {
			d.Capture.Ignored++
			continue
		}
		if n++; n == len(w.pend) {
			d.CountPending(w.pend[:n])
			n = 0
		}
	}
	d.CountPending(w.pend[:n])
	d.Capture.Packets += uint64(len(recs))
}

// loadFilter picks up a program swapped in by Filter.Set.
func (w *Worker) loadFilter() {
	p := w.filter.p.Load()
	if p == w.prog {
		return
	}
	w.prog, w.vm = p, nil
	if p != nil && len(*p) > 0 {
		w.vm, _ = filter.NewVM(*p) // Set validated it
	}
}

// Record counts one record.
func (w *Worker) Record(r *ring.Record) {
	if w.bond != nil {
		w.bl = w.bond.Load()
	}
	w.record(r)
	w.delta.Capture.Packets++
}

// record counts r; the caller counts the packet in Capture.Packets.
func (w *Worker) record(r *ring.Record) {
	if w.decode(r) && w.delta.Count(w.cls, &w.pkt) == table.DirIgnored {
		w.delta.Capture.Ignored++
	}
}

// decode filters and decodes r into w.pkt, counting what it is in the
// delta's Capture, and checks a bond's transmitted packet. It reports
// whether r is an IP packet to classify and count.
func (w *Worker) decode(r *ring.Record) bool {
	d := w.delta
	d.Capture.Bytes += uint64(max(r.Meta.WireLen, uint32(len(r.Data))))
	if w.vm != nil && w.vm.Run(r.Data, &r.Meta) == 0 {
		d.Capture.Filtered++
		return false
	}
	switch err := decode.Frame(r.Data, &r.Meta, &w.pkt); err {
	case nil:
	case decode.ErrNotIP:
		d.Capture.NotIP++
		return false
	default:
		d.Capture.Undecodable++
		return false
	}
	if w.bl != nil && w.pkt.PktType == decode.PktOutgoing {
		// The link transmitted it: did the bond's formula choose it?
		d.CheckBond(w.bl, &w.pkt, r.Meta.VLANOK)
	}
	return true
}

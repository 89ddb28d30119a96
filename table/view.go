package table

import (
	"cmp"
	"math/bits"
	"slices"
	"sync"

	"github.com/fastop/fastop/ring/slab"
)

// PortDisplay says which ports a row keeps (iftop's port-display).
type PortDisplay uint8

// Values of PortDisplay, in iftop's config-file order.
const (
	PortsOff    PortDisplay = iota // no ports, no protocol: one row per host pair
	PortsSource                    // the source (left) port only
	PortsDest                      // the destination (right) port only
	PortsOn                        // both ports and the protocol
)

// View is how rows are aggregated from flows.
type View struct {
	Ports   PortDisplay
	HideSrc bool // iftop's s: the left address is shown as " * "
	HideDst bool // iftop's d
}

// DisplayKey returns the key of the row that flow key k belongs to under v.
func (v View) DisplayKey(k Key) Key {
	switch v.Ports {
	case PortsOff:
		k.APort, k.BPort, k.Proto = 0, 0, 0
	case PortsSource:
		k.BPort = 0
	case PortsDest:
		k.APort = 0
	}
	if v.HideSrc {
		k.A = [16]byte{}
		k.Hidden |= HideA
	}
	if v.HideDst {
		k.B = [16]byte{}
		k.Hidden |= HideB
	}
	return k
}

// Rows aggregates the snapshot's flows under v into dst (reused; pass nil
// for a new slice). Rows are in no particular order. When the flows have
// Links, so do the rows: each link's parts of the flows folded into a row,
// summed, in link order.
func (s *Snapshot) Rows(v View, dst []Flow) []Flow {
	dst = dst[:0]
	if cap(dst) < len(s.Flows) {
		// At most a row per flow: one allocation, kept by the caller
		// for the next tick, rather than growth steps a flood would
		// repeat as garbage.
		dst = make([]Flow, 0, len(s.Flows))
		slab.Advise(dst[:len(s.Flows)])
	}
	if v == (View{Ports: PortsOn}) {
		return append(dst, s.Flows...)
	}
	a := aggPool.Get().(*aggregator)
	defer aggPool.Put(a)
	a.reset(len(s.Flows))
	split := false
	for i := range s.Flows {
		f := &s.Flows[i]
		k := v.DisplayKey(f.Key)
		p := pack(&k)
		j, found := a.find(&p, int32(len(dst)))
		if !found {
			dst = append(dst, Flow{Key: k})
		}
		r := &dst[j]
		r.Sent.Add(&f.Sent)
		r.Recv.Add(&f.Recv)
		split = split || f.Links != nil
	}
	if split {
		a.mergeLinks(s.Flows, dst, v)
	}
	return dst
}

// mergeLinks gives each row the sum of the Links of its flows: each
// flow's row (found again, so that Rows without Links pays nothing), which
// links each row has, then where its parts go in one new slice, then the
// sums.
func (a *aggregator) mergeLinks(flows, rows []Flow, v View) {
	a.rowOf = a.rowOf[:0]
	for i := range flows {
		k := v.DisplayKey(flows[i].Key)
		p := pack(&k)
		j, _ := a.find(&p, -1) // every key has its row by now
		a.rowOf = append(a.rowOf, j)
	}
	a.masks = append(a.masks[:0], make([]uint64, len(rows))...)
	for i := range flows {
		for _, l := range flows[i].Links {
			a.masks[a.rowOf[i]] |= 1 << (l.Link & (MaxLinks - 1))
		}
	}
	a.off = append(a.off[:0], make([]int32, len(rows)+1)...)
	for j, m := range a.masks {
		a.off[j+1] = a.off[j] + int32(bits.OnesCount64(m))
	}
	parts := make([]FlowLink, a.off[len(rows)])
	for j := range rows {
		p := parts[a.off[j]:a.off[j+1]:a.off[j+1]]
		for m, n := a.masks[j], 0; m != 0; m &= m - 1 {
			p[n].Link = bits.TrailingZeros64(m)
			n++
		}
		if len(p) > 0 {
			rows[j].Links = p
		}
	}
	for i := range flows {
		j := a.rowOf[i]
		for _, l := range flows[i].Links {
			// The part's place: the row's links below it.
			lk := l.Link & (MaxLinks - 1)
			p := &rows[j].Links[bits.OnesCount64(a.masks[j]&(1<<lk-1))]
			p.Sent.Add(&l.Sent)
			p.Recv.Add(&l.Recv)
		}
	}
}

// aggregator maps display keys to row numbers for Rows: open addressing
// over packed keys, reused between calls, so aggregating 100,000 flows
// every tick neither allocates nor hashes through a Go map.
type aggregator struct {
	ctrl []uint8  // per slot: ctrlEmpty or ctrlTag(hash)
	rows []int32  // per slot: its row
	keys []packed // per row: its key (rows are claimed in order: 0, 1, ...)
	mask uint64

	rowOf []int32  // Rows: each flow's row
	masks []uint64 // mergeLinks: each row's links
	off   []int32  // mergeLinks: where each row's parts begin
}

var aggPool = sync.Pool{New: func() any { return new(aggregator) }}

func (a *aggregator) reset(n int) {
	size := 1024
	for size < 2*n {
		size *= 2
	}
	a.keys = a.keys[:0]
	if len(a.ctrl) != size {
		a.ctrl = slab.Make[uint8](size)
		a.rows = slab.Make[int32](size)
		a.mask = uint64(size - 1)
		return
	}
	clear(a.ctrl)
}

// find returns the row of p, or claims row next for it: the next row
// in order (the number of rows claimed so far), or -1 to claim none.
func (a *aggregator) find(p *packed, next int32) (int32, bool) {
	h := p.hash()
	tag := ctrlTag(h)
	for i := h & a.mask; ; i = (i + 1) & a.mask {
		switch a.ctrl[i] {
		case tag:
			if r := a.rows[i]; a.keys[r].equal(p) {
				return r, true
			}
		case ctrlEmpty:
			if next != int32(len(a.keys)) {
				panic("table: aggregator rows claimed out of order")
			}
			a.ctrl[i], a.rows[i] = tag, next
			a.keys = append(a.keys, *p)
			return next, false
		}
	}
}

// LineMode is iftop's line-display: which directions a row shows.
type LineMode uint8

// Values of LineMode, in the order the t key cycles through them.
const (
	TwoLine     LineMode = iota // => and <= rows
	OneLineBoth                 // one <=> row with sent+received
	OneLineRecv                 // received only
	OneLineSent                 // sent only
)

// CompareKeys orders keys by family, addresses, ports, protocol and VLAN.
func CompareKeys(a, b *Key) int {
	if r := cmp.Compare(a.Family, b.Family); r != 0 {
		return r
	}
	if r := slices.Compare(a.A[:], b.A[:]); r != 0 {
		return r
	}
	if r := slices.Compare(a.B[:], b.B[:]); r != 0 {
		return r
	}
	if r := cmp.Compare(a.APort, b.APort); r != 0 {
		return r
	}
	if r := cmp.Compare(a.BPort, b.BPort); r != 0 {
		return r
	}
	if r := cmp.Compare(a.Proto, b.Proto); r != 0 {
		return r
	}
	if r := cmp.Compare(a.Hidden, b.Hidden); r != 0 {
		return r
	}
	return cmp.Compare(a.VLAN, b.VLAN)
}

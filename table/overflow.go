package table

import "slices"

// Overflow: what happens when the table is full.
//
// The table keeps the heaviest flows, Space-Saving style, with one
// difference: a flow that gets a record starts from its own exact counts
// (it does not inherit the counts of the flow it replaces), so every row
// on screen is exact from its first packet, and whatever gave way is
// counted in the "other" row.
//
// New flows met while the table is full wait in f.pend, with this tick's
// counts, until the tick is settled (settle, called by Snapshot and
// Close). Then rows and newcomers are ranked by weight: a row's bytes (both
// directions) in the last 40 s (the 20 history slots, this tick
// included), a newcomer's bytes this tick. The table keeps the N heaviest
// (N = MaxFlows); a row that loses its place moves its counts and history
// to "other", a newcomer that wins none is counted in "other" directly.
// Ties keep the row, unless the row was idle this tick (an idle row gives
// way to a newcomer as heavy as it).
//
// The guarantee that follows: let W be all bytes counted in the last 40 s
// (the totals' 40 s window). Rows' windows and newcomers' ticks are
// disjoint parts of W, so fewer than N of them can each exceed W/N:
//   - a row whose 40 s bytes exceed W/N never gives way (a row gives way
//     only to N rows and newcomers at least as heavy, so it holds at
//     most W/(N+1));
//   - a newcomer whose first-tick bytes exceed W/N gets a row at once.
//
// So a flow whose bytes in the last 40 s exceed 1/N of all bytes in the
// last 40 s at every tick from its first on has its own row, exact from its
// first packet, as long as no worker's delta and not the table of waiting
// newcomers overflows in a tick (each holds DeltaLimit(N) flows, at least
// 1,048,576; beyond, newcomers go to "other" at once, each counted as a
// folded flow). No bounded table can promise more to a flow that is light
// when it starts and heavy later: which flows will grow is not known when
// the table must choose.

// ranked is a row or a newcomer at settle time.
type ranked struct {
	w    uint64 // a row's bytes in the last 40 s; a newcomer's bytes this tick
	last int32  // the last tick with traffic (a newcomer: this tick)
	ref  int32  // a row: its record (≥ 0); a newcomer: -1 - its index in pend.ents
}

// heavier is the order of the competition, a strict total order: more
// bytes; then more recent traffic (an idle row gives way to a newcomer as
// heavy as it); then a row before a newcomer (equals keep their row); then
// the lower reference, so a replay settles the same way every time.
func heavier(a, b *ranked) bool {
	if a.w != b.w {
		return a.w > b.w
	}
	if a.last != b.last {
		return a.last > b.last
	}
	if (a.ref >= 0) != (b.ref >= 0) {
		return a.ref >= 0
	}
	return a.ref < b.ref
}

// settle gives the flows waiting in f.pend their records, or folds them:
// see the comment at the top of this file. It ranks rows and newcomers
// together and keeps the N heaviest: linear on average (a quickselect), no
// sort.
func (f *Flows) settle() {
	if f.pend == nil || f.pend.Len() == 0 {
		return
	}
	if f.multi {
		f.settleLinks()
		return
	}
	t := f.tick
	p := f.pend
	all := f.rankBuf[:0]
	for i := range p.n {
		s := p.ent(i)
		all = append(all, ranked{w: s.sentBytes + s.recvBytes, last: int32(t), ref: -1 - int32(i)})
	}
	if room := f.maxFlows - f.n; room < len(all) {
		// Not everyone fits: rows compete too.
		f.eachRec(func(j int32, r *flowRec) {
			if r.k[4] == 0 {
				return
			}
			var win uint64
			for i := max(t-Slots+1, 0); i <= min(int64(r.last), t); i++ {
				a, b := f.slot(r, i)
				win += a + b
			}
			all = append(all, ranked{w: win, last: r.last, ref: j})
		})
		// The rows and newcomers that may stay: the table's size, less
		// the rows outside the competition (none today: every row is in).
		keep := min(f.maxFlows, len(all))
		selectLeast(all, keep, heavier)
		// Losing rows give way first, so that winners find room.
		for i := keep; i < len(all); i++ {
			if all[i].ref >= 0 {
				f.evict(all[i].ref, t)
				f.folded++
			}
		}
		for i := range keep {
			if all[i].ref < 0 {
				f.admit(-1-all[i].ref, t)
			}
		}
		for i := keep; i < len(all); i++ {
			if all[i].ref < 0 {
				sent, recv := p.counts(p.ent(int(-1 - all[i].ref)))
				f.addOther(0, &sent, &recv, t)
				f.folded++
			}
		}
	} else {
		for i := range all {
			f.admit(-1-all[i].ref, t)
		}
	}
	if sent, recv := p.counts(&p.other); sent.Packets+recv.Packets > 0 {
		// More newcomers than the waiting table holds: each one it
		// turned away counts as a folded flow.
		f.addOther(0, &sent, &recv, t)
		f.folded += p.Folded
	}
	f.rankBuf = all[:0]
	p.Reset()
}

// settleLinks is settle when several links are captured: the same
// competition between whole flows, a flow's weight summing its parts on
// every link (rows: their records; newcomers: their entries in pend, one
// per link). A newcomer is a flow with no record at all: a new part of a
// flow that has one got its record at Merge.
func (f *Flows) settleLinks() {
	t := f.tick
	p := f.pend
	all := f.rankBuf[:0]
	// Newcomers: unit u is all[u]; its parts (indexes into p.ents) are
	// unitHead[u], then partNext[] down to -1.
	a := &f.pendAgg
	a.reset(p.n)
	f.unitHead = f.unitHead[:0]
	f.partNext = grow32(f.partNext, p.n)
	for i := range p.n {
		s := p.ent(i)
		q := s.k
		q[4] &^= linkBits
		u, found := a.find(&q, int32(len(all)))
		if !found {
			all = append(all, ranked{last: int32(t), ref: -1 - u})
			f.unitHead = append(f.unitHead, -1)
		}
		all[u].w += s.sentBytes + s.recvBytes
		f.partNext[i] = f.unitHead[u]
		f.unitHead[u] = int32(i)
	}
	units := len(all)
	if room := f.maxFlows - f.nflows; room < units {
		// Rows compete too, a flow as one: its parts' bytes summed, its
		// latest traffic, its first record as its reference.
		flows := f.groupRecs(func(*flowRec) bool { return true })
		all = append(all, make([]ranked, flows)...)
		for i := units; i < len(all); i++ {
			all[i] = ranked{ref: -1}
		}
		f.eachRec(func(j int32, r *flowRec) {
			g := f.flowOf[j]
			if g < 0 {
				return
			}
			x := &all[units+int(g)]
			for i := max(t-Slots+1, 0); i <= min(int64(r.last), t); i++ {
				a, b := f.slot(r, i)
				x.w += a + b
			}
			x.last = max(x.last, r.last)
			if x.ref < 0 {
				x.ref = j
			}
		})
		keep := min(f.maxFlows, len(all))
		selectLeast(all, keep, heavier)
		for i := keep; i < len(all); i++ {
			if all[i].ref >= 0 {
				f.evictFlow(all[i].ref, t)
			}
		}
		for i := range keep {
			if all[i].ref < 0 {
				f.admitUnit(-1-all[i].ref, t)
			}
		}
		for i := keep; i < len(all); i++ {
			if all[i].ref < 0 {
				for j := f.unitHead[-1-all[i].ref]; j >= 0; j = f.partNext[j] {
					s := p.ent(int(j))
					sent, recv := p.counts(s)
					f.addOther(s.k.link(), &sent, &recv, t)
				}
				f.folded++
			}
		}
	} else {
		for u := range units {
			f.admitUnit(int32(u), t)
		}
	}
	// pend.other stays empty: wait folds a part that finds pend full at
	// once, into its own link's part of "other".
	f.rankBuf = all[:0]
	p.Reset()
}

// admitUnit admits every part of newcomer unit u (see settleLinks).
func (f *Flows) admitUnit(u int32, t int64) {
	for i := f.unitHead[u]; i >= 0; i = f.partNext[i] {
		f.admit(i, t)
	}
}

// evictFlow evicts every part of record j's flow (evict), counting one
// folded flow.
func (f *Flows) evictFlow(j int32, t int64) {
	k := f.rec(j).k
	h := k.hash()
	for {
		q := f.firstPart(&k, h)
		if q < 0 {
			break
		}
		f.evict(q, t)
	}
	f.folded++
}

// admit gives newcomer i (an index into pend.ents) a record, with its
// counts of this tick.
func (f *Flows) admit(i int32, t int64) {
	p := f.pend
	s := p.ent(int(i))
	sent, recv := p.counts(s)
	r := f.find(&s.k, s.k.hash())
	f.addTo(r, &sent, &recv, t)
}

// evict moves record j's counts and history to its link's part of
// "other" and frees it. The caller counts the folded flow.
func (f *Flows) evict(j int32, t int64) {
	r := f.rec(j)
	link := r.k.link()
	o := &f.other[link]
	if f.otherOn&(1<<link) == 0 {
		*o = flowRec{last: r.last}
		f.otherOn |= 1 << link
	} else if o.last < r.last {
		f.clearStale(o, int64(r.last))
		o.last = r.last
	}
	o.sent.addCounter(&r.sent)
	o.recv.addCounter(&r.recv)
	for i := max(t-Slots+1, 0); i <= int64(r.last); i++ {
		a, b := f.slot(r, i)
		f.addSlot(o, i, a, b)
	}
	f.remove(j)
}

// selectLeast reorders s so that s[:k] holds its k least elements by less
// (a strict total order), in no particular order: quickselect, linear on
// average, O(n log n) at worst.
//
// The pivot is the median of three elements at pseudo-random places: a
// median of the first, middle and last elements went quadratic on the
// order a flood of equal one-packet flows leaves (a tick of a million
// newcomers took minutes). The positions come from a fixed sequence, so a
// replay settles the same way every time; an order that still defeats
// them (one built against this code) is partitioned until the rounds
// have scanned 8·len(s) elements (about three times what an average run
// scans), and then the rest is sorted (pdqsort, O(n log n) at worst).
func selectLeast[T any](s []T, k int, less func(a, b *T) bool) {
	lo, hi := 0, len(s)
	if k <= 0 || k >= hi {
		return
	}
	seed := uint64(len(s))
	rnd := func(n int) int {
		seed += 0x9e3779b97f4a7c15
		return int(mix(seed, 0xd6e8feb86659fd93) % uint64(n))
	}
	budget := 8 * hi
	for hi-lo > 12 {
		if budget -= hi - lo; budget < 0 {
			slices.SortFunc(s[lo:hi], func(a, b T) int {
				switch {
				case less(&a, &b):
					return -1
				case less(&b, &a):
					return 1
				}
				return 0
			})
			return
		}
		// Median of three as the pivot, placed at s[lo].
		n := hi - lo
		a, m, z := lo+rnd(n), lo+rnd(n), lo+rnd(n)
		if less(&s[m], &s[a]) {
			a, m = m, a
		}
		if less(&s[z], &s[m]) {
			m = z
			if less(&s[m], &s[a]) {
				m = a
			}
		}
		s[lo], s[m] = s[m], s[lo]
		// Lomuto partition around s[lo]: [lo+1, p] less than the pivot.
		p := lo
		for i := lo + 1; i < hi; i++ {
			if less(&s[i], &s[lo]) {
				p++
				s[p], s[i] = s[i], s[p]
			}
		}
		s[lo], s[p] = s[p], s[lo]
		// s[p] is in its sorted place.
		switch {
		case p == k || p == k-1:
			return
		case p < k:
			lo = p + 1
		default:
			hi = p
		}
	}
	// Insertion sort the short rest.
	for i := lo + 1; i < hi; i++ {
		for j := i; j > lo && less(&s[j], &s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

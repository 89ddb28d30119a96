package table

import (
	"time"

	"github.com/fastop/fastop/ring/slab"
)

// Slots is the length of the history: 20 slots of two seconds, 40 s in all,
// as iftop keeps.
const Slots = 20

// SlotDuration is the length of one history slot.
const SlotDuration = 2 * time.Second

// windowSlots is how many slots each window spans (2 s, 10 s, 40 s).
var windowSlots = [3]int64{1, 5, 20}

// DefaultMaxFlows bounds the merged table when the caller sets no limit.
const DefaultMaxFlows = 1 << 20

// flowRec is one flow in the merged table: 128 bytes, two cache lines
// (records start on a line: see recChunk).
//
// Its history takes one of five forms. Most flows of a flood, a scan or
// a burst have traffic in a few slots of the 40 s: their record holds up
// to inSlots (tick, bytes) entries itself. A flow with traffic in more
// slots that goes one way only, a few packets per slot (a flood's flows,
// sending a packet or two every 2 s, nothing coming back), keeps its
// record's 20 slots of uint16 bytes in that one direction. Any other
// flow with traffic in more slots moves its history to a side table of
// 20 slots, bytes per direction as uint16 (80 bytes) and, when one would
// overflow, as uint32 (160 bytes); a flow that would overflow those (more
// than 17 Gbit/s) moves on to 20 uint64 slots (big), so nothing is ever
// lost.
type flowRec struct {
	k    packed // k[4] == 0: a free record
	sent Counter
	recv Counter
	last int32   // the last tick with traffic; slots after it are stale
	hist int32   // 1 + index into Flows.hists, -(1 + index) into Flows.hists16, or 0
	big  int32   // 1 + index into Flows.bigs, or 0 (then hist is 0)
	own  ownHist // the history while hist and big are 0; ends the record at 128 bytes
}

// ownHist is the history a record holds itself, in one of two forms
// that share its words (Go has no unions, and table/ keeps clear of
// unsafe): up to inSlots entries of three words each (tick plus one, 0
// for unused, then bytes sent and received; an entry older than the 40 s
// is free for reuse), or, when the last word says ownSent or ownRecv, 20
// slots of uint16 bytes in that direction, two to a word, indexed by
// tick as a side table is.
type ownHist [11]uint32

// inSlots is how many entries a record's own history holds.
const inSlots = 3

const (
	ownMode    = 10 // the word that says the form
	ownEntries = 0
	ownSent    = 1
	ownRecv    = 2
)

func (h *ownHist) entry(i int) (tick1, sent, recv uint32) {
	return h[3*i], h[3*i+1], h[3*i+2]
}

func (h *ownHist) setEntry(i int, tick1, sent, recv uint32) {
	h[3*i], h[3*i+1], h[3*i+2] = tick1, sent, recv
}

// get16 and set16 read and write one-way slot j (0 ≤ j < Slots).
func (h *ownHist) get16(j int64) uint64 {
	return uint64(h[j/2]>>(16*(j&1))) & 0xffff
}

func (h *ownHist) set16(j int64, v uint64) {
	sh := 16 * (j & 1)
	h[j/2] = h[j/2]&^(0xffff<<sh) | uint32(v)<<sh
}

type (
	tinyHist  [Slots][2]uint16
	smallHist [Slots][2]uint32
	bigHist   [Slots][2]uint64
)

type globalSlot struct {
	tx, rx uint64
	dur    int64 // nanoseconds this slot covers (< 2 s for a partial slot)
}

type ifaceAcc struct {
	name    string
	capture Capture
	tx, rx  Counter
	hist    [Slots][2]uint64
	down    bool
	link    Link
}

// FlowsConfig configures a merged table.
type FlowsConfig struct {
	Start      int64    // capture start, Unix nanoseconds: slot 0 begins here
	MaxFlows   int      // most flows kept; the lightest give way to "other" (0: DefaultMaxFlows)
	Interfaces []string // names of the sources, indexed by Delta.Iface
}

// Flows is the merged flow table. Only the merger goroutine touches it:
// it folds the workers' deltas in with Merge and closes each tick with
// Close, which publishes an immutable Snapshot.
//
// Flows are found through an open-addressing index of control bytes and
// record numbers; records live in a slab that never holds pointers, so the
// GC does not scan a million flows.
type Flows struct {
	ctrl  []uint8 // per index slot: ctrlEmpty, ctrlTomb or ctrlTag(hash)
	idx   []int32 // per index slot: the record
	mask  uint64
	n     int // live records (flows, or with several links their parts)
	tombs int

	chunks   [][]flowRec
	nrecs    int32 // records handed out so far
	free     []int32
	hists16  chunked[tinyHist]
	hists    chunked[smallHist]
	bigs     chunked[bigHist]
	maxFlows int

	// Several links: a record is one flow's part on one link (the link in
	// its key, see packed), and nflows counts flows, not records. The
	// parts of a flow share a probe sequence (the hash leaves the link
	// out), which is how they are found together (firstPart).
	multi  bool
	nflows int
	// other holds the "other" row, one record per link (one in all with
	// a single link); bit i of otherOn says other[i] is live.
	other   []flowRec
	otherOn uint64

	tick      int64 // the slot being filled
	start     int64
	slotStart int64
	global    [Slots]globalSlot
	tx, rx    Counter
	capture   Capture
	folded    uint64 // flows folded into other since the start (see Capture.Folded)
	ifaces    []ifaceAcc

	// Overflow: new flows met while the table is full wait in pend until
	// the tick is settled (settle, in overflow.go); the scratch slice is
	// kept between ticks.
	pend    *Delta
	rankBuf []ranked
	pool    chan []Flow     // Flows slices of released snapshots, for reuse
	lpool   chan []FlowLink // and their Links

	// Scratch of the grouping by flow (several links only): see groupRecs
	// and settleLinks.
	groupOf, flowOf []int32
	partStart       []int32
	pendAgg         aggregator
	unitHead        []int32
	partNext        []int32

	bonds []*bondAcc // per bond whose links workers check (bond.go)

	touched uint64 // sums what loadAhead loaded: never read, it keeps the loads
}

// Records live in chunks that never move once full: growing the table allocates a
// chunk instead of copying every record. A chunk is 4 MiB, from package
// slab (on huge pages: a flood faults in a chunk 2 MiB at a time); the
// first one grows to that by doubling, so that a small table stays small
// (it moves while it grows: hold no record pointer across an insert).
const (
	recChunkBits = 15
	recChunk     = 1 << recChunkBits
	recFirst     = 1024 // records in the first chunk at first
)

func (f *Flows) rec(j int32) *flowRec { return &f.chunks[j>>recChunkBits][j&(recChunk-1)] }

// eachRec calls fn for every record handed out, free ones included.
func (f *Flows) eachRec(fn func(j int32, r *flowRec)) {
	for c, chunk := range f.chunks {
		base := int32(c) << recChunkBits
		n := min(int32(len(chunk)), f.nrecs-base)
		for i := int32(0); i < n; i++ {
			fn(base+i, &chunk[i])
		}
	}
}

// NewFlows returns an empty merged table whose first slot starts at cfg.Start.
// With more than one interface it keeps each flow's part on each link
// (Flow.Links); interfaces beyond MaxLinks are not told apart (they count
// as the first): the caller refuses to capture more.
func NewFlows(cfg FlowsConfig) *Flows {
	f := &Flows{
		maxFlows:  cfg.MaxFlows,
		start:     cfg.Start,
		slotStart: cfg.Start,
	}
	if f.maxFlows <= 0 {
		f.maxFlows = DefaultMaxFlows
	}
	f.allocIndex(1024)
	f.pool = make(chan []Flow, 2)
	f.lpool = make(chan []FlowLink, 2)
	for _, name := range cfg.Interfaces {
		f.ifaces = append(f.ifaces, ifaceAcc{name: name})
	}
	f.multi = len(f.ifaces) > 1
	f.other = make([]flowRec, max(1, min(len(f.ifaces), MaxLinks)))
	return f
}

func (f *Flows) allocIndex(n int) {
	if len(f.ctrl) == n {
		clear(f.ctrl) // a sweep of tombstones: no new 10 MB at a million flows
	} else {
		f.ctrl = slab.Make[uint8](n)
		f.idx = slab.Make[int32](n)
	}
	f.mask = uint64(n - 1)
	f.tombs = 0
}

// Tick returns the index of the slot being filled (0 for the first).
func (f *Flows) Tick() int64 { return f.tick }

// SlotStart returns when the slot being filled began (Unix ns).
func (f *Flows) SlotStart() int64 { return f.slotStart }

// Len returns the number of flows in the table (not counting "other"); a
// flow carried by several links counts once.
func (f *Flows) Len() int { return f.nflows }

// Empty reports whether the table holds no flow at all, "other" included.
func (f *Flows) Empty() bool { return f.n == 0 && f.otherOn == 0 }

// linkOf returns the link index a delta's flows are merged under: its
// interface when several are captured (and it is one of the first
// MaxLinks), else 0.
func (f *Flows) linkOf(d *Delta) int {
	if f.multi && d.Iface > 0 && d.Iface < len(f.other) {
		return d.Iface
	}
	return 0
}

// addOther adds counts to link's part of the "other" row.
func (f *Flows) addOther(link int, sent, recv *Counter, t int64) {
	o := &f.other[link]
	if f.otherOn&(1<<link) == 0 {
		*o = flowRec{last: int32(t)}
		f.otherOn |= 1 << link
	}
	f.addTo(o, sent, recv, t)
}

// Skip moves an empty table forward to tick, which begins at slotStart:
// the slot being filled and the ones in between close with no traffic. It
// lets a replay cross hours of silence in a capture without closing every
// 2 s slot one by one. It does nothing unless the table is Empty and
// tick is ahead.
func (f *Flows) Skip(tick, slotStart int64) {
	if !f.Empty() || tick <= f.tick {
		return
	}
	for j := max(f.tick, tick-Slots); j < tick; j++ {
		f.global[j%Slots] = globalSlot{dur: int64(SlotDuration)}
		for i := range f.ifaces {
			f.ifaces[i].hist[j%Slots] = [2]uint64{}
		}
		f.rotateBonds(j)
	}
	f.tick = tick
	f.slotStart = slotStart
	f.global[tick%Slots] = globalSlot{}
	for i := range f.ifaces {
		f.ifaces[i].hist[tick%Slots] = [2]uint64{}
	}
	f.rotateBonds(tick)
}

// AddInterface adds a source that starts now (a link that joined a bond
// during the capture) and returns its index, the Delta.Iface of its
// workers. Its history before now is empty.
func (f *Flows) AddInterface(name string) int {
	f.ifaces = append(f.ifaces, ifaceAcc{name: name})
	// From now on flows are kept per link. The records so far are all
	// link 0's, which is what they would have been with several links.
	f.multi = len(f.ifaces) > 1
	for len(f.other) < min(len(f.ifaces), MaxLinks) {
		f.other = append(f.other, flowRec{})
	}
	return len(f.ifaces) - 1
}

// SetInterfaceDown records whether source i is down right now.
func (f *Flows) SetInterfaceDown(i int, down bool) {
	if i >= 0 && i < len(f.ifaces) {
		f.ifaces[i].down = down
	}
}

// SetLink records what source i is as a link: its speed, master and state.
func (f *Flows) SetLink(i int, l Link) {
	if i >= 0 && i < len(f.ifaces) {
		f.ifaces[i].link = l
	}
}

// AddDropped adds packets the kernel dropped for source i.
func (f *Flows) AddDropped(i int, n uint64) {
	f.capture.Dropped += n
	if i >= 0 && i < len(f.ifaces) {
		f.ifaces[i].capture.Dropped += n
	}
}

// Merge adds a worker's delta to the slot being filled. The delta is not
// modified; the caller resets it before giving it back to its worker.
//
// A flow not yet in the table gets a record at once while there is room.
// When the table is full it waits, with this tick's counts, until the tick
// is settled (Snapshot or Close): then the lightest flows give way to it or
// it goes to "other" itself (overflow.go).
func (f *Flows) Merge(d *Delta) {
	t := f.tick
	s := &f.global[t%Slots]
	s.tx += d.TX.Bytes
	s.rx += d.RX.Bytes
	f.tx.addCounter(&d.TX)
	f.rx.addCounter(&d.RX)
	counts := d.Counts()
	f.capture.add(&counts)
	if d.Iface >= 0 && d.Iface < len(f.ifaces) {
		ia := &f.ifaces[d.Iface]
		ia.capture.add(&counts)
		ia.tx.addCounter(&d.TX)
		ia.rx.addCounter(&d.RX)
		ia.hist[t%Slots][0] += d.TX.Bytes
		ia.hist[t%Slots][1] += d.RX.Bytes
	}
	// The link goes into the key here, once per flow and tick, not on
	// the workers' per-packet path; link 0 needs no bits (nor a copy).
	link := f.linkOf(d)
	lbits := uint64(link) << linkShift
	for _, chunk := range d.ents {
		for len(chunk) > 0 {
			batch := chunk[:min(len(chunk), mergeBatch)]
			chunk = chunk[len(batch):]
			var hs [mergeBatch]uint64
			for j := range batch {
				hs[j] = batch[j].k.hash() // the hash leaves the link out: right for lbits too
			}
			f.loadAhead(batch, &hs)
			for j := range batch {
				f.mergeEntry(d, &batch[j], hs[j], lbits, link, t)
			}
		}
	}
	if sent, recv := d.counts(&d.other); sent.Packets+recv.Packets > 0 {
		// The worker's own table was full: each packet it could not
		// give a slot counts as a folded flow (it cannot tell them apart).
		f.addOther(link, &sent, &recv, t)
		f.folded += d.Folded
	}
	f.mergeBond(d.Bond, t)
}

// mergeBatch is how many entries Merge loads ahead (loadAhead).
const mergeBatch = 16

// loadAhead loads the index slots and the records the entries of batch
// will look up, in short loops of independent loads, which the processor
// overlaps (Go has no prefetch instruction): in a large table each is a
// cache miss that a lookup would otherwise wait for alone.
func (f *Flows) loadAhead(batch []deltaEntry, hs *[mergeBatch]uint64) {
	var slots [mergeBatch]uint64
	var x uint64
	for j := range batch {
		i := hs[j] & f.mask
		slots[j] = i
		x += uint64(f.ctrl[i]) + uint64(f.idx[i])
	}
	// A record is two cache lines, and addTo writes both: load the
	// second (last, hist, own) with the first.
	var recs [mergeBatch]*flowRec
	for j := range batch {
		i := slots[j]
		if f.ctrl[i] == ctrlTag(hs[j]) {
			r := f.rec(f.idx[i])
			recs[j] = r
			x += r.k[4] + uint64(r.last)
		}
	}
	// Then the side histories of the records that have one, at the slot
	// addSlot will write.
	slot := f.tick % Slots
	for _, r := range recs[:len(batch)] {
		switch {
		case r == nil || r.big != 0:
		case r.hist < 0:
			x += uint64(f.hists16.at(-r.hist)[slot][0])
		case r.hist > 0:
			x += uint64(f.hists.at(r.hist)[slot][0])
		}
	}
	f.touched += x
}

// mergeEntry adds entry ds of d, whose key hashes to h, to the slot
// being filled, t; d is link's (lbits: the link in a key's bits).
func (f *Flows) mergeEntry(d *Delta, ds *deltaEntry, h, lbits uint64, link int, t int64) {
	sent, recv := d.counts(ds)
	kp := &ds.k
	var lk packed
	if lbits != 0 {
		lk = ds.k
		lk[4] |= lbits
		kp = &lk
	}
	r := f.find(kp, h)
	if r == nil {
		f.wait(kp, h, &sent, &recv, link, t)
		return
	}
	f.addTo(r, &sent, &recv, t)
}

// wait puts a new flow's part in f.pend until the tick is settled.
func (f *Flows) wait(kp *packed, h uint64, sent, recv *Counter, link int, t int64) {
	if f.pend == nil {
		// Bounded like a worker's delta: beyond, newcomers of
		// this tick go to "other" at once (settle counts them).
		f.pend = NewDelta(DeltaLimit(f.maxFlows))
	}
	folded := f.pend.Folded
	f.pend.addCounters(kp, h, sent, recv)
	if f.multi && f.pend.Folded != folded {
		// Full: this part goes to its own link's part of "other" now
		// (the pending table's one other row knows no link).
		f.pend.Folded, f.pend.other = folded, deltaEntry{}
		delete(f.pend.carry, packed{}) // other's key
		f.addOther(link, sent, recv, t)
		f.folded++
	}
}

// find returns the record of p, inserting it if there is room; nil when
// the table is full and p is not in it. A flow's part on another link
// always gets a record: the table bounds flows, not their parts.
func (f *Flows) find(p *packed, h uint64) *flowRec {
	tag := ctrlTag(h)
	i := h & f.mask
	insertAt := -1
	sibling := false // another part of p's flow is in the table
	for {
		switch c := f.ctrl[i]; c {
		case tag:
			r := f.rec(f.idx[i])
			if r.k.equal(p) {
				return r
			}
			if f.multi && r.k.sameFlow(p) {
				sibling = true
			}
		case ctrlTomb:
			if insertAt < 0 {
				insertAt = int(i)
			}
		case ctrlEmpty:
			if insertAt < 0 {
				insertAt = int(i)
			}
			return f.insert(p, h, uint64(insertAt), sibling)
		}
		i = (i + 1) & f.mask
	}
}

func (f *Flows) insert(p *packed, h, i uint64, sibling bool) *flowRec {
	if !sibling && f.nflows >= f.maxFlows {
		return nil
	}
	if 4*(f.n+f.tombs+1) > 3*len(f.ctrl) {
		// Too full: grow, or just sweep the tombstones out.
		size := len(f.ctrl)
		if 2*(f.n+1) > size {
			size *= 2
		}
		f.reindex(size)
		return f.find(p, h)
	}
	var j int32
	if n := len(f.free); n > 0 {
		j = f.free[n-1]
		f.free = f.free[:n-1]
	} else {
		j = f.nrecs
		f.recRoom(j)
		f.nrecs++
	}
	if f.ctrl[i] == ctrlTomb {
		f.tombs--
	}
	f.ctrl[i] = ctrlTag(h)
	f.idx[i] = j
	f.n++
	if !sibling {
		f.nflows++
	}
	r := f.rec(j)
	*r = flowRec{k: *p, last: int32(f.tick)}
	return r
}

// recRoom makes room for record j, the next one handed out.
func (f *Flows) recRoom(j int32) {
	c := int(j) >> recChunkBits
	if c == len(f.chunks) {
		n := recChunk
		if c == 0 {
			n = recFirst
		}
		f.chunks = append(f.chunks, slab.Make[flowRec](n))
		return
	}
	if old := f.chunks[c]; int(j)&(recChunk-1) == len(old) {
		// Only the first chunk is ever short.
		grown := slab.Make[flowRec](min(2*len(old), recChunk))
		copy(grown, old)
		f.chunks[c] = grown
	}
}

// reindex rebuilds the index at size slots from the live records.
func (f *Flows) reindex(size int) {
	f.allocIndex(size)
	f.eachRec(func(j int32, r *flowRec) {
		if r.k[4] == 0 {
			return
		}
		h := r.k.hash()
		i := h & f.mask
		for f.ctrl[i] != ctrlEmpty {
			i = (i + 1) & f.mask
		}
		f.ctrl[i] = ctrlTag(h)
		f.idx[i] = j
	})
}

// remove deletes record j from the index and frees it.
func (f *Flows) remove(j int32) {
	r := f.rec(j)
	h := r.k.hash()
	i := h & f.mask
	for f.idx[i] != j || f.ctrl[i] < 0x80 {
		i = (i + 1) & f.mask
	}
	f.ctrl[i] = ctrlTomb
	f.tombs++
	f.n--
	if !f.multi || f.firstPart(&r.k, h) < 0 { // r's slot is a tombstone now
		f.nflows-- // its last part
	}
	if r.hist > 0 {
		f.hists.release(r.hist)
	} else if r.hist < 0 {
		f.hists16.release(-r.hist)
	}
	if r.big != 0 {
		f.bigs.release(r.big)
	}
	*r = flowRec{}
	f.free = append(f.free, j)
}

// firstPart returns the first record of k's flow (any link) in k's probe
// sequence (h is k's hash), or -1: the same record for every part of a
// flow, which groups them.
func (f *Flows) firstPart(k *packed, h uint64) int32 {
	tag := ctrlTag(h)
	for i := h & f.mask; f.ctrl[i] != ctrlEmpty; i = (i + 1) & f.mask {
		if f.ctrl[i] == tag && f.rec(f.idx[i]).k.sameFlow(k) {
			return f.idx[i]
		}
	}
	return -1
}

// groupRecs numbers the flows of the records live says are in: for each
// record j, f.flowOf[j] is its flow's number (from 0, in the order of
// their first part in the slab), -1 for a record left out. It returns
// how many flows there are. With a single link every record is a flow.
func (f *Flows) groupRecs(live func(r *flowRec) bool) int {
	n := int(f.nrecs)
	f.flowOf = grow32(f.flowOf, n)
	if f.multi {
		f.groupOf = grow32(f.groupOf, n)
		for i := range f.groupOf {
			f.groupOf[i] = -1
		}
	}
	flows := int32(0)
	f.eachRec(func(j int32, r *flowRec) {
		if r.k[4] == 0 || !live(r) {
			f.flowOf[j] = -1
			return
		}
		head := j
		if f.multi {
			head = f.firstPart(&r.k, r.k.hash())
		}
		if !f.multi || f.groupOf[head] < 0 {
			if f.multi {
				f.groupOf[head] = flows
			}
			f.flowOf[j] = flows
			flows++
			return
		}
		f.flowOf[j] = f.groupOf[head]
	})
	return int(flows)
}

// grow32 returns s with length n, reusing its memory when it can.
func grow32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

func (f *Flows) addTo(r *flowRec, sent, recv *Counter, t int64) {
	if int64(r.last) != t {
		f.clearStale(r, t)
		r.last = int32(t)
	}
	r.sent.addCounter(sent)
	r.recv.addCounter(recv)
	f.addSlot(r, t, sent.Bytes, recv.Bytes)
}

// addSlot adds bytes sent and received to r's slot of tick t (one of the
// last Slots ticks), moving r's history to a larger form when its own
// can no longer hold it.
func (f *Flows) addSlot(r *flowRec, t int64, sent, recv uint64) {
	if r.hist == 0 && r.big == 0 && f.addOwn(r, t, sent, recv) {
		return
	}
	slot := t % Slots
	if r.hist < 0 {
		h := &f.hists16.at(-r.hist)[slot]
		s, v := uint64(h[0])+sent, uint64(h[1])+recv
		if s <= 0xffff && v <= 0xffff {
			h[0], h[1] = uint16(s), uint16(v)
			return
		}
		f.widenHist(r)
	}
	if r.big == 0 {
		h := &f.hists.at(r.hist)[slot]
		s, v := uint64(h[0])+sent, uint64(h[1])+recv
		if s <= 0xffffffff && v <= 0xffffffff {
			h[0], h[1] = uint32(s), uint32(v)
			return
		}
		f.makeBig(r)
	}
	b := &f.bigs.at(r.big)[slot]
	b[0] += sent
	b[1] += recv
}

// addOwn adds to r's own history. It reports false when that history
// has moved to a side table instead, for addSlot to add there.
func (f *Flows) addOwn(r *flowRec, t int64, sent, recv uint64) bool {
	h := &r.own
	if m := h[ownMode]; m != ownEntries {
		there, back := sent, recv
		if m == ownRecv {
			there, back = recv, sent
		}
		if v := h.get16(t%Slots) + there; back == 0 && v <= 0xffff {
			h.set16(t%Slots, v)
			return true
		}
		f.oneWayToHist(r)
		return false
	}
	free := -1
	for i := range inSlots {
		tick1, s0, v0 := h.entry(i)
		if int64(tick1) == t+1 {
			s, v := uint64(s0)+sent, uint64(v0)+recv
			if s <= 0xffffffff && v <= 0xffffffff {
				h.setEntry(i, tick1, uint32(s), uint32(v))
				return true
			}
			free = -2 // overflow: move on
			break
		}
		if free == -1 && (tick1 == 0 || f.tick-int64(tick1-1) >= Slots) {
			free = i // unused, or older than the history
		}
	}
	if free >= 0 && sent <= 0xffffffff && recv <= 0xffffffff {
		h.setEntry(free, uint32(t+1), uint32(sent), uint32(recv))
		return true
	}
	if free == -1 && f.toOneWay(r, t, sent, recv) {
		return true
	}
	f.makeHist(r)
	return false
}

// liveEntry says whether an own entry holds a tick of the last Slots.
func (f *Flows) liveEntry(tick1 uint32) bool {
	return tick1 > 0 && f.tick-int64(tick1-1) < Slots
}

// toOneWay turns r's own entries into one-way slots, with tick t's bytes
// added, when all of them go one way and fit a uint16: a flood's flow
// then needs no side table. It reports whether it did.
func (f *Flows) toOneWay(r *flowRec, t int64, sent, recv uint64) bool {
	h := &r.own
	anySent, anyRecv := sent, recv
	fits := sent <= 0xffff && recv <= 0xffff
	for i := range inSlots {
		if tick1, s, v := h.entry(i); f.liveEntry(tick1) {
			anySent |= uint64(s)
			anyRecv |= uint64(v)
			fits = fits && s <= 0xffff && v <= 0xffff
		}
	}
	if !fits || anySent != 0 && anyRecv != 0 {
		return false
	}
	var n ownHist
	n[ownMode] = ownSent
	if anySent == 0 && anyRecv != 0 {
		n[ownMode] = ownRecv
	}
	for i := range inSlots {
		if tick1, s, v := h.entry(i); f.liveEntry(tick1) {
			n.set16(int64(tick1-1)%Slots, uint64(s|v)) // one of them is 0
		}
	}
	// No entry held tick t (addOwn adds to one that does), so its slot
	// is free: a live entry of the same slot would be tick t itself.
	n.set16(t%Slots, sent|recv)
	r.own = n
	return true
}

// oneWayToHist moves r's one-way slots to a side table of uint16 slots.
func (f *Flows) oneWayToHist(r *flowRec) {
	i := f.hists16.alloc()
	h := f.hists16.at(i)
	*h = tinyHist{}
	d := 0
	if r.own[ownMode] == ownRecv {
		d = 1
	}
	for j := range int64(Slots) {
		h[j][d] = uint16(r.own.get16(j))
	}
	r.hist = -i
	r.own = ownHist{}
}

// slot returns r's bytes sent and received in tick j (one of the last
// Slots ticks, not after r.last).
func (f *Flows) slot(r *flowRec, j int64) (sent, recv uint64) {
	switch {
	case r.big != 0:
		x := &f.bigs.at(r.big)[j%Slots]
		return x[0], x[1]
	case r.hist > 0:
		x := &f.hists.at(r.hist)[j%Slots]
		return uint64(x[0]), uint64(x[1])
	case r.hist < 0:
		x := &f.hists16.at(-r.hist)[j%Slots]
		return uint64(x[0]), uint64(x[1])
	case r.own[ownMode] == ownSent:
		return r.own.get16(j % Slots), 0
	case r.own[ownMode] == ownRecv:
		return 0, r.own.get16(j % Slots)
	}
	for i := range inSlots {
		if tick1, s, v := r.own.entry(i); int64(tick1) == j+1 {
			return uint64(s), uint64(v)
		}
	}
	return 0, 0
}

// clearStale zeroes the slots between r's last tick and t, which hold
// data from 40 s ago. A record's own entries carry their ticks: nothing
// to clear.
func (f *Flows) clearStale(r *flowRec, t int64) {
	if r.hist == 0 && r.big == 0 && r.own[ownMode] == ownEntries {
		return
	}
	from := int64(r.last) + 1
	if t-int64(r.last) >= Slots {
		from = t - Slots + 1
	}
	for j := from; j <= t; j++ {
		switch {
		case r.big != 0:
			f.bigs.at(r.big)[j%Slots] = [2]uint64{}
		case r.hist > 0:
			f.hists.at(r.hist)[j%Slots] = [2]uint32{}
		case r.hist < 0:
			f.hists16.at(-r.hist)[j%Slots] = [2]uint16{}
		default:
			r.own.set16(j%Slots, 0)
		}
	}
}

// makeHist moves r's own entries of the last Slots ticks to a 20-slot
// history: of uint16 when they fit, else of uint32.
func (f *Flows) makeHist(r *flowRec) {
	small := true
	for i := range inSlots {
		_, s, v := r.own.entry(i)
		small = small && s <= 0xffff && v <= 0xffff
	}
	if small {
		i := f.hists16.alloc()
		h := f.hists16.at(i)
		*h = tinyHist{}
		for i := range inSlots {
			if tick1, s, v := r.own.entry(i); f.liveEntry(tick1) {
				h[(tick1-1)%Slots] = [2]uint16{uint16(s), uint16(v)}
			}
		}
		r.hist = -i
	} else {
		r.hist = f.hists.alloc()
		h := f.hists.at(r.hist)
		*h = smallHist{}
		for i := range inSlots {
			if tick1, s, v := r.own.entry(i); f.liveEntry(tick1) {
				h[(tick1-1)%Slots] = [2]uint32{s, v}
			}
		}
	}
	r.own = ownHist{}
}

// widenHist moves r's uint16 history to uint32 slots.
func (f *Flows) widenHist(r *flowRec) {
	i := -r.hist
	h16 := f.hists16.at(i)
	r.hist = f.hists.alloc()
	h := f.hists.at(r.hist)
	for j := range h16 {
		h[j] = [2]uint32{uint32(h16[j][0]), uint32(h16[j][1])}
	}
	f.hists16.release(i)
}

// makeBig moves r's history to uint64 slots.
func (f *Flows) makeBig(r *flowRec) {
	h := f.hists.at(r.hist)
	r.big = f.bigs.alloc()
	b := f.bigs.at(r.big)
	for i := range h {
		b[i][0], b[i][1] = uint64(h[i][0]), uint64(h[i][1])
	}
	f.hists.release(r.hist)
	r.hist = 0
}

func (c *Counter) addCounter(o *Counter) {
	c.Bytes += o.Bytes
	c.Packets += o.Packets
}

func (c *Capture) add(o *Capture) {
	c.Packets += o.Packets
	c.Bytes += o.Bytes
	c.Dropped += o.Dropped
	c.Undecodable += o.Undecodable
	c.NotIP += o.NotIP
	c.Filtered += o.Filtered
	c.Ignored += o.Ignored
	c.Counted += o.Counted
}

// windows computes r's 2 s / 10 s / 40 s sums at tick t.
func (f *Flows) windows(r *flowRec, t int64, sent, recv *Stat) {
	sent.Bytes, sent.Packets = r.sent.Bytes, r.sent.Packets
	recv.Bytes, recv.Packets = r.recv.Bytes, r.recv.Packets
	last := min(int64(r.last), t)
	var s [3]uint64
	var v [3]uint64
	lo := max(t-Slots+1, 0)
	if r.hist == 0 && r.big == 0 {
		switch r.own[ownMode] {
		case ownEntries:
			for i := range inSlots {
				tick1, a, b := r.own.entry(i)
				j := int64(tick1) - 1
				if tick1 == 0 || j <= t-Slots || j > last {
					continue
				}
				addWin(&s, j, t, uint64(a))
				addWin(&v, j, t, uint64(b))
			}
		case ownSent:
			sumOneWay(&r.own, lo, last, t, &s)
		default:
			sumOneWay(&r.own, lo, last, t, &v)
		}
		sent.Win, recv.Win = s, v
		return
	}
	// The side history is found once, not per slot (a million flows
	// every tick).
	switch {
	case r.big != 0:
		sumSlots(f.bigs.at(r.big), lo, last, t, &s, &v)
	case r.hist > 0:
		sumSlots(f.hists.at(r.hist), lo, last, t, &s, &v)
	default:
		sumSlots(f.hists16.at(-r.hist), lo, last, t, &s, &v)
	}
	sent.Win, recv.Win = s, v
}

// sumSlots adds ticks lo..last of a side history to the 2 s, 10 s and
// 40 s sums at tick t.
func sumSlots[T uint16 | uint32 | uint64, H ~[Slots][2]T](h *H, lo, last, t int64, s, v *[3]uint64) {
	for j := lo; j <= last; j++ {
		x := &(*h)[j%Slots]
		addWin(s, j, t, uint64(x[0]))
		addWin(v, j, t, uint64(x[1]))
	}
}

// sumOneWay adds ticks lo..last of one-way slots to the 2 s, 10 s and
// 40 s sums at tick t.
func sumOneWay(h *ownHist, lo, last, t int64, w *[3]uint64) {
	for j := lo; j <= last; j++ {
		addWin(w, j, t, h.get16(j%Slots))
	}
}

// addWin adds the bytes a of tick j to the 2 s, 10 s and 40 s sums w at
// tick t (j is one of the last Slots ticks).
func addWin(w *[3]uint64, j, t int64, a uint64) {
	w[2] += a
	if j > t-5 {
		w[1] += a
		if j == t {
			w[0] += a
		}
	}
}

// Trim lets go of scratch memory that only the coming ticks would reuse
// (the table of newcomers waiting while the table is full, the ranking
// buffer): for the last snapshot of a run.
func (f *Flows) Trim() {
	f.settle()
	f.pend, f.rankBuf = nil, nil
}

// Close ends the slot being filled at time end (Unix ns; normally the slot
// start plus SlotDuration, earlier for the partial slot at the end of a
// file or of a timed run), returns a Snapshot of the table, expires flows
// idle for the whole history, and starts the next slot.
func (f *Flows) Close(end int64) *Snapshot {
	snap := f.Snapshot(end)
	f.rotate(end)
	return snap
}

// Snapshot returns an immutable view of the table with the slot being
// filled counted up to time end, without closing it.
func (f *Flows) Snapshot(end int64) *Snapshot {
	f.settle()
	t := f.tick
	g := &f.global[t%Slots]
	g.dur = max(end-f.slotStart, 0)

	s := &Snapshot{
		Time:    end,
		Start:   f.start,
		Capture: f.capture,
	}
	s.Capture.Folded = f.folded
	lo := max(t-Slots+1, 0)
	for j := lo; j <= t; j++ {
		gs := &f.global[j%Slots]
		for w, n := range windowSlots {
			if j > t-n {
				s.Window[w] += gs.dur
				s.TX.Win[w] += gs.tx
				s.RX.Win[w] += gs.rx
			}
		}
	}
	s.TX.Bytes, s.TX.Packets = f.tx.Bytes, f.tx.Packets
	s.RX.Bytes, s.RX.Packets = f.rx.Bytes, f.rx.Packets
	s.Peak = f.peak(t)

	s.pool = f.pool
	if f.multi {
		f.snapshotLinks(s, t)
	} else {
		s.Flows = f.flowsBuffer(f.n + 1)
		f.eachRec(func(_ int32, r *flowRec) {
			if r.k[4] == 0 || t-int64(r.last) >= Slots {
				return // free, or expires at rotate
			}
			// Field by field into the buffer's room: appending a whole
			// Flow, a type with a pointer, copies it under the GC's
			// write barrier while a collection runs.
			s.Flows = s.Flows[:len(s.Flows)+1]
			fl := &s.Flows[len(s.Flows)-1]
			fl.Key, fl.Links = r.k.key(), nil
			f.windows(r, t, &fl.Sent, &fl.Recv)
		})
		if o := &f.other[0]; f.otherOn != 0 && t-int64(o.last) < Slots {
			fl := Flow{Key: Key{}}
			f.windows(o, t, &fl.Sent, &fl.Recv)
			s.Flows = append(s.Flows, fl)
		}
	}
	for i := range f.ifaces {
		ia := &f.ifaces[i]
		in := Interface{Name: ia.name, Capture: ia.capture, Down: ia.down, Link: ia.link}
		in.TX.Bytes, in.TX.Packets = ia.tx.Bytes, ia.tx.Packets
		in.RX.Bytes, in.RX.Packets = ia.rx.Bytes, ia.rx.Packets
		for j := lo; j <= t; j++ {
			h := &ia.hist[j%Slots]
			for w, n := range windowSlots {
				if j > t-n {
					in.TX.Win[w] += h[0]
					in.RX.Win[w] += h[1]
				}
			}
		}
		s.Interfaces = append(s.Interfaces, in)
	}
	s.Bonds = f.bondViews(t)
	return s
}

// snapshotLinks fills s.Flows when several links are captured: one Flow
// per flow, summing its records, each of which is one of its Links (in
// link order); the "other" row likewise. O(records): the parts of a flow
// are found through the index (groupRecs), not by sorting.
func (f *Flows) snapshotLinks(s *Snapshot, t int64) {
	live := func(r *flowRec) bool { return t-int64(r.last) < Slots }
	n := f.groupRecs(live)
	s.Flows = f.flowsBuffer(n + 1)[:n]
	clear(s.Flows)
	// partStart[g] is where flow g's parts begin in parts: count, then sum.
	f.partStart = grow32(f.partStart, n+1)
	clear(f.partStart)
	nparts := 0
	f.eachRec(func(j int32, _ *flowRec) {
		if g := f.flowOf[j]; g >= 0 {
			f.partStart[g+1]++
			nparts++
		}
	})
	for g := range n {
		f.partStart[g+1] += f.partStart[g]
	}
	parts := f.linksBuffer(nparts + len(f.other))[:nparts]
	f.eachRec(func(j int32, r *flowRec) {
		g := f.flowOf[j]
		if g < 0 {
			return
		}
		fl := &s.Flows[g]
		if fl.Key.Family == 0 {
			fl.Key = r.k.key()
		}
		// partStart[g] walks through g's parts; when done it is where g+1's begin.
		p := &parts[f.partStart[g]]
		f.partStart[g]++
		*p = FlowLink{Link: r.k.link()}
		f.windows(r, t, &p.Sent, &p.Recv)
	})
	end := int32(0)
	for g := range s.Flows {
		fl := &s.Flows[g]
		fl.Links = parts[end:f.partStart[g]:f.partStart[g]]
		end = f.partStart[g]
		sumLinks(fl)
	}
	s.links = parts
	s.lpool = f.lpool
	var o Flow
	for i := range f.other {
		r := &f.other[i]
		if f.otherOn&(1<<i) != 0 && live(r) {
			parts = append(parts, FlowLink{Link: i})
			p := &parts[len(parts)-1]
			f.windows(r, t, &p.Sent, &p.Recv)
		}
	}
	if len(parts) > nparts {
		o.Links = parts[nparts:len(parts):len(parts)]
		sumLinks(&o)
		s.Flows = append(s.Flows, o)
	}
}

// sumLinks puts fl's parts in link order and sets its Sent and Recv to
// their sums.
func sumLinks(fl *Flow) {
	l := fl.Links
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j].Link < l[j-1].Link; j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
	fl.Sent, fl.Recv = Stat{}, Stat{}
	for i := range l {
		fl.Sent.Add(&l[i].Sent)
		fl.Recv.Add(&l[i].Recv)
	}
}

// linksBuffer is flowsBuffer for the Links of a snapshot's flows.
func (f *Flows) linksBuffer(n int) []FlowLink {
	select {
	case b := <-f.lpool:
		if cap(b) >= n && !tooBig(cap(b), n) {
			return b[:0]
		}
	default:
	}
	return make([]FlowLink, 0, n)
}

// flowsBuffer returns an empty Flows slice for a snapshot: a released
// one when there is one, so a million-flow table does not allocate (and
// fault in) a fresh 100 MB every tick.
func (f *Flows) flowsBuffer(n int) []Flow {
	select {
	case b := <-f.pool:
		if cap(b) >= n && !tooBig(cap(b), n) {
			return b[:0]
		}
		// Too small, or kept from a flood that is over: the GC takes it.
	default:
	}
	b := make([]Flow, 0, n)
	slab.Advise(b[:n]) // fresh memory: on huge pages, if large
	return b
}

// peak returns the largest slot rates of the history. A partial slot
// shorter than a second is left out unless it is the only one: a rate over
// a few milliseconds says little and would dwarf every real peak.
func (f *Flows) peak(t int64) Peak {
	var p Peak
	lo := max(t-Slots+1, 0)
	for j := lo; j <= t; j++ {
		gs := &f.global[j%Slots]
		if gs.dur <= 0 || (gs.dur < int64(time.Second) && t > 0) {
			continue
		}
		sec := float64(gs.dur) / 1e9
		p.Sent = max(p.Sent, float64(gs.tx)/sec)
		p.Recv = max(p.Recv, float64(gs.rx)/sec)
		p.Total = max(p.Total, float64(gs.tx+gs.rx)/sec)
	}
	return p
}

// rotate starts the next slot at time end and drops flows that have been
// idle for the whole history.
func (f *Flows) rotate(end int64) {
	t := f.tick
	f.eachRec(func(j int32, r *flowRec) {
		// Idle for 20 slots once the next one starts: gone.
		if r.k[4] != 0 && t-int64(r.last) >= Slots-1 {
			f.remove(j)
		}
	})
	for i := range f.other {
		if f.otherOn&(1<<i) != 0 && t-int64(f.other[i].last) >= Slots-1 {
			f.other[i] = flowRec{}
			f.otherOn &^= 1 << i
		}
	}
	f.tick++
	f.slotStart = end
	n := f.tick % Slots
	f.global[n] = globalSlot{}
	for i := range f.ifaces {
		f.ifaces[i].hist[n] = [2]uint64{}
	}
	f.rotateBonds(n)
}

package table

import (
	"math"
	"math/bits"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring/slab"
)

// Counter is bytes and packets in one direction.
type Counter struct {
	Bytes   uint64
	Packets uint64
}

func (c *Counter) add(bytes uint32) {
	c.Bytes += uint64(bytes)
	c.Packets++
}

// DeltaEntry is one flow's traffic during one tick.
type DeltaEntry struct {
	Key  Key
	Sent Counter // from Key.A to Key.B
	Recv Counter // from Key.B to Key.A
}

// deltaEntry is one key of a Delta with its counts: 64 bytes, one cache
// line, so that a lookup in a large delta misses once, not twice (an
// 80-byte entry straddles two lines wherever it lies). The hash is not
// kept (the merger computes it again, from a key in hand), and packet
// counts are 32-bit: a count that wraps, after 4 billion packets of one
// flow in one delta, is carried in Delta.carry, so none is lost.
type deltaEntry struct {
	k                    packed
	sentBytes, recvBytes uint64
	sentPkts, recvPkts   uint32
}

// Delta is what one worker counted during one tick, written by that worker
// alone, with no locks and no atomics. At the end of a tick the worker
// hands it to the merger and goes on with a spare.
//
// Entries are dense, in insertion order: the merger walks only the keys of
// the tick, one after another, and Reset just forgets them. They are found
// through an open-addressing index of 4-byte words sized to twice the
// keys at most (four times in a small delta): a word holds the entry's
// number plus one in its low bits, as many as the index has slots (a
// number never reaches that), and above them a tag, the same bits of the
// hash's high half; 0 is a free word. A probe reads the index, then only
// the entry whose tag matches. Words of 4 bytes, not 8, halve the index
// a large delta misses on (1 MB, not 2, at 131,072 keys), for a tag of 11
// bits or more up to 1,048,576 keys (an index of 2^21 words): a probe
// whose tag matches reads the wrong entry once in 2,048 or fewer.
//
// Entries live in chunks that never move (the first grows up to a chunk
// by doubling): a flood's first tick grows the delta without copying its
// entries over and over. Large chunks and indexes come from package slab,
// on huge pages.
type Delta struct {
	index []uint32       // power-of-two sized; see tag, word and entry
	ents  [][]deltaEntry // chunks of entChunk entries, in insertion order
	n     int            // entries
	mask  uint64         // len(index)-1: a hash's home slot, and the entry bits of a word
	limit int            // most distinct keys; more are folded into other
	// touched sums what CountPending loaded ahead: never read, it keeps
	// the loads from being optimized away.
	touched uint64

	TX, RX Counter    // by interface direction
	other  deltaEntry // packets of keys that did not fit (limit reached)
	// carry holds, per key, the packets its 32-bit counts wrapped past
	// (sent, received; multiples of 1<<32): nil until one wraps.
	carry   map[packed][2]uint64
	Folded  uint64  // packets folded into other because the delta was full (the merger counts each as a folded flow)
	Capture Capture // what the worker saw this tick
	Tick    int64   // the tick this delta belongs to (set by the worker)
	Iface   int     // which interface (source) the worker captures from
	// Bond is what the worker checked of the packets its link, a bond's,
	// transmitted (see CheckBond); nil when it checked none.
	Bond *BondDelta
}

const minDeltaSize = 1024

// A chunk of entries: 1<<16 of 64 bytes, 4 MiB.
const (
	entShift = 16
	entChunk = 1 << entShift
	entMask  = entChunk - 1
)

// ent returns entry j.
func (d *Delta) ent(j int) *deltaEntry { return &d.ents[j>>entShift][j&entMask] }

// tag returns the index word bits that tag a key of hash h: those of its
// high half above the entry number's bits (the home slot comes from the
// low half, so the two do not repeat each other).
func (d *Delta) tag(h uint64) uint32 { return uint32(h>>32) &^ uint32(d.mask) }

// word returns the index word of entry j of hash h.
func (d *Delta) word(h uint64, j int) uint32 { return d.tag(h) | uint32(j+1) }

// entry returns the entry an index word points at (w ≠ 0).
func (d *Delta) entry(w uint32) *deltaEntry { return d.ent(int(w&uint32(d.mask)) - 1) }

// DeltaLimit is how many distinct flows a worker's delta holds in one tick
// when the merged table holds maxFlows: never fewer than DefaultMaxFlows,
// so a small --max-flows does not make the workers fold flows before the
// merged table can rank them (a worker folding an elephant's first packets
// would break the table's guarantee; see overflow.go). It bounds a
// worker's memory in a flood of new flows.
func DeltaLimit(maxFlows int) int { return max(maxFlows, DefaultMaxFlows) }

// NewDelta returns an empty Delta that holds at most limit keys (0: no
// limit beyond memory) before folding new ones into the "other" row.
func NewDelta(limit int) *Delta {
	d := &Delta{limit: limit}
	d.reindex(minDeltaSize)
	return d
}

// reindex makes the index n words long and puts every entry in it.
func (d *Delta) reindex(n int) {
	if len(d.index) == n {
		clear(d.index)
	} else {
		d.index = slab.Make[uint32](n)
	}
	d.mask = uint64(n - 1)
	for j := range d.n {
		h := d.ent(j).k.hash()
		i := h & d.mask
		for d.index[i] != 0 {
			i = (i + 1) & d.mask
		}
		d.index[i] = d.word(h, j)
	}
}

// smallIndex is the index size below which a delta keeps its index at
// most a quarter full, not half: at a thousand flows the direct path
// then probes about 1.2 words a lookup, not 1.5 (BenchmarkWorker
// flows=1000: 27-29 → 24.5-25.5 ns a packet), for 16 KiB of index.
const smallIndex = 1 << 12

// holds returns how many keys an index of size words holds.
func holds(size int) int {
	if size < smallIndex {
		return size / 4
	}
	return size / 2
}

// Room returns how many keys the delta holds before its index grows.
func (d *Delta) Room() int { return holds(len(d.index)) }

// Len returns the number of distinct keys.
func (d *Delta) Len() int { return d.n }

// room makes room for entries up to n (at most one chunk more).
func (d *Delta) room(n int) {
	c := (n - 1) >> entShift
	for len(d.ents) <= c {
		d.ents = append(d.ents, nil)
	}
	e := d.ents[c]
	want := n - c<<entShift
	if cap(e) >= want {
		return
	}
	size := entChunk
	if c == 0 {
		// The first chunk doubles, so a small delta stays small.
		size = min(1<<bits.Len(uint(max(minDeltaSize/2, 2*cap(e), want)-1)), entChunk)
	}
	ne := slab.Make[deltaEntry](size)[:len(e)]
	copy(ne, e)
	d.ents[c] = ne
}

// Reserve grows the delta, if needed, to hold n keys without growing
// again: a spare delta sized like the one it replaces never regrows on the
// packet path.
func (d *Delta) Reserve(n int) {
	size := len(d.index)
	for n > holds(size) {
		size *= 2
	}
	if size != len(d.index) {
		d.reindex(size)
	}
	for c := 0; c<<entShift < n; c++ {
		d.room(min(n, (c+1)<<entShift))
	}
}

// Add counts one packet of bytes (IP length) for k in direction dir.
// sent says whether it went from k.A to k.B.
func (d *Delta) Add(k *Key, dir Dir, sent bool, bytes uint32) {
	p := pack(k)
	d.add(&p, dir, sent, bytes)
}

// Count classifies a decoded packet with c and counts it: the per-packet
// path, which builds the key in its packed form directly. It returns the
// direction; DirIgnored means the packet was not counted (the caller
// counts it as ignored).
func (d *Delta) Count(c *Classifier, p *decode.Packet) Dir {
	dir, srcLeft := c.classify(p)
	if dir == DirIgnored {
		return dir
	}
	var k packed
	packPacket(&k, p, srcLeft)
	d.add(&k, dir, srcLeft, p.IPLen)
	return dir
}

// Pending is a packet classified for a delta and waiting to be counted
// (Delta.Prepare, Delta.CountPending).
type Pending struct {
	k     packed
	h     uint64
	w     uint32 // the index word at the key's home, loaded ahead
	bytes uint32
	dir   Dir
	sent  bool
}

// Prepare classifies a decoded packet with c into q, for CountPending.
// It returns the direction; DirIgnored means the packet is not to be
// counted (q is left unused).
func (d *Delta) Prepare(c *Classifier, p *decode.Packet, q *Pending) Dir {
	dir, srcLeft := c.classify(p)
	if dir == DirIgnored {
		return dir
	}
	packPacket(&q.k, p, srcLeft)
	q.h = q.k.hash()
	q.bytes, q.dir, q.sent = p.IPLen, dir, srcLeft
	return dir
}

// Large reports whether the delta's index has outgrown the first-level
// cache (32 KiB, 8,192 words: more than 4,096 keys): then Prepare with
// CountPending pays. Live, a reader shares its CPU's caches with the
// kernel and the other threads, so a table that would fit in L2 on its
// own misses anyway: at 10,000 flows (5,000 keys per member, with 8-byte
// index words then) the batched path took the readers from 127-163 to
// 89-98 ms per million packets (bench --live --fanout 2, alternating
// runs), and the worker alone from 32-36 to 29-31 ns per packet in three
// runs of four (the fourth 41). Below it the direct path (Count) is
// cheaper by a few nanoseconds a packet.
func (d *Delta) Large() bool { return len(d.index) > 1<<13 }

// CountPending counts prepared packets, in order. In a large table (a
// flood of new flows) each packet's index word and entry are cache
// misses; Go has no prefetch instruction, so it first loads them for
// the whole batch in short loops of independent loads, which the
// processor overlaps, instead of meeting the misses one after another
// in the lookups.
func (d *Delta) CountPending(qs []Pending) {
	for i := range qs {
		qs[i].w = d.index[qs[i].h&d.mask]
	}
	var x uint64
	for i := range qs {
		if w := qs[i].w; w != 0 {
			x += d.entry(w).k[4]
		}
	}
	d.touched += x
	for i := range qs {
		q := &qs[i]
		d.addHashed(&q.k, q.h, q.dir, q.sent, q.bytes)
	}
}

func (d *Delta) add(p *packed, dir Dir, sent bool, bytes uint32) {
	d.addHashed(p, p.hash(), dir, sent, bytes)
}

// addHashed is add with p's hash h.
func (d *Delta) addHashed(p *packed, h uint64, dir Dir, sent bool, bytes uint32) {
	if dir == DirOut {
		d.TX.add(bytes)
	} else {
		d.RX.add(bytes)
	}
	e := d.lookup(p, h)
	if sent {
		e.sentBytes += uint64(bytes)
		if e.sentPkts++; e.sentPkts == 0 {
			d.wrap(&e.k, 0, 1<<32)
		}
	} else {
		e.recvBytes += uint64(bytes)
		if e.recvPkts++; e.recvPkts == 0 {
			d.wrap(&e.k, 1, 1<<32)
		}
	}
}

// wrap carries n packets of k's direction dir (0: sent, 1: received)
// that its entry's 32-bit count wrapped past.
func (d *Delta) wrap(k *packed, dir int, n uint64) {
	if d.carry == nil {
		d.carry = map[packed][2]uint64{}
	}
	c := d.carry[*k]
	c[dir] += n
	d.carry[*k] = c
}

// counts returns e's counts, carried packets included.
func (d *Delta) counts(e *deltaEntry) (sent, recv Counter) {
	sent = Counter{Bytes: e.sentBytes, Packets: uint64(e.sentPkts)}
	recv = Counter{Bytes: e.recvBytes, Packets: uint64(e.recvPkts)}
	if d.carry != nil {
		c := d.carry[e.k]
		sent.Packets += c[0]
		recv.Packets += c[1]
	}
	return sent, recv
}

// addPackets adds n packets to the 32-bit count *c of k's direction dir,
// carrying what goes past it.
func (d *Delta) addPackets(c *uint32, k *packed, dir int, n uint64) {
	t := uint64(*c) + n
	*c = uint32(t)
	if t > math.MaxUint32 {
		d.wrap(k, dir, t&^math.MaxUint32)
	}
}

// lookup finds or inserts p.
func (d *Delta) lookup(p *packed, h uint64) *deltaEntry {
	tag := d.tag(h)
	i := h & d.mask
	for {
		w := d.index[i]
		if w == 0 {
			return d.insert(p, h, i)
		}
		if w&^uint32(d.mask) == tag {
			if e := d.entry(w); e.k.equal(p) {
				return e
			}
		}
		i = (i + 1) & d.mask
	}
}

func (d *Delta) insert(p *packed, h, i uint64) *deltaEntry {
	if d.limit > 0 && d.n >= d.limit {
		d.Folded++
		return &d.other
	}
	if d.n+1 > holds(len(d.index)) {
		d.reindex(2 * len(d.index))
		return d.lookup(p, h)
	}
	c := d.n >> entShift
	if c == len(d.ents) || len(d.ents[c]) == cap(d.ents[c]) {
		d.room(d.n + 1)
	}
	d.ents[c] = append(d.ents[c], deltaEntry{k: *p})
	d.n++
	d.index[i] = d.word(h, d.n-1)
	return d.ent(d.n - 1)
}

// Each calls f for every entry (not the "other" row), in insertion order.
func (d *Delta) Each(f func(e *DeltaEntry)) {
	for i := range d.n {
		s := d.ent(i)
		e := DeltaEntry{Key: s.k.key()}
		e.Sent, e.Recv = d.counts(s)
		f(&e)
	}
}

// Counts returns what the worker saw this tick, Counted included.
func (d *Delta) Counts() Capture {
	c := d.Capture
	c.Counted = d.TX.Packets + d.RX.Packets
	return c
}

// Other returns the traffic of the keys that did not fit.
func (d *Delta) Other() (sent, recv Counter) { return d.counts(&d.other) }

// addCounters adds a merged entry's counts to p (the merger's table of
// flows waiting for a record), or to other when the delta is full.
func (d *Delta) addCounters(p *packed, h uint64, sent, recv *Counter) {
	e := d.lookup(p, h)
	e.sentBytes += sent.Bytes
	e.recvBytes += recv.Bytes
	d.addPackets(&e.sentPkts, &e.k, 0, sent.Packets)
	d.addPackets(&e.recvPkts, &e.k, 1, recv.Packets)
}

// Shrink empties the delta and lets go of its memory, but for a small
// index: for a delta that will see no more traffic, before the last and
// largest snapshot of a run.
func (d *Delta) Shrink() {
	d.Reset()
	d.ents = nil
	if len(d.index) > minDeltaSize {
		d.index = make([]uint32, minDeltaSize)
		d.mask = minDeltaSize - 1
	}
}

// Reset empties the delta for reuse. It keeps its memory, unless the tick
// used less than an eighth of it: then the index and the entries shrink to
// what twice this tick's keys need, so the memory a flood took goes back
// once the flood is over (a delta that grows again doubles, as a fresh
// one would).
func (d *Delta) Reset() {
	n := d.n
	if size := len(d.index); size > minDeltaSize && 16*n < size {
		size = minDeltaSize
		for size < 4*n {
			size *= 2
		}
		d.ents = d.ents[:0]
		d.index = slab.Make[uint32](size)
		d.mask = uint64(size - 1)
	} else if n > len(d.index)/8 {
		clear(d.index)
	} else {
		// Few keys: free their words one by one. Each one's word lies
		// at or after its home (the search goes on past words freed).
		for j := range n {
			i := d.ent(j).k.hash() & d.mask
			for d.index[i]&uint32(d.mask) != uint32(j+1) {
				i = (i + 1) & d.mask
			}
			d.index[i] = 0
		}
	}
	for c := range d.ents {
		d.ents[c] = d.ents[c][:0]
	}
	d.n = 0
	d.TX, d.RX = Counter{}, Counter{}
	d.other = deltaEntry{}
	d.carry = nil
	d.Folded = 0
	d.Capture = Capture{}
	if d.Bond != nil {
		d.Bond.reset()
	}
}

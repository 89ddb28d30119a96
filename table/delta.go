package table

import "github.com/fastop/fastop/decode"

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

type deltaSlot struct {
	k          packed
	sent, recv Counter
}

// Delta is what one worker counted during one tick: an open-addressing
// table written by that worker alone, with no locks and no atomics. At the
// end of a tick the worker hands it to the merger and goes on with a spare.
type Delta struct {
	ctrl  []uint8     // per slot: ctrlEmpty or ctrlTag(hash)
	slots []deltaSlot // power-of-two sized
	used  []uint32    // indexes of used slots, in insertion order
	hash  []uint64    // hash of each used slot, parallel to used (the merger reuses it)
	mask  uint64
	limit int // most distinct keys; more are folded into other

	TX, RX  Counter   // by interface direction
	other   deltaSlot // packets of keys that did not fit (limit reached)
	Folded  uint64    // packets folded into other because the delta was full (the merger counts each as a folded flow)
	Capture Capture   // what the worker saw this tick
	Tick    int64     // the tick this delta belongs to (set by the worker)
	Iface   int       // which interface (source) the worker captures from
	// Bond is what the worker checked of the packets its link, a bond's,
	// transmitted (see CheckBond); nil when it checked none.
	Bond *BondDelta
}

const minDeltaSize = 1024

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
	d.alloc(minDeltaSize)
	return d
}

func (d *Delta) alloc(n int) {
	d.ctrl = make([]uint8, n)
	d.slots = make([]deltaSlot, n)
	d.mask = uint64(n - 1)
}

// Len returns the number of distinct keys.
func (d *Delta) Len() int { return len(d.used) }

// Reserve grows the table, if needed, to hold n keys without growing
// again: a spare delta sized like the one it replaces never regrows on the
// packet path.
func (d *Delta) Reserve(n int) {
	size := len(d.slots)
	for 2*n > size {
		size *= 2
	}
	if size != len(d.slots) {
		d.rehash(size)
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

func (d *Delta) add(p *packed, dir Dir, sent bool, bytes uint32) {
	if dir == DirOut {
		d.TX.add(bytes)
	} else {
		d.RX.add(bytes)
	}
	s := d.lookup(p, p.hash())
	if sent {
		s.sent.add(bytes)
	} else {
		s.recv.add(bytes)
	}
}

// lookup finds or inserts p.
func (d *Delta) lookup(p *packed, h uint64) *deltaSlot {
	tag := ctrlTag(h)
	i := h & d.mask
	for {
		switch c := d.ctrl[i]; c {
		case tag:
			if s := &d.slots[i]; s.k.equal(p) {
				return s
			}
		case ctrlEmpty:
			return d.insert(p, h, i)
		}
		i = (i + 1) & d.mask
	}
}

func (d *Delta) insert(p *packed, h, i uint64) *deltaSlot {
	if d.limit > 0 && len(d.used) >= d.limit {
		d.Folded++
		return &d.other
	}
	if 2*(len(d.used)+1) > len(d.slots) {
		d.rehash(2 * len(d.slots))
		return d.lookup(p, h)
	}
	d.ctrl[i] = ctrlTag(h)
	s := &d.slots[i]
	s.k = *p
	d.used = append(d.used, uint32(i))
	d.hash = append(d.hash, h)
	return s
}

func (d *Delta) rehash(size int) {
	oldSlots, oldUsed, oldHash := d.slots, d.used, d.hash
	d.alloc(size)
	d.used = make([]uint32, 0, cap(oldUsed))
	d.hash = make([]uint64, 0, cap(oldHash))
	for j, oi := range oldUsed {
		h := oldHash[j]
		i := h & d.mask
		for d.ctrl[i] != ctrlEmpty {
			i = (i + 1) & d.mask
		}
		d.ctrl[i] = ctrlTag(h)
		d.slots[i] = oldSlots[oi]
		d.used = append(d.used, uint32(i))
		d.hash = append(d.hash, h)
	}
}

// Each calls f for every entry (not the "other" row), in insertion order.
func (d *Delta) Each(f func(e *DeltaEntry)) {
	for _, i := range d.used {
		s := &d.slots[i]
		e := DeltaEntry{Key: s.k.key(), Sent: s.sent, Recv: s.recv}
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
func (d *Delta) Other() (sent, recv Counter) { return d.other.sent, d.other.recv }

// addCounters adds a merged entry's counts to p (the merger's table of
// flows waiting for a record), or to other when the delta is full.
func (d *Delta) addCounters(p *packed, h uint64, sent, recv *Counter) {
	s := d.lookup(p, h)
	s.sent.addCounter(sent)
	s.recv.addCounter(recv)
}

// Reset empties the delta for reuse, keeping its memory.
func (d *Delta) Reset() {
	if len(d.used) > len(d.slots)/8 {
		clear(d.ctrl)
		clear(d.slots)
	} else {
		for _, i := range d.used {
			d.ctrl[i] = ctrlEmpty
			d.slots[i] = deltaSlot{}
		}
	}
	d.used = d.used[:0]
	d.hash = d.hash[:0]
	d.TX, d.RX = Counter{}, Counter{}
	d.other = deltaSlot{}
	d.Folded = 0
	d.Capture = Capture{}
	if d.Bond != nil {
		d.Bond.reset()
	}
}

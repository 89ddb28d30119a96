package table

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

// Delta is what one worker counted during one tick: an open-addressing
// table of DeltaEntry written by that worker alone, with no locks and no
// atomics. At the end of a tick the worker hands it to the merger and goes
// on with a spare one.
type Delta struct {
	entries []DeltaEntry // power-of-two sized; Key.Family == 0 marks a free slot
	used    []uint32     // indexes of used slots, so Reset and iteration skip the rest
	mask    uint64
	limit   int // most distinct keys; more are folded into Other

	TX, RX  Counter // by interface direction
	Other   DeltaEntry
	Folded  uint64  // packets folded into Other because the delta was full
	Capture Capture // what the worker saw this tick
	Tick    int64   // the tick this delta belongs to (set by the worker)
	Iface   int     // which interface (source) the worker captures from
}

const minDeltaSize = 1024

// NewDelta returns an empty Delta that holds at most limit keys (0: no
// limit beyond memory) before folding new ones into its Other entry.
func NewDelta(limit int) *Delta {
	d := &Delta{limit: limit}
	d.entries = make([]DeltaEntry, minDeltaSize)
	d.mask = minDeltaSize - 1
	return d
}

// Len returns the number of distinct keys.
func (d *Delta) Len() int { return len(d.used) }

// Add counts one packet of bytes (IP length) for k in direction dir.
// sent says whether it went from k.A to k.B.
func (d *Delta) Add(k *Key, dir Dir, sent bool, bytes uint32) {
	switch dir {
	case DirOut:
		d.TX.add(bytes)
	default:
		d.RX.add(bytes)
	}
	d.Capture.Counted++
	e := d.lookup(k)
	if sent {
		e.Sent.add(bytes)
	} else {
		e.Recv.add(bytes)
	}
}

// lookup finds or inserts k.
func (d *Delta) lookup(k *Key) *DeltaEntry {
	i := hashKey(k) & d.mask
	for {
		e := &d.entries[i]
		if e.Key == *k {
			return e
		}
		if e.Key.Family == 0 {
			if d.limit > 0 && len(d.used) >= d.limit {
				d.Folded++
				return &d.Other
			}
			if 2*(len(d.used)+1) > len(d.entries) {
				d.grow()
				return d.lookup(k)
			}
			e.Key = *k
			d.used = append(d.used, uint32(i))
			return e
		}
		i = (i + 1) & d.mask
	}
}

func (d *Delta) grow() {
	old := d.entries
	d.entries = make([]DeltaEntry, 2*len(old))
	d.mask = uint64(len(d.entries) - 1)
	used := d.used
	d.used = d.used[:0]
	for _, j := range used {
		e := &old[j]
		i := hashKey(&e.Key) & d.mask
		for d.entries[i].Key.Family != 0 {
			i = (i + 1) & d.mask
		}
		d.entries[i] = *e
		d.used = append(d.used, uint32(i))
	}
}

// Each calls f for every entry (not the Other entry).
func (d *Delta) Each(f func(e *DeltaEntry)) {
	for _, i := range d.used {
		f(&d.entries[i])
	}
}

// Reset empties the delta for reuse, keeping its memory.
func (d *Delta) Reset() {
	if len(d.used) > len(d.entries)/8 {
		clear(d.entries)
	} else {
		for _, i := range d.used {
			d.entries[i] = DeltaEntry{}
		}
	}
	d.used = d.used[:0]
	d.TX, d.RX = Counter{}, Counter{}
	d.Other = DeltaEntry{}
	d.Folded = 0
	d.Capture = Capture{}
}

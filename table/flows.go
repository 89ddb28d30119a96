package table

import "time"

// Slots is the length of the history: 20 slots of two seconds, 40 s in all,
// as iftop keeps.
const Slots = 20

// SlotDuration is the length of one history slot.
const SlotDuration = 2 * time.Second

// windowSlots is how many slots each window spans (2 s, 10 s, 40 s).
var windowSlots = [3]int64{1, 5, 20}

// DefaultMaxFlows bounds the merged table when the caller sets no limit:
// about 250 MB at the measured ~240 bytes per flow.
const DefaultMaxFlows = 1 << 20

// flowRec is one flow in the merged table. History slots hold bytes per
// direction as uint32 (a single flow would need more than 17 Gbit/s to
// overflow one); a flow that does overflow moves its history to a uint64
// side table (big), so nothing is ever lost.
type flowRec struct {
	key  Key
	last int64 // the last tick with traffic; slots after it are stale
	big  int32 // 1 + index into Flows.bigs, or 0
	hist [Slots][2]uint32
	sent Counter
	recv Counter
}

type bigHist [Slots][2]uint64

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
}

// FlowsConfig configures a merged table.
type FlowsConfig struct {
	Start      int64    // capture start, Unix nanoseconds: slot 0 begins here
	MaxFlows   int      // most flows kept; more are folded into the "other" row (0: DefaultMaxFlows)
	Interfaces []string // names of the sources, indexed by Delta.Iface
}

// Flows is the merged flow table. Only the merger goroutine touches it:
// it folds the workers' deltas in with Merge and closes each tick with
// Close, which publishes an immutable Snapshot.
type Flows struct {
	index    map[Key]int32
	recs     []flowRec
	free     []int32
	bigs     []bigHist
	bigFree  []int32
	other    flowRec
	hasOther bool
	maxFlows int

	tick      int64 // the slot being filled
	start     int64
	slotStart int64
	global    [Slots]globalSlot
	tx, rx    Counter
	capture   Capture
	folded    uint64
	ifaces    []ifaceAcc
}

// NewFlows returns an empty merged table whose first slot starts at cfg.Start.
func NewFlows(cfg FlowsConfig) *Flows {
	f := &Flows{
		index:     make(map[Key]int32),
		maxFlows:  cfg.MaxFlows,
		start:     cfg.Start,
		slotStart: cfg.Start,
	}
	if f.maxFlows <= 0 {
		f.maxFlows = DefaultMaxFlows
	}
	for _, name := range cfg.Interfaces {
		f.ifaces = append(f.ifaces, ifaceAcc{name: name})
	}
	f.other.key = Key{}
	return f
}

// Tick returns the index of the slot being filled (0 for the first).
func (f *Flows) Tick() int64 { return f.tick }

// SlotStart returns when the slot being filled began (Unix ns).
func (f *Flows) SlotStart() int64 { return f.slotStart }

// Len returns the number of flows in the table (not counting "other").
func (f *Flows) Len() int { return len(f.index) }

// Empty reports whether the table holds no flow at all, "other" included.
func (f *Flows) Empty() bool { return len(f.index) == 0 && !f.hasOther }

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
	}
	f.folded = 0
	f.tick = tick
	f.slotStart = slotStart
	f.global[tick%Slots] = globalSlot{}
	for i := range f.ifaces {
		f.ifaces[i].hist[tick%Slots] = [2]uint64{}
	}
}

// SetInterfaceDown records whether source i is down right now.
func (f *Flows) SetInterfaceDown(i int, down bool) {
	if i >= 0 && i < len(f.ifaces) {
		f.ifaces[i].down = down
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
func (f *Flows) Merge(d *Delta) {
	t := f.tick
	s := &f.global[t%Slots]
	s.tx += d.TX.Bytes
	s.rx += d.RX.Bytes
	f.tx.addCounter(&d.TX)
	f.rx.addCounter(&d.RX)
	f.capture.add(&d.Capture)
	if d.Iface >= 0 && d.Iface < len(f.ifaces) {
		ia := &f.ifaces[d.Iface]
		ia.capture.add(&d.Capture)
		ia.tx.addCounter(&d.TX)
		ia.rx.addCounter(&d.RX)
		ia.hist[t%Slots][0] += d.TX.Bytes
		ia.hist[t%Slots][1] += d.RX.Bytes
	}
	for _, i := range d.used {
		e := &d.entries[i]
		f.mergeEntry(e, t)
	}
	if d.Other.Sent.Packets+d.Other.Recv.Packets > 0 {
		f.addTo(&f.other, &d.Other, t)
		f.hasOther = true
	}
}

func (f *Flows) mergeEntry(e *DeltaEntry, t int64) {
	j, ok := f.index[e.Key]
	if !ok {
		if len(f.index) >= f.maxFlows {
			f.folded++
			f.addTo(&f.other, e, t)
			f.hasOther = true
			return
		}
		if n := len(f.free); n > 0 {
			j = f.free[n-1]
			f.free = f.free[:n-1]
		} else {
			j = int32(len(f.recs))
			f.recs = append(f.recs, flowRec{})
		}
		f.recs[j] = flowRec{key: e.Key, last: t}
		f.index[e.Key] = j
	}
	f.addTo(&f.recs[j], e, t)
}

func (f *Flows) addTo(r *flowRec, e *DeltaEntry, t int64) {
	if r.last != t {
		f.clearStale(r, t)
		r.last = t
	}
	r.sent.addCounter(&e.Sent)
	r.recv.addCounter(&e.Recv)
	slot := t % Slots
	if r.big != 0 {
		b := &f.bigs[r.big-1][slot]
		b[0] += e.Sent.Bytes
		b[1] += e.Recv.Bytes
		return
	}
	h := &r.hist[slot]
	s, v := uint64(h[0])+e.Sent.Bytes, uint64(h[1])+e.Recv.Bytes
	if s > 0xffffffff || v > 0xffffffff {
		f.makeBig(r)
		b := &f.bigs[r.big-1][slot]
		b[0] += e.Sent.Bytes
		b[1] += e.Recv.Bytes
		return
	}
	h[0], h[1] = uint32(s), uint32(v)
}

// clearStale zeroes the slots between r's last tick and t, which hold
// data from 40 s ago.
func (f *Flows) clearStale(r *flowRec, t int64) {
	from := r.last + 1
	if t-r.last >= Slots {
		from = t - Slots + 1
	}
	for j := from; j <= t; j++ {
		if r.big != 0 {
			f.bigs[r.big-1][j%Slots] = [2]uint64{}
		} else {
			r.hist[j%Slots] = [2]uint32{}
		}
	}
}

func (f *Flows) makeBig(r *flowRec) {
	var b bigHist
	for i := range r.hist {
		b[i][0], b[i][1] = uint64(r.hist[i][0]), uint64(r.hist[i][1])
	}
	if n := len(f.bigFree); n > 0 {
		r.big = f.bigFree[n-1]
		f.bigFree = f.bigFree[:n-1]
		f.bigs[r.big-1] = b
	} else {
		f.bigs = append(f.bigs, b)
		r.big = int32(len(f.bigs))
	}
	r.hist = [Slots][2]uint32{}
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

// slot returns r's bytes (sent, received) in tick j, which must be within
// the last Slots ticks of r.last.
func (f *Flows) slot(r *flowRec, j int64) (uint64, uint64) {
	if r.big != 0 {
		b := &f.bigs[r.big-1][j%Slots]
		return b[0], b[1]
	}
	h := &r.hist[j%Slots]
	return uint64(h[0]), uint64(h[1])
}

// windows computes r's 2 s / 10 s / 40 s sums at tick t.
func (f *Flows) windows(r *flowRec, t int64, sent, recv *Stat) {
	sent.Bytes, sent.Packets = r.sent.Bytes, r.sent.Packets
	recv.Bytes, recv.Packets = r.recv.Bytes, r.recv.Packets
	lo := max(t-Slots+1, 0)
	for j := lo; j <= r.last && j <= t; j++ {
		s, v := f.slot(r, j)
		for w, n := range windowSlots {
			if j > t-n {
				sent.Win[w] += s
				recv.Win[w] += v
			}
		}
	}
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

	s.Flows = make([]Flow, 0, len(f.index)+1)
	for _, j := range f.index {
		r := &f.recs[j]
		if t-r.last >= Slots {
			continue // expires at rotate
		}
		fl := Flow{Key: r.key}
		f.windows(r, t, &fl.Sent, &fl.Recv)
		s.Flows = append(s.Flows, fl)
	}
	if f.hasOther && t-f.other.last < Slots {
		fl := Flow{Key: Key{}}
		f.windows(&f.other, t, &fl.Sent, &fl.Recv)
		s.Flows = append(s.Flows, fl)
	}
	for i := range f.ifaces {
		ia := &f.ifaces[i]
		in := Interface{Name: ia.name, Capture: ia.capture, Down: ia.down}
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
	return s
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
	for k, j := range f.index {
		r := &f.recs[j]
		if t-r.last >= Slots-1 {
			// Idle for 20 slots once the next one starts: gone.
			delete(f.index, k)
			if r.big != 0 {
				f.bigFree = append(f.bigFree, r.big)
			}
			f.recs[j] = flowRec{}
			f.free = append(f.free, j)
		}
	}
	if f.hasOther && t-f.other.last >= Slots-1 {
		f.other = flowRec{}
		f.hasOther = false
	}
	f.folded = 0
	f.tick++
	f.slotStart = end
	n := f.tick % Slots
	f.global[n] = globalSlot{}
	for i := range f.ifaces {
		f.ifaces[i].hist[n] = [2]uint64{}
	}
}

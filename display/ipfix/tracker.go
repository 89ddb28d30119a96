package ipfix

import (
	"time"

	"github.com/fastop/fastop/table"
)

// Export is one direction of one flow, ready to become a record: the
// counts since the last export and when they were counted (Unix ns).
type Export struct {
	Key        *table.Key
	Link       int  // the link that carried it (index into Snapshot.Interfaces); -1: the flow has no Links
	Reverse    bool // B to A (the flow's Recv side); false: A to B
	Octets     uint64
	Packets    uint64
	Start, End int64
}

// dirState is one direction of a tracked flow.
type dirState struct {
	seenB, seenP uint64 // cumulative counters in the last snapshot
	expB, expP   uint64 // cumulative counters exported so far
	start        int64  // start of the counts not yet exported
	last         int64  // snapshot time at which the counters last grew
}

func (d *dirState) pending() bool { return d.seenP != d.expP || d.seenB != d.expB }

type flowState struct {
	key      table.Key
	link     int // the flow's part on this link; -1: the whole flow
	d        [2]dirState
	last     int64  // either direction last grew
	lastTick int64  // the table's tick (2 s slot) in which it last grew
	gen      uint64 // the last snapshot the flow was in
	live     bool
}

// tickOf returns the table tick a snapshot at now closes: the tick of the
// slot that ends at now, or that now falls in (a file's last, partial
// slot). The table's rules are in ticks: a flow that had traffic in tick L
// is in every snapshot up to tick L+19 and gone from tick L+20 on, unless
// the full table evicts it earlier.
func tickOf(start, now int64) int64 {
	slot := int64(table.SlotDuration)
	return (now-start+slot-1)/slot - 1
}

// Tracker turns a sequence of snapshots of one table into exports. It keeps
// its own state (the table and the merger never wait for it): per flow,
// the cumulative counters last seen and last exported. It is not safe for
// concurrent use.
//
// Counts are exact as long as Update sees every snapshot the table
// publishes: a flow that leaves the table is exported with its last
// counters; when it left before it could expire, the full table evicted it
// and moved its counts into "other", so other's export leaves them out;
// and a key whose counters grow again after more than the table's lifetime
// without traffic is a new record of the table. When
// snapshots are skipped (a live exporter that fell more than a few ticks
// behind), a flow that expired and came back in the gap may be counted
// short; Skipped in Stats says when that happened.
type Tracker struct {
	idx    map[partKey]int32
	st     []flowState
	free   []int32
	gen    uint64
	prev   int64 // time of the previous snapshot
	active int64
	idle   int64
}

// partKey is what the tracker follows: a flow, or one link's part of it
// when the table splits flows by link (Flow.Links). Each part is exported
// as a flow of its own, with its link's ifindex.
type partKey struct {
	key  table.Key
	link int
}

// NewTracker returns a tracker with the given timeouts: a flow with
// traffic is exported at least every active, and once idle for idle.
func NewTracker(active, idle time.Duration) *Tracker {
	return &Tracker{idx: map[partKey]int32{}, active: int64(active), idle: int64(idle)}
}

// Len returns the number of flows tracked.
func (t *Tracker) Len() int { return len(t.idx) }

// Update reads a snapshot and calls out for every direction of every flow
// due for export. out must not keep the Export's Key.
func (t *Tracker) Update(s *table.Snapshot, out func(*Export)) {
	now := s.Time
	tick := tickOf(s.Start, now)
	prev := t.prev
	if prev == 0 || prev > now {
		prev = s.Start
	}
	t.prev = now
	t.gen++
	for i := range s.Flows {
		f := &s.Flows[i]
		if f.Links == nil {
			t.see(&f.Key, -1, &f.Sent, &f.Recv, now, prev, tick, out)
			continue
		}
		for j := range f.Links {
			l := &f.Links[j]
			t.see(&f.Key, l.Link, &l.Sent, &l.Recv, now, prev, tick, out)
		}
	}
	// Flows gone from the table first: an evicted one's counts are credited
	// to "other" before other's own export below.
	for j := range t.st {
		st := &t.st[j]
		if !st.live || st.gen == t.gen {
			continue
		}
		// Its last counters seen are its own.
		t.export(st, 0, out)
		t.export(st, 1, out)
		if tick-st.lastTick < table.Slots && !st.key.IsOther() {
			// Not idle long enough to expire: the full table evicted
			// it, moving all its counts into "other", where they must
			// not be exported a second time.
			t.evicted(st)
		}
		t.release(int32(j))
	}
	for j := range t.st {
		st := &t.st[j]
		if !st.live {
			continue
		}
		for d := range st.d {
			ds := &st.d[d]
			if ds.pending() && (now-ds.last >= t.idle || now-ds.start >= t.active) {
				t.export(st, d, out)
			}
		}
	}
}

// see takes in the cumulative counters of one flow, or of one link's part
// of it (link ≥ 0), in the snapshot at now.
func (t *Tracker) see(k *table.Key, link int, sent, recv *table.Stat, now, prev, tick int64, out func(*Export)) {
	var cum [2][2]uint64 // [dir]{bytes, packets}
	if k.IsOther() {
		// One aggregate record: "other" has no addresses to give a
		// direction to.
		cum[0] = [2]uint64{sent.Bytes + recv.Bytes, sent.Packets + recv.Packets}
	} else {
		cum[0] = [2]uint64{sent.Bytes, sent.Packets}
		cum[1] = [2]uint64{recv.Bytes, recv.Packets}
	}
	j, ok := t.idx[partKey{*k, link}]
	if !ok {
		j = t.alloc(k, link)
	}
	st := &t.st[j]
	st.gen = t.gen
	changed, shrank := false, false
	for d := range st.d {
		ds := &st.d[d]
		if cum[d][0] != ds.seenB || cum[d][1] != ds.seenP {
			changed = true
		}
		if cum[d][0] < ds.seenB || cum[d][1] < ds.seenP {
			shrank = true
		}
	}
	if !changed {
		return
	}
	if shrank || (st.last != 0 && tick-st.lastTick >= table.Slots) {
		// The table dropped the flow and made it anew: what was
		// seen of the old one is due now, the new one counts from 0.
		t.export(st, 0, out)
		t.export(st, 1, out)
		st.d = [2]dirState{}
	}
	for d := range st.d {
		ds := &st.d[d]
		if cum[d][0] == ds.seenB && cum[d][1] == ds.seenP {
			continue
		}
		if !ds.pending() {
			ds.start = prev
		}
		ds.seenB, ds.seenP = cum[d][0], cum[d][1]
		ds.last = now
	}
	st.last = now
	st.lastTick = tick
}

// evicted credits the counts of flow st, which the table moved into the
// "other" row, to other's exported counts. Other is in this snapshot (the
// eviction made it), so it was updated before the flows are swept. With
// several links, a part's counts went to the same link's part of "other".
func (t *Tracker) evicted(st *flowState) {
	j, ok := t.idx[partKey{link: st.link}]
	if !ok {
		return
	}
	o := &t.st[j].d[0]
	for d := range st.d {
		o.expB += st.d[d].seenB
		o.expP += st.d[d].seenP
	}
	// Never more than other holds: a later snapshot's growth is other's.
	o.expB = min(o.expB, o.seenB)
	o.expP = min(o.expP, o.seenP)
}

// Flush exports everything not exported yet: at the end of a file or of
// a capture.
func (t *Tracker) Flush(out func(*Export)) {
	for j := range t.st {
		if st := &t.st[j]; st.live {
			t.export(st, 0, out)
			t.export(st, 1, out)
		}
	}
}

func (t *Tracker) export(st *flowState, d int, out func(*Export)) {
	ds := &st.d[d]
	if !ds.pending() {
		return
	}
	e := Export{
		Key:     &st.key,
		Link:    st.link,
		Reverse: d == 1,
		Octets:  ds.seenB - ds.expB,
		Packets: ds.seenP - ds.expP,
		Start:   ds.start,
		End:     ds.last,
	}
	ds.expB, ds.expP = ds.seenB, ds.seenP
	out(&e)
}

func (t *Tracker) alloc(k *table.Key, link int) int32 {
	var j int32
	if n := len(t.free); n > 0 {
		j = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.st = append(t.st, flowState{})
		j = int32(len(t.st) - 1)
	}
	t.st[j] = flowState{key: *k, link: link, live: true}
	t.idx[partKey{*k, link}] = j
	return j
}

func (t *Tracker) release(j int32) {
	delete(t.idx, partKey{t.st[j].key, t.st[j].link})
	t.st[j] = flowState{}
	t.free = append(t.free, j)
}

package ipfix

import (
	"time"

	"github.com/fastop/fastop/table"
)

// lifetime is how long the table keeps a flow without traffic: a flow
// record idle for this long is gone, and a later packet of the same key
// starts a new record whose counters begin again at zero.
const lifetime = int64(table.Slots) * int64(table.SlotDuration)

// Export is one direction of one flow, ready to become a record: the
// counts since the last export and when they were counted (Unix ns).
type Export struct {
	Key        *table.Key
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
	key  table.Key
	d    [2]dirState
	last int64  // either direction last grew
	gen  uint64 // the last snapshot the flow was in
	live bool
}

// Tracker turns a sequence of snapshots of one table into exports. It keeps
// its own state (the table and the merger never wait for it): per flow,
// the cumulative counters last seen and last exported. It is not safe for
// concurrent use.
//
// Counts are exact as long as Update sees every snapshot the table
// publishes: a flow that leaves the table is exported with its last
// counters, and a key whose counters grow again after more than the
// table's lifetime without traffic is a new record of the table. When
// snapshots are skipped (a live exporter that fell more than a few ticks
// behind), a flow that expired and came back in the gap may be counted
// short; Skipped in Stats says when that happened.
type Tracker struct {
	idx    map[table.Key]int32
	st     []flowState
	free   []int32
	gen    uint64
	prev   int64 // time of the previous snapshot
	active int64
	idle   int64
}

// NewTracker returns a tracker with the given timeouts: a flow with
// traffic is exported at least every active, and once idle for idle.
func NewTracker(active, idle time.Duration) *Tracker {
	return &Tracker{idx: map[table.Key]int32{}, active: int64(active), idle: int64(idle)}
}

// Len returns the number of flows tracked.
func (t *Tracker) Len() int { return len(t.idx) }

// Update reads a snapshot and calls out for every direction of every flow
// due for export. out must not keep the Export's Key.
func (t *Tracker) Update(s *table.Snapshot, out func(*Export)) {
	now := s.Time
	prev := t.prev
	if prev == 0 || prev > now {
		prev = s.Start
	}
	t.prev = now
	t.gen++
	for i := range s.Flows {
		f := &s.Flows[i]
		var cum [2][2]uint64 // [dir]{bytes, packets}
		if f.Key.IsOther() {
			// One aggregate record: "other" has no addresses to give a
			// direction to.
			cum[0] = [2]uint64{f.Sent.Bytes + f.Recv.Bytes, f.Sent.Packets + f.Recv.Packets}
		} else {
			cum[0] = [2]uint64{f.Sent.Bytes, f.Sent.Packets}
			cum[1] = [2]uint64{f.Recv.Bytes, f.Recv.Packets}
		}
		j, ok := t.idx[f.Key]
		if !ok {
			j = t.alloc(&f.Key)
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
			continue
		}
		if shrank || (st.last != 0 && now-st.last >= lifetime) {
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
	}
	for j := range t.st {
		st := &t.st[j]
		if !st.live {
			continue
		}
		if st.gen != t.gen {
			// Gone from the table: its last counters are final.
			t.export(st, 0, out)
			t.export(st, 1, out)
			t.release(int32(j))
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
		Reverse: d == 1,
		Octets:  ds.seenB - ds.expB,
		Packets: ds.seenP - ds.expP,
		Start:   ds.start,
		End:     ds.last,
	}
	ds.expB, ds.expP = ds.seenB, ds.seenP
	out(&e)
}

func (t *Tracker) alloc(k *table.Key) int32 {
	var j int32
	if n := len(t.free); n > 0 {
		j = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		t.st = append(t.st, flowState{})
		j = int32(len(t.st) - 1)
	}
	t.st[j] = flowState{key: *k, live: true}
	t.idx[*k] = j
	return j
}

func (t *Tracker) release(j int32) {
	delete(t.idx, t.st[j].key)
	t.st[j] = flowState{}
	t.free = append(t.free, j)
}

package table

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

const sec = int64(1e9)

func key4(a, b byte, ap, bp uint16) Key {
	k := Key{Family: 4, Proto: 17, APort: ap, BPort: bp}
	k.A[0], k.A[3] = 10, a
	k.B[0], k.B[3] = 10, b
	return k
}

// addN adds n packets of size bytes in one direction to d.
func addN(d *Delta, k Key, sent bool, n int, size uint32) {
	for range n {
		dir := DirIn
		if sent {
			dir = DirOut
		}
		d.Add(&k, dir, sent, size)
	}
}

func findFlow(t *testing.T, s *Snapshot, k Key) Flow {
	t.Helper()
	for _, f := range s.Flows {
		if f.Key == k {
			return f
		}
	}
	t.Fatalf("flow %+v not in snapshot", k)
	return Flow{}
}

func TestFlowsWindowsAndPartialSlots(t *testing.T) {
	start := 1000 * sec
	f := NewFlows(FlowsConfig{Start: start})
	d := NewDelta(0)
	k := key4(1, 2, 1000, 53)

	// Tick 0: 1000 bytes sent in a full slot.
	addN(d, k, true, 10, 100)
	f.Merge(d)
	d.Reset()
	s := f.Close(start + 2*sec)
	fl := findFlow(t, s, k)
	if fl.Sent.Win != [3]uint64{1000, 1000, 1000} || fl.Sent.Bytes != 1000 || fl.Sent.Packets != 10 {
		t.Fatalf("tick 0: sent = %+v", fl.Sent)
	}
	// The first report divides by the time actually covered: 2 s, not 10 s or 40 s.
	if s.Window != [3]int64{2 * sec, 2 * sec, 2 * sec} {
		t.Fatalf("tick 0: windows = %v", s.Window)
	}
	if r := s.Rate(Win40s, fl.Sent.Win[Win40s]); r != 500 {
		t.Fatalf("tick 0: 40 s rate = %v B/s, want 500", r)
	}

	// Ticks 1..5: 200 bytes received each.
	for tick := int64(1); tick <= 5; tick++ {
		addN(d, k, false, 2, 100)
		f.Merge(d)
		d.Reset()
		s = f.Close(start + (tick+1)*2*sec)
	}
	fl = findFlow(t, s, k)
	// At tick 5 the 10 s window is ticks 1..5, the 40 s window ticks 0..5.
	if fl.Sent.Win != [3]uint64{0, 0, 1000} {
		t.Errorf("tick 5: sent windows = %v", fl.Sent.Win)
	}
	if fl.Recv.Win != [3]uint64{200, 1000, 1000} {
		t.Errorf("tick 5: recv windows = %v", fl.Recv.Win)
	}
	if s.Window != [3]int64{2 * sec, 10 * sec, 12 * sec} {
		t.Errorf("tick 5: windows = %v", s.Window)
	}

	// A partial last slot of 0.5 s.
	addN(d, k, false, 1, 50)
	f.Merge(d)
	d.Reset()
	s = f.Snapshot(start + 12*sec + sec/2)
	fl = findFlow(t, s, k)
	if s.Window[Win2s] != sec/2 || s.Rate(Win2s, fl.Recv.Win[Win2s]) != 100 {
		t.Errorf("partial slot: window %v, rate %v", s.Window[Win2s], s.Rate(Win2s, fl.Recv.Win[Win2s]))
	}
	if s.TX.Bytes != 1000 || s.RX.Bytes != 1050 || s.TX.Packets != 10 || s.RX.Packets != 11 {
		t.Errorf("totals: TX %+v RX %+v", s.TX, s.RX)
	}
}

func TestFlowsExpireAfter40sIdle(t *testing.T) {
	f := NewFlows(FlowsConfig{})
	d := NewDelta(0)
	k := key4(1, 2, 1, 2)
	addN(d, k, true, 1, 100)
	f.Merge(d)
	var s *Snapshot
	for tick := int64(0); tick < Slots; tick++ {
		s = f.Close((tick + 1) * 2 * sec)
		if len(s.Flows) != 1 {
			t.Fatalf("tick %d: %d flows, want 1 (still within 40 s)", tick, len(s.Flows))
		}
	}
	if fl := s.Flows[0]; fl.Sent.Win[Win40s] != 100 {
		t.Fatalf("tick 19: 40 s window = %d, want 100", fl.Sent.Win[Win40s])
	}
	s = f.Close(21 * 2 * sec)
	if len(s.Flows) != 0 || f.Len() != 0 {
		t.Fatalf("after 40 s idle: %d flows in snapshot, %d in table", len(s.Flows), f.Len())
	}
	if s.TX.Bytes != 100 {
		t.Fatalf("cumulative total lost with the flow: %d", s.TX.Bytes)
	}
}

// A flow that comes back after its slots went stale must not see old data.
func TestFlowsStaleSlotsCleared(t *testing.T) {
	f := NewFlows(FlowsConfig{})
	d := NewDelta(0)
	k := key4(1, 2, 1, 2)
	other := key4(3, 4, 1, 2)
	addN(d, k, true, 1, 700)
	f.Merge(d)
	d.Reset()
	for tick := int64(0); tick < 25; tick++ {
		if tick == 22 {
			addN(d, k, true, 1, 5)
		}
		addN(d, other, true, 1, 1)
		f.Merge(d)
		d.Reset()
		f.Close((tick + 1) * 2 * sec)
	}
	s := f.Snapshot(26 * 2 * sec)
	fl := findFlow(t, s, k)
	if fl.Sent.Win[Win40s] != 5 || fl.Sent.Bytes != 5 {
		t.Fatalf("returning flow: %+v (the 700 bytes of tick 0 expired with it)", fl.Sent)
	}
}

func TestFlowsPeak(t *testing.T) {
	f := NewFlows(FlowsConfig{})
	d := NewDelta(0)
	k := key4(1, 2, 1, 2)
	sizes := []int{10, 40, 20}
	var s *Snapshot
	for tick, n := range sizes {
		addN(d, k, true, n, 100)
		addN(d, k, false, 1, 100)
		f.Merge(d)
		d.Reset()
		s = f.Close(int64(tick+1) * 2 * sec)
	}
	if s.Peak.Sent != 2000 || s.Peak.Recv != 50 || s.Peak.Total != 2050 {
		t.Fatalf("peak = %+v", s.Peak)
	}
	// 64-bit: far beyond iftop's 32-bit overflow at 8.6 Gbit/s.
	big := NewFlows(FlowsConfig{})
	d.Reset()
	d.TX = Counter{Bytes: 5 << 30, Packets: 1}
	big.Merge(d)
	s = big.Close(2 * sec)
	if s.Peak.Sent != float64(5<<30)/2 {
		t.Fatalf("peak at 20 Gbit/s = %v", s.Peak.Sent)
	}
}

// TestFlowsHistoryForms moves flows through the forms of history (a
// record's own entries, its own one-way slots, 20 uint16, uint32 and
// uint64 slots) and back to nothing when they expire: the side tables are
// given back.
func TestFlowsHistoryForms(t *testing.T) {
	f := NewFlows(FlowsConfig{})
	d := NewDelta(0)
	sparse, busy, huge, grows := key4(1, 2, 1, 1), key4(1, 2, 2, 2), key4(1, 2, 3, 3), key4(1, 2, 4, 4)
	oneWay, turns := key4(1, 2, 5, 5), key4(1, 2, 6, 6)
	for tick := int64(0); tick < 6; tick++ {
		if tick < 2 {
			addN(d, sparse, true, 1, 100)
		}
		addN(d, busy, true, 1, 100)
		addN(d, busy, false, 1, 40)
		addN(d, oneWay, true, 2, 60)
		if tick < 4 {
			addN(d, grows, true, 1, 100)
		} else {
			addN(d, grows, true, 1, 70_000) // past a uint16 slot
		}
		if tick != 3 {
			addN(d, turns, false, 1, 100)
		}
		if tick == 5 {
			addN(d, turns, true, 1, 30) // the other way: to a side table
		}
		addN(d, huge, false, 3, 2<<30)
		f.Merge(d)
		d.Reset()
		s := f.Close((tick + 1) * 2 * sec)
		for _, fl := range s.Flows {
			switch {
			case fl.Key == huge && fl.Recv.Win[Win2s] != 6<<30:
				t.Fatalf("tick %d: the 6 GiB flow's last 2 s: %d", tick, fl.Recv.Win[Win2s])
			case fl.Key == grows && tick == 5 && fl.Sent.Win[Win10s] != 3*100+2*70_000:
				t.Fatalf("the growing flow's last 10 s: %d", fl.Sent.Win[Win10s])
			case fl.Key == oneWay && (fl.Sent.Win != [3]uint64{120, uint64(min(tick+1, 5)) * 120, uint64(tick+1) * 120} || fl.Recv.Win != [3]uint64{}):
				t.Fatalf("tick %d: the one-way flow's windows: sent %v, received %v", tick, fl.Sent.Win, fl.Recv.Win)
			case fl.Key == turns && tick == 5 && (fl.Sent.Win != [3]uint64{30, 30, 30} || fl.Recv.Win != [3]uint64{100, 400, 500}):
				t.Fatalf("the flow that turned: sent %v, received %v", fl.Sent.Win, fl.Recv.Win)
			}
		}
		if tick == 4 && f.hists16.inUse() != 1 {
			t.Fatalf("tick 4: %d uint16 side tables in use, want 1 (the one-way flows keep theirs in the record)", f.hists16.inUse())
		}
	}
	if f.hists16.inUse() != 2 || f.hists.inUse() != 1 || f.bigs.inUse() != 1 {
		t.Fatalf("side tables in use: %d of uint16 slots, %d of uint32, %d of uint64, want 2, 1, 1", f.hists16.inUse(), f.hists.inUse(), f.bigs.inUse())
	}
	for tick := int64(6); tick < 6+Slots+1; tick++ {
		f.Close((tick + 1) * 2 * sec)
	}
	if f.Len() != 0 || f.hists16.inUse() != 0 || f.hists.inUse() != 0 || f.bigs.inUse() != 0 {
		t.Fatalf("after 40 s idle: %d flows, side tables in use %d, %d and %d", f.Len(), f.hists16.inUse(), f.hists.inUse(), f.bigs.inUse())
	}
}

func TestFlowsOverflowToBigHistory(t *testing.T) {
	f := NewFlows(FlowsConfig{})
	d := NewDelta(0)
	k := key4(1, 2, 1, 2)
	const perTick = 3 << 30 // 3 GiB per 2 s: 12.9 Gbit/s
	for tick := int64(0); tick < 3; tick++ {
		addN(d, k, true, 1, 1<<30)
		addN(d, k, true, 1, 1<<30)
		addN(d, k, true, 1, 1<<30)
		f.Merge(d)
		d.Reset()
		f.Close((tick + 1) * 2 * sec)
	}
	addN(d, k, true, 2, 1<<31)
	f.Merge(d)
	d.Reset()
	s := f.Close(8 * sec)
	fl := findFlow(t, s, k)
	if fl.Sent.Win[Win2s] != 1<<32 || fl.Sent.Win[Win40s] != 3*perTick+1<<32 {
		t.Fatalf("windows = %v", fl.Sent.Win)
	}
}

func TestFlowsFoldIntoOther(t *testing.T) {
	f := NewFlows(FlowsConfig{MaxFlows: 2})
	d := NewDelta(0)
	for i := byte(1); i <= 5; i++ {
		addN(d, key4(i, 100, 1, 2), true, 1, 100)
	}
	f.Merge(d)
	s := f.Close(2 * sec)
	var total uint64
	others := 0
	for _, fl := range s.Flows {
		total += fl.Sent.Bytes
		if fl.Key.IsOther() {
			others++
			if fl.Sent.Bytes != 300 || fl.Sent.Packets != 3 {
				t.Errorf("other row = %+v", fl.Sent)
			}
		}
	}
	if len(s.Flows) != 3 || others != 1 || total != 500 || s.Folded != 3 {
		t.Fatalf("%d rows, %d other, total %d, folded %d", len(s.Flows), others, total, s.Folded)
	}
}

func TestDeltaLimitFolds(t *testing.T) {
	d := NewDelta(3)
	for i := byte(1); i <= 10; i++ {
		addN(d, key4(i, 1, 1, 1), true, 2, 10)
	}
	if d.Len() != 3 || d.Folded != 14 || d.other.sentPkts != 14 || d.TX.Packets != 20 {
		t.Fatalf("len %d folded %d other %+v tx %+v", d.Len(), d.Folded, d.other, d.TX)
	}
}

// The merged table agrees with a direct computation over a random stream.
// TestFlowsAgainstModel replays random traffic and checks every tick's
// snapshot against a model. Dense traffic moves histories out of their
// records (and some to 64 bits); sparse traffic keeps most flows in
// their records' own few slots, reused as they age.
func TestFlowsAgainstModel(t *testing.T) {
	for _, tt := range []struct {
		name          string
		hosts, events int // distinct left hosts; most events per tick
		size          int // largest event, bytes
		big           bool
		oneWay        bool // most flows go one way (a flood's): the record's one-way slots
	}{
		{"dense", 8, 50, 1500, false, false}, {"sparse", 200, 30, 1500, false, false}, {"mixed", 30, 50, 1500, false, false},
		{"dense 32-bit", 8, 50, 30_000, false, false}, {"dense 64-bit", 8, 50, 1500, true, false},
		{"one way", 30, 50, 1500, false, true}, {"one way, sparse", 200, 40, 1500, false, true},
		{"one way, past uint16", 8, 50, 20_000, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) { flowsAgainstModel(t, tt.hosts, tt.events, tt.size, tt.big, tt.oneWay) })
	}
}

func flowsAgainstModel(t *testing.T, hosts, events, size int, big, oneWay bool) {
	r := rand.New(rand.NewPCG(1, uint64(hosts)))
	type ev struct {
		tick int64
		key  Key
		sent bool
		n    uint32
	}
	var evs []ev
	const ticks = 60
	for tick := int64(0); tick < ticks; tick++ {
		for range r.IntN(events) {
			n := uint32(r.IntN(size) + 1)
			if big && r.IntN(4) == 0 {
				n = 1<<31 + uint32(r.IntN(1<<30)) // two overflow a slot's uint32
			}
			host := byte(r.IntN(hosts))
			sent := r.IntN(2) == 0
			if oneWay && r.IntN(40) != 0 {
				sent = host%2 == 0 // now and then the other way
			}
			evs = append(evs, ev{tick, key4(host, byte(r.IntN(3)), 1, uint16(r.IntN(2))), sent, n})
		}
	}
	f := NewFlows(FlowsConfig{})
	// Two workers: a flow's slot may be added to twice in a tick.
	ds := [2]*Delta{NewDelta(0), NewDelta(0)}
	i := 0
	sawOneWay := 0 // records in their one-way form, summed over ticks
	defer func() {
		if oneWay && sawOneWay == 0 && !t.Failed() {
			t.Errorf("no record took its one-way form")
		}
	}()
	for tick := int64(0); tick < ticks; tick++ {
		for ; i < len(evs) && evs[i].tick == tick; i++ {
			e := evs[i]
			ds[r.IntN(2)].Add(&e.key, DirOut, e.sent, e.n)
		}
		for _, d := range ds {
			f.Merge(d)
			d.Reset()
		}
		s := f.Close((tick + 1) * 2 * sec)
		f.eachRec(func(_ int32, r *flowRec) {
			if r.k[4] != 0 && r.hist == 0 && r.big == 0 && r.own[ownMode] != ownEntries {
				sawOneWay++
			}
		})

		// Model: per key, bytes per tick; a flow lives while it had
		// traffic in the last 20 ticks; cumulative counts restart when a
		// flow expired.
		want := map[Key]*Flow{}
		lastSeen := map[Key]int64{}
		for _, e := range evs {
			if e.tick > tick {
				break
			}
			if l, ok := lastSeen[e.key]; ok && e.tick-l >= Slots {
				delete(want, e.key)
			}
			lastSeen[e.key] = e.tick
			fl := want[e.key]
			if fl == nil {
				fl = &Flow{Key: e.key}
				want[e.key] = fl
			}
			st := &fl.Recv
			if e.sent {
				st = &fl.Sent
			}
			st.Bytes += uint64(e.n)
			st.Packets++
			for w, n := range windowSlots {
				if e.tick > tick-n {
					st.Win[w] += uint64(e.n)
				}
			}
		}
		for k, l := range lastSeen {
			if tick-l >= Slots {
				delete(want, k)
			}
		}
		if len(s.Flows) != len(want) {
			t.Fatalf("tick %d: %d flows, model has %d", tick, len(s.Flows), len(want))
		}
		for _, fl := range s.Flows {
			w := want[fl.Key]
			if w == nil || fl.Sent != w.Sent || fl.Recv != w.Recv {
				t.Fatalf("tick %d: flow %+v\n got  %+v %+v\n want %+v", tick, fl.Key, fl.Sent, fl.Recv, w)
			}
		}
	}
}

// TestDeltaReset reuses one delta over ticks of very different sizes,
// through each way Reset empties it (word by word, whole index, shrink),
// and checks every tick's entries against a map; the index shrinks once a
// flood is over.
func TestDeltaReset(t *testing.T) {
	d := NewDelta(0)
	r := rand.New(rand.NewPCG(5, 6))
	for _, tt := range []struct {
		keys     int
		maxIndex int // the index's size after this tick's Reset (0: not checked)
	}{
		{keys: 3}, {keys: 60}, {keys: 200}, {keys: 100_000, maxIndex: 1 << 18}, {keys: 20_000, maxIndex: 1 << 18},
		{keys: 5, maxIndex: minDeltaSize}, {keys: 0, maxIndex: minDeltaSize}, {keys: 400}, {keys: 3000, maxIndex: 1 << 13},
		{keys: 150_000, maxIndex: 1 << 19}, {keys: 70_000}, // three chunks of entries, then two
		{keys: 10, maxIndex: minDeltaSize},
	} {
		want := map[Key]Counter{}
		base := r.Uint32()
		for range 3 * tt.keys {
			i := base + uint32(r.IntN(tt.keys))
			k := key4(byte(i), byte(i>>8), uint16(i>>16), uint16(i>>24))
			d.Add(&k, DirOut, true, 100)
			c := want[k]
			c.add(100)
			want[k] = c
		}
		if d.Len() != len(want) {
			t.Fatalf("%d keys: Len %d, want %d", tt.keys, d.Len(), len(want))
		}
		d.Each(func(e *DeltaEntry) {
			if e.Sent != want[e.Key] || e.Recv != (Counter{}) {
				t.Fatalf("%d keys: %+v sent %+v, want %+v", tt.keys, e.Key, e.Sent, want[e.Key])
			}
			delete(want, e.Key)
		})
		if len(want) != 0 {
			t.Fatalf("%d keys: %d keys missing from Each", tt.keys, len(want))
		}
		d.Reset()
		if d.Len() != 0 || d.TX != (Counter{}) {
			t.Fatalf("after Reset: Len %d, TX %+v", d.Len(), d.TX)
		}
		for i, w := range d.index {
			if w != 0 {
				t.Fatalf("after a tick of %d keys, Reset left index word %d set", tt.keys, i)
			}
		}
		ecap := 0
		for _, c := range d.ents {
			ecap += cap(c)
		}
		if tt.maxIndex > 0 && (len(d.index) > tt.maxIndex || ecap > tt.maxIndex) {
			t.Fatalf("after a tick of %d keys: index %d words, %d entries, want at most %d", tt.keys, len(d.index), ecap, tt.maxIndex)
		}
	}
}

// TestDeltaShrink lets a flood's delta go small and uses it again.
func TestDeltaShrink(t *testing.T) {
	d := NewDelta(0)
	for i := range 200_000 {
		k := key4(byte(i), byte(i>>8), uint16(i>>16), 1)
		d.Add(&k, DirOut, true, 10)
	}
	d.Shrink()
	if d.Len() != 0 || len(d.index) != minDeltaSize || d.ents != nil || d.TX != (Counter{}) {
		t.Fatalf("after Shrink: %d keys, index %d words, %d chunks, TX %+v", d.Len(), len(d.index), len(d.ents), d.TX)
	}
	k := key4(1, 2, 3, 4)
	d.Add(&k, DirIn, false, 7)
	d.Add(&k, DirIn, false, 7)
	n := 0
	d.Each(func(e *DeltaEntry) {
		n++
		if e.Key != k || e.Recv != (Counter{Bytes: 14, Packets: 2}) {
			t.Fatalf("after Shrink: %+v", e)
		}
	})
	if n != 1 || d.RX.Packets != 2 {
		t.Fatalf("after Shrink: %d entries, RX %+v", n, d.RX)
	}
}

func TestDeltaNoAllocsSteadyState(t *testing.T) {
	d := NewDelta(0)
	keys := make([]Key, 500)
	for i := range keys {
		keys[i] = key4(byte(i), byte(i>>8), uint16(i), 80)
	}
	for i := range keys {
		d.Add(&keys[i], DirOut, true, 64)
	}
	i := 0
	if n := testing.AllocsPerRun(10000, func() {
		d.Add(&keys[i%len(keys)], DirIn, false, 64)
		i++
	}); n != 0 {
		t.Fatalf("Delta.Add allocates %v times per packet", n)
	}
}

// TestFlowsLinks: per-source totals follow Delta.Iface, and what SetLink
// and SetInterfaceDown record reaches the snapshot's Interfaces.
func TestFlowsLinks(t *testing.T) {
	start := 1000 * sec
	f := NewFlows(FlowsConfig{Start: start, Interfaces: []string{"eth0", "eth1"}})
	f.SetLink(0, Link{Speed: 10_000_000_000, Master: "bond0", State: "active"})
	f.SetLink(1, Link{Master: "bond0", State: "backup"})
	f.SetLink(2, Link{State: "ignored"}) // no such source
	f.SetInterfaceDown(1, true)
	for i, n := range []int{3, 5} {
		d := NewDelta(0)
		d.Iface = i
		addN(d, key4(1, 2, 1000, 53), true, n, 100)
		f.Merge(d)
	}
	s := f.Close(start + 2*sec)
	if len(s.Interfaces) != 2 {
		t.Fatalf("%d interfaces, want 2", len(s.Interfaces))
	}
	want := []Link{{Speed: 10_000_000_000, Master: "bond0", State: "active"}, {Master: "bond0", State: "backup"}}
	for i, in := range s.Interfaces {
		if in.Link != want[i] {
			t.Errorf("%s: link %+v, want %+v", in.Name, in.Link, want[i])
		}
	}
	if s.Interfaces[0].TX.Packets != 3 || s.Interfaces[1].TX.Packets != 5 || s.TX.Packets != 8 {
		t.Errorf("packets: %d + %d = %d, want 3 + 5 = 8", s.Interfaces[0].TX.Packets, s.Interfaces[1].TX.Packets, s.TX.Packets)
	}
	if s.Interfaces[0].Down || !s.Interfaces[1].Down {
		t.Errorf("down: %v %v", s.Interfaces[0].Down, s.Interfaces[1].Down)
	}
}

// TestFlowsLinkParts: with several links a flow is one row whose Links
// hold each link's part; a part idle for 40 s leaves Links while the flow
// lives on another link, and the flow counts once in Len.
func TestFlowsLinkParts(t *testing.T) {
	// One interface (a file, or -i eth0): no split, as before.
	one := NewFlows(FlowsConfig{Interfaces: []string{"eth0"}})
	d0 := NewDelta(0)
	addN(d0, key4(1, 2, 1000, 53), true, 2, 100)
	one.Merge(d0)
	if s := one.Close(2 * sec); len(s.Flows) != 1 || s.Flows[0].Links != nil {
		t.Fatalf("one interface: %+v, want one flow without Links", s.Flows)
	}
	f := NewFlows(FlowsConfig{Interfaces: []string{"eth0", "eth1", "eth2"}})
	k, lone := key4(1, 2, 1000, 53), key4(3, 4, 1, 2)
	tagged := k
	tagged.VLAN = 7 // another VLAN: another flow
	deltas := []*Delta{NewDelta(0), NewDelta(0), NewDelta(0)}
	for i, d := range deltas {
		d.Iface = i
	}
	merge := func() {
		for _, d := range deltas {
			f.Merge(d)
			d.Reset()
		}
	}
	addN(deltas[0], k, true, 2, 100)
	addN(deltas[2], k, false, 3, 10)
	addN(deltas[2], tagged, true, 1, 50)
	addN(deltas[1], lone, true, 1, 60)
	merge()
	s := f.Close(2 * sec)
	if len(s.Flows) != 3 || f.Len() != 3 {
		t.Fatalf("%d rows, Len %d, want 3 and 3", len(s.Flows), f.Len())
	}
	for _, tt := range []struct {
		key   Key
		links []int
	}{{k, []int{0, 2}}, {tagged, []int{2}}, {lone, []int{1}}} {
		fl := findFlow(t, s, tt.key)
		checkLinks(t, &fl, 3)
		var got []int
		for _, l := range fl.Links {
			got = append(got, l.Link)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.links) {
			t.Errorf("%+v: links %v, want %v", tt.key, got, tt.links)
		}
	}
	fl := findFlow(t, s, k)
	if fl.Sent.Bytes != 200 || fl.Recv.Bytes != 30 || fl.Links[0].Sent.Packets != 2 || fl.Links[1].Recv.Packets != 3 || fl.Links[0].Recv.Packets != 0 {
		t.Errorf("split flow %+v %+v, parts %+v", fl.Sent, fl.Recv, fl.Links)
	}
	s.Release()
	// k goes on over eth2 alone: after 40 s its eth0 part is gone.
	for tick := int64(1); tick <= Slots; tick++ {
		addN(deltas[2], k, true, 1, 100)
		merge()
		s = f.Close((tick + 1) * 2 * sec)
		if tick < Slots {
			s.Release()
		}
	}
	fl = findFlow(t, s, k)
	checkLinks(t, &fl, 3)
	if len(fl.Links) != 1 || fl.Links[0].Link != 2 || f.Len() != 1 || len(s.Flows) != 1 {
		t.Fatalf("after eth0's part expired: Links %+v, Len %d, %d rows", fl.Links, f.Len(), len(s.Flows))
	}
	s.Release()
	for tick := int64(Slots + 1); tick <= 2*Slots+1; tick++ {
		f.Close((tick + 1) * 2 * sec).Release()
	}
	if f.Len() != 0 || !f.Empty() {
		t.Fatalf("idle 40 s: Len %d, Empty %v", f.Len(), f.Empty())
	}
}

// TestFlowsAddInterface: a capture of one link that gains a second (a link
// joined the bond) keeps flows per link from then on; the flows counted
// before are the first link's part.
func TestFlowsAddInterface(t *testing.T) {
	f := NewFlows(FlowsConfig{Interfaces: []string{"eth0"}})
	k := key4(1, 2, 1000, 53)
	d0, d1 := NewDelta(0), NewDelta(0)
	addN(d0, k, true, 2, 100)
	f.Merge(d0)
	d0.Reset()
	f.Close(2 * sec).Release()
	if i := f.AddInterface("eth1"); i != 1 {
		t.Fatalf("AddInterface = %d, want 1", i)
	}
	d1.Iface = 1
	addN(d1, k, false, 3, 10)
	addN(d1, key4(3, 4, 1, 2), true, 1, 60)
	f.Merge(d1)
	s := f.Close(4 * sec)
	if len(s.Flows) != 2 || f.Len() != 2 || len(s.Interfaces) != 2 {
		t.Fatalf("%d rows, Len %d, %d interfaces; want 2, 2, 2", len(s.Flows), f.Len(), len(s.Interfaces))
	}
	fl := findFlow(t, s, k)
	checkLinks(t, &fl, 2)
	if len(fl.Links) != 2 || fl.Links[0].Link != 0 || fl.Links[0].Sent.Bytes != 200 || fl.Links[1].Link != 1 || fl.Links[1].Recv.Bytes != 30 {
		t.Errorf("flow %+v %+v, parts %+v; want eth0 sent 200, eth1 received 30", fl.Sent, fl.Recv, fl.Links)
	}
}

// TestFlowRecSize keeps a record at two cache lines: the flood's memory
// and the merger's misses grow with it.
func TestFlowRecSize(t *testing.T) {
	if n := reflect.TypeFor[flowRec]().Size(); n != 128 {
		t.Fatalf("flowRec is %d bytes, want 128", n)
	}
}

// A delta entry counts packets in 32 bits; a count that wraps is carried,
// through Each, Merge and the merger's table of waiting flows (addCounters),
// so that no packet is lost.
func TestDeltaPacketCountsCarry(t *testing.T) {
	const near = 1<<32 - 2
	k, k2 := key4(1, 2, 1, 2), key4(1, 3, 1, 2)
	d := NewDelta(0)
	addN(d, k, true, 1, 10)
	addN(d, k, false, 1, 10)
	e := d.ent(0)
	e.sentPkts, e.recvPkts = near, near // as after 4 billion packets
	addN(d, k, true, 5, 10)             // wraps once
	addN(d, k, false, 2, 10)            // wraps to exactly 0
	wantSent, wantRecv := uint64(near+5), uint64(near+2)
	var got DeltaEntry
	d.Each(func(e *DeltaEntry) { got = *e })
	if got.Sent.Packets != wantSent || got.Recv.Packets != wantRecv || got.Sent.Bytes != 60 || got.Recv.Bytes != 30 {
		t.Fatalf("delta entry: sent %+v recv %+v, want %d and %d packets", got.Sent, got.Recv, wantSent, wantRecv)
	}

	// addCounters carries what goes past 32 bits, however much.
	p := NewDelta(0)
	pk := pack(&k2)
	big := Counter{Bytes: 1 << 40, Packets: 5<<32 + 7}
	p.addCounters(&pk, pk.hash(), &big, &Counter{Packets: 3})
	p.addCounters(&pk, pk.hash(), &Counter{Packets: 1<<32 - 1}, &Counter{})
	sent, recv := p.counts(p.ent(0))
	if sent.Packets != 6<<32+6 || sent.Bytes != 1<<40 || recv.Packets != 3 {
		t.Fatalf("addCounters: sent %+v recv %+v", sent, recv)
	}

	// The merged table gets every packet.
	f := NewFlows(FlowsConfig{})
	f.Merge(d)
	s := f.Snapshot(int64(SlotDuration))
	fl := findFlow(t, s, k)
	if fl.Sent.Packets != wantSent || fl.Recv.Packets != wantRecv || s.TX.Packets+s.RX.Packets != 9 { // the delta saw 9 packets; the entry was set by hand
		t.Fatalf("merged: sent %+v recv %+v", fl.Sent, fl.Recv)
	}
	d.Reset()
	if d.carry != nil {
		t.Fatal("Reset kept the carried counts")
	}
}

package table

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSelectLeast(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	less := func(a, b *int) bool { return *a < *b }
	for _, n := range []int{0, 1, 2, 5, 13, 14, 100, 1000} {
		for _, k := range []int{0, 1, n / 3, n / 2, n - 1, n, n + 1} {
			for _, shape := range []string{"random", "sorted", "reversed", "few values"} {
				s := make([]int, n)
				for i := range s {
					switch shape {
					case "random":
						s[i] = r.IntN(1 << 30)
					case "sorted":
						s[i] = i
					case "reversed":
						s[i] = n - i
					case "few values":
						// Distinct, but in a few runs of near values.
						s[i] = (i%4)*n + i
					}
				}
				if shape == "few values" {
					r.Shuffle(n, func(i, j int) { s[i], s[j] = s[j], s[i] })
				}
				want := slices.Clone(s)
				slices.Sort(want)
				selectLeast(s, k, less)
				kk := min(max(k, 0), n)
				got := slices.Clone(s[:kk])
				slices.Sort(got)
				if !slices.Equal(got, want[:kk]) {
					t.Fatalf("n=%d k=%d %s: least %v, want %v", n, k, shape, got, want[:kk])
				}
				all := slices.Clone(s)
				slices.Sort(all)
				if !slices.Equal(all, want) {
					t.Fatalf("n=%d k=%d %s: elements lost", n, k, shape)
				}
			}
		}
	}
}

// TestSelectLeastWorstCase counts selectLeast's comparisons on orders
// built to defeat it: McIlroy's adversary ("A Killer Adversary for
// Quicksort"), which decides each comparison as it goes so that every pivot
// comes out among the least elements, and the order a flood of equal
// one-packet flows leaves for settle (newcomers, then rows by record, the
// order that made the former median of first, middle and last quadratic).
// Quadratic work would be tens of millions of comparisons here.
func TestSelectLeastWorstCase(t *testing.T) {
	const n = 1 << 14
	limit := 2 * n * bits.Len(n) // O(n log n), the sort the budget falls back to included
	t.Run("adversary", func(t *testing.T) {
		for _, k := range []int{1, n / 2, n - 1} {
			// Elements start as "gas" (equal to every other gas, greater
			// than every solid); a comparison of two gases freezes one,
			// the one not being used as a pivot candidate, to the next
			// smallest solid value.
			gas := n
			val := make([]int, n)
			for i := range val {
				val[i] = gas
			}
			solid, candidate, count := 0, -1, 0
			less := func(a, b *int) bool {
				count++
				x, y := *a, *b
				if val[x] == gas && val[y] == gas {
					if x == candidate {
						val[x], solid = solid, solid+1
					} else {
						val[y], solid = solid, solid+1
					}
				}
				if val[x] == gas {
					candidate = x
				} else if val[y] == gas {
					candidate = y
				}
				return val[x] < val[y]
			}
			s := make([]int, n)
			for i := range s {
				s[i] = i
			}
			selectLeast(s, k, less)
			if count > limit {
				t.Errorf("k=%d: %d comparisons, want at most %d", k, count, limit)
			}
			// Whatever the adversary decided, s[:k] must be the k least.
			most := 0
			for _, x := range s[:k] {
				most = max(most, val[x])
			}
			for _, x := range s[k:] {
				if val[x] < most {
					t.Fatalf("k=%d: %d (value %d) left out, %d kept", k, x, val[x], most)
				}
			}
		}
	})
	t.Run("flood", func(t *testing.T) {
		// A table of 1.05·m rows that took one-packet flows, all 64
		// bytes, from ticks 0 and 1, and m newcomers at tick 2: the
		// shape that went quadratic, rebuilt through Flows itself.
		const m = n / 2
		f := NewFlows(FlowsConfig{MaxFlows: m + m/20})
		d := NewDelta(0)
		next := 0
		for range 2 {
			for range m {
				addN(d, key4(byte(next), byte(next>>8), uint16(next>>16), 80), true, 1, 64)
				next++
			}
			f.Merge(d)
			d.Reset()
			f.Close((f.Tick() + 1) * 2 * sec).Release()
		}
		for range m {
			addN(d, key4(byte(next), byte(next>>8), uint16(next>>16), 80), true, 1, 64)
			next++
		}
		f.Merge(d)
		// What settle ranks, in the order it ranks them.
		var all []ranked
		for i := range f.pend.Len() {
			all = append(all, ranked{w: 64, last: int32(f.tick), ref: -1 - int32(i)})
		}
		f.eachRec(func(j int32, r *flowRec) {
			if r.k[4] != 0 {
				all = append(all, ranked{w: 64, last: r.last, ref: j})
			}
		})
		count := 0
		keep := min(f.maxFlows, len(all))
		selectLeast(all, keep, func(a, b *ranked) bool { count++; return heavier(a, b) })
		if count > limit {
			t.Errorf("%d comparisons for %d ranked, want at most %d", count, len(all), limit)
		}
		for _, r := range all[:keep] {
			if r.ref >= 0 && r.last < int32(f.tick)-1 {
				t.Fatalf("row %d of tick %d kept over newer flows", r.ref, r.last)
			}
		}
	})
}

// The scenario of the floods issue at table level: the table fills with
// one-packet flows, then an elephant starts among more new one-packet
// flows. The elephant gets its row at its first tick and keeps it, exact;
// every flow without a row was folded exactly once.
func TestOverflowElephantAfterTableFull(t *testing.T) {
	const n = 200
	f := NewFlows(FlowsConfig{MaxFlows: n})
	d := NewDelta(0)
	mouse := 0
	newMouse := func() {
		k := key4(byte(mouse), byte(mouse>>8), uint16(mouse>>16), 53)
		k.A[1] = 1
		d.Add(&k, DirOut, true, 100)
		mouse++
	}
	elephant := key4(1, 2, 7000, 9000)
	elephant.A[1], elephant.B[1] = 98, 98
	tick := int64(0)
	closeTick := func() *Snapshot {
		f.Merge(d)
		d.Reset()
		tick++
		return f.Close(tick * 2 * sec)
	}
	// Three ticks of mice: 3n flows for a table of n.
	for range 3 {
		for range n {
			newMouse()
		}
		closeTick().Release()
	}
	var s *Snapshot
	for range 4 {
		for i := range 4 * n {
			if i%4 == 0 {
				d.Add(&elephant, DirOut, true, 1000)
			} else {
				newMouse()
			}
		}
		s = closeTick()
		el := findFlow(t, s, elephant)
		if el.Sent.Packets != uint64(tick-3)*n || el.Sent.Bytes != uint64(tick-3)*n*1000 {
			t.Fatalf("tick %d: elephant %+v, want %d packets", tick, el.Sent, (tick-3)*n)
		}
	}
	var rows, sum uint64
	for _, fl := range s.Flows {
		sum += fl.Sent.Bytes + fl.Recv.Bytes
		if !fl.Key.IsOther() {
			rows++
		}
	}
	if rows != n {
		t.Errorf("%d rows, want %d", rows, n)
	}
	if total := s.TX.Bytes + s.RX.Bytes; sum != total {
		t.Errorf("rows add up to %d bytes, totals say %d", sum, total)
	}
	// Each mouse had one packet: it was folded once (given way or
	// refused), unless it holds one of the n-1 rows the elephant leaves.
	if want := uint64(mouse - (n - 1)); s.Folded != want {
		t.Errorf("folded %d, want %d", s.Folded, want)
	}
}

// A row that gives way takes its history with it: "other" shows its past
// slots, and the windows of all rows still add up to the totals' windows.
func TestOverflowEvictedHistoryMovesToOther(t *testing.T) {
	f := NewFlows(FlowsConfig{MaxFlows: 1})
	d := NewDelta(0)
	a, b := key4(1, 2, 1, 1), key4(3, 4, 1, 1)
	addN(d, a, true, 3, 100) // tick 0: a, 300 B
	f.Merge(d)
	d.Reset()
	f.Close(2 * sec).Release()
	addN(d, b, false, 5, 100) // tick 1: b, 500 B, heavier: a gives way
	f.Merge(d)
	d.Reset()
	s := f.Close(4 * sec)
	fb := findFlow(t, s, b)
	if fb.Recv.Bytes != 500 || fb.Recv.Win != [3]uint64{500, 500, 500} {
		t.Errorf("b = %+v", fb.Recv)
	}
	o := findFlow(t, s, Key{})
	if o.Sent.Bytes != 300 || o.Sent.Packets != 3 || o.Sent.Win != [3]uint64{0, 300, 300} {
		t.Errorf("other = %+v", o.Sent)
	}
	if s.Folded != 1 {
		t.Errorf("folded %d", s.Folded)
	}
}

// Random streams against a model of the guarantee stated in overflow.go:
// a flow whose 40 s bytes exceed 1/N of all bytes of the last 40 s at every
// tick since its first has its row, exact from its first packet. Also:
// never more than N rows, rows never count more than the flow sent, all
// rows and "other" add up to the totals, and every flow without a row was
// folded at least once.
//
// With several links (links > 1) each packet takes a random link, so most
// flows are split: flows compete as wholes, and each row's Links must
// match the model link by link and add up to the row, and each link's
// parts over all rows to that link's totals.
func TestOverflowGuaranteeAgainstModel(t *testing.T) {
	for _, links := range []int{1, 3} {
		for seed := range uint64(40) {
			t.Run(fmt.Sprint(links, "links/", seed), func(t *testing.T) { overflowModelRun(t, seed, links) })
		}
	}
}

func overflowModelRun(t *testing.T, seed uint64, links int) {
	r := rand.New(rand.NewPCG(seed, 77))
	n := 1 + r.IntN(12)
	if seed%5 == 0 {
		n = 50 + r.IntN(50)
	}
	universe := n * (2 + r.IntN(6))
	keys := make([]Key, universe)
	weight := make([]float64, universe) // skewed: a few heavy keys
	for i := range keys {
		keys[i] = key4(byte(i), byte(i>>8), uint16(seed), uint16(i))
		weight[i] = 1 / float64(1+i) / float64(1+i)
		if r.IntN(4) == 0 {
			weight[i] = r.Float64()
		}
	}
	r.Shuffle(universe, func(i, j int) { weight[i], weight[j] = weight[j], weight[i] })
	var wsum float64
	for _, w := range weight {
		wsum += w
	}
	pick := func() int {
		x := r.Float64() * wsum
		for i, w := range weight {
			x -= w
			if x < 0 {
				return i
			}
		}
		return universe - 1
	}
	const ticks = 19 // nothing expires: the totals check stays exact
	type hist struct {
		first   int64
		perTick [ticks][2]uint64 // bytes sent, received
		pkts    [2]uint64
		link    map[int]*[2]Counter // several links: sent, received per link
	}
	model := map[Key]*hist{}
	var total [ticks]uint64
	cfg := FlowsConfig{MaxFlows: n}
	workers := []*Delta{NewDelta(0), NewDelta(0)}
	if links > 1 {
		workers = workers[:0]
		for i := range links {
			cfg.Interfaces = append(cfg.Interfaces, fmt.Sprint("eth", i))
			workers = append(workers, NewDelta(0))
			workers[i].Iface = i
		}
	}
	f := NewFlows(cfg)
	for tick := range int64(ticks) {
		// Some ticks bring new keys into play only now.
		events := r.IntN(8 * n)
		for range events {
			i := pick()
			if tick < 3 && i%3 == 0 {
				continue // keys that start late
			}
			k := keys[i]
			sent := r.IntN(3) != 0
			size := uint32(40 + r.IntN(1460))
			w := i % 2
			if links > 1 {
				w = r.IntN(links)
			}
			workers[w].Add(&k, DirOut, sent, size)
			h := model[k]
			if h == nil {
				h = &hist{first: tick, link: map[int]*[2]Counter{}}
				model[k] = h
			}
			side := 1
			if sent {
				side = 0
			}
			if h.link[w] == nil {
				h.link[w] = new([2]Counter)
			}
			h.link[w][side].Bytes += uint64(size)
			h.link[w][side].Packets++
			h.perTick[tick][side] += uint64(size)
			h.pkts[side]++
			total[tick] += uint64(size)
		}
		for _, d := range workers {
			f.Merge(d)
			d.Reset()
		}
		s := f.Close((tick + 1) * 2 * sec)

		rows := map[Key]Flow{}
		var sumB, sumP uint64
		var sumWin [3]uint64
		linkSum := make([]Stat, links)
		for _, fl := range s.Flows {
			if links > 1 {
				checkLinks(t, &fl, links)
				for _, l := range fl.Links {
					linkSum[l.Link].Add(&l.Sent)
					linkSum[l.Link].Add(&l.Recv)
				}
			} else if fl.Links != nil {
				t.Fatalf("tick %d: one link, but flow %+v has Links", tick, fl.Key)
			}
			sumB += fl.Sent.Bytes + fl.Recv.Bytes
			sumP += fl.Sent.Packets + fl.Recv.Packets
			for w := range sumWin {
				sumWin[w] += fl.Sent.Win[w] + fl.Recv.Win[w]
			}
			if !fl.Key.IsOther() {
				rows[fl.Key] = fl
			}
		}
		if len(rows) > n {
			t.Fatalf("tick %d: %d rows for a table of %d", tick, len(rows), n)
		}
		if sumB != s.TX.Bytes+s.RX.Bytes || sumP != s.TX.Packets+s.RX.Packets {
			t.Fatalf("tick %d: rows add up to %d B %d pkts, totals %d B %d pkts", tick, sumB, sumP, s.TX.Bytes+s.RX.Bytes, s.TX.Packets+s.RX.Packets)
		}
		for w := range sumWin {
			if sumWin[w] != s.TX.Win[w]+s.RX.Win[w] {
				t.Fatalf("tick %d: window %d of the rows %d, totals %d", tick, w, sumWin[w], s.TX.Win[w]+s.RX.Win[w])
			}
		}
		for l := range links {
			if links == 1 {
				break
			}
			var want Stat
			want.Add(&s.Interfaces[l].TX)
			want.Add(&s.Interfaces[l].RX)
			if linkSum[l] != want {
				t.Fatalf("tick %d: link %d: the flows' parts add up to %+v, the link's totals to %+v", tick, l, linkSum[l], want)
			}
		}
		if lower := uint64(len(model) - len(rows)); s.Folded < lower {
			t.Fatalf("tick %d: folded %d, but %d flows have no row", tick, s.Folded, lower)
		}
		var W uint64 // all bytes of the last 40 s: every tick so far
		for j := int64(0); j <= tick; j++ {
			W += total[j]
		}
		for k, h := range model {
			var want Flow
			want.Key = k
			heavy := true
			var win uint64
			for j := h.first; j <= tick; j++ {
				win += h.perTick[j][0] + h.perTick[j][1]
				var Wj uint64
				for i := int64(0); i <= j; i++ {
					Wj += total[i]
				}
				if uint64(n)*win <= Wj {
					heavy = false
				}
				want.Sent.Bytes += h.perTick[j][0]
				want.Recv.Bytes += h.perTick[j][1]
			}
			want.Sent.Packets, want.Recv.Packets = h.pkts[0], h.pkts[1]
			row, ok := rows[k]
			if ok && (row.Sent.Bytes > want.Sent.Bytes || row.Recv.Bytes > want.Recv.Bytes ||
				row.Sent.Packets > want.Sent.Packets || row.Recv.Packets > want.Recv.Packets) {
				t.Fatalf("tick %d: row %+v counts more than the flow sent: %+v %+v, want at most %+v %+v", tick, k, row.Sent, row.Recv, want.Sent, want.Recv)
			}
			if !heavy {
				continue
			}
			if !ok {
				t.Fatalf("tick %d (N=%d, W=%d): flow %v carried more than 1/N of the traffic at every tick since %d but has no row", tick, n, W, k, h.first)
			}
			if row.Sent.Bytes != want.Sent.Bytes || row.Recv.Bytes != want.Recv.Bytes ||
				row.Sent.Packets != want.Sent.Packets || row.Recv.Packets != want.Recv.Packets {
				t.Fatalf("tick %d: heavy flow %v: row %+v %+v, want %+v %+v (exact from its first packet)", tick, k, row.Sent, row.Recv, want.Sent, want.Recv)
			}
			if links == 1 {
				continue
			}
			if len(row.Links) != len(h.link) {
				t.Fatalf("tick %d: heavy flow %v: %d link parts, want %d", tick, k, len(row.Links), len(h.link))
			}
			for _, l := range row.Links {
				m := h.link[l.Link]
				if m == nil || l.Sent.Bytes != m[0].Bytes || l.Sent.Packets != m[0].Packets ||
					l.Recv.Bytes != m[1].Bytes || l.Recv.Packets != m[1].Packets {
					t.Fatalf("tick %d: heavy flow %v: link %d part %+v %+v, want %+v", tick, k, l.Link, l.Sent, l.Recv, m)
				}
			}
		}
		s.Release()
	}
}

// checkLinks checks that fl's Links are in link order, each link at most
// once and in range, and add up to fl.
func checkLinks(t *testing.T, fl *Flow, links int) {
	t.Helper()
	if len(fl.Links) == 0 {
		t.Fatalf("flow %+v: no Links with %d links captured", fl.Key, links)
	}
	var sent, recv Stat
	for i, l := range fl.Links {
		if l.Link < 0 || l.Link >= links || (i > 0 && l.Link <= fl.Links[i-1].Link) {
			t.Fatalf("flow %+v: Links %+v out of order or range", fl.Key, fl.Links)
		}
		sent.Add(&l.Sent)
		recv.Add(&l.Recv)
	}
	if sent != fl.Sent || recv != fl.Recv {
		t.Fatalf("flow %+v: Links add up to %+v %+v, the flow is %+v %+v", fl.Key, sent, recv, fl.Sent, fl.Recv)
	}
}

// When more newcomers arrive in a tick than the table of waiting
// newcomers holds, the surplus goes to "other" at once, counted, and the
// totals still add up.
func TestOverflowPendingLimit(t *testing.T) {
	f := NewFlows(FlowsConfig{MaxFlows: 2})
	f.pend = NewDelta(3) // DeltaLimit's floor is a million; a small one here
	d := NewDelta(0)
	for i := byte(1); i <= 10; i++ {
		addN(d, key4(i, 100, 1, 2), true, int(i), 100) // flow i: i packets
	}
	f.Merge(d)
	s := f.Close(2 * sec)
	var rows, sum uint64
	for _, fl := range s.Flows {
		sum += fl.Sent.Bytes
		if !fl.Key.IsOther() {
			rows++
		}
	}
	// Flows 1 and 2 took the two records; 3, 4, 5 waited; 6..10 found the
	// waiting table full. At settle 4 and 5 outweigh 1 and 2.
	if rows != 2 || sum != 55*100 {
		t.Fatalf("%d rows, %d bytes, want 2 and 5500", rows, sum)
	}
	findFlow(t, s, key4(5, 100, 1, 2))
	findFlow(t, s, key4(4, 100, 1, 2))
	// Folded: 1 and 2 gave way, 3 was refused, and the waiting table
	// turned away 6..10, one flow each (a delta's entry is one flow).
	if want := uint64(2 + 1 + 5); s.Folded != want {
		t.Errorf("folded %d, want %d", s.Folded, want)
	}
}

// With several links, a part that finds the table of waiting newcomers
// full goes to its own link's part of "other" at once, counted as one
// folded flow; every link's parts still add up to its totals.
func TestOverflowPendingLimitLinks(t *testing.T) {
	f := NewFlows(FlowsConfig{MaxFlows: 2, Interfaces: []string{"eth0", "eth1"}})
	f.pend = NewDelta(3) // holds three parts
	for link := range 2 {
		d := NewDelta(0)
		d.Iface = link
		for i := byte(1); i <= 6; i++ {
			addN(d, key4(i, 100, 1, 2), true, int(i)+link, 100) // flow i: i packets on eth0, i+1 on eth1
		}
		f.Merge(d)
	}
	s := f.Close(2 * sec)
	rows := map[byte][]int{} // flow → its links
	linkSum := make([]uint64, 2)
	for _, fl := range s.Flows {
		checkLinks(t, &fl, 2)
		for _, l := range fl.Links {
			linkSum[l.Link] += l.Sent.Bytes
			if !fl.Key.IsOther() {
				rows[fl.Key.A[3]] = append(rows[fl.Key.A[3]], l.Link)
			}
		}
	}
	for l, in := range s.Interfaces {
		if linkSum[l] != in.TX.Bytes || in.TX.Bytes != uint64(21+6*l)*100 {
			t.Errorf("%s: parts %d bytes, link %d", in.Name, linkSum[l], in.TX.Bytes)
		}
	}
	// eth0: flows 1 and 2 take the records; 3, 4, 5 wait, 6 finds the
	// waiting table full. eth1: 1 and 2 are parts of rows (records at
	// once); 3 to 6 are new parts and find it full. At settle 5 (500 B)
	// ties with 2 (200 + 300 B) and both stay; 1, 3 and 4 lose.
	if fmt.Sprint(rows) != "map[2:[0 1] 5:[0]]" {
		t.Errorf("rows and their links %v, want flow 2 on both, 5 on eth0", rows)
	}
	// Folded: 6 on eth0, 3 to 6 on eth1, then 1 gave way, 3 and 4 refused.
	if want := uint64(1 + 4 + 1 + 2); s.Folded != want {
		t.Errorf("folded %d, want %d", s.Folded, want)
	}
}

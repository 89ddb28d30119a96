package table

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAdvanceAsClose feeds two tables the same ticks; one closes every
// tick with Close, the other with Advance. Every later snapshot must be the
// same: Advance only skips building the rows. Cases cover expiry (flows
// idle for 40 s), a full table (newcomers settled at the tick's end) and
// partial slots (a tick ended early).
func TestAdvanceAsClose(t *testing.T) {
	for _, tt := range []struct {
		name     string
		maxFlows int
		ticks    int
		keys     int  // distinct keys drawn from
		perTick  int  // packets per tick
		idle     int  // every idle-th tick has no traffic (0: none)
		partial  bool // ticks end 0.5 s early
	}{
		{name: "steady", ticks: 30, keys: 50, perTick: 100},
		{name: "expiry", ticks: 70, keys: 400, perTick: 30, idle: 3},
		{name: "overflow", maxFlows: 40, ticks: 30, keys: 300, perTick: 200},
		{name: "partial", maxFlows: 40, ticks: 25, keys: 100, perTick: 80, partial: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(tt.ticks)))
			closed := NewFlows(FlowsConfig{MaxFlows: tt.maxFlows, Interfaces: []string{"eth0"}})
			advanced := NewFlows(FlowsConfig{MaxFlows: tt.maxFlows, Interfaces: []string{"eth0"}})
			d := NewDelta(0)
			for tick := range tt.ticks {
				if tt.idle == 0 || tick%tt.idle != 0 {
					for range tt.perTick {
						i := r.IntN(tt.keys)
						size := uint32(40 + r.IntN(1400))
						addN(d, key4(byte(i), byte(i>>8), uint16(i), 443), r.IntN(3) != 0, 1, size)
					}
				}
				d.Capture.Packets = d.TX.Packets + d.RX.Packets
				closed.Merge(d)
				advanced.Merge(d)
				d.Reset()
				end := int64(tick+1) * 2 * sec
				if tt.partial {
					end -= sec / 2
				}
				want := closed.Close(end)
				if tick%5 == 4 {
					// Now and then a snapshot of both: the same.
					got := advanced.Close(end)
					sameSnapshot(t, fmt.Sprintf("tick %d", tick), got, want)
					got.Release()
				} else {
					advanced.Advance(end)
				}
				want.Release()
				if closed.Tick() != advanced.Tick() || closed.SlotStart() != advanced.SlotStart() || closed.Len() != advanced.Len() {
					t.Fatalf("tick %d: tick %d/%d, slot start %d/%d, %d/%d flows", tick,
						advanced.Tick(), closed.Tick(), advanced.SlotStart(), closed.SlotStart(), advanced.Len(), closed.Len())
				}
			}
			end := int64(tt.ticks)*2*sec + sec
			sameSnapshot(t, "end", advanced.Snapshot(end), closed.Snapshot(end))
		})
	}
}

func sameSnapshot(t *testing.T, when string, got, want *Snapshot) {
	t.Helper()
	byKey := func(a, b Flow) int {
		if c := slices.Compare(a.Key.A[:], b.Key.A[:]); c != 0 {
			return c
		}
		if c := slices.Compare(a.Key.B[:], b.Key.B[:]); c != 0 {
			return c
		}
		return int(a.Key.APort) - int(b.Key.APort)
	}
	g, w := slices.Clone(got.Flows), slices.Clone(want.Flows)
	slices.SortFunc(g, byKey)
	slices.SortFunc(w, byKey)
	if len(g) != len(w) {
		t.Fatalf("%s: %d flows, want %d", when, len(g), len(w))
	}
	for i := range g {
		if g[i].Key != w[i].Key || g[i].Sent != w[i].Sent || g[i].Recv != w[i].Recv {
			t.Fatalf("%s: flow %d\n got  %+v\n want %+v", when, i, g[i], w[i])
		}
	}
	if got.Window != want.Window || got.TX != want.TX || got.RX != want.RX || got.Peak != want.Peak ||
		got.Capture != want.Capture || !slices.Equal(got.Interfaces, want.Interfaces) {
		t.Fatalf("%s: totals differ\n got  %+v %+v %+v %+v %+v\n want %+v %+v %+v %+v %+v", when,
			got.Window, got.TX, got.RX, got.Peak, got.Capture, want.Window, want.TX, want.RX, want.Peak, want.Capture)
	}
}

// TestSnapshotBufferShrinks: once a flood's flows have expired, snapshots
// stop reusing the flood's big buffers.
func TestSnapshotBufferShrinks(t *testing.T) {
	f := NewFlows(FlowsConfig{})
	d := NewDelta(0)
	for i := range 50_000 {
		addN(d, key4(byte(i), byte(i>>8), uint16(i>>16), 80), true, 1, 64)
	}
	for tick := range Slots + 3 {
		if tick > 0 {
			addN(d, key4(1, 2, 3, 4), true, 1, 64) // one flow stays
		}
		f.Merge(d)
		d.Reset()
		s := f.Close(int64(tick+1) * 2 * sec)
		n, c := len(s.Flows), cap(s.Flows)
		s.Release()
		if tick >= Slots && (n != 1 || tooBig(c, n)) {
			t.Fatalf("tick %d: %d flows in a buffer of %d", tick, n, c)
		}
	}
}

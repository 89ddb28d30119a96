package pipeline

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/table"
)

// The streaming engine, fed per member as the kernel's fanout would feed it,
// reaches the same numbers as the deterministic file replay.
func TestEngineMatchesFileReplay(t *testing.T) {
	frames, _ := traffic()
	var want *table.Snapshot
	if err := RunFile(context.Background(), capture(t, frames), FileConfig{
		Emit: func(s *table.Snapshot) error { want = s; return nil },
	}); err != nil {
		t.Fatal(err)
	}

	// HandAt 3: members also hand their deltas over within ticks.
	for _, c := range []struct{ members, handAt int }{{1, 0}, {3, 0}, {1, 3}, {3, 3}} {
		members := c.members
		// Dispatch by the symmetric flow hash, as PACKET_FANOUT_HASH does.
		parts := make([][]ring.Record, members)
		var p decode.Packet
		for _, fr := range frames {
			r := ring.Record{Data: fr.data, TS: fr.ts, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: uint32(len(fr.data)), PktType: decode.PktUnknown}}
			m := 0
			if decode.Frame(r.Data, &r.Meta, &p) == nil {
				m = int(p.FlowHash() % uint64(members))
			}
			parts[m] = append(parts[m], r)
		}
		var ticks []*table.Snapshot
		e := NewEngine(EngineConfig{
			Members:      members,
			Start:        frames[0].ts,
			WaitForSpare: true,
			HandAt:       c.handAt,
			Emit:         func(s *table.Snapshot) { ticks = append(ticks, s) },
		})
		var wg sync.WaitGroup
		for m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mem := e.Member(m)
				recs := parts[m]
				for len(recs) > 0 {
					n := min(len(recs), 7) // small batches: boundaries fall inside them
					mem.Batch(recs[:n])
					recs = recs[n:]
				}
				mem.Flush()
			}()
		}
		wg.Wait()
		got := e.Wait(frames[len(frames)-1].ts)
		if len(ticks) != 4 {
			t.Errorf("%+v: %d ticks closed, want 4", c, len(ticks))
		}
		if a, b := summary(want), summary(got); a != b {
			t.Errorf("%+v:\nengine %s\nfile   %s", c, b, a)
		}
	}
}

func summary(s *table.Snapshot) string {
	rows := s.Rows(table.View{Ports: table.PortsOn}, nil)
	table.SortByColumn(rows, table.Win2s, table.TwoLine)
	return fmt.Sprint(rows, s.TX, s.RX, s.Window, s.Capture, s.Peak)
}

// A live member never waits for a merger that lags: it goes on counting
// into the delta it has, and nothing is lost or allocated.
func TestEngineMemberNeverWaits(t *testing.T) {
	frames, _ := traffic()
	release := make(chan struct{})
	var ticks []*table.Snapshot
	e := NewEngine(EngineConfig{
		Members: 1,
		Start:   frames[0].ts,
		Emit: func(s *table.Snapshot) {
			if len(ticks) == 0 {
				<-release // the merger is stuck in its first tick
			}
			ticks = append(ticks, s)
		},
	})
	m := e.Member(0)
	var p decode.Packet
	n := 0
	for _, fr := range frames {
		r := ring.Record{Data: fr.data, TS: fr.ts, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: uint32(len(fr.data)), PktType: decode.PktUnknown}}
		if decode.Frame(r.Data, &r.Meta, &p) == nil {
			n++
		}
		m.Batch([]ring.Record{r}) // would deadlock here if the member waited
	}
	close(release)
	m.Flush()
	s := e.Wait(frames[len(frames)-1].ts)
	if s.Counted != uint64(n) || s.Packets != uint64(len(frames)) {
		t.Fatalf("counted %d of %d, %d packets of %d", s.Counted, n, s.Packets, len(frames))
	}
}

// A member that hands over a delta of n flows goes on with a spare sized
// for n at once, so that a flood's next tick does not regrow it by doubling.
func TestEngineSpareSizedAtHandOver(t *testing.T) {
	const flows = 5000
	e := NewEngine(EngineConfig{Members: 1, WaitForSpare: true})
	m := e.Member(0)
	if got := m.w.Delta().Room(); got >= flows {
		t.Fatalf("a fresh delta holds %d keys already: the test shows nothing", got)
	}
	recs := flowRecords(flows)
	m.Batch(recs) // tick 0 (timestamps 0)
	next := recs[0]
	next.TS = int64(table.SlotDuration) // tick 1: hands tick 0 over
	m.Batch([]ring.Record{next})
	if got := m.w.Delta().Room(); got < flows {
		t.Errorf("after handing over %d flows the member counts into a delta with room for %d", flows, got)
	}
	m.Flush()
	s := e.Wait(2 * int64(table.SlotDuration))
	defer s.Release()
	if len(s.Flows) != flows || s.Capture.Counted != flows+1 {
		t.Errorf("%d flows, %d packets counted; want %d and %d", len(s.Flows), s.Capture.Counted, flows, flows+1)
	}
}

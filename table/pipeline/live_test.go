package pipeline

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/ring/afpacket"
	"github.com/fastop/fastop/table"
)

// fakeGroup stands in for a ring.Group: each member gets its share of recs
// in one batch, then idles until ctx ends (or Run fails with fail).
type fakeGroup struct {
	name    string
	members int
	recs    [][]ring.Record // per member
	drops   atomic.Uint64
	state   afpacket.State
	fail    error
	fed     sync.WaitGroup // done once every member has its records
}

func (g *fakeGroup) Interface() string     { return g.name }
func (g *fakeGroup) Members() int          { return g.members }
func (g *fakeGroup) Stats() afpacket.Stats { return afpacket.Stats{Drops: g.drops.Load()} }
func (g *fakeGroup) State() afpacket.State { return g.state }

func (g *fakeGroup) Run(ctx context.Context, newHandler func(int) afpacket.Handler) error {
	var wg sync.WaitGroup
	for m := range g.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := newHandler(m)
			h.Batch(g.recs[m])
			g.fed.Done()
			<-ctx.Done()
		}()
	}
	if g.fail != nil {
		g.fed.Wait()
		return g.fail
	}
	wg.Wait()
	return nil
}

func newFakeGroup(name string, members int, recs []ring.Record) *fakeGroup {
	g := &fakeGroup{name: name, members: members, recs: make([][]ring.Record, members), state: afpacket.StateUp}
	for i, r := range recs {
		g.recs[i%members] = append(g.recs[i%members], r)
	}
	g.fed.Add(members)
	return g
}

// RunLive wires groups, members, drops and interface state as fastop -i
// and bench --live use them: every record counted under its interface,
// the kernel's drops added, a down interface marked, and the final
// snapshot returned when ctx ends.
func TestRunLiveCountsEveryGroup(t *testing.T) {
	frames, _ := traffic()
	var recs []ring.Record
	for _, fr := range frames[:len(frames)-1] { // the UDP frames, no ARP
		recs = append(recs, ring.Record{Data: fr.data, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: uint32(len(fr.data)), PktType: decode.PktUnknown}})
	}
	now := int64(1_700_000_000) * sec
	for i := range recs {
		recs[i].TS = now // all in the first slot
	}
	a := newFakeGroup("eth0", 2, recs[:600])
	b := newFakeGroup("eth1", 3, recs[600:])
	a.drops.Store(7)
	b.drops.Store(5)
	b.state = afpacket.StateDown
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		a.fed.Wait()
		b.fed.Wait()
		cancel()
	}()
	links := []table.Link{{Speed: 1e10, Master: "bond0", State: "active"}, {Master: "bond0", State: "down"}}
	snap, err := RunLive(ctx, LiveConfig{
		Groups: []Group{a, b},
		Links:  func(i int) table.Link { return links[i] },
		now:    func() int64 { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range snap.Interfaces {
		if snap.Interfaces[i].Link != links[i] {
			t.Errorf("interface %d: link %+v, want %+v", i, snap.Interfaces[i].Link, links[i])
		}
	}
	if snap.Members != 5 || snap.Packets != 900 || snap.Counted != 900 || snap.Dropped != 12 {
		t.Fatalf("members %d, capture %+v", snap.Members, snap.Capture)
	}
	if len(snap.Interfaces) != 2 {
		t.Fatalf("%d interfaces", len(snap.Interfaces))
	}
	for i, want := range []struct {
		name             string
		packets, dropped uint64
		down             bool
	}{{"eth0", 600, 7, false}, {"eth1", 300, 5, true}} {
		got := snap.Interfaces[i]
		if got.Name != want.name || got.Capture.Packets != want.packets || got.Capture.Dropped != want.dropped || got.Down != want.down {
			t.Errorf("interface %d: %s packets %d dropped %d down %v, want %+v", i, got.Name, got.Capture.Packets, got.Capture.Dropped, got.Down, want)
		}
	}
}

// One group failing stops the others; the error names its interface and
// the packets counted before it are in the final snapshot.
func TestRunLiveGroupFailureStopsAll(t *testing.T) {
	frames, _ := traffic()
	var recs []ring.Record
	for _, fr := range frames[:100] {
		recs = append(recs, ring.Record{Data: fr.data, TS: fr.ts, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: uint32(len(fr.data)), PktType: decode.PktUnknown}})
	}
	a := newFakeGroup("eth0", 1, recs[:50])
	b := newFakeGroup("eth1", 1, recs[50:])
	boom := errors.New("the interface went away")
	b.fail = boom
	snap, err := RunLive(context.Background(), LiveConfig{
		Groups: []Group{a, b},
		now:    func() int64 { return frames[0].ts },
	})
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "eth1: ") {
		t.Fatalf("err = %v, want eth1's failure", err)
	}
	if snap == nil || snap.Packets != 100 {
		t.Fatalf("final snapshot %+v", snap)
	}
}

// A group added during the run (a link that joined a bond) becomes the
// next interface: its packets, drops and link state are counted under it
// from the slot it joins in, and the others' counts are untouched.
func TestRunLiveAddedGroup(t *testing.T) {
	frames, _ := traffic()
	var recs []ring.Record
	for _, fr := range frames[:len(frames)-1] {
		recs = append(recs, ring.Record{Data: fr.data, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: uint32(len(fr.data)), PktType: decode.PktUnknown}})
	}
	start := int64(1_700_000_000) * sec
	for i := range recs {
		recs[i].TS = start
		if i >= 500 {
			recs[i].TS = start + 5*sec // the joined link's, in slot 2
		}
	}
	var clock atomic.Int64
	clock.Store(start)
	a := newFakeGroup("eth0", 2, recs[:500])
	c := newFakeGroup("eth2", 3, recs[500:800])
	c.drops.Store(4)
	added := make(chan Group)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		a.fed.Wait()
		clock.Store(start + 5*sec)
		added <- c
		c.fed.Wait()
		cancel()
	}()
	links := []table.Link{{Master: "bond0", State: "active"}, {Master: "bond0", State: "backup"}}
	snap, err := RunLive(ctx, LiveConfig{
		Groups: []Group{a},
		Added:  added,
		Links:  func(i int) table.Link { return links[i] },
		now:    clock.Load,
	})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Members != 5 || snap.Packets != 800 || snap.Counted != 800 || snap.Dropped != 4 {
		t.Fatalf("members %d, capture %+v; want 5 members, 800 packets counted, 4 dropped", snap.Members, snap.Capture)
	}
	if len(snap.Interfaces) != 2 {
		t.Fatalf("%d interfaces, want eth0 and the joined eth2", len(snap.Interfaces))
	}
	for i, want := range []struct {
		name             string
		packets, dropped uint64
	}{{"eth0", 500, 0}, {"eth2", 300, 4}} {
		got := snap.Interfaces[i]
		if got.Name != want.name || got.Capture.Packets != want.packets || got.Capture.Dropped != want.dropped || got.Link != links[i] {
			t.Errorf("interface %d: %s packets %d dropped %d link %+v, want %+v and %+v", i, got.Name, got.Capture.Packets, got.Capture.Dropped, got.Link, want, links[i])
		}
	}
	var sum uint64
	for _, f := range snap.Flows {
		sum += f.Sent.Packets + f.Recv.Packets
	}
	if sum != 800 {
		t.Errorf("flows hold %d packets, want 800", sum)
	}
}

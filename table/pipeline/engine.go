package pipeline

import (
	"runtime/debug"
	"sync"
	"time"

	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/crash"
)

// EngineConfig configures the streaming engine of a live capture: N fanout
// members that never wait for the merger. (RunLive wires it to ring groups;
// files are replayed by RunFile.)
type EngineConfig struct {
	Members    int               // workers, one per member; each is fed by one goroutine only
	Start      int64             // slot 0 begins here (Unix ns)
	Classifier *table.Classifier // direction rules
	MaxFlows   int
	Sources    []string // interface names; member m belongs to source Source(m)
	// Source maps a member to its source index (nil: all members feed source 0).
	Source func(member int) int
	// Grace is how long past a slot boundary a member waits, when idle,
	// before it hands its delta over: packets stamped before the boundary
	// may still be in a ring block that has not been retired.
	Grace time.Duration
	// OnClose runs on the merger goroutine just before a tick closes, so the
	// caller can add kernel drops and interface state to the table.
	OnClose func(f *table.Flows)
	// Emit receives every closed tick's snapshot on the merger goroutine.
	// It should Release the snapshot when done with it. Without Emit,
	// ticks are closed without building snapshots (Flows.Advance).
	Emit func(*table.Snapshot)
	// WaitForSpare makes a member wait for the merger to give a delta back
	// instead of counting on into the one it has, so that ticks stay exact
	// when recorded traffic is fed faster than real time (tests compare
	// the engine with RunFile that way); live capture never waits.
	WaitForSpare bool
	// Bonds, when set, holds per source the bond configuration each
	// member checks transmitted packets against.
	Bonds *BondLinks
	// HandAt is how many flows a member's delta holds before the member
	// hands it over within a tick (0: DefaultHandAt). The merger adds it
	// to the slot being filled at once, so in a flood a delta stays
	// small instead of holding a tick's worth of new flows.
	HandAt int
}

// DefaultHandAt bounds a member's delta between hand-overs: 65,536 flows,
// 6 MB with its index.
const DefaultHandAt = 1 << 16

// Engine runs members and one merger. Each member's Batch is called from
// one goroutine (its ring reader, or a replay goroutine); the member counts
// into its own delta and, at a slot boundary, hands the delta to the merger
// through a channel and goes on with a spare. No lock is taken and no
// atomic is touched per packet.
type Engine struct {
	cfg   EngineConfig
	hand  chan handoff
	done  chan struct{}
	flows *table.Flows

	mu      sync.Mutex // guards members, sources and clock (AddSource grows them)
	members []*Member
	sources int
	clock   func() int64 // the members' wall clock (tests replace it)
}

type handoff struct {
	member int
	tick   int64 // the tick d belongs to
	next   int64 // the member is done with every tick before next
	d      *table.Delta
	// join, when not nil, is a source added during the run (AddSource):
	// its members and its interface's name. It reaches the merger before
	// any delta of those members, through the same channel.
	join *joined
}

type joined struct {
	name    string
	members []*Member
	tick    int64 // the members' first tick (they may be past it by the time the merger reads this)
}

// Member is one member's end of the engine. It implements ring's Handler
// contract: Batch with the records of one ring block, or with none when idle.
type Member struct {
	e        *Engine
	id       int
	w        *Worker
	tick     int64 // the tick the current delta started in
	want     int64 // the tick the member has reached; > tick while a hand-over waits for a spare
	boundary int64 // end of tick want
	spare    chan *table.Delta
	now      func() int64
}

// NewEngine starts the merger. Call Member(i) for each member's handler and
// Stop when done.
func NewEngine(cfg EngineConfig) *Engine {
	if cfg.Members < 1 {
		cfg.Members = 1
	}
	if cfg.Classifier == nil {
		cfg.Classifier = table.NewClassifier(table.ClassifierConfig{})
	}
	srcs := cfg.Sources
	if len(srcs) == 0 {
		srcs = []string{""}
	}
	e := &Engine{
		cfg:   cfg,
		hand:  make(chan handoff, 4*cfg.Members),
		done:  make(chan struct{}),
		flows: table.NewFlows(table.FlowsConfig{Start: cfg.Start, MaxFlows: cfg.MaxFlows, Interfaces: srcs}),
	}
	e.sources = len(srcs)
	if e.cfg.HandAt <= 0 {
		e.cfg.HandAt = DefaultHandAt
	}
	e.clock = func() int64 { return time.Now().UnixNano() }
	for i := range cfg.Members {
		src := 0
		if cfg.Source != nil {
			src = cfg.Source(i)
		}
		e.members = append(e.members, e.newMember(i, src, 0))
	}
	go e.merge()
	return e
}

// newMember returns member id of source src, starting in tick.
func (e *Engine) newMember(id, src int, tick int64) *Member {
	m := &Member{
		e:        e,
		id:       id,
		w:        NewWorker(e.cfg.Classifier, e.cfg.MaxFlows),
		tick:     tick,
		want:     tick,
		boundary: e.cfg.Start + (tick+1)*int64(table.SlotDuration),
		spare:    make(chan *table.Delta, 4),
		now:      e.clock,
	}
	m.w.delta.Iface = src
	m.w.SetBond(e.cfg.Bonds, src)
	m.spare <- table.NewDelta(table.DeltaLimit(e.cfg.MaxFlows))
	return m
}

// Member returns member i's handler.
func (e *Engine) Member(i int) *Member {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.members[i]
}

// setClock makes every member, and those added later, read the wall
// clock from now.
func (e *Engine) setClock(now func() int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clock = now
	for _, m := range e.members {
		m.now = now
	}
}

// Len returns how many members the engine has now.
func (e *Engine) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.members)
}

// AddSource adds a source (an interface: a link that joined a bond while
// fastop ran) with n members, which start in the slot the wall clock is
// in at now. It returns the source's index (its Interfaces entry in the
// snapshots from the next tick on) and the index of its first member:
// members first … first+n-1. Call it from any goroutine, before the new
// members' first Batch and before Flush.
func (e *Engine) AddSource(name string, n int, now int64) (src, first int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	src, first = e.sources, len(e.members)
	e.sources++
	tick := max(0, (now-e.cfg.Start)/int64(table.SlotDuration))
	j := &joined{name: name, tick: tick}
	for i := range n {
		j.members = append(j.members, e.newMember(first+i, src, tick))
	}
	e.members = append(e.members, j.members...)
	// Under mu, so that joins reach the merger in the order of their
	// source indexes.
	e.hand <- handoff{join: j}
	return src, first
}

// Batch counts the records of one batch, handing the delta over wherever a
// record's timestamp crosses a slot boundary. An empty batch means the
// member is idle: it hands over once the wall clock is past the boundary by
// the grace period.
func (m *Member) Batch(recs []ring.Record) {
	if m.want > m.tick {
		m.handOver()
	}
	if len(recs) == 0 {
		if now := m.now(); now >= m.boundary+int64(m.e.cfg.Grace) {
			m.advance(now - int64(m.e.cfg.Grace))
		}
		return
	}
	seg := 0
	for i := range recs {
		if recs[i].TS >= m.boundary {
			m.w.Process(recs[seg:i])
			seg = i
			m.advance(recs[i].TS)
		}
	}
	m.w.Process(recs[seg:])
	if m.w.delta.Len() >= m.e.cfg.HandAt {
		m.handOver() // within the tick: the merger adds it to the slot at once
	}
}

// advance moves the member to the slot holding ts, handing its delta over.
func (m *Member) advance(ts int64) {
	next := (ts - m.e.cfg.Start) / int64(table.SlotDuration)
	if next <= m.want {
		return
	}
	m.want = next
	m.boundary = m.e.cfg.Start + (next+1)*int64(table.SlotDuration)
	m.handOver()
}

// handOver gives the current delta to the merger and goes on with the
// spare. Each member owns two deltas; if the merger has not given the spare
// back yet (it is more than a tick behind), the member never waits and never
// allocates: it keeps counting into the same delta and tries again at its
// next batch. Those packets are merged late, into the slot being filled
// then, but never lost, and memory stays bounded.
func (m *Member) handOver() {
	var spare *table.Delta
	if m.e.cfg.WaitForSpare {
		spare = <-m.spare
	} else {
		select {
		case spare = <-m.spare:
		default:
			return
		}
	}
	spare.Iface = m.w.delta.Iface
	// The spare takes the size the tick needed at once: in a flood it
	// would otherwise grow again by doubling, rehashing and copying its
	// entries at each step, and touch every intermediate size's memory.
	spare.Reserve(min(m.w.delta.Len(), m.e.cfg.HandAt))
	old := m.w.Swap(spare)
	m.e.hand <- handoff{member: m.id, tick: m.tick, next: m.want, d: old}
	m.tick = m.want
}

// Flush hands over the member's last delta and marks it finished. Call it
// from the member's own goroutine after its last Batch.
func (m *Member) Flush() {
	m.e.hand <- handoff{member: m.id, tick: m.tick, next: 1 << 62, d: m.w.delta}
	m.w.delta = nil
}

// Wait blocks until every member has flushed and the merger has closed
// every tick, runs OnClose once more, and returns the final snapshot: the
// last slot counted up to time end.
func (e *Engine) Wait(end int64) *table.Snapshot {
	<-e.done
	if e.cfg.OnClose != nil {
		e.cfg.OnClose(e.flows)
	}
	// The members are done: their spare deltas go.
	e.mu.Lock()
	for _, m := range e.members {
		for len(m.spare) > 0 {
			(<-m.spare).Shrink()
		}
	}
	e.mu.Unlock()
	freeForFinal(e.flows)
	s := e.flows.Snapshot(end)
	s.Members = e.Len()
	return s
}

// finalFreeFlows is the table size from which a run's final snapshot is
// preceded by giving freed memory back to the system.
const finalFreeFlows = 100_000

// freeForFinal gives the memory the run no longer needs (the workers'
// tables, the merger's scratch) back to the system before the final
// snapshot, the run's largest allocation: after a flood the peak is then
// the table and one snapshot, not both plus every worker's tick tables.
// Below finalFreeFlows the collection it forces is not worth it.
func freeForFinal(f *table.Flows) {
	if f.Len() < finalFreeFlows {
		return
	}
	f.Trim()
	debug.FreeOSMemory()
}

// merge is the merger goroutine.
func (e *Engine) merge() {
	defer crash.Guard()
	defer close(e.done)
	e.mu.Lock()
	members := append([]*Member(nil), e.members...) // the merger's own list, grown by joins
	e.mu.Unlock()
	n := len(members)
	doneBefore := make([]int64, n) // member m has handed over every tick < doneBefore[m]
	pending := map[int64][]handoff{}
	finished := 0
	tick := int64(0) // the tick the table is filling
	// mergeNow adds deltas to the slot being filled and gives each back
	// to its member as a spare.
	mergeNow := func(hs []handoff) {
		for _, p := range hs {
			e.flows.Merge(p.d)
			p.d.Reset()
			select {
			case members[p.member].spare <- p.d:
			default:
			}
		}
	}
	for h := range e.hand {
		crash.Point("merger")
		if h.join != nil {
			e.flows.AddInterface(h.join.name)
			for _, m := range h.join.members {
				members = append(members, m)
				// It has nothing in the ticks before its first; the
				// table's slot being filled may be later (a late join).
				doneBefore = append(doneBefore, max(h.join.tick, tick))
			}
			n = len(members)
			continue
		}
		if h.next >= 1<<62 {
			finished++
		}
		doneBefore[h.member] = h.next
		if h.tick < tick {
			h.tick = tick // late: count it in the slot being filled
		}
		if h.tick == tick {
			// The slot being filled: add it now and give the delta back,
			// so a member that hands over within the tick (HandAt) has
			// its spare for the next hand-over.
			mergeNow([]handoff{h})
		} else {
			pending[h.tick] = append(pending[h.tick], h) // a tick ahead of the table
		}
		for {
			low := doneBefore[0]
			for _, v := range doneBefore[1:] {
				low = min(low, v)
			}
			if low <= tick {
				break
			}
			// Every member is past tick: close it.
			mergeNow(pending[tick])
			delete(pending, tick)
			if finished == n && len(pending) == 0 {
				return
			}
			if e.cfg.OnClose != nil {
				e.cfg.OnClose(e.flows)
			}
			end := e.cfg.Start + (tick+1)*int64(table.SlotDuration)
			if e.cfg.Emit != nil {
				s := e.flows.Close(end)
				s.Members = n
				e.cfg.Emit(s)
			} else {
				e.flows.Advance(end) // nobody reads the tick: no rows built
			}
			tick++
			// Deltas that came ahead of the table belong to the slot
			// being filled now: add them and give them back, or a
			// member waiting for its spare (WaitForSpare) would wait
			// for a tick that waits for it.
			mergeNow(pending[tick])
			delete(pending, tick)
		}
		if finished == n {
			// Everything handed over: merge what is left into the
			// slot being filled (ticks were closed above).
			for t, ps := range pending {
				for _, p := range ps {
					e.flows.Merge(p.d)
				}
				delete(pending, t)
			}
			return
		}
	}
}

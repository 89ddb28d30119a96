package pipeline

import (
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
	// It should Release the snapshot when done with it.
	Emit func(*table.Snapshot)
	// WaitForSpare makes a member wait for the merger to give a delta back
	// instead of counting on into the one it has, so that ticks stay exact
	// when recorded traffic is fed faster than real time (tests compare
	// the engine with RunFile that way); live capture never waits.
	WaitForSpare bool
	// Bonds, when set, holds per source the bond configuration each
	// member checks transmitted packets against.
	Bonds *BondLinks
}

// Engine runs members and one merger. Each member's Batch is called from
// one goroutine (its ring reader, or a replay goroutine); the member counts
// into its own delta and, at a slot boundary, hands the delta to the merger
// through a channel and goes on with a spare. No lock is taken and no
// atomic is touched per packet.
type Engine struct {
	cfg     EngineConfig
	members []*Member
	hand    chan handoff
	done    chan struct{}
	flows   *table.Flows
}

type handoff struct {
	member int
	tick   int64 // the tick d belongs to
	next   int64 // the member is done with every tick before next
	d      *table.Delta
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
	for i := range cfg.Members {
		m := &Member{
			e:        e,
			id:       i,
			w:        NewWorker(cfg.Classifier, cfg.MaxFlows),
			boundary: cfg.Start + int64(table.SlotDuration),
			spare:    make(chan *table.Delta, 4),
			now:      func() int64 { return time.Now().UnixNano() },
		}
		if cfg.Source != nil {
			m.w.delta.Iface = cfg.Source(i)
		}
		m.w.SetBond(cfg.Bonds, m.w.delta.Iface)
		m.spare <- table.NewDelta(table.DeltaLimit(cfg.MaxFlows))
		e.members = append(e.members, m)
	}
	go e.merge()
	return e
}

// Member returns member i's handler.
func (e *Engine) Member(i int) *Member { return e.members[i] }

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
	s := e.flows.Snapshot(end)
	s.Members = len(e.members)
	return s
}

// merge is the merger goroutine.
func (e *Engine) merge() {
	defer crash.Guard()
	defer close(e.done)
	n := len(e.members)
	doneBefore := make([]int64, n) // member m has handed over every tick < doneBefore[m]
	pending := map[int64][]handoff{}
	finished := 0
	tick := int64(0) // the tick the table is filling
	for h := range e.hand {
		crash.Point("merger")
		if h.next >= 1<<62 {
			finished++
		}
		doneBefore[h.member] = h.next
		if h.tick < tick {
			h.tick = tick // late: count it in the slot being filled
		}
		pending[h.tick] = append(pending[h.tick], h)
		for {
			low := doneBefore[0]
			for _, v := range doneBefore[1:] {
				low = min(low, v)
			}
			if low <= tick {
				break
			}
			// Every member is past tick: close it.
			for _, p := range pending[tick] {
				e.flows.Merge(p.d)
				p.d.Reset()
				select {
				case e.members[p.member].spare <- p.d:
				default:
				}
			}
			delete(pending, tick)
			if finished == n && len(pending) == 0 {
				return
			}
			if e.cfg.OnClose != nil {
				e.cfg.OnClose(e.flows)
			}
			end := e.cfg.Start + (tick+1)*int64(table.SlotDuration)
			s := e.flows.Close(end)
			s.Members = n
			if e.cfg.Emit != nil {
				e.cfg.Emit(s)
			} else {
				s.Release()
			}
			tick++
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

package table

import "sync/atomic"

// Windows: indexes into Stat.Win and Snapshot.Window.
const (
	Win2s  = 0 // the last slot
	Win10s = 1 // the last 5 slots
	Win40s = 2 // the last 20 slots
)

// Stat is one direction of a flow, or a total.
type Stat struct {
	Win     [3]uint64 // bytes in the 2 s, 10 s and 40 s windows
	Bytes   uint64    // cumulative bytes (IP length) since the flow was first seen
	Packets uint64    // cumulative packets
}

// Add adds o to s.
func (s *Stat) Add(o *Stat) {
	s.Win[0] += o.Win[0]
	s.Win[1] += o.Win[1]
	s.Win[2] += o.Win[2]
	s.Bytes += o.Bytes
	s.Packets += o.Packets
}

// Flow is one row of a snapshot: a key and both directions. Sent is traffic
// from A to B (iftop's => row), Recv from B to A (the <= row).
type Flow struct {
	Key  Key
	Sent Stat
	Recv Stat
	// Links splits the flow by the link that carried it, when more than
	// one interface is captured (nil otherwise): one entry per link that
	// carried the flow in the 40 s window or since its start, whose Sent
	// and Recv sum to the flow's.
	Links []FlowLink
}

// FlowLink is the part of a flow one link carried.
type FlowLink struct {
	Link int // index into Snapshot.Interfaces
	Sent Stat
	Recv Stat
}

// Peak holds the largest 2 s rates of the last 40 s, in bytes per second.
type Peak struct {
	Sent, Recv, Total float64
}

// Capture counts what the sources delivered and what happened to it. Every
// packet delivered ends up in exactly one of Counted, NotIP, Undecodable,
// Filtered and Ignored.
type Capture struct {
	Packets     uint64 // frames delivered by the sources
	Bytes       uint64 // their wire bytes
	Dropped     uint64 // frames the kernel dropped before fastop saw them (live only)
	Undecodable uint64 // truncated or malformed IP headers, unsupported link types
	NotIP       uint64 // ARP, LLDP and the like: not counted, as in iftop
	Filtered    uint64 // rejected by the filter (files; live filters run in the kernel)
	Ignored     uint64 // dropped by the direction rules: -F/-G both-in or both-out, IPv6 link-local without -l
	Counted     uint64 // packets accounted to flows
	// Folded counts, since the start, the flows folded into the "other"
	// row because the table was full: each row that gave way to a heavier
	// flow, and each new flow that got no row in a tick (a flow refused
	// in k ticks counts k times: the table keeps nothing of a flow it has
	// no row for). A worker's own per-tick table, when more than
	// DeltaLimit flows arrive in one tick, counts each packet it folds.
	Folded uint64
	// Outliers counts, in capture files, the packets whose timestamps
	// were absurd or jumped far ahead of their neighbours: counted (in
	// Packets too) at the capture's time instead.
	Outliers uint64
}

// Interface holds per-interface totals when several interfaces are captured.
type Interface struct {
	Name    string
	Capture Capture
	TX, RX  Stat
	Down    bool // the interface is down or gone right now
	Link         // what it is as a link (live capture); zero when not known
}

// Link is what a captured interface is as a link: one of a bond's or team's
// members, or an interface given as it is.
type Link struct {
	Speed  int64  // bits/s; 0 when unknown
	Master string // the bond or team it belongs to; "" when none
	State  string // "up", "down", a bond member's "active" or "backup"; "" when not known
	// Aggregator is an 802.3ad bond member's aggregator id, and
	// ActiveAggregator the one its bond transmits on; 0 when none or not
	// known (the kernel numbers aggregators from 1). A member whose
	// aggregator is not the active one carries no traffic of the bond.
	Aggregator, ActiveAggregator int
}

// Snapshot is an immutable view of the merged table at the end of a tick.
// Readers must not modify it; the merger never touches it once published.
type Snapshot struct {
	Time   int64    // end of the last slot, Unix nanoseconds
	Start  int64    // start of the capture, Unix nanoseconds
	Window [3]int64 // nanoseconds each window covers; divide Stat.Win by it
	Flows  []Flow   // every live flow, in no particular order
	TX, RX Stat     // totals by interface direction (iftop's TX / RX rows)
	Peak   Peak
	Capture
	Interfaces []Interface // per interface, when known
	Members    int         // fanout width (live), or workers (files)
	// Bonds checks the transmit links of each bond whose links are
	// captured (live capture of a bond's links; nil otherwise).
	Bonds []BondView

	pool  chan []Flow     // where Release returns Flows
	links []FlowLink      // the memory of the Flows' Links, if any
	lpool chan []FlowLink // where Release returns links
	refs  *atomic.Int32   // holders beyond the first (Retain); nil: none ever
}

// Retain adds a holder to s, so that a consumer in another goroutine (an
// exporter) can read it after the one that received it has released it.
// Each Retain needs one more Release; the memory goes back at the last.
// Call it while holding s, before handing it on.
func (s *Snapshot) Retain() {
	if s.refs == nil {
		s.refs = new(atomic.Int32)
	}
	s.refs.Add(1)
}

// Release gives the snapshot's memory back to the table that made it, to
// be reused by a later snapshot. Call it when done with s, once per holder
// (see Retain); s and its Flows must not be used afterwards. A snapshot
// that is never released is simply collected.
func (s *Snapshot) Release() {
	if s.refs != nil && s.refs.Add(-1) >= 0 {
		return // another holder still reads it
	}
	if s.lpool != nil && s.links != nil {
		select {
		case s.lpool <- s.links[:0]:
		default:
		}
	}
	s.lpool, s.links = nil, nil
	if s.pool == nil || s.Flows == nil {
		return
	}
	select {
	case s.pool <- s.Flows[:0]:
	default:
	}
	s.pool, s.Flows = nil, nil
}

// Rate converts a window sum (bytes) to bytes per second.
func (s *Snapshot) Rate(win int, bytes uint64) float64 {
	if s.Window[win] <= 0 {
		return 0
	}
	return float64(bytes) * 1e9 / float64(s.Window[win])
}

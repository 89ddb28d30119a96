package ipfix

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fastop/fastop/table"
)

// Defaults of Config.
const (
	DefaultActive          = 60 * time.Second
	DefaultIdle            = 15 * time.Second
	DefaultMTU             = 1400
	DefaultTemplateRefresh = 60 * time.Second
)

// Config configures an Exporter.
type Config struct {
	Collector string        // HOST:PORT of the collector (UDP)
	Active    time.Duration // a flow with traffic is exported at least this often (0: DefaultActive)
	Idle      time.Duration // a flow is exported once idle this long (0: DefaultIdle)
	MTU       int           // largest message (UDP payload) in bytes (0: DefaultMTU)
	// TemplateRefresh is how often (in capture time) the templates are sent
	// again (0: DefaultTemplateRefresh).
	TemplateRefresh time.Duration
	Domain          uint32 // observation domain ID
	// IfIndex is the captured interface's index, for ingressInterface and
	// egressInterface (0: unknown, e.g. several interfaces or a file).
	IfIndex uint32
	// IfIndexes, when several interfaces are captured, holds the index of
	// each, in Snapshot.Interfaces order: a flow's part on one link (its
	// Links) is exported with that link's index (0: unknown).
	IfIndexes []uint32
	// IfIndexOf, when set, gives the index of an interface that joined
	// the capture later (a link added to a bond): the snapshot's
	// Interfaces beyond IfIndexes are looked up by name once.
	IfIndexOf func(name string) uint32
	// Local says which addresses are this host's (or inside -F/-G): a
	// record from one is egress, to one ingress. Neither or both: no
	// direction.
	Local func(netip.Addr) bool
	// Notify, when set, is told in one line when the collector starts
	// refusing messages and when it takes them again (from the exporter's
	// goroutine).
	Notify func(string)
	// Probe is how long Dial waits for the collector's host to refuse the
	// first message (ICMP port unreachable); 0: 300 ms, < 0: not at all.
	Probe time.Duration
}

// Stats counts what an exporter sent.
type Stats struct {
	Messages uint64 // messages sent
	Records  uint64 // data records sent
	Errors   uint64 // messages the network refused (collector gone, no route)
	Skipped  uint64 // snapshots not read because the exporter was behind (live)
	LastErr  string // the last send error
}

// Exporter sends a table's flows to a collector. Update reads snapshots in
// the caller's goroutine (files); Start, Offer and Close run it in its own
// goroutine (live), so that the merger never waits for the network.
type Exporter struct {
	cfg     Config
	conn    net.Conn
	tr      *Tracker
	pk      *packer
	lastTpl int64 // capture time of the last templates sent

	messages, records, errs, skipped atomic.Uint64
	mu                               sync.Mutex
	lastErr                          string

	failing bool      // a send failed in the last recoverAfter
	errAt   time.Time // the last failed send

	queue chan *table.Snapshot
	done  chan struct{}
	rec   Record
}

// Dial resolves and connects to the collector, sends the templates and
// checks that the collector's host does not refuse them. Its errors say
// what went wrong without naming the flag; the caller does.
func Dial(cfg Config) (*Exporter, error) {
	if cfg.Active <= 0 {
		cfg.Active = DefaultActive
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.MTU == 0 {
		cfg.MTU = DefaultMTU
	}
	if cfg.TemplateRefresh <= 0 {
		cfg.TemplateRefresh = DefaultTemplateRefresh
	}
	if cfg.MTU < MinMTU || cfg.MTU > MaxMTU {
		return nil, fmt.Errorf("message size %d out of range %d-%d", cfg.MTU, MinMTU, MaxMTU)
	}
	host, port, err := net.SplitHostPort(cfg.Collector)
	if err != nil {
		return nil, fmt.Errorf("expected HOST:PORT, e.g. 127.0.0.1:4739")
	}
	if _, err := net.LookupPort("udp", port); err != nil {
		return nil, fmt.Errorf("bad port %q", port)
	}
	if host == "" {
		return nil, fmt.Errorf("no host before the port")
	}
	conn, err := net.Dial("udp", cfg.Collector)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return nil, fmt.Errorf("cannot resolve %q: %s", host, dnsErr.Err)
		}
		return nil, err
	}
	e := &Exporter{cfg: cfg, conn: conn, tr: NewTracker(cfg.Active, cfg.Idle)}
	e.pk = newPacker(cfg.MTU, cfg.Domain, e.send)
	now := time.Now().UnixNano()
	e.pk.templatesOnly(uint32(now / 1e9))
	e.lastTpl = now
	if err := e.probe(); err != nil {
		conn.Close()
		return nil, err
	}
	return e, nil
}

// probe waits briefly for an ICMP error caused by the first message: on a
// connected UDP socket, Linux reports it to the next read.
func (e *Exporter) probe() error {
	if e.errs.Load() > 0 {
		return fmt.Errorf("%s", e.lastErrText())
	}
	d := e.cfg.Probe
	if d < 0 {
		return nil
	}
	if d == 0 {
		d = 300 * time.Millisecond
	}
	e.conn.SetReadDeadline(time.Now().Add(d))
	defer e.conn.SetReadDeadline(time.Time{})
	var b [1]byte
	_, err := e.conn.Read(b[:])
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%s refuses: nothing listens on that UDP port (start the collector first)", e.conn.RemoteAddr())
	}
	if err != nil && !errors.Is(err, syscall.ETIMEDOUT) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		return err
	}
	return nil
}

func (e *Exporter) send(b []byte) {
	if _, err := e.conn.Write(b); err != nil {
		e.errs.Add(1)
		e.mu.Lock()
		e.lastErr = err.Error()
		e.mu.Unlock()
		if !e.failing && e.cfg.Notify != nil {
			e.cfg.Notify(fmt.Sprintf("%s: %v; capture goes on, export errors are counted", e.conn.RemoteAddr(), err))
		}
		e.failing = true
		e.errAt = time.Now()
		return
	}
	// A connected UDP socket reports a refusal (ICMP) at the next send
	// only, so sends alternate while the collector is down: it is back
	// once no send failed for recoverAfter.
	if e.failing && time.Since(e.errAt) >= recoverAfter {
		if e.cfg.Notify != nil {
			e.cfg.Notify(fmt.Sprintf("%s takes messages again (%d export errors so far)", e.conn.RemoteAddr(), e.errs.Load()))
		}
		e.failing = false
	}
	e.messages.Add(1)
}

// recoverAfter is how long sends must succeed before the collector counts
// as back.
const recoverAfter = 30 * time.Second

func (e *Exporter) lastErrText() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastErr
}

// Stats returns what was sent so far. Safe from any goroutine.
func (e *Exporter) Stats() Stats {
	return Stats{
		Messages: e.messages.Load(),
		Records:  e.records.Load(),
		Errors:   e.errs.Load(),
		Skipped:  e.skipped.Load(),
		LastErr:  e.lastErrText(),
	}
}

// Update exports what snapshot s makes due, in the caller's goroutine. It
// does not release s.
func (e *Exporter) Update(s *table.Snapshot) {
	e.learnLinks(s)
	e.tr.Update(s, e.out(s.Time))
	if s.Time-e.lastTpl >= int64(e.cfg.TemplateRefresh) {
		e.lastTpl = s.Time
		e.pk.resendTemplates()
	}
	e.pk.flush()
}

// Finish exports the final snapshot s and every flow not exported yet,
// then closes the connection. It does not release s.
func (e *Exporter) Finish(s *table.Snapshot) error {
	if s != nil {
		e.learnLinks(s)
		e.tr.Update(s, e.out(s.Time))
	}
	now := e.tr.prev
	if s != nil {
		now = s.Time
	} else if now == 0 {
		now = time.Now().UnixNano()
	}
	e.tr.Flush(e.out(now))
	e.pk.flush()
	return e.conn.Close()
}

// learnLinks extends IfIndexes to the links of s that joined after the
// start; a capture of one interface that gains a second starts with the
// first's IfIndex.
func (e *Exporter) learnLinks(s *table.Snapshot) {
	if e.cfg.IfIndexOf == nil || len(s.Interfaces) <= max(1, len(e.cfg.IfIndexes)) {
		return
	}
	if len(e.cfg.IfIndexes) == 0 {
		e.cfg.IfIndexes = append(e.cfg.IfIndexes, e.cfg.IfIndex)
	}
	for i := len(e.cfg.IfIndexes); i < len(s.Interfaces); i++ {
		e.cfg.IfIndexes = append(e.cfg.IfIndexes, e.cfg.IfIndexOf(s.Interfaces[i].Name))
	}
}

func (e *Exporter) out(now int64) func(*Export) {
	sec := uint32(now / 1e9)
	return func(x *Export) {
		e.fill(&e.rec, x)
		e.pk.add(&e.rec, sec)
		e.records.Add(1)
	}
}

// fill turns an export into a record.
func (e *Exporter) fill(r *Record, x *Export) {
	k := x.Key
	*r = Record{Octets: x.Octets, Packets: x.Packets, Start: x.Start / 1e6, End: x.End / 1e6}
	ifindex := e.cfg.IfIndex
	if x.Link >= 0 {
		ifindex = 0
		if x.Link < len(e.cfg.IfIndexes) {
			ifindex = e.cfg.IfIndexes[x.Link]
		}
	}
	if k.IsOther() {
		r.Kind = KindOther
		r.Ingress = ifindex
		return
	}
	r.Src, r.Dst, r.SrcPort, r.DstPort = k.A, k.B, k.APort, k.BPort
	if x.Reverse {
		r.Src, r.Dst, r.SrcPort, r.DstPort = k.B, k.A, k.BPort, k.APort
	}
	r.Proto = k.Proto
	v6 := k.Family == 6
	srcLocal, dstLocal := false, false
	if e.cfg.Local != nil {
		srcLocal = e.cfg.Local(addr(&r.Src, v6))
		dstLocal = e.cfg.Local(addr(&r.Dst, v6))
	}
	switch {
	case srcLocal && !dstLocal:
		r.Direction, r.Egress = DirEgress, ifindex
		r.Kind = KindV4
	case dstLocal && !srcLocal:
		r.Direction, r.Ingress = DirIngress, ifindex
		r.Kind = KindV4
	default:
		r.Ingress = ifindex
		r.Kind = KindV4NoDir
	}
	if v6 {
		r.Kind++ // KindV4 → KindV6, KindV4NoDir → KindV6NoDir
	}
	if k.VLAN != 0 {
		r.Kind += vlanKinds
		r.VLAN = k.VLAN
	}
}

func addr(a *[16]byte, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16(*a)
	}
	return netip.AddrFrom4([4]byte(a[:4]))
}

// Start runs the exporter in its own goroutine, fed by Offer.
func (e *Exporter) Start() {
	e.queue = make(chan *table.Snapshot, 8)
	e.done = make(chan struct{})
	go func() {
		defer close(e.done)
		for s := range e.queue {
			e.Update(s)
			s.Release()
		}
	}()
}

// Offer hands a snapshot to the exporter's goroutine without waiting: the
// exporter takes a hold on it (Retain) and releases it when done. When
// the exporter is more than a few ticks behind, s is skipped and counted.
func (e *Exporter) Offer(s *table.Snapshot) {
	s.Retain()
	select {
	case e.queue <- s:
	default:
		e.skipped.Add(1)
		s.Release()
	}
}

// Close stops the goroutine Start began, exports the final snapshot and
// everything pending, and closes the connection. It does not release s.
func (e *Exporter) Close(final *table.Snapshot) error {
	if e.queue != nil {
		close(e.queue)
		<-e.done
	}
	return e.Finish(final)
}

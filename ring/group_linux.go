package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring/filter"
	"golang.org/x/sys/unix"
)

// Watcher timing: how often Run looks at the interface (and harvests
// kernel counters), and the back-off between attempts to re-create members.
const (
	afWatchInterval = 250 * time.Millisecond
	afRetryMax      = 2 * time.Second
)

// afGroup is the Linux implementation behind Group.
type afGroup struct {
	cfg      Config
	link     decode.LinkType
	loopback bool
	nsfd     int // the network namespace of Open's thread; members enter it
	nl       *afNetlink
	members  []*afMember
	wake     chan struct{} // readers poke the watcher on socket errors
	st       atomic.Int32  // State

	// mu guards what follows, and every member's sock pointer and kernel
	// totals, so that Stats and SetFilter never use a closed descriptor.
	mu       sync.Mutex
	prog     filter.Program
	kprog    []unix.SockFilter
	gateOpen bool
	attached bool
	ifindex  int
	fanoutID int
	iface    IfaceCounters
	ifaceOK  bool
	reopens  uint64

	runMu     sync.Mutex
	started   bool
	closed    bool
	running   atomic.Bool
	closing   chan struct{}
	runDone   chan struct{}
	closeOnce sync.Once
}

// afMember is one fanout member and its reader goroutine.
type afMember struct {
	g     *afGroup
	idx   int
	cpu   int
	evfd  int
	mbox  chan afReq
	alive bool // its goroutine started (set before Open returns)
	done  chan struct{}
	tid   atomic.Int32

	pending  atomic.Int32            // requests posted and not yet taken
	sockDead atomic.Bool             // POLLHUP/POLLNVAL, or errors without end
	parked   atomic.Pointer[os.File] // the socket's File while the netpoller holds it, for kick

	// Owned by the member goroutine (sock is also read under g.mu).
	sock          *afSock
	cur           int
	recs          []Record
	lastBatch     time.Time
	pfd           [2]unix.PollFd
	sockAccounted uint64 // packets of this socket delivered or found in bad blocks
	errWakeups    int

	c afCounters

	// Guarded by g.mu.
	kPackets, kDrops, kFreezes uint64
	sockRecv                   uint64 // tp_packets - tp_drops of the current socket
	discarded                  uint64
}

// afCounters are written by one member goroutine, once per block, and read
// by Stats. The padding keeps members' counters off each other's cache line.
type afCounters struct {
	packets, bytes, blocks, badBlocks, badPkts atomic.Uint64
	_                                          [64]byte
}

type afReqKind int

const (
	afReqAttach afReqKind = iota + 1
	afReqDetach
	afReqRun
	afReqStop
	afReqExit
)

type afReq struct {
	kind    afReqKind
	ifindex int
	h       Handler
	done    chan error
}

func afOpen(c *Config) (*afGroup, error) {
	if len(c.Interface) >= unix.IFNAMSIZ || strings.ContainsAny(c.Interface, "/ \t\n") {
		return nil, afErr(ErrNoSuchInterface, nil, "%q is not an interface name (at most %d bytes, no '/' or spaces)", c.Interface, unix.IFNAMSIZ-1)
	}
	nl, err := afNetlinkOpen()
	if err != nil {
		return nil, err
	}
	info, err := nl.link(c.Interface)
	if err != nil {
		defer nl.close()
		if errors.Is(err, unix.ENODEV) {
			names, _ := nl.names()
			return nil, afNotFound(c.Interface, names)
		}
		return nil, afErr(nil, err, "looking up interface %q", c.Interface)
	}
	link, ok := afLinkTypeOf(info.Type)
	if !ok {
		nl.close()
		return nil, afErr(decode.ErrLinkType, nil, "interface %q has link type ARPHRD %d, which fastop cannot decode (it reads Ethernet, loopback and raw-IP interfaces)", c.Interface, info.Type)
	}
	if !info.adminUp() && !c.WaitUp {
		nl.close()
		return nil, afErr(ErrInterfaceDown, nil, "interface %q is down: bring it up (ip link set %s up) or wait for it (--wait)", c.Interface, c.Interface)
	}
	loopback := info.Flags&unix.IFF_LOOPBACK != 0
	if len(c.Filter) > 0 {
		if err := c.Filter.Validate(); err != nil {
			nl.close()
			return nil, afErr(ErrFilter, err, "filter for %q", c.Interface)
		}
	}
	kprog, err := afKernelProgram(c.Filter, link, c.Snaplen, loopback)
	if err != nil {
		nl.close()
		return nil, err
	}
	g := &afGroup{
		cfg:      *c,
		link:     link,
		loopback: loopback,
		nsfd:     -1,
		nl:       nl,
		wake:     make(chan struct{}, 1),
		prog:     c.Filter,
		kprog:    kprog,
		gateOpen: true, // attachAll opens it once every member has joined
		closing:  make(chan struct{}),
	}
	if fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		g.nsfd = fd
	}
	if err := g.startMembers(); err != nil {
		g.close()
		return nil, err
	}
	if err := g.attachAll(info.Index); err != nil {
		// A kernel older than 6.12 refuses to join a fanout group on a
		// down interface; with WaitUp the watcher retries once it is up.
		if !(c.WaitUp && !info.running()) || errors.Is(err, ErrPermission) || errors.Is(err, ErrRingMemory) {
			g.close()
			return nil, err
		}
	}
	g.setState(g.stateOf(&info, g.attached))
	return g, nil
}

// startMembers starts every member goroutine and waits until each has
// entered the namespace and pinned its thread.
func (g *afGroup) startMembers() error {
	n := g.cfg.Members
	ready := make(chan error, n)
	var first error
	for i := range n {
		m := &afMember{
			g:    g,
			idx:  i,
			cpu:  -1,
			evfd: -1,
			mbox: make(chan afReq, 4),
			done: make(chan struct{}),
			recs: make([]Record, 0, afMaxRecords(g.cfg.BlockSize)),
		}
		if len(g.cfg.CPUs) > 0 {
			m.cpu = g.cfg.CPUs[i%len(g.cfg.CPUs)]
		}
		g.members = append(g.members, m)
		fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			close(m.done)
			if first == nil {
				first = afErr(nil, os.NewSyscallError("eventfd", err), "member %d of %q", i, g.cfg.Interface)
			}
			continue
		}
		m.evfd = fd
		go m.main(ready)
		if err := <-ready; err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		m.alive = true
	}
	return first
}

// enterNetns moves the calling (locked) thread into the group's network
// namespace if it is elsewhere: sockets are created in the namespace of the
// thread that makes them, and a goroutine started from a thread that entered
// a namespace (a test's, or ip netns exec's) does not inherit it. In the
// common case both are the same and nothing is done (no CAP_SYS_ADMIN
// needed).
func (g *afGroup) enterNetns() error {
	if g.nsfd < 0 {
		return nil
	}
	cur, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(cur)
	var a, b unix.Stat_t
	if unix.Fstat(cur, &a) == nil && unix.Fstat(g.nsfd, &b) == nil && a.Dev == b.Dev && a.Ino == b.Ino {
		return nil
	}
	if err := unix.Setns(g.nsfd, unix.CLONE_NEWNET); err != nil {
		return afErr(nil, os.NewSyscallError("setns", err), "entering the network namespace of %q", g.cfg.Interface)
	}
	return nil
}

// main is a member's goroutine. It locks its OS thread for good: when it
// returns the runtime ends the thread, taking the namespace and CPU
// affinity it was given along.
func (m *afMember) main(ready chan<- error) {
	runtime.LockOSThread()
	defer close(m.done)
	g := m.g
	if err := g.enterNetns(); err != nil {
		ready <- err
		return
	}
	if m.cpu >= 0 {
		var set unix.CPUSet
		set.Set(m.cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			ready <- afErr(ErrInvalidConfig, os.NewSyscallError("sched_setaffinity", err), "pinning member %d of %q to CPU %d", m.idx, g.cfg.Interface, m.cpu)
			return
		}
	}
	m.tid.Store(int32(unix.Gettid()))
	ready <- nil
	var h Handler
	for {
		if h != nil && m.pending.Load() == 0 {
			m.read(h)
			continue
		}
		req := <-m.mbox
		m.pending.Add(-1)
		var err error
		switch req.kind {
		case afReqAttach:
			err = m.attach(req.ifindex)
		case afReqDetach:
			m.detach(h)
		case afReqRun:
			h = req.h
			m.lastBatch = time.Now()
		case afReqStop:
			h = nil
		case afReqExit:
			m.detach(h)
			req.done <- nil
			return
		}
		req.done <- err
	}
}

// post hands a request to the member and wakes its reader; the result
// arrives on the returned channel.
func (m *afMember) post(kind afReqKind, ifindex int, h Handler) chan error {
	done := make(chan error, 1)
	m.pending.Add(1)
	m.mbox <- afReq{kind: kind, ifindex: ifindex, h: h, done: done}
	m.kick()
	return done
}

func (m *afMember) call(kind afReqKind, ifindex int, h Handler) error {
	return <-m.post(kind, ifindex, h)
}

// kick wakes the member, in poll or parked in the netpoller.
func (m *afMember) kick() {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], 1)
	unix.Write(m.evfd, b[:])
	if f := m.parked.Load(); f != nil {
		f.SetReadDeadline(time.Now()) // an error here means it closed: nothing to wake
	}
}

// attach creates the member's socket and ring (on its own thread, so in
// the right namespace and on its NUMA node), behind the gate.
func (m *afMember) attach(ifindex int) error {
	if m.sock != nil {
		return nil
	}
	s, err := afOpenSock(&m.g.cfg, m.g.cfg.Interface, ifindex, m.idx)
	if err != nil {
		return err
	}
	m.g.mu.Lock()
	m.sock = s
	m.sockRecv = 0
	m.g.mu.Unlock()
	if s.rc != nil {
		m.parked.Store(s.file)
	}
	m.cur = 0
	m.sockAccounted = 0
	m.errWakeups = 0
	m.sockDead.Store(false)
	return nil
}

// detach tears the member's socket down: gate closed so nothing new
// arrives, blocks already handed over delivered (when there is a handler),
// the kernel's last counts harvested, what is left in the ring counted as
// discarded, then the ring unmapped and the socket closed.
func (m *afMember) detach(h Handler) {
	s := m.sock
	if s == nil {
		return
	}
	afAttachFilter(s.fd, afGateProgram)
	if h != nil {
		for s.ring.userOwned(m.cur) {
			m.consume(h)
		}
	}
	g := m.g
	g.mu.Lock()
	m.harvestLocked()
	if m.sockRecv > m.sockAccounted {
		m.discarded += m.sockRecv - m.sockAccounted
	}
	m.sock = nil
	g.mu.Unlock()
	m.parked.Store(nil)
	s.close()
}

// harvestLocked adds the kernel's counters (read and reset) to the
// member's totals. Called with g.mu held.
func (m *afMember) harvestLocked() {
	if m.sock == nil {
		return
	}
	st, err := m.sock.readStats()
	if err != nil {
		return
	}
	m.kPackets += uint64(st.Packets)
	m.kDrops += uint64(st.Drops)
	m.kFreezes += uint64(st.Freeze_q_cnt)
	if st.Packets > st.Drops {
		m.sockRecv += uint64(st.Packets - st.Drops)
	}
}

// read is the reader loop: walk every block the kernel has handed over,
// else wait, calling the handler idle at least every IdleInterval, until a
// request is pending.
func (m *afMember) read(h Handler) {
	idle := m.g.cfg.IdleInterval
	for m.pending.Load() == 0 {
		if s := m.sock; s != nil && s.ring.userOwned(m.cur) {
			m.consume(h)
			continue
		}
		now := time.Now()
		wait := idle - now.Sub(m.lastBatch)
		if wait <= 0 {
			h.Batch(m.recs[:0])
			m.lastBatch = now
			continue
		}
		m.wait(wait)
	}
}

// consume hands block m.cur to the handler and gives it back.
func (m *afMember) consume(h Handler) {
	s := m.sock
	recs, info, err := afWalkBlock(s.ring.block(m.cur), m.g.link, m.recs)
	if cap(recs) > cap(m.recs) {
		m.recs = recs[:0]
	}
	if err != nil {
		m.c.badBlocks.Add(1)
		if lost := info.NumPkts - len(recs); lost > 0 {
			m.c.badPkts.Add(uint64(lost))
			m.sockAccounted += uint64(lost)
		}
	}
	h.Batch(recs)
	s.ring.release(m.cur)
	if m.cur++; m.cur == s.ring.blocks {
		m.cur = 0
	}
	m.c.packets.Add(uint64(len(recs)))
	m.c.bytes.Add(info.WireBytes)
	m.c.blocks.Add(1)
	m.sockAccounted += uint64(len(recs))
	m.lastBatch = time.Now()
}

// wait waits at most d for a block, a request or a socket error. With the
// socket in Go's netpoller the goroutine parks until the kernel retires a
// block; a request (kick) wakes it by moving the read deadline to now.
// Otherwise (no socket, or one the poller refused) it polls the socket and
// the eventfd. It is safe to check the block status first and wait
// afterwards: packet_poll reports POLLIN whenever a retired block waits.
func (m *afMember) wait(d time.Duration) {
	s := m.sock
	if s != nil && s.rc != nil && !m.sockDead.Load() {
		m.waitParked(s, d)
		return
	}
	ms := int((d + time.Millisecond - 1) / time.Millisecond)
	m.pfd[0] = unix.PollFd{Fd: int32(m.evfd), Events: unix.POLLIN}
	fds := m.pfd[:1]
	if s != nil && !m.sockDead.Load() {
		m.pfd[1] = unix.PollFd{Fd: int32(s.fd), Events: unix.POLLIN}
		fds = m.pfd[:2]
	}
	n, err := unix.Poll(fds, ms)
	if err != nil || n == 0 {
		return // EINTR (Go's signals) or timeout: the caller loops
	}
	if m.pfd[0].Revents != 0 {
		var b [8]byte
		unix.Read(m.evfd, b[:])
	}
	if len(fds) == 2 {
		m.socketEvents(s, m.pfd[1].Revents)
	}
}

// waitParked is wait through the netpoller.
func (m *afMember) waitParked(s *afSock, d time.Duration) {
	s.file.SetReadDeadline(time.Now().Add(d))
	woken := false
	var revents int16
	// Read calls the function, and again after every wake, until it
	// returns true or the deadline passes; it never reads the socket.
	s.rc.Read(func(fd uintptr) bool {
		if s.ring.userOwned(m.cur) || m.pending.Load() != 0 {
			return true
		}
		if !woken {
			woken = true
			return false
		}
		// Woken with no block: an error or a hang-up (the poller reports
		// them as readable), or a spurious wake. One non-blocking poll
		// tells which; only this rare path pays for it.
		pfd := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, _ := unix.Poll(pfd[:], 0); n > 0 && pfd[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
			revents = pfd[0].Revents
			return true
		}
		return false
	})
	m.socketEvents(s, revents)
}

// socketEvents handles what poll reported on the socket.
func (m *afMember) socketEvents(s *afSock, r int16) {
	if r&(unix.POLLHUP|unix.POLLNVAL) != 0 {
		m.sockDead.Store(true)
		m.g.poke()
		return
	}
	if r&unix.POLLERR != 0 {
		// ENETDOWN when the interface went down (packet_notifier);
		// reading SO_ERROR clears it, so poll does not spin on it. The
		// kernel re-hooks the socket, fanout membership included, when
		// the interface comes back up.
		unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if m.errWakeups++; m.errWakeups > 100 {
			m.sockDead.Store(true)
		}
		m.g.poke()
		return
	}
	if r&unix.POLLIN != 0 {
		m.errWakeups = 0
	}
}

// poke wakes the watcher.
func (g *afGroup) poke() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// attachAll creates every member's socket on ifindex (in parallel, each on
// its own thread), joins them in a new fanout group, sets promiscuous mode
// and, if Run has opened the gate, attaches the filter. On error every
// member is detached again.
func (g *afGroup) attachAll(ifindex int) error {
	dones := make([]chan error, len(g.members))
	for i, m := range g.members {
		dones[i] = m.post(afReqAttach, ifindex, nil)
	}
	var first error
	for _, d := range dones {
		if err := <-d; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		g.detachAll()
		return first
	}
	g.mu.Lock()
	socks := make([]*afSock, len(g.members))
	for i, m := range g.members {
		socks[i] = m.sock
	}
	g.mu.Unlock()
	id := -1
	if len(socks) > 1 {
		var err error
		if id, err = afJoinFanout(socks, &g.cfg); err != nil {
			g.detachAll()
			return err
		}
	}
	if g.cfg.Promisc {
		if err := socks[0].promisc(); err != nil {
			g.detachAll()
			return afSyscallError(g.cfg.Interface, 0, "setsockopt PACKET_ADD_MEMBERSHIP", err)
		}
	}
	// Only now, with every member in the group, may a filter other than
	// the gate be attached (here, by setGate or by SetFilter).
	g.mu.Lock()
	g.attached, g.ifindex, g.fanoutID = true, ifindex, id
	var ferr error
	if g.gateOpen {
		for i, s := range socks {
			if err := afAttachFilter(s.fd, g.kprog); err != nil {
				ferr = afSyscallError(g.cfg.Interface, i, "setsockopt SO_ATTACH_FILTER", err)
				break
			}
		}
	}
	g.mu.Unlock()
	if ferr != nil {
		g.detachAll()
		return ferr
	}
	return nil
}

// detachAll tears every member's socket down (on the members' threads).
func (g *afGroup) detachAll() {
	g.mu.Lock()
	g.attached = false
	g.mu.Unlock()
	dones := make([]chan error, len(g.members))
	for i, m := range g.members {
		dones[i] = m.post(afReqDetach, 0, nil)
	}
	for _, d := range dones {
		<-d
	}
}

// setGate attaches the real filter (open) or the drop-all one (closed) to
// every member.
func (g *afGroup) setGate(open bool) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gateOpen = open
	prog := afGateProgram
	if open {
		prog = g.kprog
	}
	if open && !g.attached {
		return nil // attachAll opens it once the members have joined
	}
	for i, m := range g.members {
		if m.sock == nil {
			continue
		}
		if err := afAttachFilter(m.sock.fd, prog); err != nil {
			return afSyscallError(g.cfg.Interface, i, "setsockopt SO_ATTACH_FILTER", err)
		}
	}
	return nil
}

func (g *afGroup) run(ctx context.Context, newHandler func(member int) Handler) error {
	g.runMu.Lock()
	switch {
	case g.closed:
		g.runMu.Unlock()
		return afErr(ErrClosed, nil, "Run on a closed group (%q)", g.cfg.Interface)
	case g.started:
		g.runMu.Unlock()
		return afErr(ErrInvalidConfig, nil, "Run called twice on the group of %q", g.cfg.Interface)
	}
	g.started = true
	g.runDone = make(chan struct{})
	g.runMu.Unlock()
	defer close(g.runDone)

	hs := make([]Handler, len(g.members))
	for i := range hs {
		if hs[i] = newHandler(i); hs[i] == nil {
			return afErr(ErrInvalidConfig, nil, "no handler for member %d of %q", i, g.cfg.Interface)
		}
	}
	for i, m := range g.members {
		m.call(afReqRun, 0, hs[i])
	}
	g.running.Store(true)
	defer func() {
		// Capture stops with Run: close the gate, then stop the readers.
		g.running.Store(false)
		g.setGate(false)
		for _, m := range g.members {
			m.call(afReqStop, 0, nil)
		}
	}()
	return g.watch(ctx)
}

// watch is Run's own loop: every afWatchInterval (or when a reader reports
// a socket error) it harvests the kernel counters, looks at the interface,
// and re-creates the members when their sockets can no longer capture.
func (g *afGroup) watch(ctx context.Context) error {
	t := time.NewTicker(afWatchInterval)
	defer t.Stop()
	backoff := afWatchInterval
	var retryAt time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.closing:
			return nil
		case <-g.wake:
		case <-t.C:
		}
		info, err := g.nl.link(g.cfg.Interface)
		g.mu.Lock()
		for _, m := range g.members {
			m.harvestLocked()
		}
		if err == nil && info.HasStats {
			g.iface, g.ifaceOK = info.Stats, true
		}
		attached, ifindex := g.attached, g.ifindex
		dead := false
		for _, m := range g.members {
			if m.sockDead.Load() || (m.sock != nil && m.sock.boundIfindex() != ifindex) {
				dead = true
			}
		}
		g.mu.Unlock()
		if err != nil {
			if errors.Is(err, unix.ENODEV) {
				g.setState(StateGone)
				if attached {
					g.detachAll()
				}
			}
			continue // otherwise a netlink hiccup: look again next tick
		}
		if attached && (dead || info.Index != ifindex) {
			g.detachAll()
			attached = false
		}
		if !attached {
			if time.Now().Before(retryAt) {
				g.setState(g.stateOf(&info, false))
				continue
			}
			if err := g.attachAll(info.Index); err != nil {
				if errors.Is(err, ErrPermission) || errors.Is(err, ErrRingMemory) || errors.Is(err, ErrFilter) {
					return err
				}
				backoff = min(2*backoff, afRetryMax)
				retryAt = time.Now().Add(backoff)
				g.setState(g.stateOf(&info, false))
				continue
			}
			g.mu.Lock()
			g.reopens++
			g.mu.Unlock()
			backoff = afWatchInterval
			attached = true
		}
		g.setState(g.stateOf(&info, attached))
	}
}

// stateOf says what an interface's flags mean for the group.
func (g *afGroup) stateOf(info *afLinkInfo, attached bool) State {
	if attached && info.running() {
		return StateUp
	}
	return StateDown
}

func (g *afGroup) setState(s State) { g.st.Store(int32(s)) }

func (g *afGroup) state() State {
	if g.running.Load() {
		return State(g.st.Load())
	}
	info, err := g.nl.link(g.cfg.Interface)
	switch {
	case errors.Is(err, unix.ENODEV):
		g.setState(StateGone)
	case err == nil:
		g.mu.Lock()
		attached := g.attached && info.Index == g.ifindex
		g.mu.Unlock()
		g.setState(g.stateOf(&info, attached))
	}
	return State(g.st.Load())
}

func (g *afGroup) stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range g.members {
		m.harvestLocked()
	}
	if info, err := g.nl.link(g.cfg.Interface); err == nil && info.HasStats {
		g.iface, g.ifaceOK = info.Stats, true
	}
	s := Stats{Members: make([]MemberStats, len(g.members)), Reopens: g.reopens, Iface: g.iface, IfaceOK: g.ifaceOK}
	for i, m := range g.members {
		ms := MemberStats{
			Packets:       m.c.packets.Load(),
			Bytes:         m.c.bytes.Load(),
			Blocks:        m.c.blocks.Load(),
			BadBlocks:     m.c.badBlocks.Load(),
			Drops:         m.kDrops,
			Freezes:       m.kFreezes,
			KernelPackets: m.kPackets,
			Discarded:     m.discarded + m.c.badPkts.Load(),
		}
		s.Members[i] = ms
		s.Packets += ms.Packets
		s.Bytes += ms.Bytes
		s.Blocks += ms.Blocks
		s.BadBlocks += ms.BadBlocks
		s.Drops += ms.Drops
		s.Freezes += ms.Freezes
		s.KernelPackets += ms.KernelPackets
		s.Discarded += ms.Discarded
	}
	return s
}

func (g *afGroup) setFilter(p filter.Program) error {
	if len(p) > 0 {
		if err := p.Validate(); err != nil {
			return afErr(ErrFilter, err, "filter for %q", g.cfg.Interface)
		}
	}
	kprog, err := afKernelProgram(p, g.link, g.cfg.Snaplen, g.loopback)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gateOpen && g.attached {
		for i, m := range g.members {
			if m.sock == nil {
				continue
			}
			if err := afAttachFilter(m.sock.fd, kprog); err != nil {
				for _, prev := range g.members[:i] {
					if prev.sock != nil {
						afAttachFilter(prev.sock.fd, g.kprog)
					}
				}
				return afErr(ErrFilter, os.NewSyscallError("setsockopt SO_ATTACH_FILTER", err), "the kernel refused the filter for %q", g.cfg.Interface)
			}
		}
	}
	g.prog, g.kprog = append(filter.Program(nil), p...), kprog
	return nil
}

// onMemberThread reports whether the caller is a member goroutine (a
// Handler): only the locked goroutine runs on a member's thread.
func (g *afGroup) onMemberThread() bool {
	tid := int32(unix.Gettid())
	for _, m := range g.members {
		if m.tid.Load() == tid {
			return true
		}
	}
	return false
}

func (g *afGroup) close() error {
	if g.onMemberThread() {
		// Close waits for the members; a handler calling it would wait
		// for itself.
		go g.close()
		return nil
	}
	g.closeOnce.Do(func() {
		g.runMu.Lock()
		g.closed = true
		close(g.closing)
		rd := g.runDone
		g.runMu.Unlock()
		if rd != nil {
			<-rd
		}
		for _, m := range g.members {
			if m.alive {
				m.call(afReqExit, 0, nil)
			}
			<-m.done
			if m.evfd >= 0 {
				unix.Close(m.evfd)
			}
		}
		g.nl.close()
		if g.nsfd >= 0 {
			unix.Close(g.nsfd)
		}
	})
	return nil
}

// cpuTime sums the CPU time of the member threads from
// /proc/self/task/TID/schedstat (nanoseconds on CPU), falling back to the
// utime and stime fields of .../stat (clock ticks of 1/100 s).
func (g *afGroup) cpuTime() (time.Duration, error) {
	var total time.Duration
	for _, m := range g.members {
		tid := int(m.tid.Load())
		if tid == 0 {
			continue
		}
		d, err := afThreadCPU(tid)
		if err != nil {
			return total, err
		}
		total += d
	}
	return total, nil
}

func afThreadCPU(tid int) (time.Duration, error) {
	dir := "/proc/self/task/" + strconv.Itoa(tid)
	if b, err := os.ReadFile(dir + "/schedstat"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if ns, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return time.Duration(ns), nil
			}
		}
	}
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return 0, fmt.Errorf("ring: cpu time of thread %d: %w", tid, err)
	}
	// Fields after the parenthesized command name: state is field 3,
	// utime 14 and stime 15.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0, fmt.Errorf("ring: cpu time of thread %d: short stat line", tid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100), nil
}

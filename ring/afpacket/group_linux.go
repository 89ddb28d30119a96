package afpacket

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/ring/filter"
	"golang.org/x/sys/unix"
)

// The Linux implementation behind Group is split by concern:
//
//	group_linux.go    the group, its life cycle (phase), Open, Run, Close
//	member_linux.go   a member's thread: its socket, reader loop and requests
//	gate_linux.go     attaching members, the fanout group and the filter gate
//	watch_linux.go    Run's interface watcher and the interface State
//	stats_linux.go    the counters behind Stats
//	netns_linux.go    following Open's network namespace onto member threads
//	cputime_linux.go  the member threads' CPU time

// phase is where a group is in its life. It only moves forward:
//
//	idle ──Run──▶ running ──Run returns──▶ stopped
//	  └──────────────┴──────────Close──────────┴──▶ closing ──▶ closed
//
// The filter gate is open (members get the real filter) while the group is
// idle or running: capture starts when Open returns and stops with Run.
type phase uint8

const (
	phaseIdle    phase = iota // opened, capturing into the rings; Run not called
	phaseRunning              // Run is reading
	phaseStopped              // Run has returned: gate closed, readers stopped
	phaseClosing              // Close is tearing the members down
	phaseClosed               // torn down; closeErr is the result
)

// group is the Linux implementation behind Group.
type group struct {
	cfg      Config
	link     decode.LinkType
	loopback bool
	nsfd     int // the network namespace of Open's thread; members enter it
	nl       *netlink
	members  []*member
	wake     chan struct{} // readers poke the watcher on socket errors
	closing  chan struct{} // closed when Close begins: stops Run
	closed   chan struct{} // closed when Close has finished: closeErr is set

	// mu is the group's one lock. It guards what follows, and every
	// member's sock pointer and kernel totals, so that Stats and SetFilter
	// never use a closed descriptor.
	mu       sync.Mutex
	phase    phase
	runDone  chan struct{} // closed when Run returns; nil before Run
	closeErr error
	prog     filter.Program
	kprog    []unix.SockFilter
	optmem   int64 // net.core.optmem_max at Open, for the filter's errors
	rings    int64 // ring memory counted in ringsOpen until teardown
	ifindex  int   // the interface the members' sockets are bound to; 0: no sockets
	fanoutID int
	ifState  State
	iface    IfaceCounters
	ifaceOK  bool
	reopens  uint64
}

// gateOpenLocked says whether members get the real filter (else the
// drop-all gate). Called with mu held.
func (g *group) gateOpenLocked() bool { return g.phase == phaseIdle || g.phase == phaseRunning }

// is reports whether the group is in phase p.
func (g *group) is(p phase) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.phase == p
}

// openGroup is Open on Linux: it checks the ring memory against the limit
// (memlimit_linux.go), the interface and the filter, starts the member
// threads, and attaches them (behind the gate, then joined, then with the
// filter); on error it tears down what it made.
func openGroup(c *Config) (*group, error) {
	if len(c.Interface) >= unix.IFNAMSIZ || strings.ContainsAny(c.Interface, "/ \t\n") {
		return nil, errorf(ErrNoSuchInterface, nil, "%q is not an interface name (at most %d bytes, no '/' or spaces)", c.Interface, unix.IFNAMSIZ-1)
	}
	need := int64(c.Members) * int64(c.Blocks) * int64(c.BlockSize)
	if err := reserveRings(c.Interface, need); err != nil {
		return nil, err
	}
	g, err := newGroup(c)
	if err != nil {
		releaseRings(need)
		return nil, err
	}
	g.mu.Lock()
	g.rings = need // Close releases them
	g.mu.Unlock()
	return g, nil
}

// newGroup is the rest of openGroup, once the ring memory is granted.
func newGroup(c *Config) (*group, error) {
	nl, err := openNetlink()
	if err != nil {
		return nil, err
	}
	info, err := nl.link(c.Interface)
	if err != nil {
		defer nl.close()
		if errors.Is(err, unix.ENODEV) {
			names, _ := nl.names()
			return nil, notFound(c.Interface, names)
		}
		return nil, errorf(nil, err, "looking up interface %q", c.Interface)
	}
	link, ok := linkTypeOf(info.Type)
	if !ok {
		nl.close()
		return nil, errorf(decode.ErrLinkType, nil, "interface %q has link type ARPHRD %d, which fastop cannot decode (it reads Ethernet, loopback and raw-IP interfaces)", c.Interface, info.Type)
	}
	if !info.adminUp() && !c.WaitUp {
		nl.close()
		return nil, errorf(ErrInterfaceDown, nil, "interface %q is down: bring it up (ip link set %s up) or wait for it (--wait)", c.Interface, c.Interface)
	}
	loopback := info.Flags&unix.IFF_LOOPBACK != 0
	if len(c.Filter) > 0 {
		if err := c.Filter.Validate(); err != nil {
			nl.close()
			return nil, errorf(ErrFilter, err, "filter for %q", c.Interface)
		}
	}
	kprog, err := kernelProgram(c.Filter, link, c.Snaplen, loopback)
	if err != nil {
		nl.close()
		return nil, err
	}
	// Read here, on Open's thread: its namespace is the interface's.
	optmem := optmemMax()
	if err := checkOptmem(c.Interface, len(kprog), optmem); err != nil {
		nl.close()
		return nil, err
	}
	g := &group{
		cfg:      *c,
		link:     link,
		loopback: loopback,
		nl:       nl,
		wake:     make(chan struct{}, 1),
		prog:     c.Filter,
		kprog:    kprog,
		optmem:   optmem,
		closing:  make(chan struct{}),
		closed:   make(chan struct{}),
	}
	g.nsfd = openNetns()
	if err := g.startMembers(); err != nil {
		g.close()
		return nil, err
	}
	if err := g.attachAll(info.Index); err != nil {
		// A kernel older than 6.12 refuses to join a fanout group on a
		// down interface; with WaitUp the watcher retries once it is up.
		if !(c.WaitUp && !info.running()) || errors.Is(err, ErrPermission) || errors.Is(err, ErrRingMemory) || errors.Is(err, ErrFilter) {
			g.close()
			return nil, err
		}
	}
	g.setState(stateOf(&info, g.attachedIndex() != 0))
	return g, nil
}

// startMembers starts every member goroutine and waits until each has
// entered the namespace and pinned its thread.
func (g *group) startMembers() error {
	n := g.cfg.Members
	ready := make(chan error, n)
	var first error
	for i := range n {
		m := &member{
			g:    g,
			idx:  i,
			cpu:  -1,
			evfd: -1,
			mbox: make(chan request, 4),
			done: make(chan struct{}),
			recs: make([]ring.Record, 0, maxRecords(g.cfg.BlockSize)),
		}
		if len(g.cfg.CPUs) > 0 {
			m.cpu = g.cfg.CPUs[i%len(g.cfg.CPUs)]
		}
		g.members = append(g.members, m)
		fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			close(m.done)
			if first == nil {
				first = errorf(nil, os.NewSyscallError("eventfd", err), "member %d of %q", i, g.cfg.Interface)
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

// run is Group.Run: idle → running, then the watcher until ctx is done or
// Close begins; on the way out the gate closes and the readers stop.
func (g *group) run(ctx context.Context, newHandler func(member int) Handler) error {
	g.mu.Lock()
	switch g.phase {
	case phaseClosing, phaseClosed:
		g.mu.Unlock()
		return errorf(ErrClosed, nil, "Run on a closed group (%q)", g.cfg.Interface)
	case phaseRunning, phaseStopped:
		g.mu.Unlock()
		return errorf(ErrInvalidConfig, nil, "Run called twice on the group of %q", g.cfg.Interface)
	}
	g.phase = phaseRunning
	g.runDone = make(chan struct{})
	g.mu.Unlock()
	defer close(g.runDone)
	// Capture stops with Run: close the gate, then stop the readers.
	defer func() {
		g.mu.Lock()
		if g.phase == phaseRunning {
			g.phase = phaseStopped
		}
		g.mu.Unlock()
		g.closeGate()
		for _, m := range g.members {
			m.call(reqStop, 0, nil)
		}
	}()

	hs := make([]Handler, len(g.members))
	for i := range hs {
		if hs[i] = newHandler(i); hs[i] == nil {
			return errorf(ErrInvalidConfig, nil, "no handler for member %d of %q", i, g.cfg.Interface)
		}
	}
	for i, m := range g.members {
		m.call(reqRun, 0, hs[i])
	}
	return g.watch(ctx)
}

// onMemberThread reports whether the caller is a member goroutine (a
// Handler): only the locked goroutine runs on a member's thread.
func (g *group) onMemberThread() bool {
	tid := int32(unix.Gettid())
	for _, m := range g.members {
		if m.tid.Load() == tid {
			return true
		}
	}
	return false
}

// close is Group.Close. The first call moves the group to closing, which
// stops Run, and tears it down; every call returns the teardown's result,
// waiting for it when another call is doing it. A Handler cannot wait for
// the teardown (it waits for the handler's own thread to finish): called
// from one, close starts the teardown in the background and returns an
// error wrapping ErrClosePending; the teardown's result is then what any
// later Close returns.
func (g *group) close() error {
	onMember := g.onMemberThread()
	g.mu.Lock()
	first := g.phase < phaseClosing
	if first {
		g.phase = phaseClosing
		close(g.closing)
	}
	runDone := g.runDone
	g.mu.Unlock()
	switch {
	case onMember && first:
		go g.teardown(runDone)
		fallthrough
	case onMember:
		return errorf(ErrClosePending, nil, "Close from a handler of %q: the group closes once the handler returns (a later Close reports the result)", g.cfg.Interface)
	case first:
		return g.teardown(runDone)
	}
	<-g.closed
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closeErr
}

// teardown waits for Run to return, ends every member (each detaches its
// socket on its own thread), closes the group's descriptors and records the
// result: closing → closed.
func (g *group) teardown(runDone chan struct{}) error {
	if runDone != nil {
		<-runDone
	}
	var errs []error
	for _, m := range g.members {
		if m.alive {
			errs = append(errs, m.call(reqExit, 0, nil))
		}
		<-m.done
		if m.evfd >= 0 {
			errs = append(errs, closeFD("eventfd", m.evfd))
		}
	}
	errs = append(errs, g.nl.close())
	if g.nsfd >= 0 {
		errs = append(errs, closeFD("namespace", g.nsfd))
	}
	err := errors.Join(errs...)
	if err != nil {
		err = errorf(nil, err, "closing the capture on %q", g.cfg.Interface)
	}
	g.mu.Lock()
	g.phase, g.closeErr = phaseClosed, err
	releaseRings(g.rings)
	g.rings = 0
	g.mu.Unlock()
	close(g.closed)
	return err
}

// closeFD closes a descriptor, naming it in the error.
func closeFD(what string, fd int) error {
	if err := unix.Close(fd); err != nil {
		return os.NewSyscallError("close "+what, err)
	}
	return nil
}

package afpacket

import (
	"encoding/binary"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/table/crash"
	"golang.org/x/sys/unix"
)

// member is one fanout member and its reader goroutine.
type member struct {
	g     *group
	idx   int
	cpu   int
	evfd  int
	mbox  chan request
	alive bool // its goroutine started (set before Open returns)
	done  chan struct{}
	tid   atomic.Int32

	pending  atomic.Int32            // requests posted and not yet taken
	sockDead atomic.Bool             // POLLHUP/POLLNVAL, or errors without end
	parked   atomic.Pointer[os.File] // the socket's File while the netpoller holds it, for kick

	// Owned by the member goroutine (sock is also read under g.mu).
	sock          *socket
	cur           int
	recs          []ring.Record
	lastBatch     time.Time
	pfd           [2]unix.PollFd
	sockAccounted uint64 // packets of this socket delivered or found in bad blocks
	errWakeups    int

	c memberCounters

	// Guarded by g.mu.
	kPackets, kDrops, kFreezes uint64
	sockRecv                   uint64 // tp_packets - tp_drops of the current socket
	discarded                  uint64
}

// memberCounters are written by one member goroutine, once per block, and read
// by Stats. The padding keeps members' counters off each other's cache line.
type memberCounters struct {
	packets, bytes, blocks, badBlocks, badPkts atomic.Uint64
	_                                          [64]byte
}

// requestKind is what the group asks of a member thread. The member's
// socket is created and destroyed on that thread only.
type requestKind int

const (
	reqAttach requestKind = iota + 1
	reqDetach
	reqRun
	reqStop
	reqExit
)

// request is one message in a member's mailbox; done carries the result.
type request struct {
	kind    requestKind
	ifindex int
	h       Handler
	done    chan error
}

// main is a member's goroutine. It locks its OS thread for good: when it
// returns the runtime ends the thread, taking the namespace and CPU
// affinity it was given along.
func (m *member) main(ready chan<- error) {
	defer crash.Guard()
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
			ready <- errorf(ErrInvalidConfig, os.NewSyscallError("sched_setaffinity", err), "pinning member %d of %q to CPU %d", m.idx, g.cfg.Interface, m.cpu)
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
		case reqAttach:
			err = m.attach(req.ifindex)
		case reqDetach:
			err = m.detach(h)
		case reqRun:
			h = req.h
			m.lastBatch = time.Now()
		case reqStop:
			h = nil
		case reqExit:
			req.done <- m.detach(h)
			return
		}
		req.done <- err
	}
}

// post hands a request to the member and wakes its reader; the result
// arrives on the returned channel.
func (m *member) post(kind requestKind, ifindex int, h Handler) chan error {
	done := make(chan error, 1)
	m.pending.Add(1)
	m.mbox <- request{kind: kind, ifindex: ifindex, h: h, done: done}
	m.kick()
	return done
}

func (m *member) call(kind requestKind, ifindex int, h Handler) error {
	return <-m.post(kind, ifindex, h)
}

// kick wakes the member, in poll or parked in the netpoller.
func (m *member) kick() {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], 1)
	unix.Write(m.evfd, b[:])
	if f := m.parked.Load(); f != nil {
		f.SetReadDeadline(time.Now()) // an error here means it closed: nothing to wake
	}
}

// attach creates the member's socket and ring (on its own thread, so in
// the right namespace and on its NUMA node), behind the gate.
func (m *member) attach(ifindex int) error {
	if m.sock != nil {
		return nil
	}
	s, err := openSocket(&m.g.cfg, m.g.cfg.Interface, ifindex, m.idx)
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
func (m *member) detach(h Handler) error {
	s := m.sock
	if s == nil {
		return nil
	}
	attachFilter(s.fd, gateProgram)
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
	return s.close()
}

// harvestLocked adds the kernel's counters (read and reset) to the
// member's totals. Called with g.mu held.
func (m *member) harvestLocked() {
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
func (m *member) read(h Handler) {
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
func (m *member) consume(h Handler) {
	crash.Point("reader")
	s := m.sock
	recs, info, err := walkBlock(s.ring.block(m.cur), m.g.link, m.recs)
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
func (m *member) wait(d time.Duration) {
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
func (m *member) waitParked(s *socket, d time.Duration) {
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
func (m *member) socketEvents(s *socket, r int16) {
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

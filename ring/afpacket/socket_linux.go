package afpacket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// setupError is a setup error: one line naming the problem and its fix, that
// matches (errors.Is) both a sentinel of this package and the errno.
type setupError struct {
	msg  string
	errs []error
}

func (e *setupError) Error() string   { return e.msg }
func (e *setupError) Unwrap() []error { return e.errs }

// errorf builds an *setupError. cause (may be nil) is appended to the message
// and wrapped; sentinel (may be nil) is wrapped only.
func errorf(sentinel, cause error, format string, args ...any) error {
	e := &setupError{msg: fmt.Sprintf(format, args...)}
	if sentinel != nil {
		e.errs = append(e.errs, sentinel)
	}
	if cause != nil {
		e.msg += ": " + cause.Error()
		e.errs = append(e.errs, cause)
	}
	return e
}

// setcapHint is the fix for a missing capability.
const setcapHint = "run as root, or grant the capability once with: setcap cap_net_raw+ep $(command -v fastop)"

// syscallError turns a failed setup call into a one-line error naming the
// fix where there is one.
func syscallError(iface string, member int, call string, err error) error {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return errorf(nil, err, "%s on %q (member %d)", call, iface, member)
	}
	sys := os.NewSyscallError(call, errno)
	switch errno {
	case unix.EPERM, unix.EACCES:
		return errorf(ErrPermission, sys, "capturing on %q needs CAP_NET_RAW: %s", iface, setcapHint)
	case unix.ENOMEM, unix.ENOBUFS:
		return errorf(ErrRingMemory, sys, "the kernel refused the ring memory for member %d of %q: try a smaller --buffer", member, iface)
	case unix.ENODEV, unix.ENXIO:
		return errorf(ErrNoSuchInterface, sys, "interface %q disappeared", iface)
	case unix.ENETDOWN:
		return errorf(ErrInterfaceDown, sys, "interface %q is down", iface)
	}
	return errorf(nil, sys, "%s on %q (member %d)", call, iface, member)
}

// socket is one member's packet socket and its ring.
type socket struct {
	fd      int
	ring    *rxRing
	ifindex int
	// file and rc register fd with Go's netpoller, so a reader waits for
	// the next block by parking its goroutine rather than by blocking in
	// poll(2): a blocking system call per block keeps the runtime's
	// monitor thread busy retaking the reader's P (a third of fastop's CPU
	// at 600,000 packets/s, measured). nil when registration failed; the
	// reader then polls.
	file *os.File
	rc   syscall.RawConn
	// down reports that bind left ENETDOWN pending: the interface was down.
	down bool
}

// frameSize is tp_frame_size. TPACKET_V3 packs packets of any size into a
// block and only validates this (≥ TPACKET3_HDRLEN, a multiple of 16,
// dividing the block evenly).
const frameSize = 2048

// htons returns v in network byte order, as sockaddr_ll wants its
// protocol (x/sys does not swap it).
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// openSocket creates a member's socket on the calling thread, in this order
// (each step guards the next; docs/capture.md#setup-order): socket with
// protocol 0, so nothing is queued before bind; TPACKET_V3; the drop-all
// gate filter; the RX ring; mmap; bind to ETH_P_ALL on ifindex; then
// SO_ERROR, which holds ENETDOWN if the interface is down (bind succeeds
// regardless). The caller joins the fanout group and opens the gate.
func openSocket(c *Config, iface string, ifindex, member int) (*socket, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, syscallError(iface, member, "socket", err)
	}
	s := &socket{fd: fd, ifindex: ifindex}
	fail := func(call string, err error) (*socket, error) {
		s.close()
		return nil, syscallError(iface, member, call, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fail("setsockopt PACKET_VERSION", err)
	}
	if err := attachFilter(fd, gateProgram); err != nil {
		return fail("setsockopt SO_ATTACH_FILTER", err)
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(c.BlockSize),
		Block_nr:       uint32(c.Blocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(c.BlockSize / frameSize * c.Blocks),
		Retire_blk_tov: uint32(c.BlockTimeout.Milliseconds()),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail("setsockopt PACKET_RX_RING", err)
	}
	r, err := mapRing(fd, c.BlockSize, c.Blocks)
	if err != nil {
		return fail("mmap", err)
	}
	s.ring = r
	sa := unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err := unix.Bind(fd, &sa); err != nil {
		return fail("bind", err)
	}
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return fail("getsockopt SO_ERROR", err)
	}
	switch unix.Errno(soerr) {
	case 0:
	case unix.ENETDOWN:
		s.down = true
	default:
		return fail("bind", unix.Errno(soerr))
	}
	s.register()
	return s, nil
}

// close unmaps the ring, then closes the socket: while the ring is mapped
// the mapping holds the socket open, still capturing and still a fanout
// member, so the order matters.
func (s *socket) close() error {
	var errs []error
	if s.ring != nil {
		if err := s.ring.unmap(); err != nil {
			errs = append(errs, os.NewSyscallError("munmap", err))
		}
		s.ring = nil
	}
	switch {
	case s.file != nil:
		errs = append(errs, s.file.Close()) // closes fd
		s.file, s.rc, s.fd = nil, nil, -1
	case s.fd >= 0:
		errs = append(errs, closeFD("packet socket", s.fd))
		s.fd = -1
	}
	return errors.Join(errs...)
}

// register hands s's descriptor to Go's netpoller. A packet socket with
// an RX ring is readable when a retired block waits (packet_poll), and
// nothing ever reads from the descriptor itself, so non-blocking mode
// changes nothing else. If the poller will not take it, s keeps fd alone.
func (s *socket) register() {
	if unix.SetNonblock(s.fd, true) != nil {
		return
	}
	// From here the File owns fd (and would close it if it were ever
	// collected): s keeps it, and close closes through it.
	s.file = os.NewFile(uintptr(s.fd), "packet socket")
	rc, err := s.file.SyscallConn()
	// A deadline is only accepted on a descriptor the poller holds.
	if err != nil || s.file.SetReadDeadline(time.Time{}) != nil {
		return
	}
	s.rc = rc
}

// readStats reads and resets the kernel's counters. tp_packets includes
// tp_drops.
func (s *socket) readStats() (unix.TpacketStatsV3, error) {
	st, err := unix.GetsockoptTpacketStatsV3(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return unix.TpacketStatsV3{}, err
	}
	return *st, nil
}

// boundIfindex returns the index the socket is bound to: -1 once the
// interface has been unregistered (packet_notifier), after which the socket
// never captures again.
func (s *socket) boundIfindex() int {
	sa, err := unix.Getsockname(s.fd)
	if err != nil {
		return -1
	}
	if ll, ok := sa.(*unix.SockaddrLinklayer); ok {
		return ll.Ifindex
	}
	return -1
}

// promisc turns on promiscuous mode for as long as the socket lives.
func (s *socket) promisc() error {
	mr := unix.PacketMreq{Ifindex: int32(s.ifindex), Type: unix.PACKET_MR_PROMISC}
	return unix.SetsockoptPacketMreq(s.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mr)
}

// fanoutType maps a mode to PACKET_FANOUT_* plus flags.
func fanoutType(m FanoutMode, rollover bool) int {
	t := unix.PACKET_FANOUT_HASH
	switch m {
	case FanoutCPU:
		t = unix.PACKET_FANOUT_CPU
	case FanoutLB:
		t = unix.PACKET_FANOUT_LB
	case FanoutQM:
		t = unix.PACKET_FANOUT_QM
	}
	if rollover {
		t |= unix.PACKET_FANOUT_FLAG_ROLLOVER
	}
	return t
}

// joinFanout joins socks in one new fanout group and returns its id. The
// first socket asks the kernel for an unused id (UNIQUEID), so this group
// never joins another program's (ids are shared by the whole network
// namespace) nor another group of this process; the others join that id
// with the same type and flags, as fanout_add requires.
func joinFanout(socks []*socket, c *Config) (int, error) {
	typ := fanoutType(c.Mode, c.Rollover)
	arg := (typ | unix.PACKET_FANOUT_FLAG_UNIQUEID) << 16
	if err := unix.SetsockoptInt(socks[0].fd, unix.SOL_PACKET, unix.PACKET_FANOUT, arg); err != nil {
		return 0, errorf(ErrFanout, os.NewSyscallError("setsockopt PACKET_FANOUT", err),
			"the kernel refused a new %s fanout group on %q (Linux 4.3 or later is needed)", c.Mode, c.Interface)
	}
	got, err := unix.GetsockoptInt(socks[0].fd, unix.SOL_PACKET, unix.PACKET_FANOUT)
	if err != nil {
		return 0, errorf(ErrFanout, os.NewSyscallError("getsockopt PACKET_FANOUT", err), "reading the fanout group id on %q", c.Interface)
	}
	id := got & 0xffff
	for i, s := range socks[1:] {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_FANOUT, id|typ<<16); err != nil {
			return id, errorf(ErrFanout, os.NewSyscallError("setsockopt PACKET_FANOUT", err),
				"fanout group %d on %q refused member %d (another capture program using that id with other settings?)", id, c.Interface, i+1)
		}
	}
	return id, nil
}

package gen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Sender sends frames on one interface through an AF_PACKET socket. The
// socket has protocol 0, so it never receives (no receive hook, no copy of
// every packet into its queue), and it is created in the network namespace
// of the thread that calls NewSender; it may be used from any goroutine
// afterwards, one at a time.
//
// A batched run sends through a second socket, given its transmit ring by
// the first such run: a socket with a ring sends only from its ring (the
// kernel ignores the data of a sendto on it), and both sockets are opened
// by NewSender, in its namespace.
type Sender struct {
	fd, ringFD int
	ifindex    int
	sa         unix.SockaddrLinklayer
	ring       *txRing // set up by the first batched run
}

// NewSender opens a sender on iface. With bypass, frames skip the qdisc
// and the device's packet taps (PACKET_QDISC_BYPASS): a capture on the
// sending interface then does not see them, which spares that work when
// only the receiving side is measured.
func NewSender(iface string, bypass bool) (*Sender, error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("gen: interface %q: %w", iface, err)
	}
	fd, err := openSocket(bypass)
	if err != nil {
		return nil, err
	}
	ringFD, err := openSocket(bypass)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &Sender{fd: fd, ringFD: ringFD, ifindex: ifi.Index, sa: unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}}, nil
}

func openSocket(bypass bool) (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("gen: %w (sending raw frames needs CAP_NET_RAW)", os.NewSyscallError("socket", err))
	}
	if bypass {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("gen: %w", os.NewSyscallError("setsockopt PACKET_QDISC_BYPASS", err))
		}
	}
	return fd, nil
}

// Close closes the socket.
func (s *Sender) Close() error {
	if s.fd < 0 {
		return nil
	}
	var err error
	if s.ring != nil {
		err = unix.Munmap(s.ring.mem)
		s.ring = nil
	}
	err = errors.Join(err, unix.Close(s.fd), unix.Close(s.ringFD))
	s.fd, s.ringFD = -1, -1
	return err
}

// Run sends frames of cfg.Source, pass after pass over its flows (in
// cfg.Order, or round-robin), until cfg.Count frames were attempted,
// cfg.Duration passed (and at least cfg.MinCount frames were attempted) or
// ctx is done, whichever comes first (at least one of Count and Duration,
// or a ctx that ends, must be set). With cfg.Rate it paces to that many
// frames per second (bursting to catch up after a late wake-up); without,
// it sends as fast as the kernel takes them, cfg.Batch frames per system
// call.
//
// A frame counts as sent when the kernel accepted it: it passed the frame
// through the sending device's taps and handed it to the driver (for veth:
// queued it on the peer). A refused frame (ENOBUFS: the peer's backlog was
// full; ENETDOWN: the link is down) counts in Failed, not in Sent or
// PerFlow, and is not sent again; a batch goes on with its next frame.
// Run stops with an error if the interface disappears.
func (s *Sender) Run(ctx context.Context, cfg RunConfig) (Result, error) {
	src := cfg.Source
	if src == nil || src.Len() == 0 {
		return Result{}, errors.New("gen: no flows to send")
	}
	nflows := src.Len()
	if cfg.Order != nil && len(cfg.Order) != nflows {
		return Result{}, fmt.Errorf("gen: an order of %d flows for %d", len(cfg.Order), nflows)
	}
	batch := max(cfg.Batch, 1)
	if batch > MaxBatch {
		return Result{}, fmt.Errorf("gen: a batch of %d frames: use 1 to %d", cfg.Batch, MaxBatch)
	}
	if batch > 1 && s.ring == nil {
		if err := s.setupRing(); err != nil {
			return Result{}, err
		}
	}
	res := Result{PerFlow: make([]uint64, nflows)}
	b := batcher{s: s, src: src, res: &res, cur: cursor{order: cfg.Order, n: nflows}, scratch: make([]byte, 0, 2048)}
	start := time.Now()
	var deadline time.Time
	if cfg.Duration > 0 {
		deadline = start.Add(cfg.Duration)
	}
	var perFrame time.Duration
	if cfg.Rate > 0 {
		perFrame = time.Duration(float64(time.Second) / cfg.Rate)
	}
	var attempts, nextCheck uint64
	for cfg.Count == 0 || attempts < cfg.Count {
		// The clock and ctx are read every 64 frames (or every batch),
		// not per frame: at a million frames a second they would cost.
		if attempts >= nextCheck {
			if ctx.Err() != nil {
				break
			}
			if !deadline.IsZero() && attempts >= cfg.MinCount && time.Now().After(deadline) {
				break
			}
			nextCheck = attempts + 64
		}
		n := uint64(batch)
		if cfg.Count > 0 {
			n = min(n, cfg.Count-attempts)
		}
		if perFrame > 0 {
			// Frame k is due at start + k × perFrame: send only what is
			// due, all of it at once after a late wake-up.
			due := uint64(time.Since(start)/perFrame) + 1
			if due <= attempts {
				time.Sleep(time.Until(start.Add(time.Duration(attempts) * perFrame)))
				due = attempts + 1
			}
			n = min(n, due-attempts)
		}
		var done int
		var err error
		if batch == 1 {
			done, err = 1, b.one()
		} else {
			done, err = b.ring(int(n))
		}
		attempts += uint64(done)
		if err != nil {
			res.Elapsed = time.Since(start)
			return res, err
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// cursor walks the flows in their order, pass after pass.
type cursor struct {
	order  []int32
	pos, n int
}

func (c *cursor) flow() int {
	if c.order != nil {
		return int(c.order[c.pos])
	}
	return c.pos
}

func (c *cursor) next() {
	if c.pos++; c.pos == c.n {
		c.pos = 0
	}
}

// batcher sends the frames of one run and counts them.
type batcher struct {
	s       *Sender
	src     Source
	res     *Result
	cur     cursor
	scratch []byte
}

// one sends the next frame with sendto.
func (b *batcher) one() error {
	flow := b.cur.flow()
	b.cur.next()
	return b.sendto(flow, b.src.Frame(flow, b.scratch))
}

func (b *batcher) sendto(flow int, frame []byte) error {
	s, res := b.s, b.res
	if len(frame) >= 14 {
		// sockaddr_ll wants the EtherType in network byte order:
		// the frame's own two bytes, read as they lie in memory.
		s.sa.Protocol = binary.NativeEndian.Uint16(frame[12:14])
	}
	err := unix.Sendto(s.fd, frame, 0, &s.sa)
	for err == unix.EINTR {
		err = unix.Sendto(s.fd, frame, 0, &s.sa)
	}
	switch err {
	case nil:
		res.Sent++
		res.Bytes += uint64(len(frame))
		res.PerFlow[flow]++
		return nil
	case unix.ENOBUFS, unix.EAGAIN, unix.ENETDOWN:
		res.Failed++
		res.LastErr = err
		return nil
	case unix.ENXIO, unix.ENODEV:
		res.Failed++
		return fmt.Errorf("gen: interface %d is gone: %w", s.ifindex, os.NewSyscallError("sendto", err))
	}
	return fmt.Errorf("gen: %w", os.NewSyscallError("sendto", err))
}

package gen

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The transmit ring (PACKET_TX_RING, TPACKET_V2): slots of txSlot bytes,
// each a tpacket2_hdr and, txData bytes in, a virtio_net_hdr and the
// frame. The sender writes
// frames into the slots after the kernel's head, marks them
// TP_STATUS_SEND_REQUEST and calls send once; the kernel sends the
// requested slots in order from its head, marking each
// TP_STATUS_SENDING, then TP_STATUS_AVAILABLE once the frame left (for a
// veth: once the peer's receive path was done with it). The ring is
// memory shared with the kernel through mmap, read and written as bytes,
// so no unsafe is needed.
//
// The virtio_net_hdr (PACKET_VNET_HDR) only says "copy the whole frame"
// (hdr_len): without it the kernel copies the Ethernet header into the
// packet and attaches the rest as a fragment of the ring's page, which a
// veth must then copy into a newly allocated page before it crosses into
// the peer's namespace, a page allocation per frame.
const (
	txSlot     = 2048
	txData     = 32 // TPACKET_ALIGN(sizeof(struct tpacket2_hdr))
	txVnet     = 10 // sizeof(struct virtio_net_hdr)
	txMaxFrame = txSlot - txData - txVnet
	txBlock    = 64 << 10
	txSlots    = MaxBatch

	txStatusSendRequest = unix.TP_STATUS_SEND_REQUEST
	txStatusSending     = unix.TP_STATUS_SENDING
	txStatusWrongFormat = unix.TP_STATUS_WRONG_FORMAT
	// A slot given back is TP_STATUS_AVAILABLE (0), with timestamp bits
	// (TP_STATUS_TS_*) when the frame was timestamped on its way: only
	// these bits say whether the kernel still holds it.
	txStatusBusy = txStatusSendRequest | txStatusSending
)

// txRing is a sender's transmit ring.
type txRing struct {
	mem  []byte
	head int     // the slot the kernel sends next: it follows the sender's writes
	flow []int32 // the flow of the frame in each requested slot
}

// setupRing gives the ring socket its transmit ring, bound to the interface so
// that a send needs no address (the kernel reads each frame's EtherType
// from the frame, as the sendto path passes it).
func (s *Sender) setupRing() error {
	if err := unix.SetsockoptInt(s.ringFD, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2); err != nil {
		return fmt.Errorf("gen: %w", os.NewSyscallError("setsockopt PACKET_VERSION", err))
	}
	if err := unix.SetsockoptInt(s.ringFD, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
		return fmt.Errorf("gen: %w", os.NewSyscallError("setsockopt PACKET_VNET_HDR", err))
	}
	req := unix.TpacketReq{Block_size: txBlock, Block_nr: txSlots * txSlot / txBlock, Frame_size: txSlot, Frame_nr: txSlots}
	if err := unix.SetsockoptTpacketReq(s.ringFD, unix.SOL_PACKET, unix.PACKET_TX_RING, &req); err != nil {
		return fmt.Errorf("gen: %w", os.NewSyscallError("setsockopt PACKET_TX_RING", err))
	}
	// Protocol 0: bound to the device, the socket still receives nothing.
	if err := unix.Bind(s.ringFD, &unix.SockaddrLinklayer{Ifindex: s.ifindex}); err != nil {
		return fmt.Errorf("gen: %w", os.NewSyscallError("bind", err))
	}
	mem, err := unix.Mmap(s.ringFD, 0, txSlots*txSlot, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("gen: %w", os.NewSyscallError("mmap transmit ring", err))
	}
	s.ring = &txRing{mem: mem, flow: make([]int32, txSlots)}
	return nil
}

func (r *txRing) slot(i int) []byte {
	i = (r.head + i) % txSlots
	return r.mem[i*txSlot : (i+1)*txSlot]
}

// status reads a slot's tp_status. The kernel writes it only during a
// send call (or in the destructor of a frame in flight, which a blocking
// send waits for), so a plain read after the call sees its last value.
func status(slot []byte) uint32 { return binary.NativeEndian.Uint32(slot[0:4]) }

func setStatus(slot []byte, v uint32) { binary.NativeEndian.PutUint32(slot[0:4], v) }

// ring sends up to n frames (n ≤ MaxBatch) with one send call, more only
// to step past refused frames, and returns how many it attempted: fewer
// than n when a frame is too long for a slot (it then goes alone by
// sendto, as the next call's first frame) or the ring is still busy.
func (b *batcher) ring(n int) (int, error) {
	s, r := b.s, b.s.ring
	m := 0
	for m < n {
		slot := r.slot(m)
		if status(slot)&txStatusBusy != 0 {
			if m > 0 {
				break // send what is ready
			}
			// Frames of an interrupted send still in flight: a send
			// with nothing requested waits for them.
			if err := s.kick(); err != nil {
				return 0, err
			}
			if st := status(slot); st&txStatusBusy != 0 {
				return 0, fmt.Errorf("gen: transmit ring slot %d still has status %#x after a send", r.head, st)
			}
		}
		flow := b.cur.flow()
		frame := b.src.Frame(flow, b.scratch)
		if len(frame) > txMaxFrame {
			if m > 0 {
				break
			}
			b.cur.next()
			return 1, b.sendto(flow, frame)
		}
		b.cur.next()
		binary.NativeEndian.PutUint32(slot[4:8], uint32(txVnet+len(frame))) // tp_len
		// virtio_net_hdr: no offloads; hdr_len, the bytes the kernel
		// copies into the packet's own buffer, is the whole frame.
		clear(slot[txData : txData+txVnet])
		binary.NativeEndian.PutUint16(slot[txData+2:], uint16(len(frame)))
		copy(slot[txData+txVnet:], frame)
		r.flow[(r.head+m)%txSlots] = int32(flow)
		setStatus(slot, txStatusSendRequest)
		m++
	}
	attempted := m
	for m > 0 {
		err := s.kick()
		// Every slot the kernel stepped past was accepted; a refused
		// frame is left at its head, requested again.
		i := 0
		for ; i < m; i++ {
			slot := r.slot(i)
			st := status(slot)
			if st&txStatusWrongFormat != 0 {
				r.discard(i, m)
				return attempted, fmt.Errorf("gen: the kernel refused a frame of %d bytes as malformed", binary.NativeEndian.Uint32(slot[4:8])-txVnet)
			}
			if st&txStatusSendRequest != 0 {
				break
			}
			flow := r.flow[(r.head+i)%txSlots]
			b.res.Sent++
			b.res.Bytes += uint64(binary.NativeEndian.Uint32(slot[4:8]) - txVnet)
			b.res.PerFlow[flow]++
		}
		r.head = (r.head + i) % txSlots
		m -= i
		switch err {
		case nil:
			if m > 0 && i == 0 {
				r.discard(0, m)
				return attempted, fmt.Errorf("gen: the kernel left %d frames of the transmit ring unsent", m)
			}
		case unix.ENOBUFS, unix.EAGAIN, unix.ENETDOWN:
			// The frame at the head was refused: count it and move the
			// batch's other frames down a slot, so that the kernel's
			// head holds the next one.
			if m == 0 {
				return attempted, fmt.Errorf("gen: send refused a frame (%v) but left none in the transmit ring", err)
			}
			b.res.Failed++
			b.res.LastErr = err
			for j := 1; j < m; j++ {
				dst, src := r.slot(j-1), r.slot(j)
				l := binary.NativeEndian.Uint32(src[4:8])
				binary.NativeEndian.PutUint32(dst[4:8], l)
				copy(dst[txData:], src[txData:txData+int(l)])
				r.flow[(r.head+j-1)%txSlots] = r.flow[(r.head+j)%txSlots]
			}
			setStatus(r.slot(m-1), unix.TP_STATUS_AVAILABLE)
			m--
		case unix.ENXIO, unix.ENODEV:
			b.res.Failed += uint64(m)
			r.discard(0, m)
			return attempted, fmt.Errorf("gen: interface %d is gone: %w", s.ifindex, os.NewSyscallError("send", err))
		default:
			b.res.Failed += uint64(m)
			r.discard(0, m)
			return attempted, fmt.Errorf("gen: %w", os.NewSyscallError("send", err))
		}
	}
	return attempted, nil
}

// discard gives slots i..m-1 back unsent.
func (r *txRing) discard(i, m int) {
	for ; i < m; i++ {
		setStatus(r.slot(i), unix.TP_STATUS_AVAILABLE)
	}
}

// kick asks the kernel to send the requested slots and waits until they
// left (a blocking send also waits for frames still in flight).
func (s *Sender) kick() error {
	err := unix.Sendto(s.ringFD, nil, 0, nil)
	for err == unix.EINTR {
		err = unix.Sendto(s.ringFD, nil, 0, nil)
	}
	return err
}

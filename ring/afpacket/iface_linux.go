package afpacket

import (
	"encoding/binary"
	"errors"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/fastop/fastop/decode"
	"golang.org/x/sys/unix"
)

// netlink is a NETLINK_ROUTE socket for link queries. A socket belongs to
// the network namespace it was created in, forever; the group creates one in
// Open, on the caller's thread, so the watcher and Stats see the right
// namespace's interface from whichever thread they run on (sysfs and /proc
// would show the namespace of whoever mounted them, or of the thread).
type netlink struct {
	mu  sync.Mutex
	fd  int
	seq uint32
	buf []byte
}

// linkInfo is what RTM_NEWLINK says about an interface.
type linkInfo struct {
	Index    int
	Name     string
	Flags    uint32 // IFF_*
	Type     uint16 // ARPHRD_*
	MAC      []byte
	Promisc  uint32 // promiscuity count (packet sockets' PACKET_MR_PROMISC included; IFF_PROMISC is not)
	Stats    IfaceCounters
	HasStats bool
}

func (l *linkInfo) adminUp() bool { return l.Flags&unix.IFF_UP != 0 }

// running: up and with carrier (dev_get_flags sets IFF_RUNNING when the
// operational state is up or unknown, as on lo).
func (l *linkInfo) running() bool {
	return l.Flags&(unix.IFF_UP|unix.IFF_RUNNING) == unix.IFF_UP|unix.IFF_RUNNING
}

func openNetlink() (*netlink, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, errorf(nil, os.NewSyscallError("socket", err), "opening a netlink socket")
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, errorf(nil, os.NewSyscallError("bind", err), "binding a netlink socket")
	}
	// A reply never takes long; the timeout only guards against waiting
	// forever for one that was lost.
	tv := unix.NsecToTimeval(int64(5 * time.Second))
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	return &netlink{fd: fd, buf: make([]byte, 64<<10)}, nil
}

func (n *netlink) close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fd < 0 {
		return nil
	}
	err := closeFD("netlink socket", n.fd)
	n.fd = -1
	return err
}

// nlRequest builds an RTM_GETLINK request: by name when name is set,
// else a dump of every link when dump is set.
func nlRequest(seq uint32, name string, dump bool) []byte {
	ne := binary.NativeEndian
	b := make([]byte, unix.SizeofNlMsghdr+unix.SizeofIfInfomsg, 64)
	flags := uint16(unix.NLM_F_REQUEST)
	if dump {
		flags |= unix.NLM_F_DUMP
	}
	ne.PutUint16(b[4:], unix.RTM_GETLINK)
	ne.PutUint16(b[6:], flags)
	ne.PutUint32(b[8:], seq)
	// ifinfomsg: family AF_UNSPEC, index 0 (look up by name).
	if name != "" {
		alen := unix.SizeofRtAttr + len(name) + 1
		attr := make([]byte, (alen+3)&^3)
		ne.PutUint16(attr[0:], uint16(alen))
		ne.PutUint16(attr[2:], unix.IFLA_IFNAME)
		copy(attr[4:], name)
		b = append(b, attr...)
	}
	ne.PutUint32(b[0:], uint32(len(b)))
	return b
}

// roundTrip sends req and passes each reply message with seq to fn until a
// non-dump reply, NLMSG_DONE or an error.
func (n *netlink) roundTrip(req []byte, seq uint32, fn func(typ uint16, body []byte)) error {
	if n.fd < 0 {
		return ErrClosed
	}
	if err := unix.Sendto(n.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("sendto", err)
	}
	dump := binary.NativeEndian.Uint16(req[6:])&unix.NLM_F_DUMP != 0
	for {
		k, _, err := unix.Recvfrom(n.fd, n.buf, 0)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return os.NewSyscallError("recvfrom", err)
		}
		done, err := nlParse(n.buf[:k], seq, dump, fn)
		if done || err != nil {
			return err
		}
	}
}

// nlParse walks the netlink messages in b. It reports done after a
// non-dump reply, NLMSG_DONE or NLMSG_ERROR (whose errno it returns).
func nlParse(b []byte, seq uint32, dump bool, fn func(typ uint16, body []byte)) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= unix.SizeofNlMsghdr {
		l := int(ne.Uint32(b[0:]))
		if l < unix.SizeofNlMsghdr || l > len(b) {
			return true, errors.New("ring: malformed netlink message")
		}
		typ := ne.Uint16(b[4:])
		mseq := ne.Uint32(b[8:])
		body := b[unix.SizeofNlMsghdr:l]
		if next := (l + 3) &^ 3; next < len(b) {
			b = b[next:]
		} else {
			b = nil
		}
		if mseq != seq {
			continue // a late reply to an earlier request
		}
		switch typ {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			if len(body) < 4 {
				return true, errors.New("ring: malformed netlink error")
			}
			if code := int32(ne.Uint32(body)); code != 0 {
				return true, unix.Errno(-code)
			}
			return true, nil
		}
		fn(typ, body)
		if !dump {
			return true, nil
		}
	}
	return false, nil
}

// parseLink decodes an RTM_NEWLINK body.
func parseLink(body []byte) (linkInfo, bool) {
	ne := binary.NativeEndian
	var l linkInfo
	if len(body) < unix.SizeofIfInfomsg {
		return l, false
	}
	l.Type = ne.Uint16(body[2:])
	l.Index = int(int32(ne.Uint32(body[4:])))
	l.Flags = ne.Uint32(body[8:])
	a := body[unix.SizeofIfInfomsg:]
	for len(a) >= unix.SizeofRtAttr {
		alen := int(ne.Uint16(a[0:]))
		if alen < unix.SizeofRtAttr || alen > len(a) {
			return l, false
		}
		typ := ne.Uint16(a[2:]) & 0x3fff // strip NLA_F_NESTED / NET_BYTEORDER
		v := a[unix.SizeofRtAttr:alen]
		switch typ {
		case unix.IFLA_IFNAME:
			for i, c := range v {
				if c == 0 {
					v = v[:i]
					break
				}
			}
			l.Name = string(v)
		case unix.IFLA_ADDRESS:
			l.MAC = append([]byte(nil), v...)
		case unix.IFLA_PROMISCUITY:
			if len(v) >= 4 {
				l.Promisc = ne.Uint32(v)
			}
		case unix.IFLA_STATS64:
			// struct rtnl_link_stats64: u64 counters in this order.
			u := func(i int) uint64 {
				if 8*i+8 > len(v) {
					return 0
				}
				return ne.Uint64(v[8*i:])
			}
			if len(v) >= 16*8 {
				l.HasStats = true
				l.Stats = IfaceCounters{
					RxPackets: u(0), TxPackets: u(1), RxBytes: u(2), TxBytes: u(3),
					RxErrors: u(4), TxErrors: u(5), RxDropped: u(6), TxDropped: u(7),
					RxFIFO: u(14), RxMissed: u(15),
				}
			}
		}
		next := (alen + 3) &^ 3
		if next >= len(a) {
			break
		}
		a = a[next:]
	}
	return l, true
}

// link looks an interface up by name. A missing one gives unix.ENODEV.
func (n *netlink) link(name string) (linkInfo, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	var out linkInfo
	found := false
	err := n.roundTrip(nlRequest(n.seq, name, false), n.seq, func(typ uint16, body []byte) {
		if typ != unix.RTM_NEWLINK {
			return
		}
		if l, ok := parseLink(body); ok {
			out, found = l, true
		}
	})
	if err == nil && !found {
		err = unix.ENODEV
	}
	return out, err
}

// names lists every interface name in ifindex order.
func (n *netlink) names() ([]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	var links []linkInfo
	err := n.roundTrip(nlRequest(n.seq, "", true), n.seq, func(typ uint16, body []byte) {
		if typ != unix.RTM_NEWLINK {
			return
		}
		if l, ok := parseLink(body); ok {
			links = append(links, l)
		}
	})
	sort.Slice(links, func(i, j int) bool { return links[i].Index < links[j].Index })
	names := make([]string, len(links))
	for i, l := range links {
		names[i] = l.Name
	}
	return names, err
}

// linkTypeOf maps ARPHRD_* to how frames start in the ring. Devices with
// an Ethernet header (and lo, whose header has zero MACs) start at L2;
// devices without header_ops->create (tun, WireGuard, ipip, sit, PPP) start
// at the IP header. Others (GRE with its outer headers, InfiniBand, …) are
// refused rather than misread.
func linkTypeOf(arphrd uint16) (decode.LinkType, bool) {
	switch arphrd {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK, unix.ARPHRD_IEEE802:
		return decode.LinkEthernet, true
	case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP, unix.ARPHRD_TUNNEL, unix.ARPHRD_TUNNEL6, unix.ARPHRD_SIT, unix.ARPHRD_PPP:
		return decode.LinkRaw, true
	}
	return 0, false
}

package group

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/fastop/fastop/table"
)

// By says what a row is.
type By uint8

// Values of By, in the order the screen's g key cycles through them.
const (
	Host    By = iota // iftop's host pair (or flow with -P): table.View decides
	Service           // a service: protocol and server port, both directions folded
	SrcNet            // the network of the left (local) address
	DstNet            // the network of the right address
	VLAN              // the outermost 802.1Q VLAN ID, 0 untagged
	Link              // the link (captured interface) that carried the traffic
	numBy
)

var byNames = [numBy]string{"host", "service", "src-net", "dst-net", "vlan", "link"}

// String returns the name --group takes.
func (b By) String() string {
	if b < numBy {
		return byNames[b]
	}
	return "By(" + strconv.Itoa(int(b)) + ")"
}

// Names returns the names ParseBy accepts, in cycle order.
func Names() []string { return byNames[:] }

// ParseBy parses the value of --group and of the rc file's group.
func ParseBy(s string) (By, error) {
	for b, name := range byNames {
		if s == name {
			return By(b), nil
		}
	}
	return 0, fmt.Errorf("invalid row type %q: use %s", s, strings.Join(byNames[:], ", "))
}

// Next returns the row type after b (the g key), back to Host after Link.
func (b By) Next() By { return (b + 1) % numBy }

// Prefixes are the prefix lengths of the network rows.
type Prefixes struct {
	V4 uint8 // 1 to 32
	V6 uint8 // 1 to 128
}

// DefaultPrefixes group IPv4 by /24 and IPv6 by /64.
var DefaultPrefixes = Prefixes{V4: 24, V6: 64}

// String returns p as ParsePrefixes reads it.
func (p Prefixes) String() string {
	return strconv.Itoa(int(p.V4)) + "," + strconv.Itoa(int(p.V6))
}

// ParsePrefixes reads --group-prefix: "V4,V6", each an optional "/" and a
// prefix length (IPv4 1 to 32, IPv6 1 to 128); an empty side keeps its
// default ("16," or ",48"). A length of 0 would put a whole family in one
// row, which the totals already show, so it is refused.
func ParsePrefixes(s string) (Prefixes, error) {
	v4, v6, ok := strings.Cut(s, ",")
	if !ok {
		return Prefixes{}, fmt.Errorf("invalid prefix lengths %q: expected IPV4,IPV6, e.g. 24,64 (an empty side keeps its default: 16, or ,48)", s)
	}
	p := DefaultPrefixes
	var err error
	if p.V4, err = parseBits(v4, p.V4, 32, "IPv4"); err != nil {
		return Prefixes{}, fmt.Errorf("invalid prefix lengths %q: %w", s, err)
	}
	if p.V6, err = parseBits(v6, p.V6, 128, "IPv6"); err != nil {
		return Prefixes{}, fmt.Errorf("invalid prefix lengths %q: %w", s, err)
	}
	return p, nil
}

func parseBits(s string, def, max uint8, family string) (uint8, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "/")
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil || n < 1 || n > uint64(max) {
		return 0, fmt.Errorf("the %s prefix length must be 1 to %d, not %q", family, max, s)
	}
	return uint8(n), nil
}

// Services says which (port, protocol) pairs have a service name; it picks
// the server's port of a flow. *naming.Services is one.
type Services interface {
	Lookup(port uint16, proto uint8) (string, bool)
}

// Config is how rows are grouped.
type Config struct {
	By       By
	Prefixes Prefixes // network rows; the zero value means DefaultPrefixes
	Services Services // ports with a name (nil: none); see ServicePort
}

func (c *Config) prefixes() Prefixes {
	p := c.Prefixes
	if p.V4 == 0 {
		p.V4 = DefaultPrefixes.V4
	}
	if p.V6 == 0 {
		p.V6 = DefaultPrefixes.V6
	}
	return p
}

// Key is what a grouped row stands for. It is a value: comparable, no
// pointers. Only the fields of its By are set.
type Key struct {
	By     By
	Other  bool     // the "other" row of a full table
	Family uint8    // SrcNet, DstNet: 4 or 6
	Bits   uint8    // SrcNet, DstNet: the prefix length
	Net    [16]byte // SrcNet, DstNet: the network address (IPv4 in the first 4 bytes)
	Proto  uint8    // Service: the IP protocol
	Port   uint16   // Service: the server's port; 0 for protocols without ports
	VLAN   uint16   // VLAN: the ID, 0 untagged
	Link   int      // Link: index into Snapshot.Interfaces; -1 not known
}

// Prefix returns a network row's prefix (the zero Prefix for other rows).
func (k Key) Prefix() netip.Prefix {
	switch k.Family {
	case 4:
		return netip.PrefixFrom(netip.AddrFrom4([4]byte(k.Net[:4])), int(k.Bits))
	case 6:
		return netip.PrefixFrom(netip.AddrFrom16(k.Net), int(k.Bits))
	}
	return netip.Prefix{}
}

// Flow encodes k as the table.Key of its row. Network rows look like a
// host pair with the other side hidden (the network address on its side,
// the prefix length in BPort); service, VLAN and link rows have both
// addresses hidden, family 4 (rows of both families: the value only says
// "not the other row"), and their value in APort (a service's protocol in
// Proto, a VLAN's ID also in VLAN, a link as its index + 1). CompareKeys
// then orders rows of one kind by that value. The "other" row stays the
// table's other key.
func (k Key) Flow() table.Key {
	var fk table.Key
	switch {
	case k.Other:
		return fk
	case k.By == SrcNet:
		fk.Family, fk.A, fk.BPort, fk.Hidden = k.Family, k.Net, uint16(k.Bits), table.HideB
	case k.By == DstNet:
		fk.Family, fk.B, fk.BPort, fk.Hidden = k.Family, k.Net, uint16(k.Bits), table.HideA
	default:
		fk.Family, fk.Hidden = 4, table.HideA|table.HideB
		switch k.By {
		case Service:
			fk.APort, fk.Proto = k.Port, k.Proto
		case VLAN:
			fk.APort, fk.VLAN = k.VLAN, k.VLAN
		case Link:
			fk.APort = uint16(k.Link + 1)
		}
	}
	return fk
}

// Decode reads back the Key of a row that Rows made under by.
func Decode(by By, fk *table.Key) Key {
	k := Key{By: by}
	if fk.IsOther() {
		k.Other = true
		return k
	}
	switch by {
	case SrcNet:
		k.Family, k.Net, k.Bits = fk.Family, fk.A, uint8(fk.BPort)
	case DstNet:
		k.Family, k.Net, k.Bits = fk.Family, fk.B, uint8(fk.BPort)
	case Service:
		k.Proto, k.Port = fk.Proto, fk.APort
	case VLAN:
		k.VLAN = fk.APort
	case Link:
		k.Link = int(fk.APort) - 1
	}
	return k
}

// ServicePort picks the port that names a flow's service: the server's,
// as far as the ports tell. A port with a service name wins over one
// without (NFS from a privileged client port: 2049 "nfs"; HTTPS from any
// port: 443); otherwise, or when both have one, the lower port (ephemeral
// client ports are high). Equal ports are that port; protocols without
// ports give 0.
func ServicePort(k *table.Key, svc Services) uint16 {
	a, b := k.APort, k.BPort
	if a == b || svc == nil {
		return min(a, b)
	}
	_, na := svc.Lookup(a, k.Proto)
	_, nb := svc.Lookup(b, k.Proto)
	switch {
	case na && !nb:
		return a
	case nb && !na:
		return b
	}
	return min(a, b)
}

// grouper maps row keys to row numbers, reused between calls.
type grouper struct {
	idx map[Key]int32
}

var grouperPool = sync.Pool{New: func() any { return &grouper{idx: make(map[Key]int32)} }}

// Rows appends to dst[:0] the rows of s's flows under c (c.By == Host:
// host pairs under v, as Snapshot.Rows), in no particular order, and
// returns it. Every flow's bytes and packets land in exactly one row; with
// By == Link each flow is split by the links that carried it
// (table.Flow.Links, whose parts sum to the flow; a flow without them is
// the one captured interface's, or an unknown link's when there are
// several), and a part of a flow its links do not account for goes to the
// unknown link's row, so sums stay exact. Sent and Recv keep the flows'
// meaning: Sent is traffic from the left (local) side.
func Rows(s *table.Snapshot, v table.View, c Config, dst []table.Flow) []table.Flow {
	if c.By == Host || c.By >= numBy {
		return s.Rows(v, dst)
	}
	dst = dst[:0]
	g := grouperPool.Get().(*grouper)
	defer grouperPool.Put(g)
	clear(g.idx)
	add := func(k Key, sent, recv *table.Stat) {
		j, ok := g.idx[k]
		if !ok {
			j = int32(len(dst))
			g.idx[k] = j
			dst = append(dst, table.Flow{Key: k.Flow()})
		}
		dst[j].Sent.Add(sent)
		dst[j].Recv.Add(recv)
	}
	p := c.prefixes()
	single := len(s.Interfaces) == 1
	for i := range s.Flows {
		f := &s.Flows[i]
		if f.Key.IsOther() {
			add(Key{By: c.By, Other: true}, &f.Sent, &f.Recv)
			continue
		}
		switch c.By {
		case Service:
			add(Key{By: Service, Proto: f.Key.Proto, Port: ServicePort(&f.Key, c.Services)}, &f.Sent, &f.Recv)
		case SrcNet:
			add(netKey(SrcNet, f.Key.Family, &f.Key.A, p), &f.Sent, &f.Recv)
		case DstNet:
			add(netKey(DstNet, f.Key.Family, &f.Key.B, p), &f.Sent, &f.Recv)
		case VLAN:
			add(Key{By: VLAN, VLAN: f.Key.VLAN}, &f.Sent, &f.Recv)
		case Link:
			if f.Links == nil {
				l := -1
				if single {
					l = 0
				}
				add(Key{By: Link, Link: l}, &f.Sent, &f.Recv)
				continue
			}
			var sent, recv table.Stat
			for j := range f.Links {
				fl := &f.Links[j]
				add(Key{By: Link, Link: fl.Link}, &fl.Sent, &fl.Recv)
				sent.Add(&fl.Sent)
				recv.Add(&fl.Recv)
			}
			restSent, restRecv := rest(&f.Sent, &sent), rest(&f.Recv, &recv)
			if restSent != (table.Stat{}) || restRecv != (table.Stat{}) {
				add(Key{By: Link, Link: -1}, &restSent, &restRecv)
			}
		}
	}
	return dst
}

// rest is what of whole its parts do not account for (0 where they
// account for all of it, or more).
func rest(whole, parts *table.Stat) table.Stat {
	sub := func(a, b uint64) uint64 {
		if a > b {
			return a - b
		}
		return 0
	}
	return table.Stat{
		Win:     [3]uint64{sub(whole.Win[0], parts.Win[0]), sub(whole.Win[1], parts.Win[1]), sub(whole.Win[2], parts.Win[2])},
		Bytes:   sub(whole.Bytes, parts.Bytes),
		Packets: sub(whole.Packets, parts.Packets),
	}
}

// netKey masks a to the family's prefix length.
func netKey(by By, family uint8, a *[16]byte, p Prefixes) Key {
	k := Key{By: by, Family: family}
	bits, n := int(p.V4), 4
	if family == 6 {
		bits, n = int(p.V6), 16
	}
	k.Bits = uint8(bits)
	for i := 0; i < n && bits > 0; i++ {
		if bits >= 8 {
			k.Net[i] = a[i]
			bits -= 8
			continue
		}
		k.Net[i] = a[i] & byte(0xff<<(8-bits))
		bits = 0
	}
	return k
}

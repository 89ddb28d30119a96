package table

import (
	"net/netip"
)

// Key identifies a flow: an ordered pair of endpoints and a protocol. It
// holds no pointers, so tables of Keys are never scanned by the GC.
type Key struct {
	A, B         [16]byte // IPv4 in the first 4 bytes, the rest zero
	APort, BPort uint16   // 0 for protocols without ports
	Proto        uint8    // IP protocol number; 0 after port aggregation
	Family       uint8    // 4 or 6; 0 only in the "other" row
	Hidden       uint8    // HideA, HideB: an address aggregated away (iftop's s and d)
	VLAN         uint16   // 802.1Q VLAN ID (the outermost tag), 0 when untagged
}

// Bits of Key.Hidden. A hidden address is not the same as 0.0.0.0 or ::,
// which are real source addresses (DHCP, duplicate address detection).
const (
	HideA uint8 = 1 << iota
	HideB
)

// AAddr returns the left address as a netip.Addr; the zero Addr when it was
// aggregated away (hidden source) or for the "other" row.
func (k *Key) AAddr() netip.Addr { return keyAddr(k.Family, k.Hidden&HideA != 0, &k.A) }

// BAddr returns the right address.
func (k *Key) BAddr() netip.Addr { return keyAddr(k.Family, k.Hidden&HideB != 0, &k.B) }

func keyAddr(family uint8, hidden bool, a *[16]byte) netip.Addr {
	if hidden {
		return netip.Addr{}
	}
	switch family {
	case 4:
		return netip.AddrFrom4([4]byte(a[:4]))
	case 6:
		return netip.AddrFrom16(*a)
	}
	return netip.Addr{}
}

// IsOther reports whether k is the "other" row that collects flows which
// did not fit in a full table.
func (k *Key) IsOther() bool { return k.Family == 0 }

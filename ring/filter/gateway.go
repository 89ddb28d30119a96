package filter

import (
	"bufio"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Neighbors finds the link-layer address of a neighbour, for the
// `gateway` primitive.
type Neighbors interface {
	MAC(addr netip.Addr) ([6]byte, bool)
}

// NeighborTable is a fixed Neighbors table.
type NeighborTable map[netip.Addr][6]byte

// MAC implements Neighbors.
func (t NeighborTable) MAC(addr netip.Addr) ([6]byte, bool) {
	m, ok := t[addr.Unmap()]
	return m, ok
}

// KernelNeighbors reads the Linux IPv4 neighbour table (/proc/net/arp) on
// every lookup, so a gateway pinged after fastop started is found. IPv6
// neighbours need netlink and are not covered (the caller may chain
// another Neighbors for them).
type KernelNeighbors struct {
	// Path of the ARP table; "" means /proc/net/arp.
	Path string
}

// MAC implements Neighbors.
func (k KernelNeighbors) MAC(addr netip.Addr) ([6]byte, bool) {
	path := k.Path
	if path == "" {
		path = "/proc/net/arp"
	}
	f, err := os.Open(path)
	if err != nil {
		return [6]byte{}, false
	}
	defer f.Close()
	return lookupProcARP(f, addr.Unmap())
}

// lookupProcARP scans /proc/net/arp:
//
//	IP address       HW type     Flags       HW address            Mask     Device
//	192.0.2.1        0x1         0x2         02:00:00:00:00:01     *        eth0
//
// Entries without the ATF_COM flag (0x2, "complete") have no valid address.
func lookupProcARP(r io.Reader, addr netip.Addr) ([6]byte, bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil || a != addr {
			continue
		}
		flags, err := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 32)
		if err != nil || flags&0x2 == 0 {
			continue
		}
		if mac, ok := parseMAC(f[3]); ok && mac != ([6]byte{}) {
			return mac, true
		}
	}
	return [6]byte{}, false
}

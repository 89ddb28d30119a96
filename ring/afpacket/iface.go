package afpacket

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
)

// Interface describes a network interface for fastop's direction rules and
// messages. The lookups below run in the calling thread's network
// namespace.
type Interface struct {
	Name     string
	Index    int
	MAC      net.HardwareAddr // nil when the link has none (tun, lo has all zeros)
	Addrs    []netip.Prefix   // every IPv4 and IPv6 address, with its prefix length
	MTU      int
	Up       bool // administratively up (IFF_UP)
	Running  bool // up with carrier (IFF_RUNNING)
	Loopback bool
}

// LookupInterface returns the interface called name. A missing interface
// gives an error wrapping ErrNoSuchInterface that lists the ones that exist.
func LookupInterface(name string) (Interface, error) {
	all, err := net.Interfaces()
	if err != nil {
		return Interface{}, fmt.Errorf("ring: listing interfaces: %w", err)
	}
	for i := range all {
		if all[i].Name == name {
			return fromNet(&all[i])
		}
	}
	return Interface{}, notFound(name, netNames(all))
}

// notFound is the error for a missing interface: one line that lists the
// interfaces there are, matching ErrNoSuchInterface.
func notFound(name string, have []string) error {
	list := "none"
	if len(have) > 0 {
		list = strings.Join(have, ", ")
	}
	return &notFoundError{fmt.Sprintf("interface %q not found (have: %s)", name, list)}
}

type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }
func (e *notFoundError) Unwrap() error { return ErrNoSuchInterface }

func fromNet(ni *net.Interface) (Interface, error) {
	out := Interface{
		Name:     ni.Name,
		Index:    ni.Index,
		MTU:      ni.MTU,
		Up:       ni.Flags&net.FlagUp != 0,
		Running:  ni.Flags&net.FlagRunning != 0,
		Loopback: ni.Flags&net.FlagLoopback != 0,
	}
	if len(ni.HardwareAddr) > 0 {
		out.MAC = append(net.HardwareAddr(nil), ni.HardwareAddr...)
	}
	addrs, err := ni.Addrs()
	if err != nil {
		return out, fmt.Errorf("ring: addresses of %q: %w", ni.Name, err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipn.IP)
		if !ok {
			continue
		}
		ones, _ := ipn.Mask.Size()
		if ip.Is4In6() && ones >= 96 && len(ipn.Mask) == net.IPv6len {
			ones -= 96
		}
		out.Addrs = append(out.Addrs, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out, nil
}

// InterfaceNames lists the interfaces in ifindex order, for messages.
func InterfaceNames() ([]string, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("ring: listing interfaces: %w", err)
	}
	return netNames(all), nil
}

func netNames(all []net.Interface) []string {
	s := append([]net.Interface(nil), all...)
	sort.Slice(s, func(i, j int) bool { return s[i].Index < s[j].Index })
	names := make([]string, len(s))
	for i := range s {
		names[i] = s[i].Name
	}
	return names
}

// skipPrefixes are iftop's get_first_interface exclusions: loopback, the
// BSD tunnels (stf, gif), dummies, VMware host-only and old wireless master
// devices.
var skipPrefixes = []string{"lo", "stf", "gif", "dummy", "vmnet", "wmaster"}

// brief is what the default-interface rule looks at.
type brief struct {
	Name  string
	Index int
	Up    bool
}

// pickDefault applies iftop's rule: the first interface, in ifindex
// order, that is up and whose name does not start with an excluded prefix.
func pickDefault(ifs []brief) (string, bool) {
	s := append([]brief(nil), ifs...)
	sort.Slice(s, func(i, j int) bool { return s[i].Index < s[j].Index })
outer:
	for _, b := range s {
		if !b.Up {
			continue
		}
		for _, p := range skipPrefixes {
			if strings.HasPrefix(b.Name, p) {
				continue outer
			}
		}
		return b.Name, true
	}
	return "", false
}

// DefaultInterface picks the interface to capture on when none is given,
// the way iftop does: the first one that is up, in ifindex order, whose name
// does not start with lo, stf, gif, dummy, vmnet or wmaster.
func DefaultInterface() (string, error) {
	all, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("ring: listing interfaces: %w", err)
	}
	briefs := make([]brief, len(all))
	for i := range all {
		briefs[i] = brief{Name: all[i].Name, Index: all[i].Index, Up: all[i].Flags&net.FlagUp != 0}
	}
	if name, ok := pickDefault(briefs); ok {
		return name, nil
	}
	return "", fmt.Errorf("ring: no interface is up to capture on (have: %s); name one with -i: %w",
		strings.Join(netNames(all), ", "), ErrNoSuchInterface)
}

// Package links reads what Linux says in sysfs about a network device:
// whether it is a bond, a team, a VLAN or a plain link, which links carry
// its traffic, their state and speed. fastop captures a bond on its links
// (a socket on the master sees transmitted frames before the link is
// chosen, and received ones a second time), so every packet is counted once
// and attributed to the link that carried it.
//
// The files (Documentation/networking/bonding.rst, ABI/testing/sysfs-class-net):
//
//	/sys/class/net/X/uevent            DEVTYPE=bond|team|vlan|bridge (absent for plain NICs, veth)
//	/sys/class/net/X/speed             Mb/s; -1, missing or EINVAL (link down) when unknown
//	/sys/class/net/X/operstate         up, down, dormant, unknown…
//	/sys/class/net/X/ifindex           to check that this sysfs shows our namespace
//	/sys/class/net/X/lower_Y           a link below X (team, VLAN, bond)
//	/sys/class/net/B/bonding/slaves    "eth0 eth1"
//	/sys/class/net/B/bonding/mode      "802.3ad 4"
//	/sys/class/net/B/bonding/xmit_hash_policy  "layer3+4 1"
//	/sys/class/net/B/bonding/ad_aggregator     the active aggregator (802.3ad)
//	/sys/class/net/S/bonding_slave/{state,mii_status,link_failure_count,ad_aggregator_id}
//
// Sysfs shows the devices of the network namespace it was mounted in, not
// necessarily the caller's; [Read] takes the root to read (DefaultRoot) so
// tests can give a fake tree, and callers compare ifindex with what netlink
// says to notice a tree of another namespace.
package links

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// DefaultRoot is where Linux lists network devices.
const DefaultRoot = "/sys/class/net"

// Kind is what a device is, as far as expanding it goes.
type Kind string

// Kinds fastop tells apart. Anything else (veth, a NIC, a bridge, a tun)
// is a Plain link: captured as it is.
const (
	Plain Kind = ""
	Bond  Kind = "bond"
	Team  Kind = "team"
	VLAN  Kind = "vlan"
)

// Device is one device as sysfs describes it.
type Device struct {
	Name    string
	Kind    Kind
	DevType string   // uevent DEVTYPE, "" when none
	Index   int      // ifindex, 0 when unreadable
	Speed   int64    // bits/s; 0 when unknown
	Oper    string   // operstate; "" when unreadable
	Lowers  []string // lower_* links, sorted
	Bond    *BondInfo
	Slave   *SlaveInfo // set when the device is a bond's slave
}

// BondInfo is a bond master's configuration.
type BondInfo struct {
	Slaves     []string // in the bond's order
	Mode       string   // balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb
	HashPolicy string   // layer2, layer2+3, layer3+4, encap2+3, encap3+4, vlan+srcmac; "" when not exposed
	Aggregator int      // the active 802.3ad aggregator; -1 when none or not exposed
}

// SlaveInfo is a bond slave's state.
type SlaveInfo struct {
	State        string // active or backup
	MII          string // up or down
	LinkFailures int    // -1 when unreadable
	Aggregator   int    // ad_aggregator_id; -1 when none or not exposed
}

// ErrNotFound says sysfs has no device of that name.
var ErrNotFound = errors.New("no such device in sysfs")

// Read describes the device name under root ("" means DefaultRoot).
func Read(root, name string) (Device, error) {
	if root == "" {
		root = DefaultRoot
	}
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return Device{}, fmt.Errorf("links: bad device name %q", name)
	}
	dir := filepath.Join(root, name)
	st, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !st.IsDir()) { // bonding_masters is a file
		return Device{}, fmt.Errorf("links: %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Device{}, fmt.Errorf("links: %s: %w", name, err)
	}
	d := Device{Name: name, Speed: readSpeed(dir), Oper: readWord(filepath.Join(dir, "operstate"))}
	d.Index, _ = readInt(filepath.Join(dir, "ifindex"))
	d.DevType = devType(filepath.Join(dir, "uevent"))
	d.Lowers = lowers(dir)
	switch d.DevType {
	case "team":
		d.Kind = Team
	case "vlan":
		d.Kind = VLAN
	}
	if b, ok := readBond(filepath.Join(dir, "bonding")); ok {
		d.Kind = Bond
		d.Bond = b
	}
	if s, ok := readSlave(filepath.Join(dir, "bonding_slave")); ok {
		d.Slave = s
	}
	return d, nil
}

// readSpeed reads speed (Mb/s) as bits/s: -1, 0, missing or unreadable (the
// kernel answers EINVAL for a link that is down) give 0, unknown.
func readSpeed(dir string) int64 {
	n, err := readInt(filepath.Join(dir, "speed"))
	// SPEED_UNKNOWN is -1; some drivers print it as 4294967295. Anything
	// past a petabit is not a speed either (and would overflow bits/s).
	if err != nil || n <= 0 || n > 1_000_000_000 {
		return 0
	}
	return int64(n) * 1_000_000
}

func readWord(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func readInt(path string) (int, error) {
	w := readWord(path)
	if w == "" {
		return 0, fmt.Errorf("links: %s: unreadable or empty", path)
	}
	return strconv.Atoi(w)
}

func devType(uevent string) string {
	b, err := os.ReadFile(uevent)
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "DEVTYPE="); ok {
			return v
		}
	}
	return ""
}

func lowers(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), "lower_"); ok && n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func readBond(dir string) (*BondInfo, bool) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, false
	}
	b := &BondInfo{
		Mode:       readWord(filepath.Join(dir, "mode")),
		HashPolicy: readWord(filepath.Join(dir, "xmit_hash_policy")),
		Aggregator: -1,
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "slaves")); err == nil {
		b.Slaves = strings.Fields(string(raw))
	}
	if n, err := readInt(filepath.Join(dir, "ad_aggregator")); err == nil {
		b.Aggregator = n
	}
	return b, true
}

func readSlave(dir string) (*SlaveInfo, bool) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, false
	}
	s := &SlaveInfo{
		State:        readWord(filepath.Join(dir, "state")),
		MII:          readWord(filepath.Join(dir, "mii_status")),
		LinkFailures: -1,
		Aggregator:   -1,
	}
	if n, err := readInt(filepath.Join(dir, "link_failure_count")); err == nil {
		s.LinkFailures = n
	}
	if n, err := readInt(filepath.Join(dir, "ad_aggregator_id")); err == nil {
		s.Aggregator = n
	}
	return s, true
}

// Members lists the links below an aggregating device: a bond's slaves
// (bonding/slaves, or its lower_* links), a team's ports (lower_*). Other
// devices have none.
func (d *Device) Members() []string {
	switch d.Kind {
	case Bond:
		if len(d.Bond.Slaves) > 0 {
			return d.Bond.Slaves
		}
		return d.Lowers
	case Team:
		return d.Lowers
	}
	return nil
}

// State is the link's state in one word: "down" when its carrier (or a
// bond slave's MII) is down, else a bond slave's "active" or "backup", else
// "up"; "unknown" when sysfs says nothing usable.
func (d *Device) State() string {
	if d.Slave != nil {
		if d.Slave.MII == "down" {
			return "down"
		}
		if d.Slave.State != "" {
			return d.Slave.State
		}
	}
	switch d.Oper {
	case "up":
		return "up"
	case "down", "lowerlayerdown", "notpresent":
		return "down"
	}
	return "unknown"
}

// Link is one link fastop captures on.
type Link struct {
	Device
	Master string // the bond or team it belongs to; "" for a link given as it is
}

// Expansion is what a name given to -i stands for.
type Expansion struct {
	Name   string // as given
	Top    Device // the device named
	Master string // the aggregating device (bond0 for bond0.100); "" when none
	VLAN   bool   // Name is a VLAN above Master: the links carry other VLANs too
	Links  []Link // the links to capture on: the members, or the device itself
}

// Expanded reports whether the name stands for other links than itself.
func (e *Expansion) Expanded() bool { return e.Master != "" }

// maxDepth bounds the walk down lower_* links (VLAN on a bond on …).
const maxDepth = 8

// Expand says what to capture for name: a bond or team gives its members;
// a VLAN gives its lower device's expansion when that is a bond or team
// (bond0.100 → bond0 → eth0, eth1), else the VLAN itself; anything else
// (or a name sysfs does not know: another namespace's sysfs, a tree
// without it) is captured as it is. A bond or team with no member is an
// error naming it, since there would be nothing to capture.
func Expand(root, name string) (Expansion, error) {
	top, err := Read(root, name)
	if errors.Is(err, ErrNotFound) {
		return Expansion{Name: name, Top: Device{Name: name}, Links: []Link{{Device: Device{Name: name}}}}, nil
	}
	if err != nil {
		return Expansion{}, err
	}
	e := Expansion{Name: name, Top: top}
	d := top
	for depth := 0; d.Kind == VLAN; depth++ {
		if len(d.Lowers) != 1 || depth == maxDepth {
			break
		}
		low, err := Read(root, d.Lowers[0])
		if err != nil {
			break
		}
		if low.Kind == Plain {
			break
		}
		d = low
		e.VLAN = true
	}
	if d.Kind != Bond && d.Kind != Team {
		e.VLAN = false
		e.Links = []Link{{Device: top}}
		return e, nil
	}
	members := d.Members()
	if len(members) == 0 {
		return Expansion{}, fmt.Errorf("links: %s is a %s with no links to capture on (add one, or capture the master itself with --master)", d.Name, d.Kind)
	}
	e.Master = d.Name
	for _, m := range members {
		md, err := Read(root, m)
		if err != nil {
			return Expansion{}, fmt.Errorf("links: %s of %s: %w", m, d.Name, err)
		}
		e.Links = append(e.Links, Link{Device: md, Master: d.Name})
	}
	return e, nil
}

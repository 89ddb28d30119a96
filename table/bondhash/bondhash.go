package bondhash

import (
	"fmt"
	"strconv"
	"strings"
)

// Mode is a bonding mode as /sys/class/net/BOND/bonding/mode names it.
type Mode uint8

// Bonding modes. Only ModeXOR and Mode8023AD choose the transmit link by
// hashing; for the others Predict answers ReasonMode.
const (
	ModeUnknown Mode = iota
	ModeRoundRobin
	ModeActiveBackup
	ModeXOR
	ModeBroadcast
	Mode8023AD
	ModeTLB
	ModeALB
)

var modeNames = [...]string{"unknown", "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "unknown"
}

// ParseMode reads the contents of bonding/mode ("802.3ad 4") or a bare
// name or number.
func ParseMode(s string) (Mode, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ModeUnknown, fmt.Errorf("bondhash: empty bonding mode (want one of balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb)")
	}
	for i, n := range modeNames[1:] {
		if f[0] == n {
			return Mode(i + 1), nil
		}
	}
	// The kernel numbers them 0 (balance-rr) … 6 (balance-alb).
	if n, err := strconv.Atoi(f[0]); err == nil && n >= 0 && n <= 6 {
		return Mode(n + 1), nil
	}
	return ModeUnknown, fmt.Errorf("bondhash: unknown bonding mode %q (want one of balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb)", s)
}

// Policy is a transmit hash policy (bonding/xmit_hash_policy).
type Policy uint8

// Transmit hash policies, in the kernel's numbering plus one so that the
// zero value means "not known".
const (
	PolicyUnknown    Policy = iota
	PolicyLayer2            // kernel 0
	PolicyLayer34           // kernel 1
	PolicyLayer23           // kernel 2
	PolicyEncap23           // kernel 3
	PolicyEncap34           // kernel 4
	PolicyVLANSrcMAC        // kernel 5 (Linux 5.12 and later)
)

var policyNames = [...]string{"unknown", "layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac"}

func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return "unknown"
}

// ParsePolicy reads the contents of bonding/xmit_hash_policy ("layer3+4 1")
// or a bare name or number.
func ParsePolicy(s string) (Policy, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return PolicyUnknown, fmt.Errorf("bondhash: empty xmit_hash_policy (want one of layer2, layer2+3, layer3+4, encap2+3, encap3+4, vlan+srcmac)")
	}
	for i, n := range policyNames[1:] {
		if f[0] == n {
			return Policy(i + 1), nil
		}
	}
	if n, err := strconv.Atoi(f[0]); err == nil && n >= 0 && n <= 5 {
		return Policy(n + 1), nil
	}
	return PolicyUnknown, fmt.Errorf("bondhash: unknown xmit_hash_policy %q (want one of layer2, layer2+3, layer3+4, encap2+3, encap3+4, vlan+srcmac)", s)
}

// Variant is what changed in bond_xmit_hash between kernel releases. The
// named values below are the releases where it changed; VariantFor picks
// one from a release string.
type Variant struct {
	// Name is the first release the variant describes ("5.18").
	Name string
	// ShiftL34: the layer3+4 hash drops its lowest bit (hash >> 1).
	// Added in 4.15 (commit b5f862180d70) to spread the common
	// even-ports pattern.
	ShiftL34 bool
	// ShiftL23: the layer2+3 hash drops its lowest bit too. The 4.15
	// change shifted every layer-3 hash; 5.18 (commit 49aefd131739)
	// limited the shift to layer3+4 again.
	ShiftL23 bool
	// EtherTypeHost: the layer-2 hash XORs the EtherType as a number
	// (0x0800). Before 5.15 it XORed the big-endian field as read in host
	// order (0x0008 on little-endian machines).
	EtherTypeHost bool
	// ICMP: ICMP and ICMPv6 are looked into (5.5, "bonding: balance ICMP
	// echoes in layer3+4 mode" and "bonding: symmetric ICMP transmit"):
	// layer3+4 hashes the echo identifier in place of the ports, and an
	// ICMP error is hashed on the header it quotes, for layer2+3 too.
	ICMP bool
}

// The kernel variants, oldest first.
var (
	V4_10 = Variant{Name: "4.10"}
	V4_15 = Variant{Name: "4.15", ShiftL34: true, ShiftL23: true}
	V5_5  = Variant{Name: "5.5", ShiftL34: true, ShiftL23: true, ICMP: true}
	V5_15 = Variant{Name: "5.15", ShiftL34: true, ShiftL23: true, ICMP: true, EtherTypeHost: true}
	V5_18 = Variant{Name: "5.18", ShiftL34: true, ICMP: true, EtherTypeHost: true}
)

// Variants lists the variants with the first release of each.
var Variants = []Variant{V4_10, V4_15, V5_5, V5_15, V5_18}

var variantStarts = [...][2]int{{4, 10}, {4, 15}, {5, 5}, {5, 15}, {5, 18}}

// VariantFor picks the variant for a kernel release as uname -r prints it
// ("6.1.0-18-amd64", "5.15.0-91-generic", "4.18.0-513.el8.x86_64"). Only
// major.minor is read: stable and vendor kernels that backported a change
// (5.18's layer2+3 fix reached some 5.15.y and 5.17.y; RHEL 8 carries much
// newer bonding code than 4.18) hash like the newer variant, which is why
// fastop checks each prediction against the link a flow was seen on.
func VariantFor(release string) (Variant, error) {
	major, minor, ok := majorMinor(release)
	if !ok {
		return Variant{}, fmt.Errorf("bondhash: cannot read a kernel version from %q (want uname -r output such as 6.1.0-18-amd64)", release)
	}
	if major < 4 || (major == 4 && minor < 10) {
		return Variant{}, fmt.Errorf("bondhash: kernel %s is older than 4.10, whose transmit hash fastop does not model", release)
	}
	v := Variants[0]
	for i, s := range variantStarts {
		if major > s[0] || (major == s[0] && minor >= s[1]) {
			v = Variants[i]
		}
	}
	return v, nil
}

func majorMinor(s string) (major, minor int, ok bool) {
	s = strings.TrimSpace(s)
	dot := strings.IndexByte(s, '.')
	if dot <= 0 {
		return 0, 0, false
	}
	major, err := strconv.Atoi(s[:dot])
	if err != nil || major < 0 {
		return 0, 0, false
	}
	rest := s[dot+1:]
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	if end == 0 || end > 4 {
		return 0, 0, false
	}
	minor, _ = strconv.Atoi(rest[:end])
	return major, minor, true
}

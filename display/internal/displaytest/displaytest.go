// Package displaytest holds what the tests of display's packages share:
// flow keys from text, the fixture snapshot, large synthetic tables and
// golden files.
package displaytest

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fastop/fastop/table"
)

// IP protocol numbers.
const (
	TCP  = 6
	UDP  = 17
	ICMP = 1
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// MkKey builds a flow key from address text ("" leaves that side zero, as
// aggregation does).
func MkKey(a string, aport uint16, b string, bport uint16, proto uint8) table.Key {
	k := table.Key{APort: aport, BPort: bport, Proto: proto}
	for i, s := range [2]string{a, b} {
		if s == "" {
			continue
		}
		addr := netip.MustParseAddr(s)
		dst := &k.A
		if i == 1 {
			dst = &k.B
		}
		fam := uint8(6)
		if addr.Is4() {
			fam = 4
		}
		if k.Family != 0 && k.Family != fam {
			panic("MkKey: mixed address families")
		}
		if addr.Is4() {
			k.Family = 4
			v := addr.As4()
			copy(dst[:], v[:])
		} else {
			k.Family = 6
			*dst = addr.As16()
		}
	}
	return k
}

// Golden compares got with testdata/NAME.golden, or rewrites it with -update.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, LineDiff(string(want), string(got)))
	}
}

// LineDiff shows the first differing lines.
func LineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	n := 0
	for i := 0; i < max(len(w), len(g)) && n < 8; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want " + strconv.Quote(wl) + "\n  got  " + strconv.Quote(gl) + "\n")
			n++
		}
	}
	return b.String()
}

// FixtureSnapshot is a hand-built snapshot that exercises what iftop's
// captures do not: names and services, hostile names, long IPv6, the other
// row, capture counters and several interfaces.
func FixtureSnapshot() *table.Snapshot {
	win := [3]int64{2e9, 10e9, 24e9}
	st := func(r2, r10, r40, cum, pkts uint64) table.Stat {
		return table.Stat{Win: [3]uint64{r2, r10, r40}, Bytes: cum, Packets: pkts}
	}
	s := &table.Snapshot{
		Time:   1_700_000_024_250_000_000,
		Start:  1_700_000_000_000_000_000,
		Window: win,
		Flows: []table.Flow{
			{Key: MkKey("10.99.0.1", 57680, "10.99.0.2", 5201, TCP), Sent: st(1_250_000, 6_000_000, 13_000_000, 13_000_000, 9_000), Recv: st(1_400, 7_000, 15_600, 15_600, 4_500)},
			{Key: MkKey("10.99.0.1", 32831, "10.99.0.200", 80, UDP), Sent: st(120_000, 500_000, 1_100_000, 1_100_000, 800), Recv: st(0, 0, 0, 0, 0)},
			{Key: MkKey("10.99.0.1", 49152, "10.99.0.200", 80, TCP), Sent: st(2_000, 9_000, 20_000, 20_000, 150), Recv: st(60_000, 290_000, 700_000, 700_000, 500)},
			{Key: MkKey("fd00:99::1", 55511, "fd00:99::abcd", 443, UDP), Sent: st(20_400, 84_000, 199_000, 199_000, 180), Recv: st(0, 0, 0, 0, 0)},
			{Key: MkKey("2001:db8:1234:5678:9abc:def0:1234:5678", 443, "fd00:99::1", 39718, TCP), Sent: st(500_000, 2_400_000, 5_000_000, 5_000_000, 3_500), Recv: st(800, 4_000, 9_000, 9_000, 120)},
			{Key: MkKey("10.99.0.1", 0, "10.66.6.6", 0, ICMP), Sent: st(84, 420, 1_000, 1_000, 12), Recv: st(84, 420, 1_000, 1_000, 12)},
			{Key: MkKey("10.99.0.1", 47307, "10.99.0.10", 53, UDP), Sent: st(0, 300, 900, 900, 10), Recv: st(0, 600, 1_800, 1_800, 10)},
			{Key: table.Key{}, Sent: st(3_000, 15_000, 36_000, 36_000, 400), Recv: st(1_000, 5_000, 12_000, 12_000, 100)},
		},
		TX:      st(1_895_484, 8_998_720, 19_321_900, 19_321_900, 13_652),
		RX:      st(63_284, 306_020, 738_400, 738_400, 5_242),
		Peak:    table.Peak{Sent: 950_000, Recv: 40_000, Total: 980_000},
		Capture: table.Capture{Packets: 19_100, Bytes: 21_000_000, Dropped: 7, Undecodable: 3, NotIP: 12, Filtered: 0, Ignored: 5, Counted: 19_080, Folded: 17},
		Interfaces: []table.Interface{
			{Name: "eth0", TX: st(1_800_000, 8_500_000, 18_000_000, 18_000_000, 12_000), RX: st(60_000, 300_000, 700_000, 700_000, 5_000), Capture: table.Capture{Packets: 17_000, Dropped: 7}},
			{Name: "wlan0", TX: st(95_484, 498_720, 1_321_900, 1_321_900, 1_652), RX: st(3_284, 6_020, 38_400, 38_400, 242), Capture: table.Capture{Packets: 2_100}, Down: true},
		},
		Members: 2,
	}
	return s
}

// SyntheticFlows makes n distinct flows with varied rates, deterministically.
func SyntheticFlows(n int) []table.Flow {
	r := rand.New(rand.NewPCG(7, 11))
	flows := make([]table.Flow, n)
	for i := range flows {
		k := table.Key{Family: 4, APort: uint16(1024 + i%60000), BPort: 443, Proto: TCP}
		k.A[0], k.A[1], k.A[2], k.A[3] = 10, byte(i>>16), byte(i>>8), byte(i)
		k.B[0], k.B[1], k.B[2], k.B[3] = 192, 168, byte(r.IntN(256)), byte(r.IntN(256))
		if i%3 == 0 {
			k.Family = 6
			k.A[0], k.A[1] = 0xfd, 0
			k.B = [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}
		}
		w2 := r.Uint64N(1 << 20)
		w10 := w2 + r.Uint64N(1<<22)
		w40 := w10 + r.Uint64N(1<<24)
		flows[i] = table.Flow{
			Key:  k,
			Sent: table.Stat{Win: [3]uint64{w2, w10, w40}, Bytes: w40 + r.Uint64N(1<<30), Packets: w40/1000 + 1},
			Recv: table.Stat{Win: [3]uint64{w2 / 3, w10 / 3, w40 / 3}, Bytes: w40/3 + 5, Packets: w40/3000 + 1},
		}
	}
	return flows
}

// BigSnapshot is the fixture snapshot with n synthetic flows.
func BigSnapshot(n int) *table.Snapshot {
	s := FixtureSnapshot()
	s.Flows = SyntheticFlows(n)
	return s
}

// UnitScale returns the multiplier of a readable_size unit and whether it is
// in bits.
func UnitScale(t testing.TB, s string) (mult float64, bits bool, num float64) {
	t.Helper()
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return r == 'b' || r == 'B' || r == 'K' || r == 'M' || r == 'G' })
	if i <= 0 {
		t.Fatalf("bad value %q", s)
	}
	num, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		t.Fatalf("bad value %q: %v", s, err)
	}
	mult = 1
	switch s[i] {
	case 'K':
		mult = 1 << 10
	case 'M':
		mult = 1 << 20
	case 'G':
		mult = 1 << 30
	}
	return mult, strings.HasSuffix(s, "b"), num
}

type HostileNamer struct{}

func (HostileNamer) Name(a netip.Addr) (string, bool) {
	switch a.String() {
	case "10.99.0.1":
		return "hosta.lan", true
	case "10.99.0.2":
		return "server-b.example.test", true
	case "10.99.0.200":
		return "a-very-long-hostname-for-testing.example.test", true
	case "10.66.6.6":
		return "\x1b[2J\x1b[H\x1b]0;owned\x07evil\n.example", true
	case "fd00:99::1":
		return "hosta6.lan", true
	}
	return "", false
}

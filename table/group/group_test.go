package group

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fastop/fastop/table"
)

// services is a stand-in for /etc/services: the tests must not depend on
// the machine's file.
type services map[[2]uint16]string

func (s services) Lookup(port uint16, proto uint8) (string, bool) {
	n, ok := s[[2]uint16{port, uint16(proto)}]
	return n, ok
}

var testServices = services{
	{443, 6}: "https", {53, 17}: "domain", {2049, 6}: "nfs", {22, 6}: "ssh", {8080, 6}: "http-alt", {123, 17}: "ntp",
}

const (
	tcp  = 6
	udp  = 17
	icmp = 1
)

func addr(s string) [16]byte {
	a := netip.MustParseAddr(s)
	var b [16]byte
	if a.Is4() {
		a4 := a.As4()
		copy(b[:], a4[:])
		return b
	}
	return a.As16()
}

func key(a string, ap uint16, b string, bp uint16, proto uint8) table.Key {
	fam := uint8(4)
	if strings.Contains(a, ":") {
		fam = 6
	}
	return table.Key{A: addr(a), B: addr(b), APort: ap, BPort: bp, Proto: proto, Family: fam}
}

// stat makes a direction whose fields all differ, so a sum that mixes
// fields up or drops one shows.
func stat(n uint64) table.Stat {
	return table.Stat{Win: [3]uint64{n, 3 * n, 7 * n}, Bytes: 11 * n, Packets: n}
}

func flow(k table.Key, sent, recv uint64) table.Flow {
	return table.Flow{Key: k, Sent: stat(sent), Recv: stat(recv)}
}

func withVLAN(f table.Flow, v uint16) table.Flow { f.Key.VLAN = v; return f }

func withLinks(f table.Flow, links ...table.FlowLink) table.Flow { f.Links = links; return f }

func link(i int, sent, recv uint64) table.FlowLink {
	return table.FlowLink{Link: i, Sent: stat(sent), Recv: stat(recv)}
}

// testSnapshot has flows of both families, several protocols, two VLANs,
// two links and the other row.
func testSnapshot() *table.Snapshot {
	return &table.Snapshot{
		Window:     [3]int64{2e9, 10e9, 40e9},
		Interfaces: []table.Interface{{Name: "eth0"}, {Name: "eth1"}},
		Flows: []table.Flow{
			withLinks(flow(key("10.1.2.3", 50000, "192.0.2.10", 443, tcp), 100, 1000), link(0, 60, 600), link(1, 40, 400)),
			withLinks(flow(key("10.1.2.4", 443, "198.51.100.7", 40001, tcp), 2000, 200), link(1, 2000, 200)),
			withVLAN(withLinks(flow(key("10.1.3.9", 40000, "192.0.2.53", 53, udp), 5, 7), link(0, 5, 7)), 100),
			withVLAN(withLinks(flow(key("10.1.3.9", 871, "192.0.2.20", 2049, tcp), 30000, 900), link(0, 30000, 900)), 100),
			withVLAN(withLinks(flow(key("fd00:1:2:3::1", 50000, "fd00:9::10", 443, tcp), 40, 4000), link(1, 40, 4000)), 200),
			withLinks(flow(key("fd00:1:2:3::2", 0, "fd00:9::10", 0, 58), 1, 1), link(1, 1, 1)),
			withLinks(flow(key("10.1.2.3", 0, "192.0.2.10", 0, icmp), 2, 3), link(0, 2, 3)),
			withLinks(flow(table.Key{}, 9, 8), link(0, 4, 8), link(1, 5, 0)), // other
		},
	}
}

// sum adds every direction of rows.
func sum(rows []table.Flow) (sent, recv table.Stat) {
	for i := range rows {
		sent.Add(&rows[i].Sent)
		recv.Add(&rows[i].Recv)
	}
	return sent, recv
}

// byLabel indexes rows by a readable form of their decoded key.
func byLabel(t *testing.T, by By, rows []table.Flow) map[string][2]table.Stat {
	t.Helper()
	m := map[string][2]table.Stat{}
	for i := range rows {
		k := Decode(by, &rows[i].Key)
		if k.Flow() != rows[i].Key {
			t.Errorf("row %d: Decode then Flow gives %+v, want %+v", i, k.Flow(), rows[i].Key)
		}
		l := testLabel(k)
		if _, dup := m[l]; dup {
			t.Errorf("two rows for %s", l)
		}
		m[l] = [2]table.Stat{rows[i].Sent, rows[i].Recv}
	}
	return m
}

func testLabel(k Key) string {
	switch {
	case k.Other:
		return "other"
	case k.By == Service:
		return "proto" + itoa(int(k.Proto)) + "/" + itoa(int(k.Port))
	case k.By == SrcNet || k.By == DstNet:
		return k.Prefix().String()
	case k.By == VLAN:
		return "vlan" + itoa(int(k.VLAN))
	case k.By == Link:
		return "link" + itoa(k.Link)
	}
	return "?"
}

func itoa(n int) string { return strconv.Itoa(n) }

// pair is the expected sent and received totals of one row, as the sums
// of the stat(n) amounts of its flows.
func pair(sent, recv uint64) [2]table.Stat { return [2]table.Stat{stat(sent), stat(recv)} }

func TestRows(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want map[string][2]table.Stat
	}{
		{"service", Config{By: Service, Services: testServices}, map[string][2]table.Stat{
			// Both directions of https fold into one row: the local
			// client's flow and the local server's.
			"proto6/443":  pair(100+2000+40, 1000+200+4000),
			"proto17/53":  pair(5, 7),
			"proto6/2049": pair(30000, 900), // the named port wins over the lower one
			"proto58/0":   pair(1, 1),
			"proto1/0":    pair(2, 3),
			"other":       pair(9, 8),
		}},
		{"service without names", Config{By: Service}, map[string][2]table.Stat{
			"proto6/443": pair(100+2000+40, 1000+200+4000),
			"proto17/53": pair(5, 7),
			"proto6/871": pair(30000, 900), // the lower port
			"proto58/0":  pair(1, 1),
			"proto1/0":   pair(2, 3),
			"other":      pair(9, 8),
		}},
		{"source network", Config{By: SrcNet}, map[string][2]table.Stat{
			"10.1.2.0/24":     pair(100+2000+2, 1000+200+3),
			"10.1.3.0/24":     pair(5+30000, 7+900),
			"fd00:1:2:3::/64": pair(40+1, 4000+1),
			"other":           pair(9, 8),
		}},
		{"source network /16 and /48", Config{By: SrcNet, Prefixes: Prefixes{16, 48}}, map[string][2]table.Stat{
			"10.1.0.0/16":   pair(100+2000+2+5+30000, 1000+200+3+7+900),
			"fd00:1:2::/48": pair(40+1, 4000+1),
			"other":         pair(9, 8),
		}},
		{"destination network", Config{By: DstNet}, map[string][2]table.Stat{
			"192.0.2.0/24":    pair(100+5+30000+2, 1000+7+900+3),
			"198.51.100.0/24": pair(2000, 200),
			"fd00:9::/64":     pair(40+1, 4000+1),
			"other":           pair(9, 8),
		}},
		{"destination network /32", Config{By: DstNet, Prefixes: Prefixes{32, 128}}, map[string][2]table.Stat{
			"192.0.2.10/32":   pair(100+2, 1000+3),
			"192.0.2.53/32":   pair(5, 7),
			"192.0.2.20/32":   pair(30000, 900),
			"198.51.100.7/32": pair(2000, 200),
			"fd00:9::10/128":  pair(40+1, 4000+1),
			"other":           pair(9, 8),
		}},
		{"vlan", Config{By: VLAN}, map[string][2]table.Stat{
			"vlan0":   pair(100+2000+1+2, 1000+200+1+3),
			"vlan100": pair(5+30000, 7+900),
			"vlan200": pair(40, 4000),
			"other":   pair(9, 8),
		}},
		{"link", Config{By: Link}, map[string][2]table.Stat{
			"link0": pair(60+5+30000+2, 600+7+900+3),
			"link1": pair(40+2000+40+1, 400+200+4000+1),
			"other": pair(9, 8), // the other row stays whole, whatever its links
		}},
	}
	s := testSnapshot()
	wantSent, wantRecv := sum(s.Flows)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := Rows(s, table.View{}, tt.cfg, nil)
			sent, recv := sum(rows)
			if sent != wantSent || recv != wantRecv {
				t.Errorf("sums %+v / %+v, want the flows' %+v / %+v", sent, recv, wantSent, wantRecv)
			}
			got := byLabel(t, tt.cfg.By, rows)
			for l, w := range tt.want {
				if got[l] != w {
					t.Errorf("row %s: %+v, want %+v", l, got[l], w)
				}
			}
			for l := range got {
				if _, ok := tt.want[l]; !ok {
					t.Errorf("unexpected row %s: %+v", l, got[l])
				}
			}
		})
	}
}

// TestRowsHost checks that Host is the table's own aggregation.
func TestRowsHost(t *testing.T) {
	s := testSnapshot()
	for _, v := range []table.View{{}, {Ports: table.PortsOn}, {HideSrc: true}} {
		got := Rows(s, v, Config{By: Host}, nil)
		want := s.Rows(v, nil)
		if !slices.EqualFunc(got, want, func(a, b table.Flow) bool {
			return a.Key == b.Key && a.Sent == b.Sent && a.Recv == b.Recv
		}) {
			t.Errorf("view %+v: %d rows differ from Snapshot.Rows' %d", v, len(got), len(want))
		}
	}
}

// TestRowsLinkRest: parts of flows their links do not account for, and
// flows without links while several interfaces are captured, land in the
// unknown link's row, so nothing is lost; with one interface, a flow
// without links is that interface's.
func TestRowsLinkRest(t *testing.T) {
	s := &table.Snapshot{
		Interfaces: []table.Interface{{Name: "eth0"}, {Name: "eth1"}},
		Flows: []table.Flow{
			withLinks(flow(key("10.0.0.1", 1, "10.0.0.2", 2, tcp), 10, 20), link(0, 7, 20)),
			flow(key("10.0.0.1", 3, "10.0.0.2", 4, tcp), 5, 6),
		},
	}
	got := byLabel(t, Link, Rows(s, table.View{}, Config{By: Link}, nil))
	want := map[string][2]table.Stat{"link0": pair(7, 20), "link-1": pair(3+5, 6)}
	if len(got) != len(want) || got["link0"] != want["link0"] || got["link-1"] != want["link-1"] {
		t.Errorf("rows %+v, want %+v", got, want)
	}
	s.Interfaces = s.Interfaces[:1]
	s.Flows = s.Flows[1:]
	got = byLabel(t, Link, Rows(s, table.View{}, Config{By: Link}, nil))
	if len(got) != 1 || got["link0"] != pair(5, 6) {
		t.Errorf("one interface: rows %+v, want link0 only", got)
	}
}

// TestRowsRandom checks exact sums and distinct keys on random tables.
func TestRowsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		s := &table.Snapshot{Interfaces: []table.Interface{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
		for range r.IntN(300) {
			var k table.Key
			k.Family = 4
			n := 4
			if r.IntN(3) == 0 {
				k.Family, n = 6, 16
			}
			for i := range n {
				k.A[i], k.B[i] = byte(r.IntN(4)), byte(r.IntN(256))
			}
			k.Proto = []uint8{tcp, udp, icmp}[r.IntN(3)]
			if k.Proto != icmp {
				k.APort, k.BPort = uint16(r.IntN(2000)), uint16(r.IntN(70000))
			}
			k.VLAN = uint16(r.IntN(5))
			if r.IntN(50) == 0 {
				k = table.Key{}
			}
			f := table.Flow{Key: k}
			for l := range 3 {
				if r.IntN(2) == 0 {
					fl := table.FlowLink{Link: l, Sent: stat(r.Uint64N(1 << 20)), Recv: stat(r.Uint64N(1 << 20))}
					f.Links = append(f.Links, fl)
					f.Sent.Add(&fl.Sent)
					f.Recv.Add(&fl.Recv)
				}
			}
			s.Flows = append(s.Flows, f)
		}
		wantSent, wantRecv := sum(s.Flows)
		for by := Service; by < numBy; by++ {
			cfg := Config{By: by, Services: testServices, Prefixes: Prefixes{uint8(1 + r.IntN(32)), uint8(1 + r.IntN(128))}}
			rows := Rows(s, table.View{}, cfg, nil)
			sent, recv := sum(rows)
			if sent != wantSent || recv != wantRecv {
				t.Fatalf("round %d, %v: sums %+v / %+v, want %+v / %+v", round, by, sent, recv, wantSent, wantRecv)
			}
			seen := map[table.Key]bool{}
			for i := range rows {
				if seen[rows[i].Key] {
					t.Fatalf("round %d, %v: key %+v twice", round, by, rows[i].Key)
				}
				seen[rows[i].Key] = true
			}
		}
	}
}

func TestServicePort(t *testing.T) {
	tests := []struct {
		name string
		k    table.Key
		want uint16
	}{
		{"client to https", key("10.0.0.1", 50000, "10.0.0.2", 443, tcp), 443},
		{"local https server", key("10.0.0.1", 443, "10.0.0.2", 50000, tcp), 443},
		{"nfs from a privileged port", key("10.0.0.1", 871, "10.0.0.2", 2049, tcp), 2049},
		{"named port above an unnamed lower one", key("10.0.0.1", 8080, "10.0.0.2", 1000, tcp), 8080},
		{"both named: the lower", key("10.0.0.1", 22, "10.0.0.2", 443, tcp), 22},
		{"neither named: the lower", key("10.0.0.1", 5201, "10.0.0.2", 40000, tcp), 5201},
		{"names are per protocol", key("10.0.0.1", 443, "10.0.0.2", 53, udp), 53}, // udp/443 has no name here
		{"same port", key("10.0.0.1", 123, "10.0.0.2", 123, udp), 123},
		{"no ports", key("10.0.0.1", 0, "10.0.0.2", 0, icmp), 0},
	}
	for _, tt := range tests {
		if got := ServicePort(&tt.k, testServices); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestParseBy(t *testing.T) {
	for i, name := range Names() {
		b, err := ParseBy(name)
		if err != nil || b != By(i) || b.String() != name {
			t.Errorf("ParseBy(%q) = %v, %v", name, b, err)
		}
	}
	for _, bad := range []string{"", "Host", "services", "vlan "} {
		if _, err := ParseBy(bad); err == nil || !strings.Contains(err.Error(), "use host, service, src-net, dst-net, vlan, link") {
			t.Errorf("ParseBy(%q): %v, want an error listing the values", bad, err)
		}
	}
	b := Host
	for range numBy {
		b = b.Next()
	}
	if b != Host {
		t.Errorf("cycling %d times ends at %v, want host", numBy, b)
	}
}

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		in   string
		want Prefixes
		err  string
	}{
		{"24,64", Prefixes{24, 64}, ""},
		{"/16,/48", Prefixes{16, 48}, ""},
		{"16,", Prefixes{16, 64}, ""},
		{",48", Prefixes{24, 48}, ""},
		{" 32 , 128 ", Prefixes{32, 128}, ""},
		{"1,1", Prefixes{1, 1}, ""},
		{"24", Prefixes{}, "expected IPV4,IPV6"},
		{"", Prefixes{}, "expected IPV4,IPV6"},
		{"33,64", Prefixes{}, "IPv4 prefix length must be 1 to 32"},
		{"0,64", Prefixes{}, "IPv4 prefix length must be 1 to 32"},
		{"24,129", Prefixes{}, "IPv6 prefix length must be 1 to 128"},
		{"24,x", Prefixes{}, "IPv6 prefix length must be 1 to 128"},
		{"24,64,1", Prefixes{}, "IPv6 prefix length"},
		{"-1,64", Prefixes{}, "IPv4 prefix length"},
	}
	for _, tt := range tests {
		got, err := ParsePrefixes(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("ParsePrefixes(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParsePrefixes(%q) error %v, want one containing %q", tt.in, err, tt.err)
		}
	}
}

// FuzzParsePrefixes: a value either parses to lengths in range, which
// String writes back as a value that parses to the same, or is refused
// with a message that quotes it.
func FuzzParsePrefixes(f *testing.F) {
	for _, s := range []string{"24,64", "/16,/48", ",48", "16,", "0,0", "33,129", "", "24", "a,b", "255,255"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefixes(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid prefix lengths ") {
				t.Fatalf("error %q does not say what is wrong", err)
			}
			return
		}
		if p.V4 < 1 || p.V4 > 32 || p.V6 < 1 || p.V6 > 128 {
			t.Fatalf("ParsePrefixes(%q) = %v: out of range", s, p)
		}
		q, err := ParsePrefixes(p.String())
		if err != nil || q != p {
			t.Fatalf("round trip of %q: %v → %q → %v, %v", s, p, p.String(), q, err)
		}
	})
}

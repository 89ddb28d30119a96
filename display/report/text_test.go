package report

import (
	"bytes"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/table"
)

// The reference tests below take iftop's own text output
// (testdata/iftop-text-capture.txt, and the excerpts of
// docs/iftop.md#direction-examples written out in the tests), read the
// numbers back out of it into a Snapshot whose window sums give exactly
// those rates, shuffle the flows, render, and compare with iftop's bytes.

// windowBytes converts a shown rate to the byte sum of a window of ns.
func windowBytes(t *testing.T, shown string, ns int64) uint64 {
	mult, bits, num := displaytest.UnitScale(t, shown)
	perSec := num * mult
	if bits {
		perSec /= 8
	}
	return uint64(math.Round(perSec * float64(ns) / 1e9))
}

// perSecond converts a shown rate to bytes per second.
func perSecond(t *testing.T, shown string) float64 {
	mult, bits, num := displaytest.UnitScale(t, shown)
	if bits {
		return num * mult / 8
	}
	return num * mult
}

// totalBytes converts a shown cumulative value to bytes.
func totalBytes(t *testing.T, shown string) uint64 {
	mult, _, num := displaytest.UnitScale(t, shown)
	return uint64(math.Round(num * mult))
}

// parseHost reads a host field back: " * " is zero, "[v6]:port",
// "v4:port", or a bare address.
func parseHost(t *testing.T, field string) (addr netip.Addr, port uint16) {
	t.Helper()
	f := strings.TrimSpace(field)
	if f == "*" {
		return netip.Addr{}, 0
	}
	if ap, err := netip.ParseAddrPort(f); err == nil {
		return ap.Addr(), ap.Port()
	}
	return netip.MustParseAddr(f), 0
}

func setWindows(t *testing.T, st *table.Stat, fields []string, win [3]int64) {
	for w := range 3 {
		st.Win[w] = windowBytes(t, fields[w], win[w])
	}
	if len(fields) > 3 {
		st.Bytes = totalBytes(t, fields[3])
		st.Packets = st.Bytes/100 + 1
	}
}

// snapshotFromText builds a snapshot from lines of an iftop text report.
func snapshotFromText(t *testing.T, text string, win [3]int64) *table.Snapshot {
	t.Helper()
	s := &table.Snapshot{Time: 1_700_000_006_000_000_000, Start: 1_700_000_000_000_000_000, Window: win}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case len(l) == TextLineWidth && strings.HasSuffix(l[:48], " =>"):
			next := lines[i+1]
			i++
			a, ap := parseHost(t, l[5:45])
			b, bp := parseHost(t, next[5:45])
			var proto uint8 = displaytest.ICMP
			switch {
			case ap != 0 || bp != 0:
				proto = displaytest.TCP
			case a.Is6():
				proto = 58
			}
			k := displaytest.MkKey(a.String(), ap, b.String(), bp, proto)
			var f table.Flow
			f.Key = k
			setWindows(t, &f.Sent, strings.Fields(l[48:]), win)
			setWindows(t, &f.Recv, strings.Fields(next[48:]), win)
			s.Flows = append(s.Flows, f)
		case strings.HasPrefix(l, "Total send rate:"):
			setWindows(t, &s.TX, strings.Fields(l[48:]), win)
		case strings.HasPrefix(l, "Total receive rate:"):
			setWindows(t, &s.RX, strings.Fields(l[48:]), win)
		case strings.HasPrefix(l, "Peak rate"):
			v := strings.Fields(l[48:])
			s.Peak = table.Peak{Sent: perSecond(t, v[0]), Recv: perSecond(t, v[1]), Total: perSecond(t, v[2])}
		case strings.HasPrefix(l, "Cumulative"):
			v := strings.Fields(l[48:])
			s.TX.Bytes, s.RX.Bytes = totalBytes(t, v[0]), totalBytes(t, v[1])
		}
	}
	// The report must not depend on the order flows arrive in.
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(s.Flows), func(i, j int) { s.Flows[i], s.Flows[j] = s.Flows[j], s.Flows[i] })
	for i := range s.Flows {
		s.Counted += s.Flows[i].Sent.Packets + s.Flows[i].Recv.Packets
	}
	s.Packets = s.Counted
	return s
}

// TestTextIftopCapture reproduces iftop's real capture byte for byte:
// iftop -i fva -t -s 5 -n -N -P -L 10.
func TestTextIftopCapture(t *testing.T) {
	want, err := os.ReadFile("testdata/iftop-text-capture.txt")
	if err != nil {
		t.Fatal(err)
	}
	s := snapshotFromText(t, string(want), [3]int64{2e9, 6e9, 6e9})
	if len(s.Flows) != 9 {
		t.Fatalf("read %d flows from the capture, want 9", len(s.Flows))
	}
	o := &TextOptions{View: table.View{Ports: table.PortsOn}, NumericPorts: true, Limit: 10}
	got := AppendHeader(nil, "Listening on", "fva")
	got = AppendText(got, s, o)
	if !bytes.HasPrefix(got, want) {
		t.Fatalf("report differs from iftop's:\n%s", displaytest.LineDiff(string(want), string(got[:min(len(got), len(want))])))
	}
	if rest, tail := got[len(want):], appendCaptureLines(nil, &s.Capture); !bytes.Equal(rest, tail) {
		t.Errorf("after iftop's block got %q, want only the capture lines %q", rest, tail)
	}
}

// TestTextIftopHidden reproduces iftop's text output after s and d: both hosts
// hidden, ports off, so each address family collapses to one " * " pair.
// The flows are split so that aggregation must add them back up.
func TestTextIftopHidden(t *testing.T) {
	const want = `   # Host name (port/service if enabled)            last 2s   last 10s   last 40s cumulative
--------------------------------------------------------------------------------------------
   1  *                                       =>     6.67Mb     4.71Mb     4.71Mb     2.36MB
      *                                       <=     10.6Kb     7.64Kb     7.64Kb     3.82KB
   2  *                                       =>     82.8Kb     58.2Kb     58.2Kb     29.1KB
      *                                       <=     2.08Mb     1.56Mb     1.56Mb      798KB
--------------------------------------------------------------------------------------------
`
	win := [3]int64{2e9, 4e9, 4e9}
	// Two rows of totals, each split over two real flows.
	s := &table.Snapshot{Window: win}
	split := func(v4 bool, sent, recv []string) {
		var whole table.Flow
		setWindows(t, &whole.Sent, sent, win)
		setWindows(t, &whole.Recv, recv, win)
		keys := [2]table.Key{
			displaytest.MkKey("10.99.0.1", 43880, "10.99.0.2", 5201, displaytest.TCP),
			displaytest.MkKey("10.99.0.1", 40000, "10.99.0.200", 80, displaytest.UDP),
		}
		if !v4 {
			keys = [2]table.Key{
				displaytest.MkKey("fd00:99::1", 39718, "fd00:99::2", 5202, displaytest.TCP),
				displaytest.MkKey("fd00:99::1", 55511, "fd00:99::abcd", 443, displaytest.UDP),
			}
		}
		a, b := table.Flow{Key: keys[0]}, table.Flow{Key: keys[1]}
		for _, d := range [2]struct{ whole, a, b *table.Stat }{{&whole.Sent, &a.Sent, &b.Sent}, {&whole.Recv, &a.Recv, &b.Recv}} {
			for w := range 3 {
				d.a.Win[w] = d.whole.Win[w] / 3
				d.b.Win[w] = d.whole.Win[w] - d.a.Win[w]
			}
			d.a.Bytes = d.whole.Bytes / 3
			d.b.Bytes = d.whole.Bytes - d.a.Bytes
		}
		s.Flows = append(s.Flows, b, a)
	}
	split(false, strings.Fields("82.8Kb 58.2Kb 58.2Kb 29.1KB"), strings.Fields("2.08Mb 1.56Mb 1.56Mb 798KB"))
	split(true, strings.Fields("6.67Mb 4.71Mb 4.71Mb 2.36MB"), strings.Fields("10.6Kb 7.64Kb 7.64Kb 3.82KB"))

	got := AppendText(nil, s, &TextOptions{View: table.View{Ports: table.PortsOff, HideSrc: true, HideDst: true}})
	if !bytes.HasPrefix(got, []byte(want)) {
		t.Errorf("report differs from iftop's:\n%s", displaytest.LineDiff(want, string(got[:min(len(got), len(want))])))
	}
}

// TestTextIftopDirectionExamples reproduces the row layout of iftop's
// direction examples (docs/iftop.md#direction-examples) (iftop -t with -P -N
// -n).
func TestTextIftopDirectionExamples(t *testing.T) {
	examples := map[string]string{
		"net filters": `   1 10.99.0.2                                =>     6.09Kb     4.57Kb     4.57Kb     2.29KB
     10.99.0.1                                <=     5.98Mb     4.48Mb     4.48Mb     2.24MB
   2 fd00:99::2                               =>     2.00Mb     1.50Mb     1.50Mb      769KB
     fd00:99::1                               <=     3.38Kb     2.53Kb     2.53Kb     1.27KB
--------------------------------------------------------------------------------------------
Total send rate:                                     2.01Mb     1.51Mb     1.51Mb
Total receive rate:                                  5.98Mb     4.48Mb     4.48Mb
`,
		"third party": `   1 10.99.1.5:1111                           =>      795Kb      594Kb      594Kb      297KB
     10.99.2.3:2222                           <=      176Kb      132Kb      132Kb     65.9KB
   2 10.99.0.1:32831                          =>      469Kb      352Kb      352Kb      176KB
     10.99.0.200:80                           <=         0b         0b         0b         0B
   3 10.99.0.255:4444                         =>         0b         0b         0b         0B
     10.99.0.77:3333                          <=      254Kb      190Kb      190Kb     94.8KB
`,
		"loopback": `   1 127.0.0.1:59928                          =>     3.00Mb     2.34Mb     2.34Mb     1.75MB
     127.0.0.1:5301                           <=         0b         0b         0b         0B
   2 127.0.0.1:5301                           =>     3.66Kb     2.78Kb     2.78Kb     2.08KB
     127.0.0.1:59928                          <=         0b         0b         0b         0B
--------------------------------------------------------------------------------------------
Total send rate:                                     3.01Mb     2.34Mb     2.34Mb
Total receive rate:                                      0b         0b         0b
`,
		"multicast": `   1 10.99.0.230:2000                         =>         0b         0b         0b         0B
     10.99.0.240:1000                         <=      476Kb      356Kb      356Kb      178KB
   2 10.99.0.252:5353                         =>      324Kb      242Kb      242Kb      121KB
     224.0.0.251:5353                         <=         0b         0b         0b         0B
--------------------------------------------------------------------------------------------
Total send rate:                                         0b         0b         0b
Total receive rate:                                   800Kb      598Kb      598Kb
`,
		"link-local": `   1 fe80::1cd2:5fff:fe46:4da0                =>      143Kb      106Kb      106Kb     53.2KB
     fe80::94ef:9aff:fea1:6fe5                <=      143Kb      106Kb      106Kb     53.2KB
   2 fd00:99::1                               =>         0b         0b         0b         0B
     fd00:99::abcd                            <=     83.4Kb     62.6Kb     62.6Kb     31.3KB
`,
		"short prefix": `   1 fd00:99::1                               =>      422Kb      316Kb      316Kb      158KB
     fd01::5                                  <=     37.2Kb     27.9Kb     27.9Kb     14.0KB
`,
	}
	for name, want := range examples {
		t.Run(name, func(t *testing.T) {
			s := snapshotFromText(t, want, [3]int64{2e9, 8e9, 8e9})
			got := string(AppendText(nil, s, &TextOptions{View: table.View{Ports: table.PortsOn}, NumericPorts: true}))
			if !strings.Contains(got, want) {
				t.Errorf("report lacks iftop's lines\nwant:\n%s\ngot:\n%s", want, got)
			}
		})
	}
}

func TestTextGolden(t *testing.T) {
	tests := []struct {
		name string
		o    TextOptions
	}{
		{"text_default", TextOptions{}},
		{"text_ports_names", TextOptions{View: table.View{Ports: table.PortsOn}, Namer: displaytest.HostileNamer{}, Services: naming.BuiltinServices()}},
		{"text_ports_numeric_limit3", TextOptions{View: table.View{Ports: table.PortsOn}, NumericPorts: true, Limit: 3}},
		{"text_bytes_by_source", TextOptions{View: table.View{Ports: table.PortsOn}, Bytes: true, Sort: display.SortSource, Namer: displaytest.HostileNamer{}, Services: naming.BuiltinServices(), Limit: -1}},
		{"text_hidden_src_dest_ports", TextOptions{View: table.View{Ports: table.PortsDest, HideSrc: true}, Sort: display.Sort2s, Services: naming.BuiltinServices()}},
		{"text_by_destination_40s", TextOptions{View: table.View{Ports: table.PortsSource}, Sort: display.SortDest, NumericPorts: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := displaytest.FixtureSnapshot()
			var out bytes.Buffer
			if err := writeText(&out, s, &tt.o); err != nil {
				t.Fatal(err)
			}
			checkTextShape(t, out.Bytes())
			displaytest.Golden(t, tt.name, out.Bytes())
		})
	}
}

// checkTextShape checks what holds for every report: only printable ASCII,
// pair lines 92 wide, summary lines 81 wide.
func checkTextShape(t *testing.T, out []byte) {
	t.Helper()
	for i, l := range strings.Split(string(out), "\n") {
		for _, c := range []byte(l) {
			if c < 0x20 || c >= 0x7f {
				t.Fatalf("line %d has byte %#x: %q", i+1, c, l)
			}
		}
		switch {
		case strings.HasPrefix(l, "Total "), strings.HasPrefix(l, "Peak rate"), strings.HasPrefix(l, "Cumulative"),
			strings.HasPrefix(l, "Send"), strings.HasPrefix(l, "Receive"):
			if len(l) != 81 {
				t.Errorf("line %d is %d wide, want 81: %q", i+1, len(l), l)
			}
		case strings.HasPrefix(l, "Capture:"), strings.HasPrefix(l, "Folded:"), strings.HasPrefix(l, "Interface "),
			strings.HasPrefix(l, "Link "), l == "":
		default:
			if len(l) != TextLineWidth {
				t.Errorf("line %d is %d wide, want %d: %q", i+1, len(l), TextLineWidth, l)
			}
		}
	}
}

func TestReporterReuse(t *testing.T) {
	var rep Reporter
	big, small := displaytest.BigSnapshot(2000), displaytest.FixtureSnapshot()
	o := &TextOptions{View: table.View{Ports: table.PortsOn}, Limit: 5}
	for _, s := range []*table.Snapshot{big, small, big} {
		var out bytes.Buffer
		if err := rep.WriteText(&out, s, o); err != nil {
			t.Fatal(err)
		}
		if want := AppendText(nil, s, o); !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("reused Reporter wrote:\n%s\nwant:\n%s", out.Bytes(), want)
		}
	}
}

func TestTextLimits(t *testing.T) {
	s := displaytest.FixtureSnapshot()
	for _, tt := range []struct{ limit, pairs int }{{0, 8}, {-1, 8}, {2, 2}, {1, 1}} {
		s.Flows = append(displaytest.FixtureSnapshot().Flows, displaytest.SyntheticFlows(7)...) // 15 rows
		if tt.limit == 0 {
			tt.pairs = DefaultLimit
		} else if tt.limit < 0 {
			tt.pairs = len(s.Flows)
		}
		out := string(AppendText(nil, s, &TextOptions{View: table.View{Ports: table.PortsOn}, Limit: tt.limit}))
		if got := strings.Count(out, " <= "); got != tt.pairs {
			t.Errorf("Limit %d: %d pairs, want %d", tt.limit, got, tt.pairs)
		}
	}
}

func TestCaptureLines(t *testing.T) {
	c := table.Capture{Packets: 12345, Undecodable: 3, NotIP: 12}
	want := "Capture: 12345 packets, 0 dropped by the kernel, 3 undecodable, 12 not IP, 0 filtered, 0 ignored\n\n"
	if got := string(appendCaptureLines(nil, &c)); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	c = table.Capture{Packets: 5, Dropped: 1, Filtered: 2, Ignored: 3, Folded: 1}
	want = "Capture: 5 packets, 1 dropped by the kernel, 0 undecodable, 0 not IP, 2 filtered, 3 ignored\n" +
		"Folded: 1 flow into the (other) row (flow table full)\n\n"
	if got := string(appendCaptureLines(nil, &c)); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	c = table.Capture{Packets: 5, Outliers: 2}
	want = "Capture: 5 packets, 0 dropped by the kernel, 0 undecodable, 0 not IP, 0 filtered, 0 ignored\n" +
		"Timestamps: 2 packets out of line with their neighbours, counted at the capture's time\n\n"
	if got := string(appendCaptureLines(nil, &c)); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHeader(t *testing.T) {
	if got, want := string(AppendHeader(nil, "Listening on", "fvlongname0123")), "Listening on fvlongname0123\n"; got != want {
		t.Errorf("got %q, want %q (no 19-character cut in text mode)", got, want)
	}
	if got, want := string(AppendHeader(nil, "Listening on", "eth0,\x1b[2Jwlan0")), "Listening on eth0,?[2Jwlan0\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := string(AppendHeader(nil, "Reading", "a\x1b]0;title\x07.pcap")), "Reading a?]0;title?.pcap\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

func TestWriteErrors(t *testing.T) {
	werr := os.ErrClosed
	s := displaytest.FixtureSnapshot()
	if err := writeText(failWriter{werr}, s, nil); err != werr {
		t.Errorf("writeText error = %v, want %v", err, werr)
	}
	if err := writeJSON(failWriter{werr}, s, nil); err != werr {
		t.Errorf("writeJSON error = %v, want %v", err, werr)
	}
}

func BenchmarkWriteText100k(b *testing.B) {
	s := displaytest.BigSnapshot(100_000)
	o := &TextOptions{View: table.View{Ports: table.PortsOn}, Services: naming.BuiltinServices()}
	var rep Reporter
	var w byteCounter
	b.ReportAllocs()
	for b.Loop() {
		if err := rep.WriteText(&w, s, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(s.Flows)), "ns/flow")
}

func TestTextReportSaysInterfaceDown(t *testing.T) {
	s := &table.Snapshot{Interfaces: []table.Interface{{Name: "eth0"}, {Name: "eth1", Down: true}}}
	got := string(AppendText(nil, s, &TextOptions{}))
	if !strings.Contains(got, "Interface eth1 is down or gone") || strings.Contains(got, "Interface eth0") {
		t.Fatalf("report:\n%s", got)
	}
}

// TestTextLinks: a block per link after the totals, with % of speed only
// where the speed is known; none for interfaces with no link information
// (a file, the fixture as it is).
func TestTextLinks(t *testing.T) {
	s := displaytest.FixtureSnapshot()
	plain := string(AppendText(nil, s, &TextOptions{}))
	if strings.Contains(plain, "Link ") {
		t.Errorf("a block for links with no link information:\n%s", plain)
	}
	s.Interfaces = slices.Clone(s.Interfaces)
	s.Interfaces[0].Link = table.Link{Speed: 100_000_000, Master: "bond0", State: "active"}
	s.Interfaces[1].Link = table.Link{Master: "bond0", State: "down"}
	var out bytes.Buffer
	if err := writeText(&out, s, &TextOptions{}); err != nil {
		t.Fatal(err)
	}
	checkTextShape(t, out.Bytes())
	displaytest.Golden(t, "text_links", out.Bytes())
	got := out.String()
	if !strings.HasPrefix(got, plain) {
		t.Errorf("the link blocks are not after the whole report without them")
	}
	if strings.Count(got, "% of speed") != 2 || !strings.Contains(got, "Link wlan0 of bond0: down, speed unknown\n") {
		t.Errorf("%% lines for the link of known speed only:\n%s", got)
	}
}

package report

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/table"
)

// The report decoded with exact types: a field of the wrong JSON type, or a
// fraction where an integer belongs, fails the decode.
type jsonStat struct {
	Rate2s  *uint64 `json:"rate_2s"`
	Rate10s *uint64 `json:"rate_10s"`
	Rate40s *uint64 `json:"rate_40s"`
	Bytes   *uint64 `json:"bytes"`
	Packets *uint64 `json:"packets"`
}

type jsonCapture struct {
	Packets, Bytes, Dropped, Undecodable uint64
	NotIP                                uint64 `json:"not_ip"`
	Filtered, Ignored, Counted, Folded   uint64
	Outliers                             uint64
}

type jsonReport struct {
	Time      string  `json:"time"`
	Start     string  `json:"start"`
	Interface *string `json:"interface"`
	Flows     []struct {
		Src     *string   `json:"src"`
		Dst     *string   `json:"dst"`
		Family  *uint8    `json:"family"`
		SrcPort *uint16   `json:"src_port"`
		DstPort *uint16   `json:"dst_port"`
		Proto   *string   `json:"proto"`
		VLAN    *uint16   `json:"vlan"`
		Sent    *jsonStat `json:"sent"`
		Recv    *jsonStat `json:"recv"`
		Links   []struct {
			Name string    `json:"name"`
			Sent *jsonStat `json:"sent"`
			Recv *jsonStat `json:"recv"`
		} `json:"links"`
	} `json:"flows"`
	Totals struct {
		Sent *jsonStat `json:"sent"`
		Recv *jsonStat `json:"recv"`
		Peak struct {
			Sent, Recv, Total *uint64
		} `json:"peak"`
	} `json:"totals"`
	Capture    *jsonCapture `json:"capture"`
	Interfaces []struct {
		Name    string          `json:"name"`
		Down    *bool           `json:"down"`
		Speed   json.RawMessage `json:"speed"`
		Master  json.RawMessage `json:"master"`
		State   json.RawMessage `json:"state"`
		Sent    *jsonStat       `json:"sent"`
		Recv    *jsonStat       `json:"recv"`
		Capture jsonCapture     `json:"capture"`
	} `json:"interfaces"`
	Bonds []jsonBond `json:"bonds"`
}

func decodeReport(t *testing.T, line []byte) jsonReport {
	t.Helper()
	if !bytes.HasSuffix(line, []byte("}\n")) || bytes.Count(line, []byte("\n")) != 1 {
		t.Fatalf("not one NDJSON line: %q", line)
	}
	if !json.Valid(line) {
		t.Fatalf("invalid JSON: %s", line)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var r jsonReport
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decode: %v\n%s", err, line)
	}
	return r
}

func checkStat(t *testing.T, what string, s *table.Snapshot, got *jsonStat, want *table.Stat) {
	t.Helper()
	if got == nil || got.Rate2s == nil || got.Rate10s == nil || got.Rate40s == nil || got.Bytes == nil || got.Packets == nil {
		t.Fatalf("%s: missing fields: %+v", what, got)
	}
	rates := [3]uint64{*got.Rate2s, *got.Rate10s, *got.Rate40s}
	for w := range 3 {
		exact := float64(want.Win[w]) * 8e9 / float64(s.Window[w])
		if math.Abs(float64(rates[w])-exact) > 0.5 {
			t.Errorf("%s: rate window %d = %d bit/s, want %v rounded", what, w, rates[w], exact)
		}
	}
	if *got.Bytes != want.Bytes || *got.Packets != want.Packets {
		t.Errorf("%s: bytes, packets = %d, %d; want %d, %d", what, *got.Bytes, *got.Packets, want.Bytes, want.Packets)
	}
}

func TestJSONReport(t *testing.T) {
	s := displaytest.FixtureSnapshot()
	var out bytes.Buffer
	if err := writeJSON(&out, s, &JSONOptions{View: table.View{Ports: table.PortsOn}}); err != nil {
		t.Fatal(err)
	}
	r := decodeReport(t, out.Bytes())

	if tm, err := time.Parse(time.RFC3339Nano, r.Time); err != nil || tm.UnixNano() != s.Time || !strings.HasSuffix(r.Time, "Z") {
		t.Errorf("time = %q (%v), want %d in UTC", r.Time, err, s.Time)
	}
	if r.Time != "2023-11-14T22:13:44.25Z" || r.Start != "2023-11-14T22:13:20Z" {
		t.Errorf("time, start = %q, %q; want a fraction only when non-zero", r.Time, r.Start)
	}
	if r.Interface == nil || *r.Interface != "eth0,wlan0" {
		t.Errorf("interface = %v, want the names joined", r.Interface)
	}
	if len(r.Flows) != len(s.Flows) {
		t.Fatalf("%d flows, want all %d", len(r.Flows), len(s.Flows))
	}
	// Sorted by the 10 s column by default, like the text report.
	rows := s.Rows(table.View{Ports: table.PortsOn}, nil)
	display.SortRows(rows, display.Sort10s, table.TwoLine, nil)
	for i, f := range r.Flows {
		k := rows[i].Key
		if k.IsOther() {
			if *f.Src != "other" || *f.Dst != "other" || f.Family != nil || f.SrcPort != nil || f.DstPort != nil || f.Proto != nil {
				t.Errorf("other row: %+v", f)
			}
		} else {
			if f.Src == nil || *f.Src != k.AAddr().String() || f.Dst == nil || *f.Dst != k.BAddr().String() {
				t.Errorf("flow %d: src, dst = %v, %v; want %v, %v", i, f.Src, f.Dst, k.AAddr(), k.BAddr())
			}
			if f.Family == nil || *f.Family != k.Family {
				t.Errorf("flow %d: family %v, want %d", i, f.Family, k.Family)
			}
			if (k.APort == 0) != (f.SrcPort == nil) || (f.SrcPort != nil && *f.SrcPort != k.APort) {
				t.Errorf("flow %d: src_port %v, want %d (null for 0)", i, f.SrcPort, k.APort)
			}
			if (k.BPort == 0) != (f.DstPort == nil) || (f.DstPort != nil && *f.DstPort != k.BPort) {
				t.Errorf("flow %d: dst_port %v, want %d (null for 0)", i, f.DstPort, k.BPort)
			}
			if f.Proto == nil || *f.Proto != naming.ProtoName(k.Proto) {
				t.Errorf("flow %d: proto %v, want %q", i, f.Proto, naming.ProtoName(k.Proto))
			}
		}
		checkStat(t, "flow sent", s, f.Sent, &rows[i].Sent)
		checkStat(t, "flow recv", s, f.Recv, &rows[i].Recv)
	}
	checkStat(t, "totals sent", s, r.Totals.Sent, &s.TX)
	checkStat(t, "totals recv", s, r.Totals.Recv, &s.RX)
	p := r.Totals.Peak
	if p.Sent == nil || *p.Sent != display.BitsPerSecond(s.Peak.Sent) || *p.Recv != display.BitsPerSecond(s.Peak.Recv) || *p.Total != display.BitsPerSecond(s.Peak.Total) {
		t.Errorf("peak = %+v, want bits/s of %+v", p, s.Peak)
	}
	c := s.Capture
	want := jsonCapture{c.Packets, c.Bytes, c.Dropped, c.Undecodable, c.NotIP, c.Filtered, c.Ignored, c.Counted, c.Folded, c.Outliers}
	if r.Capture == nil || *r.Capture != want {
		t.Errorf("capture = %+v, want %+v", r.Capture, want)
	}
	if len(r.Interfaces) != 2 {
		t.Fatalf("%d interfaces, want 2", len(r.Interfaces))
	}
	for i, ifc := range r.Interfaces {
		si := &s.Interfaces[i]
		if ifc.Name != si.Name || ifc.Down == nil || *ifc.Down != si.Down || ifc.Capture.Packets != si.Capture.Packets || ifc.Capture.Dropped != si.Capture.Dropped {
			t.Errorf("interface %d = %+v, want %+v", i, ifc, si)
		}
		if string(ifc.Speed) != "null" || string(ifc.Master) != "null" || string(ifc.State) != "null" {
			t.Errorf("interface %d: speed %s, master %s, state %s; want null for a link not known", i, ifc.Speed, ifc.Master, ifc.State)
		}
		checkStat(t, "interface sent", s, ifc.Sent, &si.TX)
		checkStat(t, "interface recv", s, ifc.Recv, &si.RX)
	}
}

func TestJSONViewsAndLimits(t *testing.T) {
	s := displaytest.FixtureSnapshot()
	tests := []struct {
		name  string
		o     JSONOptions
		check func(t *testing.T, r jsonReport)
	}{
		{"ports off: no ports, no proto", JSONOptions{}, func(t *testing.T, r jsonReport) {
			for _, f := range r.Flows {
				if f.SrcPort != nil || f.DstPort != nil || f.Proto != nil {
					t.Errorf("ports off but %v %v %v", f.SrcPort, f.DstPort, f.Proto)
				}
			}
		}},
		{"hidden source is null", JSONOptions{View: table.View{Ports: table.PortsDest, HideSrc: true}}, func(t *testing.T, r jsonReport) {
			for _, f := range r.Flows {
				if f.Src != nil && *f.Src != "other" {
					t.Errorf("src = %q, want null", *f.Src)
				}
				if f.SrcPort != nil {
					t.Errorf("src_port = %d with destination ports only", *f.SrcPort)
				}
				if *f.Dst != "other" && f.Proto == nil {
					t.Error("proto must stay with destination ports")
				}
			}
		}},
		{"limit", JSONOptions{Limit: 2, View: table.View{Ports: table.PortsOn}}, func(t *testing.T, r jsonReport) {
			if len(r.Flows) != 2 || *r.Flows[0].Src != "10.99.0.1" || *r.Flows[0].SrcPort != 57680 {
				t.Errorf("limit 2: %d flows, first %v", len(r.Flows), r.Flows[0].Src)
			}
		}},
		{"sort by destination", JSONOptions{Sort: display.SortDest}, func(t *testing.T, r jsonReport) {
			var dsts []string
			for _, f := range r.Flows {
				dsts = append(dsts, *f.Dst)
			}
			want := "other 10.66.6.6 10.99.0.10 10.99.0.2 10.99.0.200 fd00:99::1 fd00:99::abcd"
			if strings.Join(dsts, " ") != want {
				t.Errorf("order %v, want %s", dsts, want)
			}
		}},
		{"interface option wins", JSONOptions{Interface: "capture.pcap"}, func(t *testing.T, r jsonReport) {
			if *r.Interface != "capture.pcap" {
				t.Errorf("interface = %q", *r.Interface)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, decodeReport(t, AppendJSON(nil, s, &tt.o)))
		})
	}
}

func TestJSONEdgeValues(t *testing.T) {
	max := uint64(math.MaxUint64)
	s := &table.Snapshot{
		Time:   0,
		Window: [3]int64{0, -1, 1},
		Flows: []table.Flow{{
			Key:  displaytest.MkKey("::ffff:10.0.0.1", 1, "fe80::1", 65535, 200),
			Sent: table.Stat{Win: [3]uint64{5, 5, max}, Bytes: max, Packets: max},
		}},
		Peak:       table.Peak{Sent: math.NaN(), Recv: -1, Total: math.Inf(1)},
		Capture:    table.Capture{Packets: max},
		Interfaces: []table.Interface{{Name: "we\"ird\\\x01\u2028\xffname"}},
	}
	line := AppendJSON(nil, s, &JSONOptions{View: table.View{Ports: table.PortsOn}})
	r := decodeReport(t, line)
	f := r.Flows[0]
	if *f.Src != "::ffff:10.0.0.1" || *f.Dst != "fe80::1" || *f.SrcPort != 1 || *f.DstPort != 65535 || *f.Proto != "200" {
		t.Errorf("flow = %s %s %d %d %s", *f.Src, *f.Dst, *f.SrcPort, *f.DstPort, *f.Proto)
	}
	if *f.Sent.Rate2s != 0 || *f.Sent.Rate10s != 0 || *f.Sent.Rate40s != math.MaxUint64 || *f.Sent.Bytes != max {
		t.Errorf("edge rates = %d %d %d bytes %d", *f.Sent.Rate2s, *f.Sent.Rate10s, *f.Sent.Rate40s, *f.Sent.Bytes)
	}
	if *r.Totals.Peak.Sent != 0 || *r.Totals.Peak.Recv != 0 || *r.Totals.Peak.Total != math.MaxUint64 {
		t.Errorf("peak = %d %d %d", *r.Totals.Peak.Sent, *r.Totals.Peak.Recv, *r.Totals.Peak.Total)
	}
	if got, want := *r.Interface, "we\"ird\\\x01\u2028\ufffdname"; got != want {
		t.Errorf("interface = %q, want %q", got, want)
	}
	if r.Time != "1970-01-01T00:00:00Z" {
		t.Errorf("time = %q", r.Time)
	}
	if bytes.Contains(line, []byte("\u2028")) || bytes.ContainsAny(line, "\x01\xff") {
		t.Errorf("raw control or separator bytes in %q", line)
	}
}

func TestJSONEmpty(t *testing.T) {
	r := decodeReport(t, AppendJSON(nil, &table.Snapshot{}, nil))
	if r.Flows == nil || len(r.Flows) != 0 || r.Interfaces != nil || *r.Interface != "" {
		t.Errorf("empty snapshot: %+v", r)
	}
}

// TestJSONChunkedWrites checks that the streamed report of a large table,
// written in many chunks by a reused Reporter, is the same line AppendJSON
// builds.
func TestJSONChunkedWrites(t *testing.T) {
	s := displaytest.BigSnapshot(3000)
	o := &JSONOptions{View: table.View{Ports: table.PortsOn}, Sort: display.Sort2s}
	want := AppendJSON(nil, s, o)
	var rep Reporter
	for range 2 {
		var cw countingWriter
		if err := rep.WriteJSON(&cw, s, o); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(cw.Bytes(), want) {
			t.Fatal("streamed report differs from AppendJSON")
		}
		if cw.writes < 2 || cw.max > jsonChunk+jsonFlowSize*4 {
			t.Errorf("%d writes, largest %d bytes: want chunks of about %d", cw.writes, cw.max, jsonChunk)
		}
	}
	if r := decodeReport(t, want); len(r.Flows) != 3000 {
		t.Errorf("%d flows, want 3000", len(r.Flows))
	}
}

type countingWriter struct {
	bytes.Buffer
	writes, max int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	c.max = max(c.max, len(p))
	return c.Buffer.Write(p)
}

func TestJSONGolden(t *testing.T) {
	s := displaytest.FixtureSnapshot()
	s.Flows = slices.Clone(s.Flows[:3])
	// The first flow tagged and split over both links, as the table
	// makes them when it captures several.
	f := &s.Flows[0]
	f.Key.VLAN = 100
	half := func(st table.Stat) table.Stat {
		st.Bytes, st.Packets = st.Bytes/2, st.Packets/2
		for w := range st.Win {
			st.Win[w] /= 2
		}
		return st
	}
	rest := func(st, h table.Stat) table.Stat {
		st.Bytes, st.Packets = st.Bytes-h.Bytes, st.Packets-h.Packets
		for w := range st.Win {
			st.Win[w] -= h.Win[w]
		}
		return st
	}
	hs, hr := half(f.Sent), half(f.Recv)
	f.Links = []table.FlowLink{{Link: 0, Sent: hs, Recv: hr}, {Link: 1, Sent: rest(f.Sent, hs), Recv: rest(f.Recv, hr)}}
	displaytest.Golden(t, "json_small", AppendJSON(nil, s, &JSONOptions{View: table.View{Ports: table.PortsOn}}))
}

func BenchmarkWriteJSON100k(b *testing.B) {
	s := displaytest.BigSnapshot(100_000)
	o := &JSONOptions{View: table.View{Ports: table.PortsOn}}
	var rep Reporter
	var w byteCounter
	b.ReportAllocs()
	for b.Loop() {
		w = 0
		if err := rep.WriteJSON(&w, s, o); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(w))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(s.Flows)), "ns/flow")
}

// byteCounter is a Writer that only counts.
type byteCounter int

func (c *byteCounter) Write(p []byte) (int, error) {
	*c += byteCounter(len(p))
	return len(p), nil
}

// FuzzJSONString checks that any interface name comes out as a valid JSON
// string that decodes to the name, with invalid UTF-8 bytes as U+FFFD.
func FuzzJSONString(f *testing.F) {
	f.Add("eth0")
	f.Add("we\"ird\\\x01\u2028\xffname")
	f.Add("\xed\xa0\x80\xc2")
	f.Fuzz(func(t *testing.T, s string) {
		enc := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("%q encodes to invalid JSON %q: %v", s, enc, err)
		}
		var want strings.Builder
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			want.WriteRune(r) // RuneError for an invalid byte
			i += size
		}
		if got != want.String() {
			t.Fatalf("%q decodes to %q, want %q", s, got, want.String())
		}
		if bytes.ContainsAny(enc, "\u2028\u2029") {
			t.Fatalf("raw line separator in %q", enc)
		}
	})
}

// TestJSONFlowLinks: from a table that captures three links, each row
// says its VLAN and its part on each link; the parts add up to the row,
// and each link's parts over all rows to the link's own totals, under
// every view (rows that merge flows merge their parts).
func TestJSONFlowLinks(t *testing.T) {
	f := table.NewFlows(table.FlowsConfig{Interfaces: []string{"eth0", "eth1", "eth2"}})
	key := func(a, b byte, port uint16, vlan uint16) table.Key {
		k := table.Key{Family: 4, Proto: 17, APort: 4000, BPort: port, VLAN: vlan}
		k.A[0], k.A[3], k.B[0], k.B[3] = 10, a, 10, b
		return k
	}
	type part struct {
		link       int
		k          table.Key
		sent, recv int // packets of 100 B
	}
	parts := []part{
		{0, key(1, 2, 53, 0), 3, 1},
		{1, key(1, 2, 53, 0), 5, 0}, // split over eth0 and eth1
		{2, key(1, 2, 53, 7), 2, 2}, // the same on VLAN 7: another row
		{1, key(1, 3, 80, 0), 0, 4},
		{2, key(1, 2, 54, 0), 1, 0}, // merges with the first under -P off
	}
	for _, p := range parts {
		d := table.NewDelta(0)
		d.Iface = p.link
		for range p.sent {
			d.Add(&p.k, table.DirOut, true, 100)
		}
		for range p.recv {
			d.Add(&p.k, table.DirIn, false, 100)
		}
		f.Merge(d)
	}
	s := f.Close(2e9)
	for _, v := range []table.View{{Ports: table.PortsOn}, {}, {HideDst: true}} {
		r := decodeReport(t, AppendJSON(nil, s, &JSONOptions{View: v}))
		var perLink [3]uint64
		vlans := 0
		for _, fl := range r.Flows {
			if fl.VLAN != nil {
				vlans++
				if *fl.VLAN != 7 || *fl.Sent.Bytes != 200 || len(fl.Links) != 1 || fl.Links[0].Name != "eth2" {
					t.Errorf("%+v: tagged row: vlan %d, sent %d, links %+v", v, *fl.VLAN, *fl.Sent.Bytes, fl.Links)
				}
			}
			if len(fl.Links) == 0 {
				t.Fatalf("%+v: a row without links from a three-link table", v)
			}
			var sb, sp, rb, rp uint64
			for _, l := range fl.Links {
				sb, sp, rb, rp = sb+*l.Sent.Bytes, sp+*l.Sent.Packets, rb+*l.Recv.Bytes, rp+*l.Recv.Packets
				i := slices.IndexFunc(s.Interfaces, func(in table.Interface) bool { return in.Name == l.Name })
				if i < 0 {
					t.Fatalf("%+v: link %q", v, l.Name)
				}
				perLink[i] += *l.Sent.Bytes + *l.Recv.Bytes
			}
			if sb != *fl.Sent.Bytes || sp != *fl.Sent.Packets || rb != *fl.Recv.Bytes || rp != *fl.Recv.Packets {
				t.Errorf("%+v: row %v→%v: links add up to %d B %d p / %d B %d p, the row is %d %d / %d %d", v, fl.Src, fl.Dst, sb, sp, rb, rp, *fl.Sent.Bytes, *fl.Sent.Packets, *fl.Recv.Bytes, *fl.Recv.Packets)
			}
		}
		if vlans != 1 {
			t.Errorf("%+v: %d tagged rows, want 1", v, vlans)
		}
		for i, in := range r.Interfaces {
			if want := *in.Sent.Bytes + *in.Recv.Bytes; perLink[i] != want || want == 0 {
				t.Errorf("%+v: %s: rows' parts %d B, the link %d B", v, in.Name, perLink[i], want)
			}
		}
		if v.Ports == table.PortsOn {
			for _, fl := range r.Flows {
				if *fl.DstPort == 53 && fl.VLAN == nil && (len(fl.Links) != 2 || fl.Links[0].Name != "eth0" || *fl.Links[0].Sent.Packets != 3 || *fl.Links[1].Sent.Packets != 5) {
					t.Errorf("split flow: links %+v", fl.Links)
				}
			}
		}
	}
}

// TestJSONLinks: a link's speed (bits/s), master and state, or null.
func TestJSONLinks(t *testing.T) {
	s := displaytest.FixtureSnapshot()
	s.Interfaces = slices.Clone(s.Interfaces)
	s.Interfaces[0].Link = table.Link{Speed: 10_000_000_000, Master: "bond0", State: "active"}
	s.Interfaces[1].Link = table.Link{State: "down"}
	r := decodeReport(t, AppendJSON(nil, s, nil))
	want := [][3]string{{"10000000000", `"bond0"`, `"active"`}, {"null", "null", `"down"`}}
	for i, ifc := range r.Interfaces {
		got := [3]string{string(ifc.Speed), string(ifc.Master), string(ifc.State)}
		if got != want[i] {
			t.Errorf("interface %d: speed, master, state = %v, want %v", i, got, want[i])
		}
	}
}

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
		Sent    *jsonStat `json:"sent"`
		Recv    *jsonStat `json:"recv"`
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
// written in many chunks by a reused reporter, is the same line AppendJSON
// builds.
func TestJSONChunkedWrites(t *testing.T) {
	s := displaytest.BigSnapshot(3000)
	o := &JSONOptions{View: table.View{Ports: table.PortsOn}, Sort: display.Sort2s}
	want := AppendJSON(nil, s, o)
	var rep reporter
	for range 2 {
		var cw countingWriter
		if err := rep.writeJSON(&cw, s, o); err != nil {
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
	s.Flows = s.Flows[:3]
	displaytest.Golden(t, "json_small", AppendJSON(nil, s, &JSONOptions{View: table.View{Ports: table.PortsOn}}))
}

func BenchmarkWriteJSON100k(b *testing.B) {
	s := displaytest.BigSnapshot(100_000)
	o := &JSONOptions{View: table.View{Ports: table.PortsOn}}
	var rep reporter
	var w byteCounter
	b.ReportAllocs()
	for b.Loop() {
		w = 0
		if err := rep.writeJSON(&w, s, o); err != nil {
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

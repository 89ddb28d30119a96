package bench

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/table"
)

// minIPLen is the IP length of a frame with no transport payload.
func minIPLen(family, proto uint8) uint32 {
	n := uint32(20)
	if family == 6 {
		n = 40
	}
	if proto == 6 {
		return n + 20
	}
	return n + 8
}

type flowSeen struct {
	sent, recv int
	tags       uint8 // NVLAN
}

// checkCapture decodes every record of c, made with o, and checks the
// properties Synthetic promises. It returns the frames per IP-length class
// ("min", 576, 1500) and per shape.
func checkCapture(t *testing.T, c *Capture, o SynthOptions) (classes map[string]int, shapes map[string]int) {
	t.Helper()
	o = o.withDefaults()
	if len(c.Records) != o.Packets {
		t.Fatalf("%d records, want %d", len(c.Records), o.Packets)
	}
	cls := table.NewClassifier(table.ClassifierConfig{})
	seen := map[table.Key]*flowSeen{}
	classes, shapes = map[string]int{}, map[string]int{}
	var p decode.Packet
	var k table.Key
	var bytesSum uint64
	step := int64(o.Duration) / int64(o.Packets)
	for i := range c.Records {
		r := &c.Records[i]
		if err := decode.Frame(r.Data, &r.Meta, &p); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if r.Meta.Link != decode.LinkEthernet || int(r.Meta.WireLen) != len(r.Data) {
			t.Fatalf("record %d: meta %+v for %d bytes", i, r.Meta, len(r.Data))
		}
		bytesSum += uint64(r.Meta.WireLen)
		if i > 0 {
			d := r.TS - c.Records[i-1].TS
			if d < step || d > step+1 {
				t.Fatalf("record %d: %d ns after the previous one, want %d or %d", i, d, step, step+1)
			}
		} else if r.TS%int64(2*time.Second) != 0 {
			t.Fatalf("first timestamp %d is not on a tick boundary", r.TS)
		}
		if p.Flags&decode.FlagPorts == 0 || (p.Proto != 17 && p.Proto != 6) {
			t.Fatalf("record %d: proto %d flags %b", i, p.Proto, p.Flags)
		}
		if o.Size == Size64 && p.Proto != 17 {
			t.Fatalf("record %d: proto %d in a 64-byte capture, want UDP", i, p.Proto)
		}
		// The IP length is what the frame carries after its headers,
		// unless the frame was padded to the Ethernet minimum.
		carried := uint32(len(r.Data)) - 14 - 4*uint32(p.NVLAN)
		minLen := minIPLen(p.Family, p.Proto)
		switch {
		case p.IPLen == minLen:
			classes["min"]++
			if carried != minLen && len(r.Data) != 60 {
				t.Fatalf("record %d: padded to %d bytes, not to 60", i, len(r.Data))
			}
		case p.IPLen == 576 || p.IPLen == 1500:
			classes[fmt.Sprint(p.IPLen)]++
			if carried != p.IPLen {
				t.Fatalf("record %d: IP length %d in a frame carrying %d", i, p.IPLen, carried)
			}
		default:
			t.Fatalf("record %d: IP length %d", i, p.IPLen)
		}
		if len(r.Data) < 60 {
			t.Fatalf("record %d: %d bytes, shorter than an Ethernet frame", i, len(r.Data))
		}
		shapes[fmt.Sprintf("%d/v%d", p.NVLAN, p.Family)]++
		dir, sent := cls.Classify(&p, &k)
		wantDir := table.DirOut
		if r.Meta.PktType == decode.PktHost {
			wantDir = table.DirIn
		}
		if dir != wantDir {
			t.Fatalf("record %d: direction %d for packet type %d", i, dir, r.Meta.PktType)
		}
		f := seen[k]
		if f == nil {
			f = &flowSeen{tags: p.NVLAN}
			seen[k] = f
		}
		if f.tags != p.NVLAN {
			t.Fatalf("record %d: flow %v seen with %d and %d tags", i, k, f.tags, p.NVLAN)
		}
		if sent {
			f.sent++
		} else {
			f.recv++
		}
	}
	if bytesSum != c.Bytes {
		t.Fatalf("Bytes %d, records add up to %d", c.Bytes, bytesSum)
	}
	if len(seen) != o.Flows {
		t.Fatalf("%d distinct flows after classifying, want %d", len(seen), o.Flows)
	}
	// Every direction recurs as evenly as the pass structure allows.
	lo, hi := o.Packets/(2*o.Flows), (o.Packets+2*o.Flows-1)/(2*o.Flows)
	for k, f := range seen {
		if f.sent < lo || f.sent > hi || f.recv < lo || f.recv > hi {
			t.Fatalf("flow %v: %d sent, %d received; want %d to %d each way", k, f.sent, f.recv, lo, hi)
		}
	}
	return classes, shapes
}

func TestSynthetic(t *testing.T) {
	tests := []struct {
		name    string
		o       SynthOptions
		classes map[string]int // exact when every flow's directions recur equally
		shapes  map[string]int
	}{
		{
			name:    "64 v4",
			o:       SynthOptions{Flows: 1000, Packets: 10_000, Seed: 1},
			classes: map[string]int{"min": 10_000},
			shapes:  map[string]int{"0/v4": 10_000},
		},
		{
			name:    "64 all shapes",
			o:       SynthOptions{Flows: 400, Packets: 8000, Mix: MixV4 | MixV6 | MixVLAN | MixQinQ, Seed: 2},
			classes: map[string]int{"min": 8000},
			shapes:  map[string]int{"0/v4": 2000, "0/v6": 2000, "1/v4": 1000, "1/v6": 1000, "2/v4": 1000, "2/v6": 1000},
		},
		{
			// 36 flows of each shape and family: the 7:4:1 pattern repeats
			// every 12 flows (6 per protocol), so the mix is exact.
			name:    "imix v4 v6 vlan",
			o:       SynthOptions{Flows: 144, Packets: 144 * 2 * 10, Size: SizeIMIX, Mix: MixV4 | MixV6 | MixVLAN},
			classes: map[string]int{"min": 1680, "576": 960, "1500": 240},
			shapes:  map[string]int{"0/v4": 960, "0/v6": 960, "1/v4": 480, "1/v6": 480},
		},
		{
			name:    "imix qinq copied",
			o:       SynthOptions{Flows: 24, Packets: 480, Size: SizeIMIX, Mix: MixQinQ, Copy: true, Duration: time.Second},
			classes: map[string]int{"min": 280, "576": 160, "1500": 40},
			shapes:  map[string]int{"2/v4": 240, "2/v6": 240},
		},
		{
			name:    "uneven recurrence",
			o:       SynthOptions{Flows: 7, Packets: 101, Mix: MixVLAN, Seed: 9, Duration: time.Millisecond},
			classes: map[string]int{"min": 101},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Synthetic(tt.o)
			if err != nil {
				t.Fatal(err)
			}
			classes, shapes := checkCapture(t, c, tt.o)
			if fmt.Sprint(classes) != fmt.Sprint(tt.classes) {
				t.Errorf("size classes %v, want %v", classes, tt.classes)
			}
			if tt.shapes != nil && fmt.Sprint(shapes) != fmt.Sprint(tt.shapes) {
				t.Errorf("shapes %v, want %v", shapes, tt.shapes)
			}
			if c.Name != tt.o.String() {
				t.Errorf("Name %q, want %q", c.Name, tt.o.String())
			}
		})
	}
}

// TestSyntheticSharing checks the memory design: without Copy, all
// records of one flow direction share one frame; with it, none share.
func TestSyntheticSharing(t *testing.T) {
	for _, copied := range []bool{false, true} {
		o := SynthOptions{Flows: 50, Packets: 1000, Size: SizeIMIX, Mix: MixV4 | MixV6, Copy: copied}
		c, err := Synthetic(o)
		if err != nil {
			t.Fatal(err)
		}
		starts := map[*byte]bool{}
		for i := range c.Records {
			d := c.Records[i].Data
			if cap(d) != len(d) {
				t.Fatalf("record %d: capacity %d past its %d bytes lets appends clobber a neighbour", i, cap(d), len(d))
			}
			starts[&d[0]] = true
		}
		want := 2 * o.Flows
		if copied {
			want = o.Packets
		}
		if len(starts) != want {
			t.Errorf("copy %v: %d distinct frames, want %d", copied, len(starts), want)
		}
	}
}

func TestSyntheticDeterministic(t *testing.T) {
	o := SynthOptions{Flows: 300, Packets: 3000, Size: SizeIMIX, Mix: MixV4 | MixVLAN, Seed: 42}
	a, err := Synthetic(o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Synthetic(o)
	if err != nil {
		t.Fatal(err)
	}
	o.Seed++
	other, err := Synthetic(o)
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range a.Records {
		ra, rb, ro := &a.Records[i], &b.Records[i], &other.Records[i]
		if !bytes.Equal(ra.Data, rb.Data) || ra.TS != rb.TS || ra.Meta != rb.Meta {
			t.Fatalf("record %d differs between two runs with seed 42", i)
		}
		if ra.TS != ro.TS {
			t.Fatalf("record %d: timestamp depends on the seed", i)
		}
		same = same && bytes.Equal(ra.Data, ro.Data)
	}
	if same {
		t.Error("seeds 42 and 43 give the same order")
	}
	if a.Bytes != other.Bytes {
		t.Errorf("seeds 42 and 43 carry %d and %d bytes; the seed should only reorder", a.Bytes, other.Bytes)
	}
}

// TestSyntheticInterleaved checks that frames of one flow do not come in
// runs, as they would if flows were emitted one after another.
func TestSyntheticInterleaved(t *testing.T) {
	c, err := Synthetic(SynthOptions{Flows: 1000, Packets: 20_000, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	repeats := 0
	for i := 1; i < len(c.Records); i++ {
		if &c.Records[i].Data[0] == &c.Records[i-1].Data[0] {
			repeats++
		}
	}
	// A random order repeats a direction back to back about once per
	// pass (1 in 2,000 frames); flow after flow would repeat nearly always.
	if repeats > 50 {
		t.Errorf("%d back-to-back repeats of a flow direction in %d frames", repeats, len(c.Records))
	}
}

func TestSyntheticErrors(t *testing.T) {
	tests := []struct {
		name string
		o    SynthOptions
	}{
		{"negative flows", SynthOptions{Flows: -1}},
		{"too many flows", SynthOptions{Flows: MaxSynthFlows + 1}},
		{"too few packets", SynthOptions{Flows: 100, Packets: 199}},
		{"bad size", SynthOptions{Size: 7}},
		{"bad mix", SynthOptions{Mix: 0x80}},
		{"duration too short", SynthOptions{Flows: 10, Packets: 1000, Duration: 999}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Synthetic(tt.o)
			if !errors.Is(err, ErrSynth) || c != nil {
				t.Fatalf("Synthetic(%+v) = %v, %v; want ErrSynth", tt.o, c, err)
			}
		})
	}
}

func TestParseSizeMix(t *testing.T) {
	sizes := []struct {
		in   string
		want Size
		ok   bool
	}{{"64", Size64, true}, {"IMIX", SizeIMIX, true}, {" imix ", SizeIMIX, true}, {"1500", 0, false}, {"", 0, false}}
	for _, tt := range sizes {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %v, %v", tt.in, got, err)
		}
		if tt.ok && got.String() != tt.want.String() {
			t.Errorf("ParseSize(%q).String() = %q", tt.in, got)
		}
	}
	mixes := []struct {
		in   string
		want Mix
		str  string
	}{
		{"v4", MixV4, "v4"},
		{"vlan,v6", MixV6 | MixVLAN, "v6,vlan"},
		{"v4, v6 ,vlan,qinq", MixV4 | MixV6 | MixVLAN | MixQinQ, "v4,v6,vlan,qinq"},
		{"v4,v4", MixV4, "v4"},
		{"", 0, ""},
		{"v4,", 0, ""},
		{"ipx", 0, ""},
	}
	for _, tt := range mixes {
		got, err := ParseMix(tt.in)
		if (err == nil) != (tt.want != 0) || got != tt.want || got.String() != tt.str {
			t.Errorf("ParseMix(%q) = %v (%q), %v", tt.in, uint8(got), got, err)
		}
	}
	var s Size
	var m Mix
	if s.Set("imix") != nil || s != SizeIMIX || m.Set("qinq") != nil || m != MixQinQ || s.Set("9") == nil || m.Set("x") == nil {
		t.Errorf("flag Set: size %v mix %v", s, m)
	}
}

func FuzzParseMix(f *testing.F) {
	for _, s := range []string{"v4", "v4,v6,vlan,qinq", "VLAN, qinq", "", ",", "v4,,v6", "v6\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMix(s)
		if err != nil {
			if !errors.Is(err, ErrSynth) {
				t.Fatalf("ParseMix(%q): error %v does not wrap ErrSynth", s, err)
			}
			return
		}
		if m == 0 || m&^mixAll != 0 {
			t.Fatalf("ParseMix(%q) = %#x", s, uint8(m))
		}
		back, err := ParseMix(m.String())
		if err != nil || back != m {
			t.Fatalf("ParseMix(%q) = %v, but ParseMix(%q) = %v, %v", s, m, m.String(), back, err)
		}
	})
}

// TestReplaySynthetic runs a small synthetic capture through the pipeline.
func TestReplaySynthetic(t *testing.T) {
	o := SynthOptions{Flows: 500, Packets: 20_000, Size: SizeIMIX, Mix: MixV4 | MixV6 | MixVLAN, Seed: 5}
	c, err := Synthetic(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		r := Replay(c, Options{Workers: workers})
		if r.Counted != uint64(o.Packets) || r.Packets != o.Packets {
			t.Errorf("%d workers: counted %d of %d packets, want all %d", workers, r.Counted, r.Packets, o.Packets)
		}
		if r.Flows != o.Flows {
			t.Errorf("%d workers: %d flows in the table, want %d", workers, r.Flows, o.Flows)
		}
		// 10 s of capture from a tick boundary: five 2 s ticks.
		if r.Ticks < 4 {
			t.Errorf("%d workers: %d ticks closed, want at least 4", workers, r.Ticks)
		}
	}
}

// BenchmarkReplaySynthetic replays synthetic traffic through the pipeline.
// Each capture is built once, outside the timer; run with -v to see the
// replay's own line.
func BenchmarkReplaySynthetic(b *testing.B) {
	cases := []struct {
		name string
		o    SynthOptions
	}{
		{"64-v4-1k", SynthOptions{Flows: 1000}},
		{"64-v4-1M", SynthOptions{Flows: 1_000_000}},
		{"imix-v4v6vlan-1k", SynthOptions{Flows: 1000, Size: SizeIMIX, Mix: MixV4 | MixV6 | MixVLAN}},
	}
	for _, cs := range cases {
		var c *Capture
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", cs.name, workers), func(b *testing.B) {
				if c == nil {
					var err error
					if c, err = Synthetic(cs.o); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				var last Result
				for b.Loop() {
					last = Replay(c, Options{Workers: workers})
				}
				b.ReportMetric(last.NsPerPacket, "ns/pkt")
				b.ReportMetric(last.Mpps, "Mpps")
				b.ReportMetric(last.TickP99.Seconds()*1e3, "tick-p99-ms")
				b.Log(last)
			})
		}
	}
}

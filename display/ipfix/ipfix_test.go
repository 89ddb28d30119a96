package ipfix

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fastop/fastop/table"
)

const sec = int64(time.Second)

func key(a, b byte, ap, bp uint16) table.Key {
	return table.Key{A: [16]byte{10, 0, 0, a}, B: [16]byte{10, 0, 0, b}, APort: ap, BPort: bp, Proto: 17, Family: 4}
}

func flow(k table.Key, sb, sp, rb, rp uint64) table.Flow {
	return table.Flow{Key: k, Sent: table.Stat{Bytes: sb, Packets: sp}, Recv: table.Stat{Bytes: rb, Packets: rp}}
}

type got struct {
	k          table.Key
	rev        bool
	b, p       uint64
	start, end int64
}

func run(tr *Tracker, snaps []*table.Snapshot, flush bool) []got {
	var out []got
	f := func(x *Export) {
		out = append(out, got{*x.Key, x.Reverse, x.Octets, x.Packets, x.Start / sec, x.End / sec})
	}
	for _, s := range snaps {
		tr.Update(s, f)
	}
	if flush {
		tr.Flush(f)
	}
	return out
}

func snap(t int64, flows ...table.Flow) *table.Snapshot {
	return &table.Snapshot{Time: t * sec, Start: 0, Flows: flows}
}

// The tracker exports deltas of cumulative counters: at the idle and active
// timeouts, when a flow leaves the table, when the table re-creates a key,
// and at the end; totals always equal the last cumulative counters.
func TestTracker(t *testing.T) {
	k1, k2 := key(1, 2, 1000, 53), key(3, 4, 5, 6)
	other := table.Key{}
	tests := []struct {
		name  string
		snaps []*table.Snapshot
		flush bool
		want  []got
	}{
		{
			name:  "flush at the end",
			snaps: []*table.Snapshot{snap(2, flow(k1, 100, 1, 50, 1)), snap(4, flow(k1, 300, 3, 50, 1))},
			flush: true,
			want:  []got{{k1, false, 300, 3, 0, 4}, {k1, true, 50, 1, 0, 2}},
		},
		{
			name: "idle timeout, then traffic again",
			snaps: []*table.Snapshot{
				snap(2, flow(k1, 100, 1, 0, 0)),
				snap(12, flow(k1, 100, 1, 0, 0)),
				snap(18, flow(k1, 100, 1, 0, 0)), // idle 16 s ≥ 15 s
				snap(20, flow(k1, 150, 2, 0, 0)),
			},
			flush: true,
			want:  []got{{k1, false, 100, 1, 0, 2}, {k1, false, 50, 1, 18, 20}},
		},
		{
			name: "active timeout",
			snaps: func() []*table.Snapshot {
				var s []*table.Snapshot
				for i := int64(1); i <= 32; i++ {
					s = append(s, snap(2*i, flow(k1, uint64(10*i), uint64(i), 0, 0)))
				}
				return s
			}(),
			want: []got{{k1, false, 300, 30, 0, 60}},
		},
		{
			name: "gone from the table",
			snaps: []*table.Snapshot{
				snap(2, flow(k1, 100, 1, 0, 0), flow(k2, 7, 1, 0, 0)),
				snap(4, flow(k2, 14, 2, 0, 0)),
			},
			want: []got{{k1, false, 100, 1, 0, 2}},
		},
		{
			name: "key re-created by the table after its lifetime",
			snaps: []*table.Snapshot{
				snap(2, flow(k1, 100, 1, 0, 0)),
				snap(40, flow(k1, 100, 1, 0, 0)), // exported at idle, still in the table
				snap(42, flow(k1, 500, 2, 0, 0)), // 40 s later: a new record with 500 bytes
			},
			flush: true,
			want:  []got{{k1, false, 100, 1, 0, 2}, {k1, false, 500, 2, 40, 42}},
		},
		{
			name: "counters shrank: re-created",
			snaps: []*table.Snapshot{
				snap(2, flow(k1, 100, 2, 0, 0)),
				snap(4, flow(k1, 60, 1, 0, 0)),
			},
			flush: true,
			want:  []got{{k1, false, 100, 2, 0, 2}, {k1, false, 60, 1, 2, 4}},
		},
		{
			name: "evicted: its counts move to other and are exported once",
			snaps: []*table.Snapshot{
				snap(2, flow(k1, 100, 1, 20, 1), flow(k2, 7, 1, 0, 0)),
				snap(4, flow(k2, 14, 2, 0, 0), flow(other, 100+30, 1+2, 20, 1)),
			},
			flush: true,
			want:  []got{{k1, false, 100, 1, 0, 2}, {k1, true, 20, 1, 0, 2}, {k2, false, 14, 2, 0, 4}, {other, false, 30, 2, 2, 4}},
		},
		{
			// other comes first in the tracker's state and is due at its
			// idle timeout in the very snapshot that shows the eviction.
			name: "evicted while other goes idle",
			snaps: []*table.Snapshot{
				snap(2, flow(other, 10, 1, 0, 0), flow(k1, 100, 1, 0, 0)),
				snap(4, flow(other, 10, 1, 0, 0), flow(k1, 100, 1, 0, 0)),
				snap(18, flow(other, 10+100, 1+1, 0, 0)),
			},
			flush: true,
			want:  []got{{k1, false, 100, 1, 0, 2}, {other, false, 10, 1, 0, 18}}, // other grew (by the eviction) at 18
		},
		{
			name:  "other is one aggregate record",
			snaps: []*table.Snapshot{snap(2, flow(other, 100, 1, 40, 2))},
			flush: true,
			want:  []got{{other, false, 140, 3, 0, 2}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := run(NewTracker(DefaultActive, DefaultIdle), tc.snaps, tc.flush)
			if fmt.Sprint(out) != fmt.Sprint(tc.want) {
				t.Errorf("exports:\n got %v\nwant %v", out, tc.want)
			}
		})
	}
}

// Messages stay within the MTU, never split a record, carry sequence
// numbers that count data records only, and start with the templates.
func TestPacker(t *testing.T) {
	for _, mtu := range []int{MinMTU, 600, 1400, 9000} {
		t.Run(fmt.Sprint(mtu), func(t *testing.T) {
			var msgs [][]byte
			p := newPacker(mtu, 7, func(b []byte) { msgs = append(msgs, append([]byte(nil), b...)) })
			const n = 1000
			for i := range n {
				r := Record{Kind: Kind(i % int(numKinds)), Octets: uint64(i), Packets: 1}
				p.add(&r, 1)
			}
			p.flush()
			var seq uint32
			var records int
			for i, m := range msgs {
				if len(m) > mtu {
					t.Fatalf("message %d: %d bytes > MTU %d", i, len(m), mtu)
				}
				if v := binary.BigEndian.Uint16(m); v != version {
					t.Fatalf("message %d: version %d", i, v)
				}
				if l := int(binary.BigEndian.Uint16(m[2:])); l != len(m) {
					t.Fatalf("message %d: length field %d, message %d bytes", i, l, len(m))
				}
				if s := binary.BigEndian.Uint32(m[8:]); s != seq {
					t.Fatalf("message %d: sequence %d, want %d", i, s, seq)
				}
				if d := binary.BigEndian.Uint32(m[12:]); d != 7 {
					t.Fatalf("message %d: domain %d", i, d)
				}
				off := headerLen
				for off < len(m) {
					id := binary.BigEndian.Uint16(m[off:])
					l := int(binary.BigEndian.Uint16(m[off+2:]))
					if l < setHeaderLen || off+l > len(m) {
						t.Fatalf("message %d: set at %d has length %d", i, off, l)
					}
					switch {
					case id == templateSet:
						if i != 0 || off != headerLen {
							t.Fatalf("templates in message %d at %d; want only first", i, off)
						}
					case id >= 256 && int(id) < 256+int(numKinds):
						size := templates[id-256].size
						if (l-setHeaderLen)%size != 0 {
							t.Fatalf("message %d: set of template %d is %d bytes, not whole records of %d", i, id, l, size)
						}
						records += (l - setHeaderLen) / size
						seq += uint32((l - setHeaderLen) / size)
					default:
						t.Fatalf("message %d: set id %d", i, id)
					}
					off += l
				}
			}
			if records != n {
				t.Fatalf("%d records in the messages, want %d", records, n)
			}
		})
	}
}

// With several links the tracker follows each link's part of a flow: a
// part that stops growing is exported alone, and when the full table
// evicts a flow, each part's counts, moved to the same link's part of
// "other", are left out of other's export on that link only.
func TestTrackerLinksEvicted(t *testing.T) {
	k1, k2 := key(1, 2, 1000, 53), key(3, 4, 5, 6)
	parts := func(f table.Flow, p ...table.FlowLink) table.Flow {
		f.Links = p
		return f
	}
	part := func(link int, sb, sp uint64) table.FlowLink {
		return table.FlowLink{Link: link, Sent: table.Stat{Bytes: sb, Packets: sp}}
	}
	snaps := []*table.Snapshot{
		snap(2, parts(flow(k1, 150, 3, 0, 0), part(0, 100, 1), part(1, 50, 2)), parts(flow(k2, 7, 1, 0, 0), part(1, 7, 1))),
		// k1 evicted: 100 B went to other's part on link 0, 50 B to link
		// 1's; link 0's part of other also has 10 B of its own.
		snap(4, parts(flow(k2, 14, 2, 0, 0), part(1, 14, 2)),
			parts(flow(table.Key{}, 160, 4, 0, 0), part(0, 110, 2), part(1, 50, 2))),
	}
	type out struct {
		k    table.Key
		link int
		b, p uint64
	}
	var got []out
	tr := NewTracker(DefaultActive, DefaultIdle)
	f := func(x *Export) { got = append(got, out{*x.Key, x.Link, x.Octets, x.Packets}) }
	for _, s := range snaps {
		tr.Update(s, f)
	}
	tr.Flush(f)
	slices.SortFunc(got, func(a, b out) int {
		return cmp.Or(table.CompareKeys(&a.k, &b.k), cmp.Compare(a.link, b.link))
	})
	want := []out{{table.Key{}, 0, 10, 1}, {k1, 0, 100, 1}, {k1, 1, 50, 2}, {k2, 1, 14, 2}}
	slices.SortFunc(want, func(a, b out) int {
		return cmp.Or(table.CompareKeys(&a.k, &b.k), cmp.Compare(a.link, b.link))
	})
	if !slices.Equal(got, want) {
		t.Errorf("exports\n got  %+v\n want %+v", got, want)
	}
}

// With several links each part of a flow is exported as a flow of its
// own, with its link's ifindex, and a tagged flow uses the templates with
// vlanId; the records' counts add up to the flows'.
func TestExportLinksAndVLAN(t *testing.T) {
	e := &Exporter{cfg: Config{
		IfIndexes: []uint32{7, 9},
		Local:     func(a netip.Addr) bool { return a == netip.AddrFrom4([4]byte{10, 0, 0, 1}) },
	}}
	tagged := key(1, 2, 1000, 53)
	tagged.VLAN = 100
	third := key(3, 4, 5, 6) // neither end local: no direction
	part := func(link int, sb, sp, rb, rp uint64) table.FlowLink {
		return table.FlowLink{Link: link, Sent: table.Stat{Bytes: sb, Packets: sp}, Recv: table.Stat{Bytes: rb, Packets: rp}}
	}
	f1 := flow(tagged, 300, 3, 40, 1)
	f1.Links = []table.FlowLink{part(0, 100, 1, 40, 1), part(1, 200, 2, 0, 0)}
	f2 := flow(third, 50, 1, 0, 0)
	f2.Links = []table.FlowLink{part(1, 50, 1, 0, 0)}
	o := flow(table.Key{}, 10, 1, 5, 1)
	o.Links = []table.FlowLink{part(0, 10, 1, 0, 0), part(1, 0, 0, 5, 1)}
	s := &table.Snapshot{Time: 2 * sec, Flows: []table.Flow{f1, f2, o}, Interfaces: []table.Interface{{Name: "a"}, {Name: "b"}}}
	type rec struct {
		kind            Kind
		vlan            uint16
		in, out         uint32
		octets, packets uint64
	}
	var got []rec
	tr := NewTracker(time.Minute, time.Minute)
	emit := func(x *Export) {
		var r Record
		e.fill(&r, x)
		got = append(got, rec{r.Kind, r.VLAN, r.Ingress, r.Egress, r.Octets, r.Packets})
		// The bytes: vlanId where the template says, in network order.
		b := r.append(nil)
		if len(b) != templates[r.Kind].size {
			t.Fatalf("record of kind %d: %d bytes, template %d", r.Kind, len(b), templates[r.Kind].size)
		}
		off := 0
		for _, f := range templates[r.Kind].fields {
			if f.id == ieVlanID && binary.BigEndian.Uint16(b[off:]) != r.VLAN {
				t.Errorf("vlanId bytes %x, want %d", b[off:off+2], r.VLAN)
			}
			off += int(f.size)
		}
	}
	tr.Update(s, emit)
	tr.Flush(emit)
	want := []rec{
		{KindV4VLAN, 100, 0, 7, 100, 1}, // tagged, out over link 0 (ifindex 7)
		{KindV4VLAN, 100, 7, 0, 40, 1},  // its reply, in over link 0
		{KindV4VLAN, 100, 0, 9, 200, 2}, // out over link 1
		{KindV4NoDir, 0, 9, 0, 50, 1},   // third-party, seen on link 1
		{KindOther, 0, 7, 0, 10, 1},     // other's part on link 0
		{KindOther, 0, 9, 0, 5, 1},      // and on link 1
	}
	slices.SortFunc(got, func(a, b rec) int {
		return cmp.Or(cmp.Compare(a.kind%vlanKinds, b.kind%vlanKinds), cmp.Compare(b.vlan, a.vlan), cmp.Compare(a.in+a.out, b.in+b.out), cmp.Compare(a.octets, b.octets))
	})
	slices.SortFunc(want, func(a, b rec) int {
		return cmp.Or(cmp.Compare(a.kind%vlanKinds, b.kind%vlanKinds), cmp.Compare(b.vlan, a.vlan), cmp.Compare(a.in+a.out, b.in+b.out), cmp.Compare(a.octets, b.octets))
	})
	if !slices.Equal(got, want) {
		t.Errorf("records\n got  %+v\n want %+v", got, want)
	}
}

// A collector that goes away after the start is counted, not fatal: the
// exporter goes on, and Stats says how many messages were refused.
func TestCollectorGoesAway(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	e, err := Dial(Config{Collector: pc.LocalAddr().String(), Probe: -1, Notify: func(s string) { notes = append(notes, s) }})
	if err != nil {
		t.Fatal(err)
	}
	pc.Close()
	k := key(1, 2, 3, 4)
	for i := int64(1); i <= 40; i++ {
		e.Update(snap(2*i, flow(k, uint64(i), uint64(i), 0, 0)))
	}
	if err := e.Finish(nil); err != nil {
		t.Fatal(err)
	}
	st := e.Stats()
	if st.Errors == 0 || !strings.Contains(st.LastErr, "refused") {
		t.Errorf("stats %+v: the refusals were not counted", st)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "capture goes on") {
		t.Errorf("notes %q, want one about the refusals", notes)
	}
	if st.Records == 0 {
		t.Errorf("stats %+v: nothing was exported", st)
	}
}

// A link that joins a one-interface capture later gets its index looked
// up by name once; the first keeps IfIndex.
func TestLearnLinks(t *testing.T) {
	lookups := 0
	e := &Exporter{cfg: Config{IfIndex: 5, IfIndexOf: func(name string) uint32 {
		lookups++
		return map[string]uint32{"eth1": 9, "eth2": 11}[name]
	}}}
	one := &table.Snapshot{Interfaces: []table.Interface{{Name: "eth0"}}}
	e.learnLinks(one)
	if len(e.cfg.IfIndexes) != 0 || lookups != 0 {
		t.Fatalf("one interface: IfIndexes %v after %d lookups, want none", e.cfg.IfIndexes, lookups)
	}
	two := &table.Snapshot{Interfaces: []table.Interface{{Name: "eth0"}, {Name: "eth1"}}}
	e.learnLinks(two)
	e.learnLinks(two)
	three := &table.Snapshot{Interfaces: []table.Interface{{Name: "eth0"}, {Name: "eth1"}, {Name: "eth2"}}}
	e.learnLinks(three)
	if want := []uint32{5, 9, 11}; !slices.Equal(e.cfg.IfIndexes, want) || lookups != 2 {
		t.Errorf("IfIndexes %v after %d lookups, want %v after 2", e.cfg.IfIndexes, lookups, want)
	}
}

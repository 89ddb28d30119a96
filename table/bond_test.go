package table

import (
	"encoding/binary"
	"net/netip"
	"reflect"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/table/bondhash"
)

// udpFrame is an Ethernet frame of an IPv4 UDP packet with payload bytes
// of payload, decoded as a worker decodes it (sent by this host).
func udpFrame(t testing.TB, src, dst string, sport, dport uint16, payload int) decode.Packet {
	t.Helper()
	ipLen := 20 + 8 + payload
	b := make([]byte, 14+ipLen)
	copy(b[0:6], []byte{2, 0, 0, 0, 0, 2})
	copy(b[6:12], []byte{2, 0, 0, 0, 0, 1})
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
	ip[8] = 64
	ip[9] = 17
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(ip[12:16], s[:])
	copy(ip[16:20], d[:])
	binary.BigEndian.PutUint16(ip[20:], sport)
	binary.BigEndian.PutUint16(ip[22:], dport)
	binary.BigEndian.PutUint16(ip[24:], uint16(8+payload))
	var p decode.Packet
	m := decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktOutgoing}
	if err := decode.Frame(b, &m, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func bondLink(mode bondhash.Mode, pol bondhash.Policy, members, usable []int, self int) *BondLink {
	names := []string{"eth0", "eth1", "eth2", "eth3"}
	l := &BondLink{Master: "bond0", Mode: mode.String(), Policy: pol.String(),
		Config: bondhash.Config{Mode: mode, Policy: pol, Variant: bondhash.V5_18}, Self: self}
	for _, m := range members {
		l.Members = append(l.Members, names[m])
	}
	l.Usable = usable
	return l
}

// The golden vector of bondhash's tests: 10.0.0.1:40000 → 10.0.0.2:80
// hashes to 0x29a989c7 under layer3+4 on 5.18: link 1 of 2, 0 of 3.
func TestCheckBondGolden(t *testing.T) {
	p := udpFrame(t, "10.0.0.1", "10.0.0.2", 40000, 80, 72) // IP length 100
	tests := []struct {
		name                     string
		l                        *BondLink
		agree, disagree, unknown uint64
		predicted, l34           []uint64
		fails                    []uint64
	}{
		{"3 links, seen on eth0 (predicted)", bondLink(bondhash.Mode8023AD, bondhash.PolicyLayer34, []int{0, 1, 2}, []int{0, 1, 2}, 0),
			100, 0, 0, []uint64{100, 0, 0}, []uint64{100, 0, 0},
			// eth0 fails: over eth1, eth2 the flow hashes to 1: eth2;
			// eth1 or eth2 fails: to 1 of (eth0, eth2) or (eth0, eth1).
			[]uint64{0, 0, 100, 0, 0, 100, 0, 100, 0}},
		{"3 links, seen on eth1 (not predicted)", bondLink(bondhash.Mode8023AD, bondhash.PolicyLayer34, []int{0, 1, 2}, []int{0, 1, 2}, 1),
			0, 100, 0, []uint64{100, 0, 0}, []uint64{100, 0, 0},
			[]uint64{0, 0, 100, 0, 0, 100, 0, 100, 0}},
		{"eth1 down: 2 usable links", bondLink(bondhash.ModeXOR, bondhash.PolicyLayer34, []int{0, 1, 2}, []int{0, 2}, 2),
			100, 0, 0, []uint64{0, 0, 100}, []uint64{0, 0, 100},
			// Over one link left, everything goes to it.
			[]uint64{0, 0, 100, 0, 0, 0, 100, 0, 0}},
		{"active-backup: unknown", func() *BondLink {
			l := bondLink(bondhash.ModeActiveBackup, bondhash.PolicyLayer34, []int{0, 1}, []int{0, 1}, 0)
			l.Why = "active-backup does not hash"
			return l
		}(), 0, 0, 100, []uint64{0, 0}, []uint64{0, 0}, []uint64{0, 0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDelta(0)
			d.CheckBond(tc.l, &p, false)
			b := d.Bond
			if b.Agree.Bytes != tc.agree || b.Disagree.Bytes != tc.disagree || b.Unknown.Bytes != tc.unknown {
				t.Fatalf("agree/disagree/unknown %d/%d/%d bytes; want %d/%d/%d", b.Agree.Bytes, b.Disagree.Bytes, b.Unknown.Bytes, tc.agree, tc.disagree, tc.unknown)
			}
			if !reflect.DeepEqual(b.Predicted, tc.predicted) || !reflect.DeepEqual(b.IfLayer34, tc.l34) || !reflect.DeepEqual(b.IfFails, tc.fails) {
				t.Fatalf("predicted %v, layer3+4 %v, fails %v; want %v, %v, %v", b.Predicted, b.IfLayer34, b.IfFails, tc.predicted, tc.l34, tc.fails)
			}
		})
	}
}

// The worker's what-ifs must match bondhash's own, computed flow by flow
// over the same packets.
func TestCheckBondMatchesWhatIfs(t *testing.T) {
	for _, pol := range []bondhash.Policy{bondhash.PolicyLayer2, bondhash.PolicyLayer23, bondhash.PolicyLayer34} {
		l := bondLink(bondhash.Mode8023AD, pol, []int{0, 1, 2, 3}, []int{0, 1, 3}, 1)
		d := NewDelta(0)
		var flows []bondhash.FlowBytes
		for i := range 200 {
			p := udpFrame(t, "10.1.0.1", netip.AddrFrom4([4]byte{10, 2, byte(i / 7), byte(i)}).String(), uint16(1000+i*37), 53, i)
			d.CheckBond(l, &p, false)
			f, why := bondhash.FlowOf(&p, false)
			if why != bondhash.ReasonNone {
				t.Fatal(why)
			}
			flows = append(flows, bondhash.FlowBytes{Flow: f, Bytes: uint64(p.IPLen), Link: -1})
		}
		n := len(l.Usable)
		split := bondhash.SplitIfLayer34(l.Config, flows, n)
		for k, u := range l.Usable {
			if d.Bond.IfLayer34[u] != split.Bytes[k] {
				t.Errorf("%s: layer3+4 on %s: %d bytes; bondhash says %d", pol, l.Members[u], d.Bond.IfLayer34[u], split.Bytes[k])
			}
		}
		m := len(l.Members)
		for k, failed := range l.Usable {
			fo := bondhash.IfLinkFails(l.Config, flows, n, k)
			for j, u := range l.Usable {
				if got := d.Bond.IfFails[failed*m+u]; got != fo.After.Bytes[j] {
					t.Errorf("%s: %s fails: %d bytes on %s; bondhash says %d", pol, l.Members[failed], got, l.Members[u], fo.After.Bytes[j])
				}
			}
		}
		var agree uint64
		for _, fb := range flows {
			if p := l.Config.Predict(&fb.Flow, n); p.OK() && l.Usable[p.Link] == l.Self {
				agree += fb.Bytes
			}
		}
		if d.Bond.Agree.Bytes != agree || d.Bond.Agree.Bytes+d.Bond.Disagree.Bytes+d.Bond.Unknown.Bytes != sumBytes(flows) {
			t.Errorf("%s: agree %d (want %d), disagree %d, unknown %d of %d", pol, d.Bond.Agree.Bytes, agree, d.Bond.Disagree.Bytes, d.Bond.Unknown.Bytes, sumBytes(flows))
		}
		if pol != bondhash.PolicyLayer2 && (d.Bond.Agree.Bytes == 0 || d.Bond.Disagree.Bytes == 0) {
			t.Errorf("%s: 200 flows over 3 links should both agree and disagree with one link: %+v", pol, d.Bond)
		}
	}
}

func sumBytes(fs []bondhash.FlowBytes) uint64 {
	var n uint64
	for _, f := range fs {
		n += f.Bytes
	}
	return n
}

// The merger sums the links' deltas over the 40 s window and forgets what
// falls out of it.
func TestBondWindow(t *testing.T) {
	f := NewFlows(FlowsConfig{Start: 0, Interfaces: []string{"eth0", "eth1"}})
	l0 := bondLink(bondhash.ModeXOR, bondhash.PolicyLayer34, []int{0, 1}, []int{0, 1}, 0)
	l1 := bondLink(bondhash.ModeXOR, bondhash.PolicyLayer34, []int{0, 1}, []int{0, 1}, 1)
	p := udpFrame(t, "10.0.0.1", "10.0.0.2", 40000, 80, 72) // link 1 of 2
	end := int64(0)
	for tick := range Slots + 5 {
		for i, l := range []*BondLink{l0, l1} {
			d := NewDelta(0)
			d.Iface = i
			if tick < 5 || i == 1 {
				d.CheckBond(l, &p, false)
			}
			f.Merge(d)
		}
		end += int64(SlotDuration)
		s := f.Close(end)
		if len(s.Bonds) != 1 {
			t.Fatalf("tick %d: %d bonds", tick, len(s.Bonds))
		}
		b := s.Bonds[0]
		// eth0 sends for 5 ticks (disagree), eth1 always (agree).
		// Ticks 0 to 4 that are among the last Slots.
		wantDis := uint64(100 * max(0, min(4, tick)-max(0, tick-Slots+1)+1))
		wantAgree := uint64(100 * min(tick+1, Slots))
		if b.Disagree.Bytes != wantDis || b.Agree.Bytes != wantAgree || b.Links[0].Disagree.Bytes != wantDis || b.Links[1].Agree.Bytes != wantAgree {
			t.Fatalf("tick %d: agree %d, disagree %d; want %d, %d", tick, b.Agree.Bytes, b.Disagree.Bytes, wantAgree, wantDis)
		}
		if b.Links[1].Predicted != wantAgree+wantDis || b.Links[0].Observed != wantDis || b.Links[1].IfLayer34 != wantAgree+wantDis {
			t.Fatalf("tick %d: links %+v", tick, b.Links)
		}
		// Either link failing leaves the other with everything.
		if b.IfFails[0][1] != wantAgree+wantDis || b.IfFails[1][0] != wantAgree+wantDis || b.IfFails[0][0] != 0 {
			t.Fatalf("tick %d: fails %v", tick, b.IfFails)
		}
		if got := b.Disagrees(); got != (wantDis > 0) {
			t.Fatalf("tick %d: Disagrees %v", tick, got)
		}
		if b.Master != "bond0" || b.Variant != "5.18" || b.Mode != "balance-xor" || b.Policy != "layer3+4" {
			t.Fatalf("view %+v", b)
		}
		s.Release()
	}
	// Another set of members starts the history again.
	l3 := bondLink(bondhash.ModeXOR, bondhash.PolicyLayer34, []int{0, 1, 2}, []int{0, 1, 2}, 2)
	d := NewDelta(0)
	d.CheckBond(l3, &p, false)
	f.Merge(d)
	s := f.Close(end + int64(SlotDuration))
	if b := s.Bonds[0]; len(b.Links) != 3 || b.Agree.Bytes+b.Disagree.Bytes != 100 {
		t.Fatalf("after the members changed: %+v", b)
	}
}

// BenchmarkCheckBond is the check alone, per transmitted packet.
func BenchmarkCheckBond(b *testing.B) {
	for _, pol := range []bondhash.Policy{bondhash.PolicyLayer2, bondhash.PolicyLayer34} {
		for _, n := range []int{2, 4} {
			b.Run(pol.String()+"/links="+string(rune('0'+n)), func(b *testing.B) {
				var all, use []int
				for i := range n {
					all, use = append(all, i), append(use, i)
				}
				l := bondLink(bondhash.Mode8023AD, pol, all, use, 0)
				p := udpFrame(b, "10.0.0.1", "10.0.0.2", 40000, 80, 72)
				d := NewDelta(0)
				b.ReportAllocs()
				for b.Loop() {
					d.CheckBond(l, &p, false)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
			})
		}
	}
}

// A packet the formula cannot place counts as unknown, with its reason,
// and gets no what-if either.
func TestCheckBondUnknown(t *testing.T) {
	p := udpFrame(t, "10.0.0.1", "10.0.0.2", 40000, 80, 72)
	p.Flags &^= decode.FlagMAC // as on a cooked (SLL) capture
	l := bondLink(bondhash.ModeXOR, bondhash.PolicyLayer2, []int{0, 1}, []int{0, 1}, 0)
	f := NewFlows(FlowsConfig{Interfaces: []string{"eth0", "eth1"}})
	d := NewDelta(0)
	d.CheckBond(l, &p, false)
	f.Merge(d)
	b := f.Snapshot(int64(SlotDuration)).Bonds[0]
	if b.Unknown.Packets != 1 || b.Agree.Packets+b.Disagree.Packets != 0 || b.UnknownWhy != "no Ethernet header" || b.Links[0].Observed != 100 {
		t.Fatalf("%+v", b)
	}
	// layer3+4 needs no MAC: the what-if still places it.
	if b.Links[0].IfLayer34+b.Links[1].IfLayer34 != 100 || b.IfFails[0][1] != 0 {
		t.Fatalf("what-ifs %+v, %v", b.Links, b.IfFails)
	}
}

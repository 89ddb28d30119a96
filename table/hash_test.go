package table

import (
	"testing"
)

func TestPackRoundTrip(t *testing.T) {
	v6 := Key{Family: 6, Proto: 6, APort: 443, BPort: 65535, VLAN: 4095, Hidden: HideA | HideB}
	for i := range v6.A {
		v6.A[i], v6.B[i] = byte(i), byte(255-i)
	}
	for _, k := range []Key{
		key4(1, 2, 1000, 53),
		{Family: 4, Proto: 1, VLAN: 100, Hidden: HideB},
		v6,
	} {
		p := pack(&k)
		if got := p.key(); got != k {
			t.Errorf("pack(%+v).key() = %+v", k, got)
		}
		if p[4] == 0 {
			t.Errorf("pack(%+v): word 4 is 0 (a free slot)", k)
		}
		// A link index changes the key but neither the flow nor the hash.
		q := p
		q[4] |= uint64(MaxLinks-1) << linkShift
		if q.link() != MaxLinks-1 || p.link() != 0 || q.key() != k {
			t.Errorf("link bits: %d %d %+v", q.link(), p.link(), q.key())
		}
		if q.equal(&p) || !q.sameFlow(&p) || q.hash() != p.hash() {
			t.Errorf("%+v: with a link, equal %v sameFlow %v same hash %v", k, q.equal(&p), q.sameFlow(&p), q.hash() == p.hash())
		}
		// Another VLAN is another flow.
		r := k
		r.VLAN ^= 1
		if pr := pack(&r); pr.sameFlow(&p) || pr.equal(&p) {
			t.Errorf("%+v: VLAN %d and %d are one flow", k, k.VLAN, r.VLAN)
		}
	}
}

// TestPackPacketVLAN checks that the per-packet path puts the outermost
// VLAN tag in the key, as pack does.
func TestPackPacketVLAN(t *testing.T) {
	for _, tt := range []struct {
		vlans []uint16
		want  uint16
	}{
		{nil, 0},
		{[]uint16{100}, 100},
		{[]uint16{4094, 7}, 4094},
	} {
		p := pkt("10.0.0.1", "10.0.0.2", 1000, 53)
		p.NVLAN = uint8(copy(p.VLAN[:], tt.vlans))
		var got packed
		packPacket(&got, &p, true)
		want := Key{Family: 4, Proto: p.Proto, APort: 1000, BPort: 53, VLAN: tt.want}
		copy(want.A[:], p.Src[:4])
		copy(want.B[:], p.Dst[:4])
		if k := got.key(); k != want {
			t.Errorf("VLANs %v: key %+v, want %+v", tt.vlans, k, want)
		}
		if w := pack(&want); !got.equal(&w) {
			t.Errorf("VLANs %v: packPacket %x, pack %x", tt.vlans, got, w)
		}
	}
}

package decode

import "testing"

// fuzzLinks maps the fuzzer's link byte onto the supported link types plus
// one that is not, so most inputs exercise a real decoder.
var fuzzLinks = [...]LinkType{
	LinkEthernet, LinkLinuxSLL, LinkLinuxSLL2, LinkRaw, LinkIPv4, LinkIPv6, LinkNull, LinkLoop, 147,
}

func fuzzLinkIndex(l LinkType) uint8 {
	for i, v := range fuzzLinks {
		if v == l {
			return uint8(i)
		}
	}
	return uint8(len(fuzzLinks) - 1)
}

// FuzzDecode checks Frame's promises on arbitrary bytes: no panic, a
// sentinel error or a packet whose offsets and family match the bytes,
// the same result twice, and a symmetric FlowHash.
func FuzzDecode(f *testing.F) {
	for _, c := range frameCases() {
		f.Add(fuzzLinkIndex(c.link), c.data, c.meta.VLANOK, c.meta.VLANTCI, c.meta.WireLen)
	}
	f.Fuzz(func(t *testing.T, link uint8, data []byte, vlanOK bool, tci uint16, wire uint32) {
		m := Meta{
			Link:    fuzzLinks[int(link)%len(fuzzLinks)],
			PktType: PktUnknown,
			VLANOK:  vlanOK,
			VLANTCI: tci,
			WireLen: wire,
		}
		var p, q Packet
		err := Frame(data, &m, &p)
		q.Family, q.IPLen, q.Flags = 99, 99, 0xffff // Frame must overwrite these
		if err2 := Frame(data, &m, &q); err2 != err || q != p {
			t.Fatalf("decoding twice differs: %v %+v, then %v %+v", err, p, err2, q)
		}
		switch err {
		case nil:
			checkInvariants(t, data, &m, &p)
		case ErrNotIP, ErrTruncated, ErrMalformed, ErrLinkType:
			if p.Family != 0 || p.IPLen != 0 || p.L3Off != 0 || p.L4Off != 0 || p.Flags&^FlagMAC != 0 {
				t.Fatalf("error %v with network fields set: %+v", err, p)
			}
		default:
			t.Fatalf("error %v is not a sentinel", err)
		}
		if vlanOK && (p.NVLAN == 0 || p.VLAN[0] != tci&0x0fff) {
			t.Fatalf("out-of-band tag %#x not first: %+v", tci, p)
		}
		r := p
		r.Src, r.Dst = p.Dst, p.Src
		r.SrcPort, r.DstPort = p.DstPort, p.SrcPort
		if r.FlowHash() != p.FlowHash() {
			t.Fatalf("FlowHash not symmetric for %+v", p)
		}
	})
}

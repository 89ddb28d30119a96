package display

import (
	"net/netip"

	"github.com/fastop/fastop/table"
)

// mkKey builds a flow key from address text ("" leaves that side zero, as
// aggregation does).
func mkKey(a string, aport uint16, b string, bport uint16, proto uint8) table.Key {
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
			panic("mkKey: mixed address families")
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

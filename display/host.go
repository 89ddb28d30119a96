package display

import (
	"net/netip"
	"strconv"

	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

// Text shown instead of an address.
const (
	HiddenHost = " * "     // an address aggregated away (iftop's s and d)
	OtherHost  = "(other)" // the row of flows folded away when the table was full
)

// Side picks an end of a flow key.
type Side uint8

// Values of Side.
const (
	Src Side = iota // the left end, A (iftop's source)
	Dst             // the right end, B
)

// HostFormat builds iftop's host fields. The zero value shows numeric
// addresses and numeric ports. It is read-only while formatting, so one
// HostFormat may serve several goroutines.
type HostFormat struct {
	Namer    naming.Namer     // nil: numeric addresses (iftop's -n)
	Services *naming.Services // nil: numeric ports (iftop's -N)
	// Group says what a row is; rows other than host pairs (group.Rows)
	// show their label (AppendGroupLabel) instead of hosts.
	Group group.By
	Links []table.Interface // the snapshot's interfaces, which link rows name
}

// AppendName appends the host text of addr without a port: the cleaned name
// from the Namer, capped to limit bytes (no cap when limit < 0), or the
// numeric address, or HiddenHost for the zero Addr. Sorting by name compares
// this text.
func (f *HostFormat) AppendName(dst []byte, addr netip.Addr, limit int) []byte {
	if !addr.IsValid() {
		return append(dst, HiddenHost...)
	}
	if f.Namer != nil {
		if name, ok := f.Namer.Name(addr); ok && name != "" {
			if limit < 0 || limit > naming.MaxNameLen {
				limit = naming.MaxNameLen
			}
			return term.AppendClean(dst, name, limit)
		}
	}
	return addr.AppendTo(dst)
}

// AppendHost appends one host field exactly width bytes wide (nothing when
// width ≤ 0), built as iftop builds it (docs/iftop.md#host-fields):
//
//   - the host text: HiddenHost for the zero Addr, else the Namer's name cut
//     to width−1 bytes, else the numeric address;
//   - when port ≠ 0, a suffix ":service" (Services knows (port, proto)) or
//     ":port";
//   - an IPv6 address with a port goes in brackets;
//   - the host is cut so the whole suffix fits; a suffix wider than the
//     field is cut itself; the rest is padded with spaces.
//
// Where iftop would let a long IPv6 address overwrite its closing bracket,
// the address is cut inside the brackets instead, so the port stays readable.
// ASCII only comes out, so one byte is one terminal column.
func (f *HostFormat) AppendHost(dst []byte, addr netip.Addr, port uint16, proto uint8, width int) []byte {
	if width <= 0 {
		return dst
	}
	start := len(dst)
	end := start + width

	var sfx [1 + naming.MaxServiceName]byte
	suffix := sfx[:0]
	if port != 0 {
		suffix = append(suffix, ':')
		if name, ok := f.Services.Lookup(port, proto); ok {
			suffix = append(suffix, name...)
		} else {
			suffix = strconv.AppendUint(suffix, uint64(port), 10)
		}
	}
	if len(suffix) >= width {
		return append(dst, suffix[:width]...)
	}
	avail := width - len(suffix) // room for the host part
	brackets := port != 0 && addr.Is6() && avail >= 3

	if brackets {
		dst = append(dst, '[')
		dst = f.AppendName(dst, addr, width-1)
		if len(dst)-start > avail-1 {
			dst = dst[:start+avail-1]
		}
		dst = append(dst, ']')
	} else {
		dst = f.AppendName(dst, addr, width-1)
		if len(dst)-start > avail {
			dst = dst[:start+avail]
		}
	}
	dst = append(dst, suffix...)
	for len(dst) < end {
		dst = append(dst, ' ')
	}
	return dst
}

// AppendEndpoint appends the host field of one side of a row key (after
// aggregation with table.View.DisplayKey): OtherHost for the "other" row,
// else as AppendHost with that side's address and port. Under a Group
// other than host pairs, the side's text of the grouped row instead (its
// label on one side; see AppendGroupLabel).
func (f *HostFormat) AppendEndpoint(dst []byte, k *table.Key, side Side, width int) []byte {
	if f.Group != group.Host {
		return f.appendGroupEndpoint(dst, k, side, width)
	}
	if k.IsOther() {
		return AppendPadded(dst, OtherHost, width)
	}
	if side == Src {
		return f.AppendHost(dst, k.AAddr(), k.APort, k.Proto, width)
	}
	return f.AppendHost(dst, k.BAddr(), k.BPort, k.Proto, width)
}

// AppendPadded appends s cut or padded to exactly width bytes.
func AppendPadded(dst []byte, s string, width int) []byte {
	if width <= 0 {
		return dst
	}
	if len(s) >= width {
		return append(dst, s[:width]...)
	}
	dst = append(dst, s...)
	for range width - len(s) {
		dst = append(dst, ' ')
	}
	return dst
}

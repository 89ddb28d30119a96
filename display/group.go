package display

import (
	"strconv"

	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

// UnknownLink is the label of the link row that holds traffic no link
// accounts for (several interfaces, a flow without its per-link split).
const UnknownLink = "(unknown link)"

// AppendGroupLabel appends what a grouped row (group.Rows under by) is, as
// the screen and the reports name it: "tcp/443 https" (the service name
// when svc has one; "tcp/443" without), "icmp" for a protocol without
// ports, "10.1.2.0/24", "fd00:1::/64", "vlan 100", "untagged", a link's
// name, UnknownLink, or OtherHost for the other row. links are the
// snapshot's interfaces, which link rows index.
func AppendGroupLabel(dst []byte, by group.By, k *table.Key, svc *naming.Services, links []table.Interface) []byte {
	g := group.Decode(by, k)
	if g.Other {
		return append(dst, OtherHost...)
	}
	switch by {
	case group.Service:
		dst = append(dst, naming.ProtoName(g.Proto)...)
		if g.Port != 0 {
			dst = append(dst, '/')
			dst = strconv.AppendUint(dst, uint64(g.Port), 10)
			if name, ok := svc.Lookup(g.Port, g.Proto); ok {
				dst = append(dst, ' ')
				dst = append(dst, name...)
			}
		}
		return dst
	case group.SrcNet, group.DstNet:
		return g.Prefix().AppendTo(dst)
	case group.VLAN:
		if g.VLAN == 0 {
			return append(dst, "untagged"...)
		}
		dst = append(dst, "vlan "...)
		return strconv.AppendUint(dst, uint64(g.VLAN), 10)
	case group.Link:
		if g.Link < 0 || g.Link >= len(links) {
			return append(dst, UnknownLink...)
		}
		return term.AppendClean(dst, links[g.Link].Name, naming.MaxNameLen)
	}
	return dst
}

// GroupTitle is the heading of the text report's row column.
func GroupTitle(by group.By) string {
	switch by {
	case group.Service:
		return "Service (protocol/port)"
	case group.SrcNet:
		return "Source network"
	case group.DstNet:
		return "Destination network"
	case group.VLAN:
		return "VLAN"
	case group.Link:
		return "Link"
	}
	return "Host name (port/service if enabled)"
}

// labelSide is the side of a grouped row that shows its label: the right
// for destination networks (the left, local, side is " * "), the left for
// the others.
func labelSide(by group.By) Side {
	if by == group.DstNet {
		return Dst
	}
	return Src
}

// appendGroupText appends the unpadded text of one side of a grouped row:
// the label on its side; on the other, HiddenHost for a network row (the
// hosts on that side are aggregated away, as with s and d) and nothing
// for the others.
func (f *HostFormat) appendGroupText(dst []byte, k *table.Key, side Side) []byte {
	if k.IsOther() {
		return append(dst, OtherHost...)
	}
	if side == labelSide(f.Group) {
		return AppendGroupLabel(dst, f.Group, k, f.Services, f.Links)
	}
	if f.Group == group.SrcNet || f.Group == group.DstNet {
		return append(dst, HiddenHost...)
	}
	return dst
}

// appendGroupEndpoint is AppendEndpoint for a grouped row: the side's text
// cut or padded to width.
func (f *HostFormat) appendGroupEndpoint(dst []byte, k *table.Key, side Side, width int) []byte {
	if width <= 0 {
		return dst
	}
	start := len(dst)
	dst = f.appendGroupText(dst, k, side)
	if len(dst)-start > width {
		return dst[:start+width]
	}
	for len(dst)-start < width {
		dst = append(dst, ' ')
	}
	return dst
}

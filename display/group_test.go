package display

import (
	"net/netip"
	"testing"

	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

func netKey(by group.By, prefix string) table.Key {
	p := netip.MustParsePrefix(prefix)
	k := group.Key{By: by, Family: 4, Bits: uint8(p.Bits())}
	if p.Addr().Is6() {
		k.Family, k.Net = 6, p.Addr().As16()
	} else {
		a := p.Addr().As4()
		copy(k.Net[:], a[:])
	}
	return k.Flow()
}

func TestGroupFields(t *testing.T) {
	links := []table.Interface{{Name: "eth0"}, {Name: "eth\x1b1"}}
	other := table.Key{}
	tests := []struct {
		name        string
		by          group.By
		k           table.Key
		numeric     bool // -N: no service names
		left, right string
	}{
		{"service named", group.Service, group.Key{By: group.Service, Proto: tcp, Port: 443}.Flow(), false, "tcp/443 https", ""},
		{"service, -N", group.Service, group.Key{By: group.Service, Proto: tcp, Port: 443}.Flow(), true, "tcp/443", ""},
		{"service names are per protocol", group.Service, group.Key{By: group.Service, Proto: tcp, Port: 53}.Flow(), false, "tcp/53", ""},
		{"no ports", group.Service, group.Key{By: group.Service, Proto: icmp}.Flow(), false, "icmp", ""},
		{"other protocol", group.Service, group.Key{By: group.Service, Proto: 253}.Flow(), false, "253", ""},
		{"source network", group.SrcNet, netKey(group.SrcNet, "10.1.2.0/24"), false, "10.1.2.0/24", " * "},
		{"source network v6", group.SrcNet, netKey(group.SrcNet, "fd00:1:2:3::/64"), false, "fd00:1:2:3::/64", " * "},
		{"destination network", group.DstNet, netKey(group.DstNet, "192.0.2.0/24"), false, " * ", "192.0.2.0/24"},
		{"vlan", group.VLAN, group.Key{By: group.VLAN, VLAN: 100}.Flow(), false, "vlan 100", ""},
		{"untagged", group.VLAN, group.Key{By: group.VLAN}.Flow(), false, "untagged", ""},
		{"link", group.Link, group.Key{By: group.Link, Link: 0}.Flow(), false, "eth0", ""},
		{"link name cleaned", group.Link, group.Key{By: group.Link, Link: 1}.Flow(), false, "eth?1", ""},
		{"unknown link", group.Link, group.Key{By: group.Link, Link: -1}.Flow(), false, UnknownLink, ""},
		{"other row", group.VLAN, other, false, "(other)", "(other)"},
	}
	for _, tt := range tests {
		hf := HostFormat{Services: testServices, Group: tt.by, Links: links}
		if tt.numeric {
			hf.Services = nil
		}
		const w = 20
		left := string(hf.AppendEndpoint(nil, &tt.k, Src, w))
		right := string(hf.AppendEndpoint(nil, &tt.k, Dst, w))
		if left != pad(tt.left, w) || right != pad(tt.right, w) {
			t.Errorf("%s: fields %q %q, want %q %q", tt.name, left, right, pad(tt.left, w), pad(tt.right, w))
		}
	}
	// A label wider than the field is cut.
	hf := HostFormat{Group: group.SrcNet}
	k := netKey(group.SrcNet, "fd00:1:2:3::/64")
	if got := string(hf.AppendEndpoint(nil, &k, Src, 6)); got != "fd00:1" {
		t.Errorf("cut label %q, want %q", got, "fd00:1")
	}
}

func pad(s string, w int) string {
	for len(s) < w {
		s += " "
	}
	return s
}

// TestSortGroupedByName: < and > sort grouped rows by their label text.
func TestSortGroupedByName(t *testing.T) {
	rows := []table.Flow{
		{Key: group.Key{By: group.VLAN, VLAN: 20}.Flow()},
		{Key: group.Key{By: group.VLAN}.Flow()},
		{Key: group.Key{By: group.VLAN, VLAN: 100}.Flow()},
		{Key: table.Key{}},
	}
	hf := HostFormat{Group: group.VLAN}
	SortRows(rows, SortSource, table.TwoLine, &hf)
	var got []string
	for i := range rows {
		got = append(got, string(AppendGroupLabel(nil, group.VLAN, &rows[i].Key, nil, nil)))
	}
	want := []string{"(other)", "untagged", "vlan 100", "vlan 20"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %q, want %q", got, want)
		}
	}
}

package screen

import (
	"strings"
	"testing"

	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/table"
)

// bondViewFrame is the fixture with the bond view on, for bonds.
func bondViewFrame(bonds []table.BondView) *frame {
	f := fixtureFrame(DefaultUIState())
	f.State.Bonds = true
	s := *f.Snap
	s.Bonds = bonds
	f.Snap = &s
	return f
}

func fixtureBonds() []table.BondView {
	return []table.BondView{{
		Master: "bond0", Mode: "802.3ad", Policy: "layer3+4", Variant: "5.18",
		Agree: table.Counter{Bytes: 900_000, Packets: 900}, Disagree: table.Counter{Bytes: 100_000, Packets: 100},
		Unknown: table.Counter{Bytes: 5_000, Packets: 5}, UnknownWhy: "ports not known",
		Links: []table.BondLinkView{
			{Name: "eth0", Usable: true, Observed: 705_000, Agree: table.Counter{Bytes: 600_000}, Disagree: table.Counter{Bytes: 100_000},
				Unknown: table.Counter{Bytes: 5_000}, Predicted: 600_000, IfLayer34: 500_000},
			{Name: "eth1", Usable: true, Observed: 300_000, Agree: table.Counter{Bytes: 300_000}, Predicted: 400_000, IfLayer34: 300_000},
			{Name: "eth2", Usable: true, IfLayer34: 200_000},
			{Name: "eth3"},
		},
		IfFails: [][]uint64{{0, 700_000, 300_000, 0}, {800_000, 0, 200_000, 0}, {600_000, 400_000, 0, 0}, nil},
	}, {
		Master: "bond1", Mode: "active-backup", Why: "mode active-backup does not choose links by hash",
		Links: []table.BondLinkView{{Name: "eth4"}}, IfFails: [][]uint64{nil},
	}}
}

// TestRenderBondsGolden: the bond view (w) at iftop's size and a narrow
// one, with no bond, and the health note of a bond whose links disagree.
func TestRenderBondsGolden(t *testing.T) {
	tests := []struct {
		name  string
		w, h  int
		bonds []table.BondView
	}{
		{"80x24", 80, 24, fixtureBonds()},
		{"50x16", 50, 16, fixtureBonds()},
		{"none", 80, 24, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := renderFrame(tt.w, tt.h, bondViewFrame(tt.bonds))
			checkGrid(t, g)
			displaytest.Golden(t, "screen_bonds_"+tt.name, g.AppendText(nil, true))
		})
	}
}

// TestBondNote: the health rule names a bond whose transmit links disagree
// with the formula for more than 1% of the bytes, and no other.
func TestBondNote(t *testing.T) {
	for _, tc := range []struct {
		agree, disagree uint64
		want            string
	}{
		{990, 10, ""},
		{980, 20, "bond0 hash 2% off"},
		{0, 0, ""},
		{100, 300, "bond0 hash 75% off"},
	} {
		bonds := fixtureBonds()
		bonds[0].Agree.Bytes, bonds[0].Disagree.Bytes = tc.agree, tc.disagree
		f := bondViewFrame(bonds)
		f.State.Bonds = false
		g, _ := renderFrame(80, 24, f)
		rule := strings.Split(g.String(), "\n")[20]
		if got := strings.Contains(rule, "bond0 hash"); got != (tc.want != "") || tc.want != "" && !strings.Contains(rule, tc.want) {
			t.Errorf("agree %d, disagree %d: rule %q; want %q", tc.agree, tc.disagree, rule, tc.want)
		}
	}
}

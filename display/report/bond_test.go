package report

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/table"
)

type jsonCounter struct {
	Bytes   *uint64 `json:"bytes"`
	Packets *uint64 `json:"packets"`
}

type jsonBond struct {
	Master     string          `json:"master"`
	Mode       string          `json:"mode"`
	Policy     json.RawMessage `json:"policy"`
	Variant    json.RawMessage `json:"variant"`
	Why        json.RawMessage `json:"why"`
	Window     *float64        `json:"window"`
	Agree      jsonCounter     `json:"agree"`
	Disagree   jsonCounter     `json:"disagree"`
	Unknown    jsonCounter     `json:"unknown"`
	UnknownWhy json.RawMessage `json:"unknown_why"`
	Disagrees  *bool           `json:"disagrees"`
	Links      []struct {
		Name      string      `json:"name"`
		Usable    *bool       `json:"usable"`
		Observed  *uint64     `json:"observed"`
		Agree     jsonCounter `json:"agree"`
		Disagree  jsonCounter `json:"disagree"`
		Unknown   jsonCounter `json:"unknown"`
		Predicted *uint64     `json:"predicted"`
		IfLayer34 *uint64     `json:"if_layer34"`
		IfFails   []uint64    `json:"if_fails"`
	} `json:"links"`
}

// bondSnapshot is the fixture with a 3-link 802.3ad bond (eth2 not in the
// active aggregator) and an active-backup bond.
func bondSnapshot() *table.Snapshot {
	s := displaytest.FixtureSnapshot()
	s.Bonds = []table.BondView{{
		Master: "bond0", Mode: "802.3ad", Policy: "layer3+4", Variant: "5.18",
		Agree: table.Counter{Bytes: 9000, Packets: 90}, Disagree: table.Counter{Bytes: 1000, Packets: 10},
		Unknown: table.Counter{Bytes: 500, Packets: 5}, UnknownWhy: "ports not known",
		Links: []table.BondLinkView{
			{Name: "eth0", Usable: true, Observed: 6500, Agree: table.Counter{Bytes: 5000, Packets: 50}, Disagree: table.Counter{Bytes: 1000, Packets: 10},
				Unknown: table.Counter{Bytes: 500, Packets: 5}, Predicted: 5000, IfLayer34: 5000},
			{Name: "eth1", Usable: true, Observed: 4000, Agree: table.Counter{Bytes: 4000, Packets: 40}, Predicted: 5000, IfLayer34: 5000},
			{Name: "eth2"},
		},
		IfFails: [][]uint64{{0, 10000, 0}, {10000, 0, 0}, nil},
	}, {
		Master: "bond1", Mode: "active-backup", Why: "active-backup does not choose links by hash",
		Unknown: table.Counter{Bytes: 70, Packets: 1}, UnknownWhy: "active-backup does not choose links by hash",
		Links:   []table.BondLinkView{{Name: "eth3", Observed: 70, Unknown: table.Counter{Bytes: 70, Packets: 1}}},
		IfFails: [][]uint64{nil},
	}}
	return s
}

func TestJSONBonds(t *testing.T) {
	s := bondSnapshot()
	r := decodeReport(t, AppendJSON(nil, s, nil))
	if len(r.Bonds) != 2 {
		t.Fatalf("%d bonds, want 2", len(r.Bonds))
	}
	b := r.Bonds[0]
	if b.Master != "bond0" || string(b.Policy) != `"layer3+4"` || string(b.Variant) != `"5.18"` || string(b.Why) != "null" ||
		*b.Agree.Bytes != 9000 || *b.Disagree.Packets != 10 || *b.Unknown.Bytes != 500 || string(b.UnknownWhy) != `"ports not known"` ||
		!*b.Disagrees || *b.Window != float64(s.Window[table.Win40s])/1e9 {
		t.Fatalf("bond0: %+v", b)
	}
	if len(b.Links) != 3 || *b.Links[0].Observed != 6500 || *b.Links[1].Predicted != 5000 || *b.Links[1].IfLayer34 != 5000 ||
		*b.Links[2].Usable || !reflect.DeepEqual(b.Links[0].IfFails, []uint64{0, 10000, 0}) || b.Links[2].IfFails != nil {
		t.Fatalf("bond0 links: %+v", b.Links)
	}
	b = r.Bonds[1]
	if string(b.Policy) != "null" || string(b.Variant) != "null" || !strings.Contains(string(b.Why), "does not choose") || *b.Disagrees {
		t.Fatalf("bond1: %+v", b)
	}
	// No bond: an empty array, never a missing field.
	s.Bonds = nil
	if r := decodeReport(t, AppendJSON(nil, s, nil)); r.Bonds == nil || len(r.Bonds) != 0 {
		t.Fatalf("no bond: %v", r.Bonds)
	}
}

func TestTextBondBlocks(t *testing.T) {
	got := string(appendBondBlocks(nil, bondSnapshot()))
	want := "Bond bond0: 802.3ad, layer3+4, kernel 5.18: 90.0% of 9.77KB as predicted, 10.0% not, 500B unknown (ports not known)\n" +
		"  eth0: sent 6.35KB, 83.3% as predicted; predicted 4.88KB; layer3+4 4.88KB; if eth1 fails 9.77KB\n" +
		"  eth1: sent 3.91KB, 100.0% as predicted; predicted 4.88KB; layer3+4 4.88KB; if eth0 fails 9.77KB\n" +
		"  eth2 (not transmitting): sent 0B, - as predicted; predicted 0B; layer3+4 0B\n\n" +
		"Bond bond1: active-backup: no prediction: active-backup does not choose links by hash\n\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

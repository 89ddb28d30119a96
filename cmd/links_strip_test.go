package cmd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fastop/fastop/table"
)

// TestReadLinkAggregators: readLink gives an 802.3ad member its aggregator
// id and its bond's active aggregator from sysfs (the screen notes a
// member outside the active one), none where sysfs has none, and none for
// a link that left its bond.
func TestReadLinkAggregators(t *testing.T) {
	root := fakeBondSys(t, "bond9", 50, "eth7", "eth8", "eth9")
	write := func(p, v string) {
		if err := os.WriteFile(filepath.Join(root, p), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bond9/bonding/mode", "802.3ad 4")
	write("bond9/bonding/ad_aggregator", "2")
	write("eth7/bonding_slave/ad_aggregator_id", "2")
	write("eth8/bonding_slave/ad_aggregator_id", "3")
	write("eth8/speed", "10000")
	// eth9 has no ad_aggregator_id, and has left the bond.
	write("bond9/bonding/slaves", "eth7 eth8")

	tests := []struct {
		link string
		want table.Link
	}{
		{"eth7", table.Link{Speed: 1e9, Master: "bond9", State: "active", Aggregator: 2, ActiveAggregator: 2}},
		{"eth8", table.Link{Speed: 1e10, Master: "bond9", State: "active", Aggregator: 3, ActiveAggregator: 2}},
		{"eth9", table.Link{Speed: 1e9, Master: "bond9", State: "left bond9"}},
	}
	for _, tt := range tests {
		got := readLink(linkTarget{name: tt.link, master: "bond9", sysfs: true}, nil)
		if got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.link, got, tt.want)
		}
	}
	// A bond without 802.3ad says nothing of aggregators.
	write("bond9/bonding/ad_aggregator", "")
	if got := readLink(linkTarget{name: "eth7", master: "bond9", sysfs: true}, nil); got.ActiveAggregator != 0 || got.Aggregator != 2 {
		t.Errorf("no active aggregator in sysfs: %+v, want ActiveAggregator 0", got)
	}
}

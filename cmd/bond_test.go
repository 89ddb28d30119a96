package cmd

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fastop/fastop/table/bondhash"
	"github.com/fastop/fastop/table/pipeline"
)

// TestBondLinks: the configuration each link's worker gets, from a fake
// sysfs tree: the links that can transmit, in slave order, and why a
// mode, policy or kernel gets no prediction.
func TestBondLinks(t *testing.T) {
	root := fakeBondSys(t, "bond0", 1, "ethA", "ethB", "ethC")
	write := func(p, v string) {
		if err := os.WriteFile(filepath.Join(root, p), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	targets := []linkTarget{{name: "ethA", master: "bond0", sysfs: true}, {name: "ethB", master: "bond0", sysfs: true},
		{name: "ethC", master: "bond0", sysfs: true}, {name: "lo", sysfs: true}}

	write("ethB/bonding_slave/mii_status", "going_back") // not yet usable
	got := bondLinks(targets, "6.1.0-18-amd64", nil)
	if got[3] != nil {
		t.Errorf("a link of no bond got %+v", got[3])
	}
	for i, l := range got[:3] {
		if l == nil || l.Why != "" || l.Self != i || !reflect.DeepEqual(l.Usable, []int{0, 2}) ||
			!reflect.DeepEqual(l.Members, []string{"ethA", "ethB", "ethC"}) ||
			l.Config.Mode != bondhash.ModeXOR || l.Config.Policy != bondhash.PolicyLayer34 || l.Config.Variant != bondhash.V5_18 {
			t.Fatalf("link %d: %+v", i, l)
		}
	}

	// 802.3ad: only the active aggregator's links transmit.
	write("ethB/bonding_slave/mii_status", "up")
	write("bond0/bonding/mode", "802.3ad 4")
	write("bond0/bonding/ad_aggregator", "2")
	for s, agg := range map[string]string{"ethA": "2", "ethB": "1", "ethC": "2"} {
		write(s+"/bonding_slave/ad_aggregator_id", agg)
	}
	if l := bondLinks(targets, "5.10.0", nil)[0]; l.Why != "" || !reflect.DeepEqual(l.Usable, []int{0, 2}) || l.Config.Variant != bondhash.V5_5 {
		t.Fatalf("802.3ad: %+v", l)
	}

	tests := []struct {
		mode, policy, release, why string
	}{
		{"active-backup 1", "layer3+4 1", "6.1", "mode active-backup does not choose links by hash"},
		{"balance-xor 2", "encap3+4 4", "6.1", "xmit_hash_policy encap3+4 dissects more"},
		{"balance-xor 2", "layer2 0", "3.10.0-1160.el7.x86_64", "older than 4.10"},
		{"balance-xor 2", "layer2 0", "6.1", ""},
	}
	for _, tc := range tests {
		write("bond0/bonding/mode", tc.mode)
		write("bond0/bonding/xmit_hash_policy", tc.policy)
		l := bondLinks(targets, tc.release, nil)[1]
		if tc.why == "" && l.Why != "" || !strings.Contains(l.Why, tc.why) {
			t.Errorf("%s, %s, kernel %s: why %q; want %q", tc.mode, tc.policy, tc.release, l.Why, tc.why)
		}
	}

	// A refresh that finds nothing new keeps the workers' pointers; one
	// that does publishes a new configuration.
	lc := &liveCapture{targets: targets, release: "6.1", bonds: pipeline.NewBondLinks(len(targets))}
	lc.refreshBonds()
	first := lc.bonds.Get(0)
	lc.refreshBonds()
	if first == nil || lc.bonds.Get(0) != first {
		t.Fatal("an unchanged bond got a new configuration")
	}
	write("ethA/bonding_slave/mii_status", "down")
	lc.refreshBonds()
	if l := lc.bonds.Get(0); l == first || !reflect.DeepEqual(l.Usable, []int{1, 2}) {
		t.Fatalf("after ethA went down: %+v", l)
	}
	// A link that left the bond is not checked.
	write("bond0/bonding/slaves", "ethB ethC")
	lc.refreshBonds()
	if l := lc.bonds.Get(0); l != nil {
		t.Fatalf("a link that left the bond: %+v", l)
	}
}

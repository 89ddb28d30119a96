package cmd

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fastop/fastop/display/ipfix"
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

// TestScreenExportStatus: the screen's view of the IPFIX exporter counts
// the messages a collector that went away refused, with the reason; with
// no IPFIX exporter there is nothing to poll.
func TestScreenExportStatus(t *testing.T) {
	if (&exporters{}).screenStatus() != nil || (*exporters)(nil).screenStatus() != nil {
		t.Error("a status to poll without an IPFIX exporter")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var o Options
	o.Export.IPFIX = pc.LocalAddr().String()
	o.Export.IPFIXActive, o.Export.IPFIXIdle, o.Export.IPFIXMTU = ipfix.DefaultActive, ipfix.DefaultIdle, ipfix.DefaultMTU
	x, err := startExporters(&o, nil, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	status := x.screenStatus()
	if st := status(); st.Name != "IPFIX" || st.Errors != 0 {
		t.Fatalf("before any send: %+v", st)
	}
	pc.Close()
	k := table.Key{Family: 4, A: [16]byte{10, 0, 0, 1}, B: [16]byte{10, 0, 0, 2}, APort: 1000, BPort: 53, Proto: 17}
	for i := int64(1); i <= 40; i++ {
		x.tick(&table.Snapshot{Time: 2 * i * 1e9, Flows: []table.Flow{{Key: k, Sent: table.Stat{Bytes: uint64(100 * i), Packets: uint64(i)}}}})
	}
	x.close(nil)
	if st := status(); st.Errors == 0 || !strings.Contains(st.Last, "connection refused") {
		t.Errorf("after the collector left: %+v, want refusals counted", st)
	}
}

// TestRCLinkStrip: ~/.iftoprc's link-strip sets whether the screen starts
// with the link strip (the i key); it is on without the directive.
func TestRCLinkStrip(t *testing.T) {
	for _, tt := range []struct {
		rc   string
		want bool
	}{{"", true}, {"link-strip: no\n", false}, {"link-strip: yes\n", true}, {"link-strip: false\n", false}} {
		res := parseArgs(t, "-c", writeRC(t, tt.rc+"dns-resolution: no\n"))
		if res.opts == nil {
			t.Fatalf("%q: exit %d: %s", tt.rc, res.code, res.errOut)
		}
		if got := res.opts.screenConfig(screenControl{}, func(string) string { return "" }).State.Strip; got != tt.want {
			t.Errorf("%q: strip %v, want %v", tt.rc, got, tt.want)
		}
	}
}

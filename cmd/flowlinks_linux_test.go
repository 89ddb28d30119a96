package cmd

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"strings"
	"testing"

	"github.com/fastop/fastop/bench/netns"
)

// flowLinksReport is the part of a JSON report TestLinksSplitFlows reads.
type flowLinksReport struct {
	Flows []struct {
		Src, Dst   *string
		Sent, Recv struct{ Bytes, Packets uint64 }
		Links      []struct {
			Name       string
			Sent, Recv struct{ Bytes, Packets uint64 }
		}
	}
	Capture struct {
		Packets, Counted, Dropped uint64
	}
	Interfaces []struct {
		Name       string
		Sent, Recv struct{ Bytes, Packets uint64 }
	}
}

// TestLinksSplitFlows captures two veth links with -i a,b -P while one
// UDP flow goes over link a, another comes in over link b, and a third,
// one 5-tuple, goes first over a and then, its route moved, over b. Each
// flow is one row whose links say exactly what each link carried; the
// split flow has two parts, and the links' parts over all rows are the
// links' totals: nothing is counted twice or lost. The same run exports
// IPFIX to nfcapd: each link's part of a flow is a record with that
// link's ifindex.
func TestLinksSplitFlows(t *testing.T) {
	cns, gns := netns.NewT(t), netns.NewT(t)
	va := netns.NewVethT(t, cns, gns) // va.A in cns, va.B in gns
	vb := netns.NewVethT(t, cns, gns)
	const local, remote = "10.63.0.1", "10.63.0.2" // the split flow's ends, on lo
	cmds := []struct {
		ns   *netns.NS
		args []string
	}{
		{cns, []string{"addr", "add", "10.63.1.1/24", "dev", va.A}},
		{gns, []string{"addr", "add", "10.63.1.2/24", "dev", va.B}},
		{cns, []string{"addr", "add", "10.63.2.1/24", "dev", vb.A}},
		{gns, []string{"addr", "add", "10.63.2.2/24", "dev", vb.B}},
		{cns, []string{"addr", "add", local + "/32", "dev", "lo"}},
		{gns, []string{"addr", "add", remote + "/32", "dev", "lo"}},
		{cns, []string{"link", "set", "lo", "up"}},
		{gns, []string{"link", "set", "lo", "up"}},
		{gns, []string{"route", "add", local + "/32", "dev", va.B}},
	}
	for _, c := range cmds {
		if err := c.ns.IP(c.args...); err != nil {
			t.Fatal(err)
		}
	}
	// The split flow comes in over either link: no reverse-path check.
	for _, key := range []string{"all", "default", va.B, vb.B} {
		if err := gns.Sysctl("net/ipv4/conf/"+key+"/rp_filter", "0"); err != nil {
			t.Fatal(err)
		}
	}
	route := func(dev string) error {
		return cns.IP("route", "replace", remote+"/32", "dev", dev, "src", local)
	}
	plans := []udpPlan{
		{from: "10.63.1.1", to: "10.63.1.2", ns: cns, n: 30, payload: 100}, // over a, sent
		{from: "10.63.2.2", to: "10.63.2.1", ns: gns, n: 10, payload: 50},  // over b, received
		{from: local, to: remote, ns: cns, n: 12, payload: 200},            // the split flow over a
		{from: local, to: remote, ns: cns, n: 7, payload: 300},             // and then over b
	}
	devs := []string{va.A, vb.A, va.A, vb.A} // the link each plan takes
	peer := map[*netns.NS]*netns.NS{cns: gns, gns: cns}
	sinks := make([]*net.UDPConn, 3)
	for i := range sinks {
		sinks[i] = listenIn(t, peer[plans[i].ns], plans[i].to, linkTestPort)
	}
	sinks = append(sinks, sinks[2])
	// Neighbours resolved before the capture, over every route, with
	// datagrams to a port the capture's filter leaves out.
	for i, p := range plans {
		if p.from == local {
			if err := route(devs[i]); err != nil {
				t.Fatal(err)
			}
		}
		warm := p
		warm.n, warm.payload = 1, 1
		sink := listenIn(t, peer[p.ns], p.to, linkTestPort+2+i)
		if err := warm.send(linkTestPort + 2 + i); err != nil {
			t.Fatal(err)
		}
		if err := receive(sink, 1); err != nil {
			t.Fatal(err)
		}
	}
	traffic := func() error {
		for i, p := range plans {
			if p.from == local {
				if err := route(devs[i]); err != nil {
					return err
				}
			}
			if err := p.send(linkTestPort); err != nil {
				return err
			}
			if err := receive(sinks[i], p.n); err != nil {
				return err
			}
		}
		return nil
	}
	c := startNfcapdWith(t, cns.Command)
	out, _ := runFastopIn(t, cns, vb.A, traffic,
		"-i", va.A+","+vb.A, "--json", "-s", "3", "-P", "-n", "-L", "0", "-f", fmt.Sprintf("udp port %d", linkTestPort),
		"--ipfix", c.addr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r flowLinksReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}

	type dir struct{ Bytes, Packets uint64 }
	ipLen := func(p udpPlan) dir { return dir{uint64(p.n * (20 + 8 + p.payload)), uint64(p.n)} }
	type part struct{ sent, recv dir }
	// Per flow (its local end first), per link: what that link carried.
	want := map[string]map[string]part{
		"10.63.1.1 10.63.1.2": {va.A: {sent: ipLen(plans[0])}},
		"10.63.2.1 10.63.2.2": {vb.A: {recv: ipLen(plans[1])}},
		local + " " + remote:  {va.A: {sent: ipLen(plans[2])}, vb.A: {sent: ipLen(plans[3])}},
	}
	perLink := map[string]part{}
	for _, f := range r.Flows {
		if f.Src == nil || f.Dst == nil {
			t.Fatalf("a row without addresses: %s", out)
		}
		k := *f.Src + " " + *f.Dst
		w, ok := want[k]
		if !ok {
			t.Errorf("unexpected flow %s", k)
			continue
		}
		delete(want, k)
		if len(f.Links) != len(w) {
			t.Errorf("%s: %d link parts %+v, want %d", k, len(f.Links), f.Links, len(w))
		}
		var sum part
		for _, l := range f.Links {
			got := part{dir(l.Sent), dir(l.Recv)}
			if got != w[l.Name] {
				t.Errorf("%s on %s: sent, received %+v, want %+v", k, l.Name, got, w[l.Name])
			}
			sum.sent.Bytes += l.Sent.Bytes
			sum.sent.Packets += l.Sent.Packets
			sum.recv.Bytes += l.Recv.Bytes
			sum.recv.Packets += l.Recv.Packets
			pl := perLink[l.Name]
			pl.sent.Bytes += l.Sent.Bytes
			pl.sent.Packets += l.Sent.Packets
			pl.recv.Bytes += l.Recv.Bytes
			pl.recv.Packets += l.Recv.Packets
			perLink[l.Name] = pl
		}
		if row := (part{dir(f.Sent), dir(f.Recv)}); row != sum {
			t.Errorf("%s: the row is %+v, its links add up to %+v", k, row, sum)
		}
	}
	for k := range want {
		t.Errorf("flow %s missing from %s", k, out)
	}
	for _, in := range r.Interfaces {
		if got, w := perLink[in.Name], (part{dir(in.Sent), dir(in.Recv)}); got != w {
			t.Errorf("%s: the rows' parts add up to %+v, the link's totals are %+v", in.Name, got, w)
		}
	}
	var all uint64
	for _, p := range plans {
		all += uint64(p.n)
	}
	if r.Capture.Packets != all || r.Capture.Counted != all || r.Capture.Dropped != 0 {
		t.Errorf("capture %+v, want exactly the %d datagrams, each once", r.Capture, all)
	}

	// IPFIX: packets by source, destination and the ifindex the record
	// names (ingress or egress, whichever the direction rules set).
	index := map[string]uint32{}
	cns.Do(func() error {
		for _, dev := range []string{va.A, vb.A} {
			ifi, err := net.InterfaceByName(dev)
			if err != nil {
				return err
			}
			index[dev] = uint32(ifi.Index)
		}
		return nil
	})
	got := map[string]uint64{}
	for _, rec := range nfdumpRecords(t, c) {
		got[fmt.Sprint(rec.Src4, " ", rec.Dst4, " ", rec.In+rec.Out)] += rec.Packets
	}
	wantRecs := map[string]uint64{
		fmt.Sprint("10.63.1.1 10.63.1.2 ", index[va.A]):  uint64(plans[0].n),
		fmt.Sprint("10.63.2.2 10.63.2.1 ", index[vb.A]):  uint64(plans[1].n),
		fmt.Sprint(local, " ", remote, " ", index[va.A]): uint64(plans[2].n),
		fmt.Sprint(local, " ", remote, " ", index[vb.A]): uint64(plans[3].n),
	}
	if !maps.Equal(got, wantRecs) {
		t.Errorf("IPFIX packets by src, dst, ifindex: %v, want %v", got, wantRecs)
	}
}

// nfdumpRecord is what TestLinksSplitFlows reads of nfdump's records.
type nfdumpRecord struct {
	Packets uint64 `json:"in_packets"`
	Src4    string `json:"src4_addr"`
	Dst4    string `json:"dst4_addr"`
	In      uint32 `json:"input_snmp"`
	Out     uint32 `json:"output_snmp"`
}

// nfdumpRecords stops c and returns its records.
func nfdumpRecords(t *testing.T, c *collector) []nfdumpRecord {
	t.Helper()
	out := c.stopAndDump(t)
	var recs []nfdumpRecord
	if err := json.Unmarshal(out, &recs); err != nil {
		t.Fatalf("nfdump -o json: %v: %.300s", err, out)
	}
	return recs
}

// TestLinksBridgeSharedMAC stands in for a bond without the bonding
// driver: two veth ports of a bridge that share its MAC, as a bond's
// links share the bond's, so frames to the host arrive on each port as
// PACKET_HOST and the host's replies leave by the port its peer is
// learned on. Known UDP traffic both ways through each port, and one
// 5-tuple whose source moves from the peer behind one port to the peer
// behind the other: `-i PORT1,PORT2` counts each datagram once, on the
// port that carried it, in the right direction, and splits the moved
// flow exactly between the two.
func TestLinksBridgeSharedMAC(t *testing.T) {
	cns, p1, p2 := netns.NewT(t), netns.NewT(t), netns.NewT(t)
	va := netns.NewVethT(t, cns, p1) // va.A: a port in cns, va.B: p1's end
	vb := netns.NewVethT(t, cns, p2)
	br := netns.IfName("br")
	const mac, host, moved = "02:fa:5e:00:00:01", "10.64.0.1", "10.64.0.9"
	for _, c := range []struct {
		ns   *netns.NS
		args []string
	}{
		{cns, []string{"link", "add", br, "type", "bridge"}},
		{cns, []string{"link", "set", va.A, "address", mac}},
		{cns, []string{"link", "set", vb.A, "address", mac}},
		{cns, []string{"link", "set", br, "address", mac}},
		{cns, []string{"link", "set", va.A, "master", br}},
		{cns, []string{"link", "set", vb.A, "master", br}},
		{cns, []string{"link", "set", br, "up"}},
		{cns, []string{"addr", "add", host + "/24", "dev", br}},
		{p1, []string{"addr", "add", "10.64.0.2/24", "dev", va.B}},
		{p2, []string{"addr", "add", "10.64.0.3/24", "dev", vb.B}},
		{p1, []string{"addr", "add", moved + "/32", "dev", va.B}},
	} {
		if err := c.ns.IP(c.args...); err != nil {
			t.Fatalf("ip %v: %v", c.args, err)
		}
	}
	plans := []udpPlan{
		{from: "10.64.0.2", to: host, ns: p1, n: 30, payload: 100},  // in on a
		{from: host, to: "10.64.0.3", ns: cns, n: 20, payload: 200}, // out on b
		{from: "10.64.0.3", to: host, ns: p2, n: 10, payload: 50},   // in on b
		{from: moved, to: host, ns: p1, n: 12, payload: 300},        // the moved source, in on a
		{from: moved, to: host, ns: p2, n: 7, payload: 150},         // then in on b
	}
	hostSink := listenIn(t, cns, host, linkTestPort)
	sinks := []*net.UDPConn{hostSink, listenIn(t, p2, "10.64.0.3", linkTestPort), hostSink, hostSink, hostSink}
	// Neighbours and the bridge's forwarding table learnt before the
	// capture, with datagrams to a port the filter leaves out.
	for i, p := range plans[:3] {
		warm := p
		warm.n, warm.payload = 1, 1
		sink := listenIn(t, map[*netns.NS]*netns.NS{p1: cns, p2: cns, cns: p2}[p.ns], p.to, linkTestPort+2+i)
		if err := warm.send(linkTestPort + 2 + i); err != nil {
			t.Fatal(err)
		}
		if err := receive(sink, 1); err != nil {
			t.Fatal(err)
		}
	}
	traffic := func() error {
		for i, p := range plans {
			if i == 4 { // the source moves behind the other port
				if err := p1.IP("addr", "del", moved+"/32", "dev", va.B); err != nil {
					return err
				}
				if err := p2.IP("addr", "add", moved+"/32", "dev", vb.B); err != nil {
					return err
				}
			}
			if err := p.send(linkTestPort); err != nil {
				return err
			}
			if err := receive(sinks[i], p.n); err != nil {
				return err
			}
		}
		return nil
	}
	out, _ := runFastopIn(t, cns, vb.A, traffic,
		"-i", va.A+","+vb.A, "--json", "-s", "3", "-n", "-L", "0", "-f", fmt.Sprintf("udp port %d", linkTestPort))
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r flowLinksReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}

	type dir struct{ Bytes, Packets uint64 }
	ipLen := func(p udpPlan) dir { return dir{uint64(p.n * (20 + 8 + p.payload)), uint64(p.n)} }
	add := func(a, b dir) dir { return dir{a.Bytes + b.Bytes, a.Packets + b.Packets} }
	// Per link, what went out of it and what came in.
	type inout struct{ out, in dir }
	wantLinks := map[string]inout{
		va.A: {in: add(ipLen(plans[0]), ipLen(plans[3]))},
		vb.A: {out: ipLen(plans[1]), in: add(ipLen(plans[2]), ipLen(plans[4]))},
	}
	if len(r.Interfaces) != 2 {
		t.Fatalf("interfaces %+v, want the two ports", r.Interfaces)
	}
	for _, in := range r.Interfaces {
		if got := (inout{dir(in.Sent), dir(in.Recv)}); got != wantLinks[in.Name] {
			t.Errorf("%s: out, in = %+v, want %+v", in.Name, got, wantLinks[in.Name])
		}
	}
	// Per flow, per link: the bytes from the peer to the host and back,
	// whichever end the row puts first.
	type part struct{ toHost, fromHost dir }
	want := map[string]map[string]part{
		"10.64.0.2": {va.A: {toHost: ipLen(plans[0])}},
		"10.64.0.3": {vb.A: {toHost: ipLen(plans[2]), fromHost: ipLen(plans[1])}},
		moved:       {va.A: {toHost: ipLen(plans[3])}, vb.A: {toHost: ipLen(plans[4])}},
	}
	for _, f := range r.Flows {
		if f.Src == nil || f.Dst == nil {
			t.Fatalf("a row without addresses: %s", out)
		}
		peer, hostFirst := *f.Src, false
		if peer == host {
			peer, hostFirst = *f.Dst, true
		}
		w, ok := want[peer]
		if !ok {
			t.Errorf("unexpected flow %s %s", *f.Src, *f.Dst)
			continue
		}
		delete(want, peer)
		if len(f.Links) != len(w) {
			t.Errorf("%s: %d link parts %+v, want %d", peer, len(f.Links), f.Links, len(w))
		}
		for _, l := range f.Links {
			got := part{toHost: dir(l.Sent), fromHost: dir(l.Recv)}
			if hostFirst {
				got = part{toHost: dir(l.Recv), fromHost: dir(l.Sent)}
			}
			if got != w[l.Name] {
				t.Errorf("%s on %s: %+v, want %+v", peer, l.Name, got, w[l.Name])
			}
		}
	}
	for k := range want {
		t.Errorf("flow of %s missing from %s", k, out)
	}
	var all uint64
	for _, p := range plans {
		all += uint64(p.n)
	}
	if r.Capture.Packets != all || r.Capture.Counted != all || r.Capture.Dropped != 0 {
		t.Errorf("capture %+v, want exactly the %d datagrams, each once", r.Capture, all)
	}
}

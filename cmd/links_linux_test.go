package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/netns"
)

const (
	linksHelperEnv     = "FASTOP_LINKS_HELPER"
	linksHelperArgsEnv = "FASTOP_LINKS_ARGS"  // argv, separated by \x1f
	linksSysfsEnv      = "FASTOP_LINKS_SYSFS" // a fake sysfs for link discovery, when set
)

// TestLinksHelperProcess is fastop itself, run by the link tests inside a
// namespace with "ip netns exec", which mounts that namespace's sysfs (a
// thread moved with setns still sees the sysfs of the one fastop started
// in); on its own it does nothing.
func TestLinksHelperProcess(t *testing.T) {
	if os.Getenv(linksHelperEnv) != "1" {
		t.Skip("the program the link tests run in a namespace")
	}
	if root := os.Getenv(linksSysfsEnv); root != "" {
		sysfsRoot = root
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	streams := IO{In: strings.NewReader(""), Out: os.Stdout, ErrOut: os.Stderr}
	root := NewRootCommand(streams, nil)
	root.SetArgs(strings.Split(os.Getenv(linksHelperArgsEnv), "\x1f"))
	err := root.ExecuteContext(ctx)
	os.Exit(exitStatus(err, ctx, streams.ErrOut))
}

// linkReport is the part of a JSON report the link tests read.
type linkReport struct {
	Totals struct {
		Sent, Recv struct{ Bytes, Packets uint64 }
	}
	Capture struct {
		Packets, Counted, Dropped uint64
	}
	Interfaces []struct {
		Name       string
		Down       bool
		Speed      *int64
		Master     *string
		State      *string
		Sent, Recv struct{ Bytes, Packets uint64 }
	}
}

// runFastopIn runs fastop with args in ns (args should end the run, -s N),
// calls traffic once it is capturing (stderr has said "interface: mark"),
// and returns its stdout and stderr.
func runFastopIn(t *testing.T, ns *netns.NS, mark string, traffic func() error, args ...string) (string, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := ns.Command(self, "-test.run=^TestLinksHelperProcess$")
	cmd.Env = append(os.Environ(), linksHelperEnv+"=1", linksHelperArgsEnv+"="+strings.Join(args, "\x1f"), "HOME="+t.TempDir())
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	ready := make(chan struct{})
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(errPipe)
		signalled := false
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if !signalled && sc.Text() == "interface: "+mark {
				signalled = true
				close(ready)
			}
		}
		io.Copy(io.Discard, errPipe)
		if !signalled {
			close(ready)
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
	}
	trafficErr := traffic()
	waitErr := cmd.Wait()
	<-copied
	if trafficErr != nil {
		t.Fatalf("traffic: %v (fastop's stderr: %s)", trafficErr, stderr.String())
	}
	if waitErr != nil {
		t.Fatalf("fastop %s: %v\nstderr: %s", strings.Join(args, " "), waitErr, stderr.String())
	}
	return stdout.String(), stderr.String()
}

func lastLinkReport(t *testing.T, out string) linkReport {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r linkReport
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	return r
}

// udpPlan is a number of datagrams of one payload size from one address to
// another.
type udpPlan struct {
	from, to string // IPv4 addresses
	ns       *netns.NS
	n        int
	payload  int
}

const linkTestPort = 5000

// listenIn opens a UDP socket on addr:port in ns.
func listenIn(t *testing.T, ns *netns.NS, addr string, port int) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	if err := ns.Do(func() error {
		var err error
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(addr), Port: port})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// send sends p's datagrams from p.from (a socket bound in p.ns) to
// p.to:port.
func (p udpPlan) send(port int) error { return p.sendFrom(linkTestPort+1, port) }

// sendFrom sends p's datagrams from p.from:src to p.to:port.
func (p udpPlan) sendFrom(src, port int) error {
	return p.ns.Do(func() error {
		c, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP(p.from), Port: src}, &net.UDPAddr{IP: net.ParseIP(p.to), Port: port})
		if err != nil {
			return err
		}
		defer c.Close()
		buf := make([]byte, p.payload)
		for range p.n {
			if _, err := c.Write(buf); err != nil {
				return err
			}
		}
		return nil
	})
}

// receive reads n datagrams from c, or fails.
func receive(c *net.UDPConn, n int) error {
	buf := make([]byte, 65536)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range n {
		if _, _, err := c.ReadFromUDP(buf); err != nil {
			return fmt.Errorf("%s: got %d of %d datagrams: %w", c.LocalAddr(), i, n, err)
		}
	}
	return nil
}

// TestLinksCountEachLinkOnce captures two veth links with -i a,b while
// known UDP traffic goes both ways through each: every link's sent and
// received bytes and packets are exact, they add up to the totals, nothing
// is counted twice, and each link says its speed (veth: 10 Gb/s), state
// and no master.
func TestLinksCountEachLinkOnce(t *testing.T) {
	cns, gns := netns.NewT(t), netns.NewT(t)
	va := netns.NewVethT(t, cns, gns) // va.A in cns, va.B in gns
	vb := netns.NewVethT(t, cns, gns)
	for _, c := range []struct {
		ns   *netns.NS
		dev  string
		addr string
	}{{cns, va.A, "10.61.1.1/24"}, {gns, va.B, "10.61.1.2/24"}, {cns, vb.A, "10.61.2.1/24"}, {gns, vb.B, "10.61.2.2/24"}} {
		if err := c.ns.IP("addr", "add", c.addr, "dev", c.dev); err != nil {
			t.Fatal(err)
		}
	}
	// Per link, a different volume each way, so a packet counted on the
	// wrong link or in the wrong direction shows.
	plans := []udpPlan{
		{from: "10.61.1.1", to: "10.61.1.2", ns: cns, n: 30, payload: 100}, // a: sent
		{from: "10.61.1.2", to: "10.61.1.1", ns: gns, n: 20, payload: 200}, // a: received
		{from: "10.61.2.1", to: "10.61.2.2", ns: cns, n: 40, payload: 300}, // b: sent
		{from: "10.61.2.2", to: "10.61.2.1", ns: gns, n: 10, payload: 50},  // b: received
	}
	var sinks []*net.UDPConn
	for _, p := range plans {
		sinks = append(sinks, listenIn(t, map[*netns.NS]*netns.NS{cns: gns, gns: cns}[p.ns], p.to, linkTestPort))
	}
	// Neighbours resolved before the capture (ARP is not counted, but a
	// datagram waiting for it could be late), with one datagram to a port
	// the capture's filter leaves out.
	for i, p := range plans {
		warm := p
		warm.n, warm.payload = 1, 1
		sink := listenIn(t, map[*netns.NS]*netns.NS{cns: gns, gns: cns}[p.ns], p.to, linkTestPort+2+i)
		if err := warm.send(linkTestPort + 2 + i); err != nil {
			t.Fatal(err)
		}
		if err := receive(sink, 1); err != nil {
			t.Fatal(err)
		}
	}
	traffic := func() error {
		for i, p := range plans {
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
		"-i", va.A+","+vb.A, "--json", "-s", "3", "--fanout", "2", "-n", "-f", fmt.Sprintf("udp port %d", linkTestPort))
	r := lastLinkReport(t, out)

	type dir struct{ bytes, packets uint64 }
	ipLen := func(p udpPlan) dir { return dir{uint64(p.n * (20 + 8 + p.payload)), uint64(p.n)} }
	want := map[string][2]dir{
		va.A: {ipLen(plans[0]), ipLen(plans[1])},
		vb.A: {ipLen(plans[2]), ipLen(plans[3])},
	}
	if len(r.Interfaces) != 2 {
		t.Fatalf("%d interfaces in the report, want 2: %+v", len(r.Interfaces), r.Interfaces)
	}
	var sum [2]dir
	for _, in := range r.Interfaces {
		w, ok := want[in.Name]
		if !ok {
			t.Errorf("interface %q not asked for", in.Name)
			continue
		}
		got := [2]dir{{in.Sent.Bytes, in.Sent.Packets}, {in.Recv.Bytes, in.Recv.Packets}}
		if got != w {
			t.Errorf("%s: sent, received = %+v, want %+v", in.Name, got, w)
		}
		sum[0].bytes += in.Sent.Bytes
		sum[0].packets += in.Sent.Packets
		sum[1].bytes += in.Recv.Bytes
		sum[1].packets += in.Recv.Packets
		if in.Speed == nil || *in.Speed != 10_000_000_000 {
			t.Errorf("%s: speed %v, want 10000000000 (veth)", in.Name, in.Speed)
		}
		if in.Master != nil || in.State == nil || *in.State != "up" || in.Down {
			t.Errorf("%s: master %v, state %v, down %v; want null, up, false", in.Name, in.Master, in.State, in.Down)
		}
	}
	tot := [2]dir{{r.Totals.Sent.Bytes, r.Totals.Sent.Packets}, {r.Totals.Recv.Bytes, r.Totals.Recv.Packets}}
	if tot != sum {
		t.Errorf("totals %+v, the links add up to %+v", tot, sum)
	}
	var all uint64
	for _, p := range plans {
		all += uint64(p.n)
	}
	if r.Capture.Packets != all || r.Capture.Counted != all || r.Capture.Dropped != 0 {
		t.Errorf("capture %+v, want exactly the %d datagrams, each once", r.Capture, all)
	}
}

// TestLinksRealBond runs where the kernel has the bonding driver: a
// balance-xor bond of two veth links in a namespace, a bridge of their
// peers on the other side, UDP flows both ways. `-i BOND` captures on
// the two links and not on the bond: every datagram is counted once, on
// one link, and the links' sums are the totals.
func TestLinksRealBond(t *testing.T) {
	cns, gns, va, vb, bond := realBondT(t, "10.62.0", "")
	// Many source ports, so that layer3+4 spreads the flows over both links.
	const flows, per = 16, 5
	var plans []udpPlan
	for i := range flows {
		plans = append(plans,
			udpPlan{from: "10.62.0.1", to: "10.62.0.2", ns: cns, n: per, payload: 100 + i},
			udpPlan{from: "10.62.0.2", to: "10.62.0.1", ns: gns, n: per, payload: 200 + i})
	}
	sinkC, sinkG := listenIn(t, cns, "10.62.0.1", linkTestPort), listenIn(t, gns, "10.62.0.2", linkTestPort)
	warm := []udpPlan{{from: "10.62.0.1", to: "10.62.0.2", ns: cns, n: 1, payload: 1}, {from: "10.62.0.2", to: "10.62.0.1", ns: gns, n: 1, payload: 1}}
	for _, w := range warm {
		if err := w.sendFrom(linkTestPort+9, linkTestPort); err != nil {
			t.Fatal(err)
		}
	}
	if err := receive(sinkG, 1); err != nil {
		t.Fatal(err)
	}
	if err := receive(sinkC, 1); err != nil {
		t.Fatal(err)
	}
	var sent, recv, sentBytes, recvBytes uint64
	traffic := func() error {
		for i, p := range plans {
			if err := p.sendFrom(linkTestPort+10+i/2, linkTestPort); err != nil {
				return err
			}
			sink := sinkG
			if p.ns == gns {
				sink = sinkC
			}
			if err := receive(sink, p.n); err != nil {
				return err
			}
			b := uint64(p.n * (28 + p.payload))
			if p.ns == cns {
				sent, sentBytes = sent+uint64(p.n), sentBytes+b
			} else {
				recv, recvBytes = recv+uint64(p.n), recvBytes+b
			}
		}
		return nil
	}
	out, errOut := runFastopIn(t, cns, bond, traffic, "-i", bond, "--json", "-s", "3", "-v", "-n",
		"-f", fmt.Sprintf("udp and port %d", linkTestPort))
	r := lastLinkReport(t, out)
	if !strings.Contains(errOut, "capturing on each link, not on "+bond) {
		t.Errorf("-v does not say the expansion:\n%s", errOut)
	}
	names := map[string]bool{}
	var s, rc, sb, rb uint64
	for _, in := range r.Interfaces {
		names[in.Name] = true
		if in.Master == nil || *in.Master != bond || in.State == nil || *in.State != "active" {
			t.Errorf("%s: master %v, state %v; want %s, active", in.Name, in.Master, in.State, bond)
		}
		s, rc, sb, rb = s+in.Sent.Packets, rc+in.Recv.Packets, sb+in.Sent.Bytes, rb+in.Recv.Bytes
	}
	if len(names) != 2 || !names[va.A] || !names[vb.A] {
		t.Errorf("captured on %v, want the links %s and %s only", names, va.A, vb.A)
	}
	if s != sent || rc != recv || sb != sentBytes || rb != recvBytes {
		t.Errorf("links: sent %d packets %d bytes, received %d, %d; want %d, %d, %d, %d", s, sb, rc, rb, sent, sentBytes, recv, recvBytes)
	}
	if r.Totals.Sent.Packets != sent || r.Totals.Recv.Packets != recv || r.Capture.Counted != sent+recv {
		t.Errorf("totals %+v, capture %+v; want %d sent, %d received, each counted once", r.Totals, r.Capture, sent, recv)
	}
}

// TestLinksDownLinkOfBond: a bond's link that is down does not stop the
// capture of the others (it is waited for, and said to be down), while a
// down interface named by -i itself still is an error.
func TestLinksDownLinkOfBond(t *testing.T) {
	cns, gns := netns.NewT(t), netns.NewT(t)
	va, vb := netns.NewVethT(t, cns, gns), netns.NewVethT(t, cns, gns)
	if err := cns.IP("link", "set", vb.A, "down"); err != nil {
		t.Fatal(err)
	}
	// In the namespace, lo (ifindex 1) stands for a bond of the two links
	// (a fake sysfs: this kernel may have no bonding driver).
	root := fakeBondSys(t, "lo", 1, va.A, vb.A)
	if err := os.WriteFile(root+"/"+vb.A+"/bonding_slave/mii_status", []byte("down\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cns.Do(func() error {
		lc, err := openLive(&Options{Interface: "lo", Fanout: 1, FanoutMode: "hash"}, io.Discard)
		if err != nil {
			return fmt.Errorf("a down link stopped the bond's capture: %w", err)
		}
		defer lc.close()
		if len(lc.groups) != 2 || lc.linkNow[1].State != "down" || lc.linkNow[0].Master != "lo" {
			return fmt.Errorf("%d groups, links %+v; want 2, the second down", len(lc.groups), lc.linkNow)
		}
		_, err = openLive(&Options{Interface: vb.A, Fanout: 1, FanoutMode: "hash"}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "is down") {
			return fmt.Errorf("-i DOWN-LINK: %v, want an error saying it is down", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestLinksJoinBond: a link that joins a bond while fastop captures it is
// opened and captured from then on, as the bond's next link: the first
// link's counts are exact, the joined link's traffic after the join is
// exact, stderr says it joined, and nothing is counted twice.
func TestLinksJoinBond(t *testing.T) {
	cns, gns := netns.NewT(t), netns.NewT(t)
	va, vb := netns.NewVethT(t, cns, gns), netns.NewVethT(t, cns, gns)
	for _, c := range []struct {
		ns   *netns.NS
		dev  string
		addr string
	}{{cns, va.A, "10.63.1.1/24"}, {gns, va.B, "10.63.1.2/24"}, {cns, vb.A, "10.63.2.1/24"}, {gns, vb.B, "10.63.2.2/24"}} {
		if err := c.ns.IP("addr", "add", c.addr, "dev", c.dev); err != nil {
			t.Fatal(err)
		}
	}
	// In the namespace, lo (ifindex 1) stands for a bond (a fake sysfs:
	// this kernel may have no bonding driver) of va.A alone at start.
	root := fakeBondSys(t, "lo", 1, va.A, vb.A)
	slaves := filepath.Join(root, "lo", "bonding", "slaves")
	if err := os.WriteFile(slaves, []byte(va.A+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(linksSysfsEnv, root)

	plans := []udpPlan{
		{from: "10.63.1.1", to: "10.63.1.2", ns: cns, n: 30, payload: 100}, // a: sent, before the join
		{from: "10.63.2.1", to: "10.63.2.2", ns: cns, n: 40, payload: 300}, // b: sent, after
		{from: "10.63.2.2", to: "10.63.2.1", ns: gns, n: 10, payload: 50},  // b: received, after
	}
	peer := map[*netns.NS]*netns.NS{cns: gns, gns: cns}
	var sinks []*net.UDPConn
	for i, p := range plans {
		sinks = append(sinks, listenIn(t, peer[p.ns], p.to, linkTestPort))
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
	send := func(i int) error {
		if err := plans[i].send(linkTestPort); err != nil {
			return err
		}
		return receive(sinks[i], plans[i].n)
	}
	traffic := func() error {
		if err := send(0); err != nil {
			return err
		}
		if err := os.WriteFile(slaves, []byte(va.A+" "+vb.A+"\n"), 0o644); err != nil {
			return err
		}
		// The membership is read every linkRefresh: two of them, and the
		// join's socket is open.
		time.Sleep(2*linkRefresh + time.Second)
		for i := 1; i < len(plans); i++ {
			if err := send(i); err != nil {
				return err
			}
		}
		return nil
	}
	out, stderr := runFastopIn(t, cns, "lo", traffic,
		"-i", "lo", "--json", "-s", "10", "--fanout", "1", "-n", "-f", fmt.Sprintf("udp port %d", linkTestPort))
	if want := "fastop: " + vb.A + " joined lo: capturing it\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr)
	}
	r := lastLinkReport(t, out)
	type dir struct{ bytes, packets uint64 }
	ipLen := func(p udpPlan) dir { return dir{uint64(p.n * (20 + 8 + p.payload)), uint64(p.n)} }
	want := map[string][2]dir{
		va.A: {ipLen(plans[0]), {}},
		vb.A: {ipLen(plans[1]), ipLen(plans[2])},
	}
	if len(r.Interfaces) != 2 || r.Interfaces[0].Name != va.A || r.Interfaces[1].Name != vb.A {
		t.Fatalf("interfaces %+v, want %s then the joined %s", r.Interfaces, va.A, vb.A)
	}
	for _, in := range r.Interfaces {
		got := [2]dir{{in.Sent.Bytes, in.Sent.Packets}, {in.Recv.Bytes, in.Recv.Packets}}
		if got != want[in.Name] {
			t.Errorf("%s: sent, received = %+v, want %+v", in.Name, got, want[in.Name])
		}
		if in.Master == nil || *in.Master != "lo" {
			t.Errorf("%s: master %v, want lo", in.Name, in.Master)
		}
	}
	all := uint64(plans[0].n + plans[1].n + plans[2].n)
	if r.Capture.Packets != all || r.Capture.Counted != all {
		t.Errorf("capture %+v, want exactly the %d datagrams, each once", r.Capture, all)
	}
}

// realBondT builds, where the bonding driver exists, a balance-xor
// layer3+4 bond of two veth links in a new namespace (address NET.1/24)
// and a bridge of their peers in another (NET.2/24); it skips the test
// elsewhere, saying so with why.
func realBondT(t *testing.T, net3, why string) (cns, gns *netns.NS, va, vb *netns.Veth, bond string) {
	t.Helper()
	if _, err := os.Stat("/sys/class/net/bonding_masters"); err != nil {
		t.Skipf("skipping: no bonding driver here (%v)%s", err, why)
	}
	cns, gns = netns.NewT(t), netns.NewT(t)
	va, vb = netns.NewVethT(t, cns, gns), netns.NewVethT(t, cns, gns)
	bond, br := netns.IfName("bd"), netns.IfName("br")
	steps := []struct {
		ns   *netns.NS
		args []string
	}{
		{cns, []string{"link", "add", bond, "type", "bond", "mode", "balance-xor", "xmit_hash_policy", "layer3+4", "miimon", "100"}},
		{cns, []string{"link", "set", va.A, "down"}},
		{cns, []string{"link", "set", vb.A, "down"}},
		{cns, []string{"link", "set", va.A, "master", bond}},
		{cns, []string{"link", "set", vb.A, "master", bond}},
		{cns, []string{"link", "set", bond, "up"}},
		{cns, []string{"addr", "add", net3 + ".1/24", "dev", bond}},
		{gns, []string{"link", "add", br, "type", "bridge"}},
		{gns, []string{"link", "set", va.B, "master", br}},
		{gns, []string{"link", "set", vb.B, "master", br}},
		{gns, []string{"link", "set", br, "up"}},
		{gns, []string{"addr", "add", net3 + ".2/24", "dev", br}},
	}
	for _, s := range steps {
		if err := s.ns.IP(s.args...); err != nil {
			t.Fatal(err)
		}
	}
	return cns, gns, va, vb, bond
}

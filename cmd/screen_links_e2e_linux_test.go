package cmd

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/netns"
)

// TestScreenE2ELinkStrip runs the screen on two veth links (-i a,b) in a
// test namespace, in an 80x24 tmux pane, while UDP datagrams leave through
// link a only (IPv6 off, so nothing else is counted): the strip shows both
// links by name, up, at veth's 10 Gb/s, and its header gives all the
// traffic sent to a (100%, against an even split of 50%) and nothing
// received. i hides the strip and shows it again; I shows the flows of
// link a and says so on the scale's rule.
func TestScreenE2ELinkStrip(t *testing.T) {
	cns, gns := netns.NewT(t), netns.NewT(t)
	for _, ns := range []*netns.NS{cns, gns} {
		for _, k := range []string{"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6"} {
			if err := ns.Sysctl(k, "1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	va, vb := netns.NewVethT(t, cns, gns), netns.NewVethT(t, cns, gns)
	for _, c := range []struct {
		ns        *netns.NS
		dev, addr string
	}{{cns, va.A, "10.62.1.1/24"}, {gns, va.B, "10.62.1.2/24"}, {cns, vb.A, "10.62.2.1/24"}, {gns, vb.B, "10.62.2.2/24"}} {
		if err := c.ns.IP("addr", "add", c.addr, "dev", c.dev); err != nil {
			t.Fatal(err)
		}
	}
	sink := listenIn(t, gns, "10.62.1.2", linkTestPort)
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := sink.ReadFromUDP(buf); err != nil {
				return
			}
		}
	}()
	var conn net.Conn
	if err := cns.Do(func() (err error) {
		conn, err = net.Dial("udp4", fmt.Sprintf("10.62.1.2:%d", linkTestPort))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		defer conn.Close()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				conn.Write(make([]byte, 500))
			}
		}
	}()
	defer func() { close(stop); <-sent }()

	p := startPaneWith(t, paneOptions{netns: cns.Name},
		[]string{"-i", va.A + "," + vb.A, "-n", "-N", "--fanout", "1", "-f", fmt.Sprintf("udp port %d", linkTestPort)})
	nw := max(len(va.A), len(vb.A))
	// 24 rows: the strip's header on row 17, its links on 18 and 19, the
	// health rule on 20.
	header := fmt.Sprintf("── 2 links, 10s: TX %s 100%%, RX idle, even split 50%% ", va.A)
	header += strings.Repeat("─", 80-len([]rune(header)))
	lineA := fmt.Sprintf("%-*s up 10G  TX ", nw, va.A)
	lineB := fmt.Sprintf("%-*s up 10G  TX     0b", nw, vb.A)
	stripShown := func(rows []string) bool {
		return len(rows) == 24 && rows[17] == header && strings.HasPrefix(rows[18], lineA) && strings.HasPrefix(rows[19], lineB) &&
			strings.HasPrefix(rows[23], "TOTAL:")
	}
	rows := p.waitFor("the link strip", stripShown)
	// Link a's sent bytes are a share of its 10 Gb/s; b's line has no rate.
	if !strings.Contains(rows[18], "%") || !strings.Contains(rows[19], " 0% ") {
		t.Errorf("the links' %% of speed:\n%s\n%s", rows[18], rows[19])
	}
	// The host pair (no -P: no ports), sent from link a's address; when the
	// table splits flows by link, its <= row names a alone.
	if !hasRow(rows, "10.62.1.1                  => 10.62.1.2 ") {
		t.Errorf("no row for 10.62.1.1:\n%s", strings.Join(rows, "\n"))
	}
	for _, r := range rows[2:17] {
		if i := strings.Index(r, " via "); i >= 0 && strings.TrimSpace(r[i+5:i+5+len(va.A)+1]) != va.A {
			t.Errorf("a row's links: %q, want %s alone", r, va.A)
		}
	}

	p.keys("i")
	p.waitFor("the strip hidden", func(rows []string) bool {
		if len(rows) != 24 || !strings.HasPrefix(rows[0], " Link strip off ") {
			return false
		}
		for _, r := range rows {
			if strings.Contains(r, "2 links, 10s:") || strings.HasPrefix(r, va.A+" ") || strings.HasPrefix(r, vb.A+" ") {
				return false
			}
		}
		return strings.HasPrefix(rows[23], "TOTAL:")
	})
	p.keys("i")
	p.waitFor("the strip back", func(rows []string) bool { return strings.HasPrefix(rows[0], " Link strip on ") && stripShown(rows) })

	p.keys("I")
	p.waitFor("link a's flows", func(rows []string) bool {
		return strings.HasPrefix(rows[0], " Flows on "+va.A+" only ") && strings.HasPrefix(rows[1], "└─ flows on "+va.A+" ─") &&
			(strings.HasPrefix(rows[2], "No per-link split") || hasRow(rows, "10.62.1.1                  => 10.62.1.2 "))
	})
	p.keys("q")
	p.checkRestored("0")
}

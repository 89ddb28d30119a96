package cmd

import (
	"strings"
	"testing"
)

// In a real terminal, g cycles what a row is: services (labels, the hint,
// the row type on the rule), networks, VLANs, links, and back to host
// pairs; q still restores the terminal.
func TestScreenE2EGroupKey(t *testing.T) {
	p := startPane(t, replayArgs(t))
	p.waitFor("the replay to finish", finished)

	p.keys("g")
	rows := p.waitFor("service rows", func(rows []string) bool {
		return strings.HasPrefix(rows[0], " Rows: services ") && hasRow(rows, "tcp/80 ") && hasRow(rows, "udp/53 ")
	})
	if !strings.Contains(rows[20], " rows: services ") {
		t.Errorf("rule %q does not say the row type", rows[20])
	}
	if hasRow(rows, "10.0.0.1") {
		t.Errorf("a host pair is left among service rows:\n%s", strings.Join(rows, "\n"))
	}

	p.keys("g")
	p.waitFor("source networks", func(rows []string) bool {
		return strings.HasPrefix(rows[0], " Rows: source networks ") && hasRow(rows, "10.0.0.0/24 ")
	})
	p.keys("g")
	p.waitFor("destination networks", func(rows []string) bool {
		return strings.HasPrefix(rows[0], " Rows: destination networks ") && hasRow(rows, " *                         => 10.0.0.0/24 ")
	})
	p.keys("g")
	p.waitFor("VLANs", func(rows []string) bool {
		return strings.HasPrefix(rows[0], " Rows: VLANs ") && hasRow(rows, "untagged ")
	})
	p.keys("g")
	rows = p.waitFor("links", func(rows []string) bool { return strings.HasPrefix(rows[0], " Rows: links ") })
	if hasRow(rows, "(unknown link)") {
		t.Errorf("a replay's one source is unknown as a link:\n%s", strings.Join(rows, "\n"))
	}
	p.keys("g")
	p.waitFor("host pairs again", func(rows []string) bool {
		return strings.HasPrefix(rows[0], " Rows: host pairs ") && hasRow(rows, "10.0.0.1:40000             => 10.0.0.2:80 ")
	})

	p.keys("q")
	p.checkRestored("0")
}

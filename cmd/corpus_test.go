package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every capture of the test corpus goes through `fastop -r` in both
// report formats without an error, and every packet read ends up in exactly
// one of the capture counters.
func TestCorpusThroughFastop(t *testing.T) {
	dir := corpusDir(t)
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 50 {
		t.Fatalf("only %d captures under %s", len(files), dir)
	}
	for _, f := range files {
		name, _ := filepath.Rel(dir, f)
		if _, err := runFastop(t, "-r", f, "-t", "-P", "-L", "100"); err != nil {
			t.Errorf("%s: -t: %v", name, err)
		}
		out, err := runFastop(t, "-r", f, "--json", "-L", "0", "-l", "--workers", "2")
		if err != nil {
			t.Errorf("%s: --json: %v", name, err)
			continue
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var last struct {
			Capture map[string]uint64 `json:"capture"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := last.Capture
		if sum := c["counted"] + c["not_ip"] + c["undecodable"] + c["filtered"] + c["ignored"]; sum != c["packets"] {
			t.Errorf("%s: counters %v add up to %d, not %d", name, c, sum, c["packets"])
		}
	}
}

// A capture cut in the middle of a record: the packets before the damage
// are reported, then one line names the file and the byte offset, and the
// exit status is an error.
func TestTruncatedCaptureReportsAndFails(t *testing.T) {
	src := filepath.Join(corpusDir(t), "tcpdump", "ssh.pcap")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, data[:len(data)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runFastop(t, "-r", cut, "--json", "-L", "0")
	if err == nil {
		t.Fatal("a truncated capture must fail")
	}
	if !regexp.MustCompile(`cut\.pcap: truncated record at byte \d+: `).MatchString(err.Error()) {
		t.Errorf("error %q does not name the file and the byte offset", err)
	}
	var r jsonReport
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil || r.Capture.Packets == 0 || r.Capture.Packets >= 54 {
		t.Errorf("the packets before the damage must be reported: %d of 54 (%v)", r.Capture.Packets, err)
	}
}

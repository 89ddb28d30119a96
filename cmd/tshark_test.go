package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// corpusDir finds testdata/corpus/pcap under the repository root (this
// package's parent) and fails when it is missing.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../testdata/corpus/pcap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("test corpus missing (it is part of the repository: restore testdata/corpus): %v", err)
	}
	return dir
}

// requireTool fails (never skips) when an oracle is missing: CI installs it.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is needed as the oracle for this test (apt-get install %s; .ci/run installs it): %v", name, name, err)
	}
}

type pairTotals struct {
	Packets, Bytes uint64
}

// pairKey is an unordered host pair.
func pairKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + " " + b
}

type jsonDir struct {
	Rate2s  float64 `json:"rate_2s"`
	Bytes   uint64  `json:"bytes"`
	Packets uint64  `json:"packets"`
}

type jsonReport struct {
	Time  time.Time `json:"time"`
	Start time.Time `json:"start"`
	Flows []struct {
		Src     *string `json:"src"`
		Dst     *string `json:"dst"`
		SrcPort *int    `json:"src_port"`
		DstPort *int    `json:"dst_port"`
		Proto   *string `json:"proto"`
		VLAN    *int    `json:"vlan"`
		Sent    jsonDir `json:"sent"`
		Recv    jsonDir `json:"recv"`
	} `json:"flows"`
	Capture struct {
		Dropped     uint64 `json:"dropped"`
		Packets     uint64 `json:"packets"`
		Undecodable uint64 `json:"undecodable"`
		Counted     uint64 `json:"counted"`
	} `json:"capture"`
}

// runFastop runs the fastop command in-process and returns stdout.
func runFastop(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRootCommand(IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, nil)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		err = fmt.Errorf("%w (stderr: %s)", err, errOut.String())
	}
	return out.String(), err
}

// fastopPairs replays file with --json -P (one row per flow) and adds up,
// per host pair, the cumulative counts of every lifetime of every flow: a
// flow idle for 40 s leaves the table, and its cumulative counts restart if
// it comes back. A flow continues from one report to the next exactly when
// its cumulative bytes grew by the bytes of the last slot (its 2 s rate
// times the slot's length); otherwise a new lifetime began.
func fastopPairs(t *testing.T, file string) (map[string]pairTotals, jsonReport) {
	t.Helper()
	out, err := runFastop(t, "-r", file, "--json", "-L", "0", "-l", "-P")
	if err != nil {
		t.Fatalf("fastop -r %s --json: %v", file, err)
	}
	total := map[string]pairTotals{}
	prev := map[string]pairTotals{}
	var last jsonReport
	prevTime := time.Time{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r jsonReport
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		slot := 2 * time.Second
		if prevTime.IsZero() {
			prevTime = r.Start
		}
		slot = min(slot, r.Time.Sub(prevTime))
		prevTime = r.Time
		cur := map[string]pairTotals{}
		lastSlot := map[string]uint64{}
		for _, f := range r.Flows {
			if f.Src == nil || f.Dst == nil {
				t.Fatalf("flow without addresses: %s", sc.Text())
			}
			// A flow is its 5-tuple and its VLAN: the same 5-tuple on
			// two VLANs is two rows.
			k := fmt.Sprint(pairKey(*f.Src, *f.Dst), " ", deref(f.Proto), " ", derefInt(f.SrcPort), " ", derefInt(f.DstPort), " ", derefInt(f.VLAN))
			cur[k] = pairTotals{f.Sent.Packets + f.Recv.Packets, f.Sent.Bytes + f.Recv.Bytes}
			lastSlot[k] = uint64(math.Round((f.Sent.Rate2s + f.Recv.Rate2s) * slot.Seconds() / 8))
		}
		for k, v := range prev {
			if c, ok := cur[k]; !ok || c.Bytes != v.Bytes+lastSlot[k] {
				// The flow expired: its lifetime ended with v.
				add(total, k, v)
			}
		}
		prev = cur
		last = r
	}
	for k, v := range prev {
		add(total, k, v)
	}
	pairs := map[string]pairTotals{}
	for k, v := range total {
		f := strings.Fields(k)
		add(pairs, f[0]+" "+f[1], v)
	}
	return pairs, last
}

func add(m map[string]pairTotals, k string, v pairTotals) {
	t := m[k]
	m[k] = pairTotals{t.Packets + v.Packets, t.Bytes + v.Bytes}
}

func deref(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

func derefInt(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

var convLine = regexp.MustCompile(`^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s`)

// tsharkPairs asks tshark what each frame's outermost IP header says:
// packets and IP bytes (ip.len, ipv6.plen+40) per host pair. fastop counts
// a frame once, by that header.
//
// Where every frame holds exactly one IP header and no IPv6 fragment
// follows the first, it also checks that tshark's -z conv,ip / conv,ipv6
// tables count the same packets per pair. Elsewhere they differ by design:
// they count some nested headers (tunnels, OpenFlow packet-ins) but not
// others (ICMP quotes), skip non-first IPv6 fragments, and show bytes
// rounded to kB; hence the per-frame fields as the reference.
func tsharkPairs(t *testing.T, file string) map[string]pairTotals {
	t.Helper()
	args := []string{"-n", "-r", file, "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"}
	out, err := exec.Command("tshark", append(args, "-T", "fields", "-E", "separator=/t", "-E", "aggregator=;",
		"-e", "ip.src", "-e", "ip.dst", "-e", "ip.len", "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "ipv6.plen", "-e", "ipv6.fraghdr.offset")...).Output()
	if err != nil {
		t.Fatalf("tshark -T fields: %v", err)
	}
	pairs := map[string]pairTotals{}
	simple := true // one IP header per frame, no later IPv6 fragments
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 7 {
			continue
		}
		ipSrc, ipDst, ipLen := strings.Split(f[0], ";"), strings.Split(f[1], ";"), strings.Split(f[2], ";")
		v6Src, v6Dst, v6Len := strings.Split(f[3], ";"), strings.Split(f[4], ";"), strings.Split(f[5], ";")
		// Which header is outermost? tshark lists IPv4 and IPv6 fields
		// separately; a frame carrying both (6in4, 4in6) is left out of
		// these captures.
		var k string
		var n uint64
		switch {
		case f[0] != "":
			k = pairKey(ipSrc[0], ipDst[0])
			n, _ = strconv.ParseUint(ipLen[0], 10, 64)
		case f[3] != "":
			k = pairKey(v6Src[0], v6Dst[0])
			n, _ = strconv.ParseUint(v6Len[0], 10, 64)
			n += 40
		default:
			continue
		}
		add(pairs, k, pairTotals{1, n})
		if len(ipSrc)+len(v6Src) > 2 || (f[0] != "" && f[3] != "") || (f[6] != "" && f[6] != "0") {
			simple = false
		}
	}
	if !simple {
		return pairs
	}
	out, err = exec.Command("tshark", append(args, "-q", "-z", "conv,ip", "-z", "conv,ipv6")...).Output()
	if err != nil {
		t.Fatalf("tshark -z conv: %v", err)
	}
	got := map[string]uint64{}
	for _, line := range strings.Split(string(out), "\n") {
		if m := convLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseUint(m[5], 10, 64)
			got[pairKey(m[1], m[2])] += n
		}
	}
	for k, p := range pairs {
		if got[k] != p.Packets {
			t.Errorf("%s: tshark's conversation table has %d frames, its per-frame fields %d", k, got[k], p.Packets)
		}
	}
	for k, n := range got {
		if _, ok := pairs[k]; !ok {
			t.Errorf("tshark's conversation table has %s (%d frames) that no frame's fields show", k, n)
		}
	}
	return pairs
}

func comparePairs(t *testing.T, name string, got, want map[string]pairTotals) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			t.Errorf("%s: %s: fastop %d packets %d bytes, tshark %d packets %d bytes", name, k, got[k].Packets, got[k].Bytes, want[k].Packets, want[k].Bytes)
		}
	}
	if len(want) == 0 {
		t.Errorf("%s: tshark found no IP conversations: the comparison would be empty", name)
	}
}

// Per host pair, fastop's JSON counts the same packets and IP bytes as
// tshark's conversation tables, on real captures of TCP, UDP, IPv6 and
// ICMP traffic from the test corpus.
func TestJSONMatchesTsharkOnCorpus(t *testing.T) {
	requireTool(t, "tshark")
	dir := corpusDir(t)
	files := []string{
		"synthetic/synth-eth.pcap",      // TCP, UDP, ICMP, IPv6, fragments, VLAN, ND
		"synthetic/synth-sll2.pcap",     // the same on "any" (cooked v2)
		"tcpdump/ssh.pcap",              // a TCP session
		"tcpdump/bgp-4byte-asn.pcap",    // TCP with ARP around it
		"tcpdump/dcb_ets.pcap",          // IPv4 + IPv6 broadcast and multicast
		"tcpdump/resp_1_benchmark.pcap", // TCP over cooked v1
		"tcpdump/of13_ericsson.pcapng",  // pcapng
		"tcpdump/quic_handshake.pcap",   // IPv6 UDP over BSD NULL
		"tcpdump/afs.pcap",              // bulk UDP with fragments
		"tcpdump/dhcp-rfc4388.pcap",     // 0.0.0.0 and broadcast
		"tcpdump/ldp-common-session.pcap",
		"tcpdump/babel.pcap",
		"tcpdump/LINKTYPE_RAW_ipv6.pcap",
	}
	// Frames fastop cannot decode and tshark does not count either: two
	// double-tagged frames that the "any" capture recorded with the inner
	// tag's TCI where the IP header should be.
	undecodable := map[string]uint64{"synthetic/synth-sll2.pcap": 2}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			got, last := fastopPairs(t, path)
			want := tsharkPairs(t, path)
			comparePairs(t, name, got, want)
			if last.Capture.Undecodable != undecodable[name] {
				t.Errorf("%s: %d packets undecodable, want %d", name, last.Capture.Undecodable, undecodable[name])
			}
		})
	}
}

package filter

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
)

// TestDifferentialTcpdump compares fastop with the libpcap installed on
// the machine on random expressions: accept/reject parity with
// `tcpdump -d`, then the verdicts of fastop's program and of libpcap's
// (`tcpdump -ddd`, run in the VM, which reproduces tcpdump exactly on the
// golden corpus) on every Ethernet frame of the corpus.
//
// It is not part of the normal test run. Enable it with
//
//	FASTOP_TCPDUMP_DIFF=500 [FASTOP_TCPDUMP_SEED=7] [FASTOP_TCPDUMP_LINK=LINUX_SLL] \
//	    go test -run TestDifferentialTcpdump -v ./ring/filter/
//
// (needs tcpdump in PATH; the expressions are reproducible from the seed;
// the link type defaults to EN10MB; LIVE compiles both for a live Linux
// socket, on a veth pair in a private network namespace, which needs root,
// and runs them on the corpus's Ethernet frames with the outer VLAN tag
// in the data and in metadata).
func TestDifferentialTcpdump(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("FASTOP_TCPDUMP_DIFF"))
	if n <= 0 {
		t.Skip("set FASTOP_TCPDUMP_DIFF=<count> to compare with tcpdump on random expressions")
	}
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		t.Skip("tcpdump is not installed")
	}
	seed, _ := strconv.ParseUint(os.Getenv("FASTOP_TCPDUMP_SEED"), 10, 64)
	rng := rand.New(rand.NewPCG(seed, 0x66617374))
	linkName := os.Getenv("FASTOP_TCPDUMP_LINK")
	if linkName == "" {
		linkName = "EN10MB"
	}
	live := linkName == "LIVE"
	link, ok := linkNames[linkName]
	if live {
		link = decode.LinkEthernet
	} else if !ok {
		t.Fatalf("FASTOP_TCPDUMP_LINK=%s: want one of EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL or LIVE", linkName)
	}
	var frames []ring.Record
	matches, _ := filepath.Glob(filepath.Join(corpus(t), "pcap", "*", "*"))
	for _, path := range matches {
		if f, err := readCapture(path); err == nil && f.Link == link {
			if live {
				for _, r := range f.Records {
					frames = append(frames, liveViews(r.Data, r.Meta.WireLen)...)
				}
			} else {
				frames = append(frames, f.Records...)
			}
		}
	}
	// LIVE compiles for a veth in a private network namespace, the way
	// libpcap compiles for a live Linux socket (VLAN in metadata).
	prefix := []string{tcpdump}
	target := []string{"-y", linkName}
	if live {
		ns := fmt.Sprintf("fqfilterdiff%d", os.Getpid())
		for _, cmd := range [][]string{{"ip", "netns", "add", ns},
			{"ip", "netns", "exec", ns, "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"},
			{"ip", "netns", "exec", ns, "ip", "link", "set", "v1", "up"}} {
			if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
				t.Skipf("LIVE needs root to make a network namespace: %v: %s", err, out)
			}
			if cmd[2] == "add" {
				t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
			}
		}
		prefix = []string{"ip", "netns", "exec", ns, tcpdump}
		target = []string{"-i", "v1"}
	}
	libpcap := func(expr string, unoptimized bool) (Program, error) {
		args := append([]string{}, prefix[1:]...)
		if unoptimized {
			args = append(args, "-O")
		}
		args = append(append(append(args, "-ddd"), target...), "--", expr)
		out, err := exec.Command(prefix[0], args...).CombinedOutput()
		if err != nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			return nil, errors.New(lines[len(lines)-1])
		}
		return ParseDDD(string(out))
	}
	var both, onlyUs, onlyThem, neither, optClass int
	for range n {
		expr := randomExpr(rng, 3)
		// tcpdump -y compiles for a dead handle: on NULL that means the
		// host's AF_INET6, which is fastop's live mode.
		ours, ourErr := Compile(expr, Options{Link: link, Live: live || link == decode.LinkNull, Names: NewSystemNames()})
		theirs, theirErr := libpcap(expr, false)
		switch {
		case ourErr != nil && theirErr != nil:
			neither++
			continue
		case ourErr != nil:
			onlyThem++
			msg := ourErr.Error()
			switch {
			case errors.Is(ourErr, ErrRejectsAll) || strings.Contains(msg, "out of range"):
			case strings.Contains(msg, "division by zero") || strings.Contains(msg, "modulus by zero"):
				// a divisor that folds to 0: libpcap leaves it to run
				// time, where it rejects every packet that gets there
				t.Logf("%q: fastop refuses a constant zero divisor (%s)", expr, msg)
			default:
				t.Errorf("%q: libpcap accepts it, fastop says %v", expr, ourErr)
			}
			continue
		case theirErr != nil:
			onlyUs++
			msg := theirErr.Error()
			switch {
			case strings.Contains(msg, "rejects all packets"):
				// libpcap's optimiser proves more contradictions
			case strings.Contains(msg, "shift by more than 31 bits") || strings.Contains(msg, "division by zero") || strings.Contains(msg, "modulus by zero"):
				// libpcap checks the first instruction of the right
				// operand, not its value: "x << (215 ^ y)" is refused
				// because of the 215.
				t.Logf("%q: libpcap refuses it (%s) from a constant inside the right operand; fastop computes the operand", expr, msg)
			default:
				t.Errorf("%q: fastop accepts it, libpcap says %v", expr, theirErr)
			}
			continue
		}
		both++
		vo, err := NewVM(ours)
		if err != nil {
			t.Fatal(err)
		}
		vt, err := NewVMWith(theirs, VMOptions{Libpcap: true})
		if err != nil {
			t.Fatal(err)
		}
		for i := range frames {
			r := &frames[i]
			if (vo.Run(r.Data, &r.Meta) != 0) == (vt.Run(r.Data, &r.Meta) != 0) {
				continue
			}
			// libpcap's optimiser can drop failing loads (see "Regenerating" in
			// testdata/corpus/golden/README.md):
			// compare with its unoptimised program before reporting.
			un, err := libpcap(expr, true)
			if err == nil {
				vu, _ := NewVMWith(un, VMOptions{Libpcap: true})
				if vu != nil && (vo.Run(r.Data, &r.Meta) != 0) == (vu.Run(r.Data, &r.Meta) != 0) {
					optClass++
					t.Logf("%q: libpcap's optimised and unoptimised programs differ on a frame; fastop follows the unoptimised one", expr)
					break
				}
			}
			t.Errorf("%q: frame %d: fastop %v, libpcap %v\nfastop:\n%s\nlibpcap:\n%s", expr, i, vo.Run(r.Data, &r.Meta) != 0, vt.Run(r.Data, &r.Meta) != 0, ours, theirs)
			break
		}
	}
	t.Logf("%s, %d expressions (seed %d): %d compiled by both and compared on %d frames (%d in libpcap's optimiser class), %d rejected by both, %d only by fastop, %d only by libpcap",
		linkName, n, seed, both, len(frames), optClass, neither, onlyThem, onlyUs)
}

// randomExpr draws an expression from a weighted grammar over primitives
// that appear in the corpus, boolean operators, parentheses and
// arithmetic.
func randomExpr(rng *rand.Rand, depth int) string {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	hosts := []string{"192.0.2.1", "192.0.2.2", "10.0.0.1", "2001:db8::1", "2001:db8::2", "127.0.0.1"}
	ports := []string{"22", "53", "80", "443", "5001", "179", "6653", "ssh", "domain", "http"}
	if depth <= 0 || rng.IntN(3) == 0 {
		switch rng.IntN(12) {
		case 0:
			return pick("", "src ", "dst ", "src or dst ", "src and dst ") + "host " + pick(hosts...)
		case 1:
			return pick("", "tcp ", "udp ", "sctp ") + pick("", "src ", "dst ") + "port " + pick(ports...)
		case 2:
			return pick("tcp", "udp", "icmp", "icmp6", "ip", "ip6", "arp", "rarp", "sctp", "igmp", "pim", "vrrp", "ah", "esp", "stp", "llc", "ipx")
		case 3:
			return pick("net 192.0.2.0/24", "net 10.0.0.0/8", "net 2001:db8::/32", "net 192.168", "src net 192.0.0.0 mask 255.255.0.0")
		case 4:
			return pick("portrange 20-25", "tcp portrange 1024-65535", "udp portrange 33434-33534", "portrange 80")
		case 5:
			return pick("vlan", "vlan 100", "vlan 20", "mpls", "mpls 1024", "pppoed", "pppoes", "pppoes 0x3b")
		case 6:
			return pick("broadcast", "multicast", "ip multicast", "ip6 multicast", "ip broadcast", "ether broadcast")
		case 7:
			return pick("greater ", "less ") + pick("64", "100", "576", "1000", "1500")
		case 8:
			return pick("ip proto ", "ip6 proto ", "proto ") + pick("6", "17", "1", "58", "\\tcp", "\\udp", "44", "0")
		case 9:
			return pick("ether host 02:00:00:00:00:01", "ether src 02:00:00:00:00:02", "ether dst ff:ff:ff:ff:ff:ff", "ether proto 0x88cc", "ether proto \\arp")
		case 10:
			return pick("ip6 protochain 6", "ip protochain 17", "protochain 58", "geneve", "geneve 0xb")
		}
		return randomArith(rng, 2) + pick(" = ", " != ", " > ", " < ", " >= ", " <= ") + randomArith(rng, 1)
	}
	l, r := randomExpr(rng, depth-1), randomExpr(rng, depth-1)
	switch rng.IntN(5) {
	case 0:
		return "not " + l
	case 1:
		return "(" + l + ") " + pick("and", "or") + " " + r
	case 2:
		return l + pick(" && ", " || ") + r
	}
	return l + pick(" and ", " or ") + r
}

func randomArith(rng *rand.Rand, depth int) string {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	if depth <= 0 || rng.IntN(2) == 0 {
		switch rng.IntN(5) {
		case 0:
			return strconv.Itoa(rng.IntN(300))
		case 1:
			return "len"
		case 2:
			return pick("tcpflags", "tcp-syn", "icmp-echo", "0x800")
		}
		proto := pick("ether", "ip", "ip6", "tcp", "udp", "icmp", "icmp6", "arp")
		return fmt.Sprintf("%s[%s%s]", proto, randomArith(rng, depth-1), pick("", ":1", ":2", ":4"))
	}
	return randomArith(rng, depth-1) + pick(" + ", " - ", " * ", " / ", " % ", " & ", " | ", " ^ ", " << ", " >> ") + randomArith(rng, depth-1)
}

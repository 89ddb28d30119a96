package filter

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
)

var fuzzSeeds = []string{
	"", "host 192.0.2.1", "src host 192.0.2.1 or 192.0.2.2", "port 80 or 443 or 8080", "tcp port 443",
	"not port 22 and not port 53", "net 10.0.0.0/8 and not port 443", "net 2001:db8::/32", "portrange 1024-65535",
	"tcp dst port ftp or ftp-data or domain", "ether host 02:00:00:00:00:01", "broadcast", "ip multicast",
	"vlan 100 and udp port 53", "vlan and vlan 20", "ip or vlan and ip", "mpls 100000 and mpls 1024 and ip",
	"pppoes 0x27 and ip", "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0", "ip[2:2] > 576", "-ip[8] != 0",
	"ip[8] % 3 + 1 = 2", "1 + ip[8] = 65", "len / (ip[8] - 64) != 12345", "ether[len - 1] = 0",
	"ip[ip[0] & 0xf] = 0", "icmp6[icmp6type] == icmp6-echo", "greater 1000", "less 64", "inbound",
	"host localhost", "gateway 192.0.2.254", "llc", "stp or ipx or iso or decnet", "not (tcp or udp)",
	"(ip[0] & 0xf) * 4 = 20", "host (192.0.2.1 or 192.0.2.2)", "ip6 proto \\udp", "ether proto \\arp",
	"tcp port 80 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)", "((tcp))", "! tcp && ! udp",
	"src or dst port 53", "ip broadcast", "ifindex 1", "tcp[100] = 0 or tcp",
}

// fuzzFrames are frames the fuzzers run programs on: the corpus's
// Ethernet frames when it is present, else a few built here.
func fuzzFrames(tb testing.TB) []ring.Record {
	var out []ring.Record
	if dir := corpusDir(); dir != "" {
		for _, name := range []string{"synthetic/synth-eth.pcap", "synthetic/synth-eth-snap96.pcap", "tcpdump/arista_ether.pcap",
			"libpcap/pppoes.pcap", "tcpdump/802.1ad_QinQ.pcap", "tcpdump/ipv6-routing-header.pcap", "libpcap/llc.pcap"} {
			f, err := readCapture(filepath.Join(dir, "pcap", name))
			if err != nil {
				tb.Fatal(err)
			}
			for _, r := range f.Records {
				out = append(out, liveViews(r.Data, r.Meta.WireLen)...)
			}
		}
		return out
	}
	for _, fr := range [][]byte{ethIPv4UDP(53), ethIPv4UDP(80), ethIPv4UDP(53)[:20], {}} {
		out = append(out, liveViews(fr, uint32(len(fr)))...)
	}
	return out
}

func fuzzNames() *StaticNames { return debianNames() }

// FuzzCompile: the compiler never panics, every error is a clear one, an
// accepted program passes the kernel's rules, and the optimiser never
// changes a verdict (optimised and unoptimised programs agree on every
// frame).
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	if dir := corpusDir(); dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "golden", "filters.txt")); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if l != "" && !strings.HasPrefix(l, "#") {
					e, _, _ := strings.Cut(l, "\t")
					f.Add(e)
				}
			}
		}
	}
	frames := fuzzFrames(f)
	neigh := NeighborTable{netip.MustParseAddr("192.0.2.254"): {2, 0, 0, 0, 0, 0xfe}}
	f.Fuzz(func(t *testing.T, expr string) {
		if len(expr) > 2000 {
			return
		}
		for _, base := range []Options{
			{Link: decode.LinkEthernet},
			{Link: decode.LinkEthernet, Live: true},
			{Link: decode.LinkLinuxSLL2},
			{Link: decode.LinkRaw},
		} {
			opt := base
			opt.Names, opt.Neighbors = fuzzNames(), neigh
			p, err := Compile(expr, opt)
			if err != nil {
				var se *SyntaxError
				var me *SemanticError
				if !errors.As(err, &se) && !errors.As(err, &me) && !errors.Is(err, ErrRejectsAll) && !errors.Is(err, ErrTooComplex) {
					t.Fatalf("%q: error without a column or a known cause: %v", expr, err)
				}
				if !strings.HasPrefix(err.Error(), "filter: ") {
					t.Fatalf("%q: %v", expr, err)
				}
				continue
			}
			if err := p.Validate(); err != nil || len(p) > MaxInstructions {
				t.Fatalf("%q: invalid program (%d instructions): %v", expr, len(p), err)
			}
			opt.NoOptimize = true
			q, err := Compile(expr, opt)
			if err != nil {
				if errors.Is(err, ErrTooComplex) {
					continue
				}
				t.Fatalf("%q: the optimised program compiled, the unoptimised one did not: %v", expr, err)
			}
			if base.Link != decode.LinkEthernet {
				continue
			}
			vp, err1 := NewVM(p)
			vq, err2 := NewVM(q)
			if err1 != nil || err2 != nil {
				t.Fatalf("%q: %v %v", expr, err1, err2)
			}
			for i := range frames {
				r := &frames[i]
				if !base.Live && r.Meta.VLANOK {
					continue
				}
				if a, b := vp.Run(r.Data, &r.Meta), vq.Run(r.Data, &r.Meta); a != b {
					t.Fatalf("%q (live %v), frame %d: optimised %d, unoptimised %d\noptimised:\n%s\nunoptimised:\n%s", expr, base.Live, i, a, b, p, q)
				}
			}
		}
	})
}

// FuzzVM: any program that passes Validate runs on any frame without
// panicking, and so does any program the libpcap mode accepts.
func FuzzVM(f *testing.F) {
	add := func(p Program, data []byte) {
		b := make([]byte, 8*len(p))
		for i, in := range p {
			binary.LittleEndian.PutUint16(b[8*i:], in.Op)
			b[8*i+2], b[8*i+3] = in.Jt, in.Jf
			binary.LittleEndian.PutUint32(b[8*i+4:], in.K)
		}
		f.Add(b, data, true, uint16(100))
	}
	for _, e := range []string{"vlan 100 and udp port 53", "tcp[tcpflags] & tcp-syn != 0", "len / (ip[8] - 64) != 1", "ip[ip[0] & 0xf] = 0"} {
		p, err := Compile(e, Options{Link: decode.LinkEthernet, Live: true, Names: fuzzNames()})
		if err != nil {
			f.Fatal(err)
		}
		add(p, ethIPv4UDP(53))
	}
	f.Fuzz(func(t *testing.T, code, data []byte, vlan bool, tci uint16) {
		if len(code) > 8*512 {
			return
		}
		p := make(Program, len(code)/8)
		for i := range p {
			b := code[8*i:]
			p[i] = Instruction{Op: binary.LittleEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.LittleEndian.Uint32(b[4:])}
		}
		meta := &decode.Meta{Link: decode.LinkEthernet, VLANOK: vlan, VLANTCI: tci, WireLen: uint32(len(data)) + 10, PktType: decode.PktUnknown}
		if vm, err := NewVM(p); err == nil {
			vm.Run(data, meta)
			vm.Run(data, nil)
		} else if p.Validate() == nil {
			t.Fatalf("Validate accepts what NewVM refuses: %v", err)
		}
		if vm, err := NewVMWith(p, VMOptions{Libpcap: true}); err == nil {
			vm.Run(data, meta)
		}
	})
}

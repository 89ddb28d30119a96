package filter

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
)

// benchFrames returns the frames of synth-eth.pcap (realistic host
// traffic), or built frames when the corpus is absent.
func benchFrames(b *testing.B) []ring.Record {
	if dir := corpusDir(); dir != "" {
		f, err := readCapture(filepath.Join(dir, "pcap", "synthetic", "synth-eth.pcap"))
		if err != nil {
			b.Fatal(err)
		}
		return f.Records
	}
	var out []ring.Record
	for p := range 64 {
		fr := ethIPv4UDP(uint16(p))
		out = append(out, ring.Record{Data: fr, Meta: decode.Meta{Link: decode.LinkEthernet, WireLen: uint32(len(fr))}})
	}
	return out
}

// hostList returns "host 10.0.0.1 or host 10.0.0.2 or …" with n terms.
func hostList(n int) string {
	terms := make([]string, n)
	for i := range terms {
		terms[i] = fmt.Sprintf("host 10.0.%d.%d", i/250, i%250+1)
	}
	return strings.Join(terms, " or ")
}

// BenchmarkVM measures the cost of filtering one frame in fastop's VM.
func BenchmarkVM(b *testing.B) {
	frames := benchFrames(b)
	for _, tc := range []struct{ name, expr string }{
		{"accept-all", ""},
		{"ip-or-ip6", "ip or ip6"},
		{"host", "host 192.0.2.1"},
		{"tcp-port", "tcp port 443"},
		{"net-and-not-port", "net 10.0.0.0/8 and not port 443"},
		{"vlan-udp-port", "vlan 100 and udp port 53"},
		{"tcp-syn", "tcp[tcpflags] & tcp-syn != 0"},
		{"200-hosts", hostList(200)},
	} {
		p, err := Compile(tc.expr, Options{Link: decode.LinkEthernet, Names: debianNames()})
		if err != nil {
			b.Fatal(err)
		}
		vm, err := NewVM(p)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for i := range frames {
					r := &frames[i]
					vm.Run(r.Data, &r.Meta)
				}
				n += len(frames)
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(n)
			b.ReportMetric(ns, "ns/pkt")
			b.ReportMetric(1e3/ns, "Mpps")
			b.ReportMetric(float64(len(p)), "insns")
		})
	}
}

// BenchmarkCompile200Or measures compiling a 200-term or list of hosts.
func BenchmarkCompile200Or(b *testing.B) {
	expr := hostList(200)
	opt := Options{Link: decode.LinkEthernet, Names: debianNames()}
	b.ReportAllocs()
	var p Program
	for b.Loop() {
		var err error
		if p, err = Compile(expr, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p)), "insns")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1e3, "ms/compile")
}

// BenchmarkCompileTypical measures compiling an everyday filter.
func BenchmarkCompileTypical(b *testing.B) {
	opt := Options{Link: decode.LinkEthernet, Names: debianNames()}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("net 10.0.0.0/8 and not port 443", opt); err != nil {
			b.Fatal(err)
		}
	}
}

package decode

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchFrames is the ladder: one canonical frame per stack, cheapest first.
func benchFrames() []struct {
	name string
	meta Meta
	data []byte
} {
	return []struct {
		name string
		meta Meta
		data []byte
	}{
		{"eth-ipv4-tcp", Meta{Link: LinkEthernet, WireLen: 1514}, hx(ethHdr, "0800", ip4TCP, tcp50000to80)},
		{"raw-ipv4-tcp", Meta{Link: LinkRaw, WireLen: 1500}, hx(ip4TCP, tcp50000to80)},
		{"sll2-ipv4-tcp", Meta{Link: LinkLinuxSLL2, WireLen: 1520}, hx("0800 0000 00000002 0001 04 06 020000000001 0000", ip4TCP, tcp50000to80)},
		{"oobvlan-eth-ipv4-tcp", Meta{Link: LinkEthernet, WireLen: 1514, VLANOK: true, VLANTCI: 100}, hx(ethHdr, "0800", ip4TCP, tcp50000to80)},
		{"vlan-ipv6-udp", Meta{Link: LinkEthernet, WireLen: 1518}, hx(ethHdr, "8100 0064 86dd", ip6UDP, udp8080to53)},
		{"qinq-ipv6-udp", Meta{Link: LinkEthernet, WireLen: 1522}, hx(ethHdr, "88a8 012c 8100 0014 86dd", ip6UDP, udp8080to53)},
		{"eth-ipv6-ext4-tcp", Meta{Link: LinkEthernet, WireLen: 1514}, hx(ethHdr, "86dd",
			"60000000 0054 00 40", v6Src, v6Dst,
			"2b 00 0104 00000000",
			"3c 02 00 00 00000000 20010db8000000000000000000000003",
			"33 00 0104 00000000",
			"06 04 0000 00001000 00000001 000000000000000000000000",
			tcp50000to80)},
		{"eth-arp-notip", Meta{Link: LinkEthernet, WireLen: 60}, hx("ffffffffffff 020000000001 0806", "0001 0800 06 04 0001 020000000001 c0000201 000000000000 c0000202")},
	}
}

func reportPerPacket(b *testing.B, pkts int) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(pkts)
	b.ReportMetric(ns, "ns/pkt")
	b.ReportMetric(1e3/ns, "Mpps")
}

func BenchmarkFrame(b *testing.B) {
	for _, c := range benchFrames() {
		b.Run(c.name, func(b *testing.B) {
			var p Packet
			m := c.meta
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				_ = Frame(c.data, &m, &p)
				n++
			}
			reportPerPacket(b, n)
		})
	}
}

func BenchmarkFrameFlowHash(b *testing.B) {
	for _, c := range benchFrames()[:5] {
		b.Run(c.name, func(b *testing.B) {
			var p Packet
			m := c.meta
			var sink uint64
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				_ = Frame(c.data, &m, &p)
				sink += p.FlowHash()
				n++
			}
			reportPerPacket(b, n)
			if sink == 1 {
				b.Log(sink) // keep sink alive
			}
		})
	}
}

// BenchmarkCorpus decodes every packet of the test corpus per iteration:
// a mix of link types, VLANs, fragments, non-IP and broken frames.
func BenchmarkCorpus(b *testing.B) {
	dir := corpusDir(b)
	var recs []capRec
	err := filepath.WalkDir(filepath.Join(dir, "pcap"), func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !(strings.HasSuffix(path, ".pcap") || strings.HasSuffix(path, ".pcapng")) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		r, err := readCapture(data)
		recs = append(recs, r...)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	metas := make([]Meta, len(recs))
	for i, r := range recs {
		metas[i] = Meta{Link: r.link, WireLen: r.wire, PktType: PktUnknown}
	}
	var p Packet
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range recs {
			_ = Frame(recs[i].data, &metas[i], &p)
		}
		n += len(recs)
	}
	reportPerPacket(b, n)
}

func BenchmarkFlowHash(b *testing.B) {
	for _, c := range benchFrames()[:5] {
		var p Packet
		m := c.meta
		if err := Frame(c.data, &m, &p); err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			var sink uint64
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				sink += p.FlowHash()
				n++
			}
			reportPerPacket(b, n)
			if sink == 1 {
				b.Log(sink) // keep sink alive
			}
		})
	}
}

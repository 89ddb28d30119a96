package bondhash

import (
	"testing"

	"github.com/fastop/fastop/decode"
)

func BenchmarkPredict(b *testing.B) {
	for _, pol := range []Policy{PolicyLayer2, PolicyLayer23, PolicyLayer34} {
		b.Run(pol.String(), func(b *testing.B) {
			c := Config{Mode: Mode8023AD, Policy: pol, Variant: V5_18}
			flows := []Flow{
				tcp4("10.0.0.1", "10.0.0.2", 40000, 80),
				udp6("2001:db8::1", "2001:db8::2", 5353, 53),
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				p := c.Predict(&flows[n&1], 4)
				n += p.Link + 1
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
		})
	}
}

func BenchmarkPredictPacket(b *testing.B) {
	frame := ether(false, 0x0800, ipv4(6, 0, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, ports(40000, 80)))
	m := decode.Meta{Link: decode.LinkEthernet}
	var p decode.Packet
	if err := decode.Frame(frame, &m, &p); err != nil {
		b.Fatal(err)
	}
	c := Config{Mode: Mode8023AD, Policy: PolicyLayer34, Variant: V5_18}
	b.ReportAllocs()
	for b.Loop() {
		if got := c.PredictPacket(&p, false, 4); !got.OK() {
			b.Fatal(got.Why)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
}

package bench

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/fastop/fastop/bench/gen"
	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
)

// Size is the frame size distribution of synthetic traffic.
type Size uint8

// Frame sizes. Sizes are Ethernet frame sizes on the wire, FCS included,
// as RFC 2544 and IMIX count them; the captured frames are 4 bytes shorter,
// as AF_PACKET delivers them (no FCS), and WireLen is the captured length.
const (
	// Size64 is the smallest frame: 64 bytes on the wire (60 captured) when
	// the headers fit, else just the headers (IPv6 and tagged frames are a
	// little longer). No transport payload: the worst case per byte.
	Size64 Size = iota
	// SizeIMIX is the simple IMIX: 7 smallest frames : 4 frames carrying a
	// 576-byte IP packet : 1 frame carrying a 1500-byte IP packet
	// (64/594/1518 bytes on the wire when untagged).
	SizeIMIX
)

// ParseSize reads a Size as given on the command line: "64" or "imix".
func ParseSize(s string) (Size, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "64":
		return Size64, nil
	case "imix":
		return SizeIMIX, nil
	}
	return 0, fmt.Errorf("synthetic size %q: use 64 or imix: %w", s, ErrSynth)
}

// String returns the name ParseSize reads.
func (s Size) String() string {
	switch s {
	case Size64:
		return "64"
	case SizeIMIX:
		return "imix"
	}
	return fmt.Sprintf("size(%d)", uint8(s))
}

// Set parses v into s, so a Size can be a command-line flag value.
func (s *Size) Set(v string) error {
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	*s = n
	return nil
}

// Type names the flag value's type for help output.
func (s *Size) Type() string { return "size" }

// Mix is the set of frame shapes in synthetic traffic. Flows are spread
// evenly over the shapes in the set.
type Mix uint8

// Frame shapes.
const (
	MixV4   Mix = 1 << iota // untagged IPv4
	MixV6                   // untagged IPv6
	MixVLAN                 // one 802.1Q tag; half the flows IPv4, half IPv6
	MixQinQ                 // 802.1ad outer and 802.1Q inner tag; half IPv4, half IPv6
	mixAll  = MixV4 | MixV6 | MixVLAN | MixQinQ
)

var mixNames = [...]struct {
	m    Mix
	name string
}{{MixV4, "v4"}, {MixV6, "v6"}, {MixVLAN, "vlan"}, {MixQinQ, "qinq"}}

// ParseMix reads a comma-separated list of shapes: v4, v6, vlan, qinq.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for f := range strings.SplitSeq(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		found := false
		for _, n := range mixNames {
			if f == n.name {
				m |= n.m
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("synthetic mix %q: list some of v4,v6,vlan,qinq: %w", s, ErrSynth)
		}
	}
	return m, nil
}

// String lists the shapes in the order ParseMix reads them.
func (m Mix) String() string {
	var parts []string
	for _, n := range mixNames {
		if m&n.m != 0 {
			parts = append(parts, n.name)
		}
	}
	if m&^mixAll != 0 {
		parts = append(parts, fmt.Sprintf("mix(%#x)", uint8(m&^mixAll)))
	}
	return strings.Join(parts, ",")
}

// Set parses v into m, so a Mix can be a command-line flag value.
func (m *Mix) Set(v string) error {
	n, err := ParseMix(v)
	if err != nil {
		return err
	}
	*m = n
	return nil
}

// Type names the flag value's type for help output.
func (m *Mix) Type() string { return "mix" }

// SynthOptions describe synthetic traffic. The zero value is valid: 1,000
// IPv4 flows of 64-byte frames, 4M packets over 10 s, seed 0.
type SynthOptions struct {
	Flows    int           // distinct conversations (5-tuples), both directions of each present (0: 1,000)
	Packets  int           // frames in all, ≥ 2 × Flows (0: max(4M, 4 × Flows))
	Size     Size          // frame sizes
	Mix      Mix           // frame shapes (0: MixV4)
	Duration time.Duration // capture time the frames cover, ≥ Packets ns (0: 10 s, five ticks)
	Seed     uint64        // order of the frames; same options and seed, same capture
	// Copy gives every packet its own bytes, as a ring does, instead of
	// sharing one frame per flow direction: memory grows from
	// 2 × Flows × frame size to Packets × frame size, and decoding reads
	// cold memory even with few flows.
	Copy bool
}

// Defaults and limits of SynthOptions.
const (
	DefaultSynthFlows    = 1000
	DefaultSynthPackets  = 4_000_000
	DefaultSynthDuration = 10 * time.Second
	// MaxSynthFlows bounds Flows: 2^24 flows of 64-byte frames already take
	// 2 GB of frame bytes, and addresses and ports stay distinct far beyond.
	MaxSynthFlows = 1 << 24
)

// ErrSynth marks a SynthOptions that Synthetic cannot honour.
var ErrSynth = errors.New("bad synthetic traffic options")

// synthStart is the capture time of the first frame: a fixed instant on a
// 2 s boundary, so captures are reproducible and ticks are whole.
var synthStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

func (o SynthOptions) withDefaults() SynthOptions {
	if o.Flows == 0 {
		o.Flows = DefaultSynthFlows
	}
	if o.Packets == 0 {
		o.Packets = max(DefaultSynthPackets, 4*o.Flows)
	}
	if o.Mix == 0 {
		o.Mix = MixV4
	}
	if o.Duration == 0 {
		o.Duration = DefaultSynthDuration
	}
	return o
}

func (o SynthOptions) check() error {
	switch {
	case o.Flows < 1 || o.Flows > MaxSynthFlows:
		return fmt.Errorf("synthetic flows %d: use 1 to %d: %w", o.Flows, MaxSynthFlows, ErrSynth)
	case o.Packets < 2*o.Flows:
		return fmt.Errorf("synthetic packets %d cannot show both directions of %d flows: use at least %d: %w",
			o.Packets, o.Flows, 2*o.Flows, ErrSynth)
	case o.Size != Size64 && o.Size != SizeIMIX:
		return fmt.Errorf("synthetic size %v: use 64 or imix: %w", o.Size, ErrSynth)
	case o.Mix&^mixAll != 0:
		return fmt.Errorf("synthetic mix %v: list some of v4,v6,vlan,qinq: %w", o.Mix, ErrSynth)
	case o.Duration < time.Duration(o.Packets):
		return fmt.Errorf("synthetic duration %v is too short for %d increasing timestamps: use at least %v: %w",
			o.Duration, o.Packets, time.Duration(o.Packets), ErrSynth)
	}
	return nil
}

// String describes the options, defaults filled in, in one short line for
// a benchmark's header; it is also the synthetic capture's Name.
func (o SynthOptions) String() string {
	o = o.withDefaults()
	frames := "shared frames"
	if o.Copy {
		frames = "copied frames"
	}
	return fmt.Sprintf("synthetic %d flows, %d packets, %s, %s, %v, seed %d, %s",
		o.Flows, o.Packets, o.Size, o.Mix, o.Duration, o.Seed, frames)
}

// Synthetic builds a capture of made-up traffic in memory, for benchmarks
// on a machine without captures.
//
// Traffic: flow i is a conversation between a client (198.18.0.0/16 or
// 2001:2:0:1::/64, the benchmarking ranges) with a port unique to the flow
// and one of 251 servers (198.19.0.0/24 or 2001:2:0:2::/64) on a well-known
// port, UDP (for Size64 all flows; for IMIX half of them, TCP the rest).
// Client-to-server frames are marked PktOutgoing and server-to-client
// frames PktHost, as a live capture on the client's link marks them, so
// the direction rules take the path they take live and both the TX and RX
// totals fill. Flow i's shape is the i-th of the Mix's shapes in turn.
// Under IMIX each flow's two directions get fixed sizes whose pattern
// repeats every six flows of a shape, giving 7:4:1 over all frames.
//
// Order: the two directions of all flows are visited in a fresh
// pseudo-random permutation, pass after pass, until Packets frames are
// out, so every direction recurs about Packets / (2 × Flows) times and
// neighbouring frames belong to unrelated flows, as at a busy link.
// Timestamps rise evenly from a fixed start over Duration.
//
// Memory: fastop never writes a frame, so unless o.Copy is set all
// records of one flow direction alias one frame in a single arena of
// 2 × Flows frames; with many flows the frames are spread over more
// memory than the caches hold, as real traffic is. Records take another
// 48 bytes per packet.
func Synthetic(o SynthOptions) (*Capture, error) {
	o = o.withDefaults()
	if err := o.check(); err != nil {
		return nil, err
	}
	shapes := o.Mix.shapes()

	// Two frames per flow, client-to-server at 2i, server-to-client at 2i+1.
	n := 2 * o.Flows
	off := make([]int, n+1)
	var scratch [2]gen.Tag
	for i := range o.Flows {
		fwd, rev := synthFlow(i, o.Size, shapes, &scratch)
		off[2*i+1] = off[2*i] + fwd.FrameLen()
		off[2*i+2] = off[2*i+1] + rev.FrameLen()
	}
	arena := make([]byte, 0, off[n])
	for i := range o.Flows {
		fwd, rev := synthFlow(i, o.Size, shapes, &scratch)
		arena = fwd.AppendFrame(arena)
		arena = rev.AppendFrame(arena)
		if len(arena) != off[2*i+2] {
			return nil, fmt.Errorf("synthetic flow %d: frames of %d bytes where %d were planned", i, len(arena)-off[2*i], off[2*i+2]-off[2*i])
		}
	}

	c := &Capture{Name: o.String(), Records: make([]ring.Record, o.Packets)}
	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x66617374_6f702121)) // "fastop!!"
	dur := uint64(o.Duration)
	for k := 0; k < o.Packets; {
		for i := n - 1; i > 0; i-- {
			j := rng.Uint32N(uint32(i + 1))
			perm[i], perm[j] = perm[j], perm[i]
		}
		for _, t := range perm[:min(n, o.Packets-k)] {
			data := arena[off[t]:off[t+1]:off[t+1]]
			pt := decode.PktOutgoing
			if t&1 != 0 {
				pt = decode.PktHost
			}
			// k × Duration / Packets without overflow: even spacing.
			hi, lo := bits.Mul64(uint64(k), dur)
			q, _ := bits.Div64(hi, lo, uint64(o.Packets))
			c.Records[k] = ring.Record{
				Data: data,
				TS:   synthStart + int64(q),
				Meta: decode.Meta{Link: decode.LinkEthernet, PktType: pt, WireLen: uint32(len(data))},
			}
			c.Bytes += uint64(len(data))
			k++
		}
	}
	if o.Copy {
		own := make([]byte, 0, c.Bytes)
		for i := range c.Records {
			s := len(own)
			own = append(own, c.Records[i].Data...)
			c.Records[i].Data = own[s:len(own):len(own)]
		}
	}
	return c, nil
}

// shape is the encapsulation of one flow.
type shape struct {
	tags int  // in-band VLAN tags: 0, 1 or 2
	v6   bool // IPv6 (for tagged shapes: every other flow of the shape)
	both bool // tagged shapes alternate IPv4 and IPv6
}

func (m Mix) shapes() []shape {
	var s []shape
	if m&MixV4 != 0 {
		s = append(s, shape{})
	}
	if m&MixV6 != 0 {
		s = append(s, shape{v6: true})
	}
	if m&MixVLAN != 0 {
		s = append(s, shape{tags: 1, both: true})
	}
	if m&MixQinQ != 0 {
		s = append(s, shape{tags: 2, both: true})
	}
	return s
}

// IMIX size classes and the per-flow pattern that gives 7:4:1: each entry
// is (client-to-server, server-to-client); bulk data flows from servers.
const (
	small  = 0 // the smallest frame
	medium = 576
	large  = 1500
)

var imixPairs = [6][2]int{{small, large}, {small, medium}, {small, medium}, {small, medium}, {small, small}, {medium, small}}

var (
	serverPortsUDP = [...]uint16{53, 443, 123, 4500}
	serverPortsTCP = [...]uint16{443, 80, 22, 8443}
	clientMAC      = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	gatewayMAC     = [6]byte{0x02, 0, 0, 0, 0, 0xfe}
)

// Client hosts: 198.18.0.1 … 198.18.255.254 (or the same low 16 bits in
// IPv6); the port climbs once every host has a flow, so flow i's client
// endpoint is unique.
const clientHosts = 65534

// synthFlow returns flow i's two directions. Tags lives in scratch, which
// must outlive the flows' use.
func synthFlow(i int, size Size, shapes []shape, scratch *[2]gen.Tag) (fwd, rev gen.Flow) {
	sh := shapes[i%len(shapes)]
	r := i / len(shapes) // rank among the flows of this shape
	v6 := sh.v6
	if sh.both {
		v6 = r%2 == 1
		r /= 2 // rank among the flows of this shape and family
	}
	var tags []gen.Tag
	switch sh.tags {
	case 1:
		scratch[0] = gen.Tag{TPID: 0x8100, TCI: uint16(100 + r%64)}
		tags = scratch[:1]
	case 2:
		scratch[0] = gen.Tag{TPID: 0x88a8, TCI: uint16(200 + r%8)}
		scratch[1] = gen.Tag{TPID: 0x8100, TCI: uint16(100 + r%64)}
		tags = scratch[:2]
	}
	h := 1 + i%clientHosts
	srv := 1 + i%251
	cport := uint16(1024 + i/clientHosts)
	var client, server netip.Addr
	if v6 {
		client = netip.AddrFrom16([16]byte{0x20, 0x01, 0, 2, 0, 0, 0, 1, 14: byte(h >> 8), 15: byte(h)})
		server = netip.AddrFrom16([16]byte{0x20, 0x01, 0, 2, 0, 0, 0, 2, 15: byte(srv)})
	} else {
		client = netip.AddrFrom4([4]byte{198, 18, byte(h >> 8), byte(h)})
		server = netip.AddrFrom4([4]byte{198, 19, 0, byte(srv)})
	}
	proto := uint8(gen.ProtoUDP)
	sport := serverPortsUDP[r%len(serverPortsUDP)]
	pair := [2]int{small, small}
	if size == SizeIMIX {
		pair = imixPairs[r%len(imixPairs)]
		if (r/len(imixPairs))%2 == 1 {
			proto = gen.ProtoTCP
			sport = serverPortsTCP[r%len(serverPortsTCP)]
		}
	}
	fwd = gen.Flow{DstMAC: gatewayMAC, SrcMAC: clientMAC, Tags: tags, Src: client, Dst: server,
		Proto: proto, SrcPort: cport, DstPort: sport}
	rev = gen.Flow{DstMAC: clientMAC, SrcMAC: gatewayMAC, Tags: tags, Src: server, Dst: client,
		Proto: proto, SrcPort: sport, DstPort: cport}
	fwd.Payload = payloadFor(&fwd, pair[0])
	rev.Payload = payloadFor(&rev, pair[1])
	return fwd, rev
}

// payloadFor returns the transport payload that makes f's IP packet ipLen
// bytes long; small means none.
func payloadFor(f *gen.Flow, ipLen int) int {
	if ipLen == small {
		return 0
	}
	return ipLen - f.IPLen() // IPLen with no payload yet: the headers
}

package ipfix

import "encoding/binary"

// Information element identifiers (IANA IPFIX registry, RFC 7012).
const (
	ieOctetDeltaCount          = 1
	iePacketDeltaCount         = 2
	ieProtocolIdentifier       = 4
	ieSourceTransportPort      = 7
	ieSourceIPv4Address        = 8
	ieIngressInterface         = 10
	ieDestinationTransportPort = 11
	ieDestinationIPv4Address   = 12
	ieEgressInterface          = 14
	ieSourceIPv6Address        = 27
	ieDestinationIPv6Address   = 28
	ieVlanID                   = 58
	ieFlowDirection            = 61
	ieFlowStartMilliseconds    = 152
	ieFlowEndMilliseconds      = 153
)

// Message layout (RFC 7011 section 3).
const (
	version      = 10
	headerLen    = 16
	setHeaderLen = 4
	templateSet  = 2
)

// Flow directions (flowDirection, IE 61).
const (
	DirIngress uint8 = 0
	DirEgress  uint8 = 1
)

// Kind selects a record's template.
type Kind uint8

// Kinds of records, one template each.
const (
	KindV4      Kind = iota // IPv4 flow whose direction is known
	KindV6                  // IPv6 flow whose direction is known
	KindV4NoDir             // IPv4 flow between two local or two foreign hosts
	KindV6NoDir             // IPv6 likewise
	KindOther               // flows folded into "other": counters only
	// The four flow kinds again with the VLAN (vlanId), for tagged flows,
	// in the same order: kind + vlanKinds is a kind's tagged variant.
	KindV4VLAN
	KindV6VLAN
	KindV4NoDirVLAN
	KindV6NoDirVLAN
	numKinds
)

// vlanKinds is how far a flow kind's tagged variant is from it.
const vlanKinds = KindV4VLAN - KindV4

type field struct{ id, size uint16 }

type template struct {
	id     uint16
	fields []field
	size   int // bytes of one data record
}

// templates are indexed by Kind. Template IDs start at 256 (RFC 7011 section 3.4.1).
var templates = func() [numKinds]template {
	addrs := func(v6 bool) []field {
		if v6 {
			return []field{{ieSourceIPv6Address, 16}, {ieDestinationIPv6Address, 16}}
		}
		return []field{{ieSourceIPv4Address, 4}, {ieDestinationIPv4Address, 4}}
	}
	flow := func(v6, dir bool) []field {
		f := addrs(v6)
		f = append(f, field{ieSourceTransportPort, 2}, field{ieDestinationTransportPort, 2}, field{ieProtocolIdentifier, 1})
		if dir {
			f = append(f, field{ieFlowDirection, 1})
		}
		return append(f, counters...)
	}
	var t [numKinds]template
	t[KindV4].fields = flow(false, true)
	t[KindV6].fields = flow(true, true)
	t[KindV4NoDir].fields = flow(false, false)
	t[KindV6NoDir].fields = flow(true, false)
	t[KindOther].fields = counters
	for k := KindV4; k <= KindV6NoDir; k++ {
		// The tagged variant: vlanId after the protocol.
		f := t[k].fields
		i := 5 // addresses, ports, protocol
		t[k+vlanKinds].fields = append(append(append([]field(nil), f[:i]...), field{ieVlanID, 2}), f[i:]...)
	}
	for i := range t {
		t[i].id = 256 + uint16(i)
		for _, f := range t[i].fields {
			t[i].size += int(f.size)
		}
	}
	return t
}()

// counters end every template.
var counters = []field{
	{ieIngressInterface, 4}, {ieEgressInterface, 4},
	{ieOctetDeltaCount, 8}, {iePacketDeltaCount, 8},
	{ieFlowStartMilliseconds, 8}, {ieFlowEndMilliseconds, 8},
}

// templateSetLen is the size of the set that carries every template.
var templateSetLen = func() int {
	n := setHeaderLen
	for _, t := range templates {
		n += 4 + 4*len(t.fields)
	}
	return n
}()

// MinMTU is the smallest message size that holds a header, the template
// set and the largest data record in its own set.
var MinMTU = headerLen + templateSetLen + setHeaderLen + templates[KindV6VLAN].size

// MaxMTU is the largest UDP payload over IPv4 (and below IPFIX's 16-bit
// message length).
const MaxMTU = 65507

// Record is one uniflow record.
type Record struct {
	Kind             Kind
	Src, Dst         [16]byte // IPv4 in the first 4 bytes
	SrcPort, DstPort uint16
	Proto            uint8
	VLAN             uint16 // the tagged kinds only
	Direction        uint8  // DirIngress or DirEgress (KindV4, KindV6 and their tagged variants)
	Ingress, Egress  uint32
	Octets, Packets  uint64
	Start, End       int64 // Unix milliseconds
}

func (r *Record) append(b []byte) []byte {
	for _, f := range templates[r.Kind].fields {
		switch f.id {
		case ieSourceIPv4Address:
			b = append(b, r.Src[:4]...)
		case ieDestinationIPv4Address:
			b = append(b, r.Dst[:4]...)
		case ieSourceIPv6Address:
			b = append(b, r.Src[:]...)
		case ieDestinationIPv6Address:
			b = append(b, r.Dst[:]...)
		case ieSourceTransportPort:
			b = binary.BigEndian.AppendUint16(b, r.SrcPort)
		case ieDestinationTransportPort:
			b = binary.BigEndian.AppendUint16(b, r.DstPort)
		case ieProtocolIdentifier:
			b = append(b, r.Proto)
		case ieVlanID:
			b = binary.BigEndian.AppendUint16(b, r.VLAN)
		case ieFlowDirection:
			b = append(b, r.Direction)
		case ieIngressInterface:
			b = binary.BigEndian.AppendUint32(b, r.Ingress)
		case ieEgressInterface:
			b = binary.BigEndian.AppendUint32(b, r.Egress)
		case ieOctetDeltaCount:
			b = binary.BigEndian.AppendUint64(b, r.Octets)
		case iePacketDeltaCount:
			b = binary.BigEndian.AppendUint64(b, r.Packets)
		case ieFlowStartMilliseconds:
			b = binary.BigEndian.AppendUint64(b, uint64(r.Start))
		case ieFlowEndMilliseconds:
			b = binary.BigEndian.AppendUint64(b, uint64(r.End))
		}
	}
	return b
}

// packer builds messages of at most mtu bytes. Records are never split: a
// record that does not fit ends the message. Consecutive records of one
// template share a data set.
type packer struct {
	mtu    int
	domain uint32
	seq    uint32 // data records sent before the message being built
	buf    []byte
	set    int  // offset of the open set's header; -1: none
	kind   Kind // template of the open data set
	recs   uint32
	send   func([]byte)
	export uint32 // export time of the message being built, Unix seconds

	withTemplates bool // the next message starts with the template set
}

func newPacker(mtu int, domain uint32, send func([]byte)) *packer {
	return &packer{mtu: mtu, domain: domain, send: send, set: -1, buf: make([]byte, 0, mtu), withTemplates: true}
}

// add appends r, sending the message first when r does not fit.
func (p *packer) add(r *Record, exportSec uint32) {
	need := templates[r.Kind].size
	if p.set < 0 || p.kind != r.Kind {
		need += setHeaderLen
	}
	if len(p.buf) > 0 && len(p.buf)+need > p.mtu {
		p.flush() // the new message has room: MinMTU holds the largest record
	}
	if len(p.buf) == 0 {
		p.begin(exportSec)
	}
	if p.set < 0 || p.kind != r.Kind {
		p.closeSet()
		p.set = len(p.buf)
		p.kind = r.Kind
		p.buf = binary.BigEndian.AppendUint16(p.buf, templates[r.Kind].id)
		p.buf = append(p.buf, 0, 0)
	}
	p.buf = r.append(p.buf)
	p.recs++
}

// begin starts a message: the header, and the templates when due.
func (p *packer) begin(exportSec uint32) {
	p.export = exportSec
	p.buf = append(p.buf[:0], make([]byte, headerLen)...)
	if p.withTemplates {
		p.withTemplates = false
		p.buf = appendTemplates(p.buf)
	}
}

// resendTemplates makes the next message carry the templates (UDP loses
// them; a collector that restarts needs them again).
func (p *packer) resendTemplates() { p.withTemplates = true }

func appendTemplates(b []byte) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, templateSet)
	b = binary.BigEndian.AppendUint16(b, uint16(templateSetLen))
	for _, t := range templates {
		b = binary.BigEndian.AppendUint16(b, t.id)
		b = binary.BigEndian.AppendUint16(b, uint16(len(t.fields)))
		for _, f := range t.fields {
			b = binary.BigEndian.AppendUint16(b, f.id)
			b = binary.BigEndian.AppendUint16(b, f.size)
		}
	}
	if len(b)-start != templateSetLen {
		panic("ipfix: template set length")
	}
	return b
}

func (p *packer) closeSet() {
	if p.set >= 0 {
		binary.BigEndian.PutUint16(p.buf[p.set+2:], uint16(len(p.buf)-p.set))
		p.set = -1
	}
}

// flush sends the message being built, if any; with templates only when
// they are due and no record is waiting, it sends those alone.
func (p *packer) flush() {
	if len(p.buf) == 0 {
		return
	}
	p.closeSet()
	h := p.buf[:headerLen]
	binary.BigEndian.PutUint16(h[0:], version)
	binary.BigEndian.PutUint16(h[2:], uint16(len(p.buf)))
	binary.BigEndian.PutUint32(h[4:], p.export)
	binary.BigEndian.PutUint32(h[8:], p.seq)
	binary.BigEndian.PutUint32(h[12:], p.domain)
	p.send(p.buf)
	p.seq += p.recs // RFC 7011 section 3.1: templates do not count
	p.recs = 0
	p.buf = p.buf[:0]
}

// templatesOnly sends a message holding only the templates.
func (p *packer) templatesOnly(exportSec uint32) {
	p.flush()
	p.withTemplates = true
	p.begin(exportSec)
	p.flush()
}

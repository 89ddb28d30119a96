package bondhash

import "github.com/fastop/fastop/decode"

// FlowOf fills a Flow from a decoded packet. vlanOutOfBand is the frame's
// decode.Meta.VLANOK: the kernel had the outer tag outside the bytes, as
// a bond's transmit path has it. A tag inside the frame gives
// ReasonVLANInFrame: a slave without VLAN offload puts the tag into the
// frame after the bond has hashed it, so the capture cannot say what the
// bond saw. IPv6 packets with extension headers give ReasonIPv6Ext (the
// decoder keeps the transport protocol, the bond hashes on the first
// header). Other gaps (ports, ICMP identifiers) are left for Predict to
// report, since they matter only for some policies.
func FlowOf(p *decode.Packet, vlanOutOfBand bool) (Flow, Reason) {
	var f Flow
	if p.Flags&decode.FlagMAC != 0 {
		f.HasMAC = true
		f.SrcMAC, f.DstMAC = p.SrcMAC, p.DstMAC
	}
	inFrame := int(p.NVLAN)
	if vlanOutOfBand {
		inFrame--
	}
	if inFrame > 0 {
		return f, ReasonVLANInFrame
	}
	switch p.Family {
	case 4:
		f.EtherType = EtherIPv4
		f.Fragment = p.Flags&decode.FlagFragment != 0
	case 6:
		f.EtherType = EtherIPv6
		if p.L4Off != 0 && p.L4Off != p.L3Off+40 || p.Flags&decode.FlagFragment != 0 {
			return f, ReasonIPv6Ext
		}
	default:
		return f, ReasonNotIP
	}
	f.Src, f.Dst = p.Src, p.Dst
	f.Proto = p.Proto
	if p.Flags&decode.FlagPorts != 0 {
		f.HasPorts = true
		f.SrcPort, f.DstPort = p.SrcPort, p.DstPort
	}
	if (p.Proto == protoICMP || p.Proto == protoICMPv6) && p.L4Off != 0 && p.Flags&decode.FlagTruncated == 0 {
		f.HasICMP = true
		f.ICMPType, f.ICMPCode = p.ICMPType, p.ICMPCode
	}
	return f, ReasonNone
}

// PredictPacket is FlowOf followed by Predict.
func (c *Config) PredictPacket(p *decode.Packet, vlanOutOfBand bool, links int) Prediction {
	f, why := FlowOf(p, vlanOutOfBand)
	if why != ReasonNone {
		return Prediction{Link: -1, Why: why}
	}
	return c.Predict(&f, links)
}

package afpacket

// Stats is a group's cumulative counters. All are 64-bit totals since Open.
type Stats struct {
	Packets       uint64 // frames delivered to handlers
	Bytes         uint64 // sum of their wire lengths (Meta.WireLen)
	Drops         uint64 // frames that passed the filter but found no ring space (kernel tp_drops)
	Freezes       uint64 // times a ring filled up and the kernel froze it (tp_freeze_q_cnt)
	KernelPackets uint64 // frames that passed the filter: delivered + dropped + still in rings (tp_packets)
	Discarded     uint64 // frames in a ring that were thrown away unread when a member was torn down
	Blocks        uint64 // ring blocks handed to handlers
	BadBlocks     uint64 // ring blocks whose layout made no sense (their unread frames are in Discarded)
	Reopens       uint64 // times Run (re-)created the members: after the interface returned, or came up under WaitUp
	Members       []MemberStats
	Iface         IfaceCounters // the interface's own kernel counters, as last read
	IfaceOK       bool          // Iface holds a reading
}

// MemberStats is one member's share of [Stats].
type MemberStats struct {
	Packets, Bytes, Drops, Freezes, KernelPackets, Discarded, Blocks, BadBlocks uint64
}

// IfaceCounters are the interface's own counters (what
// /sys/class/net/IFACE/statistics shows). They restart from zero when the
// interface is re-created.
type IfaceCounters struct {
	RxPackets, RxBytes, RxErrors, RxDropped, RxMissed, RxFIFO uint64
	TxPackets, TxBytes, TxErrors, TxDropped                   uint64
}

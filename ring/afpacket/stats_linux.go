package afpacket

// stats is Group.Stats: it harvests every member's kernel counters (they
// reset on read, so this and the watcher are their only readers, both under
// mu), reads the interface's counters, and adds up the members' totals.
func (g *group) stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range g.members {
		m.harvestLocked()
	}
	if info, err := g.nl.link(g.cfg.Interface); err == nil && info.HasStats {
		g.iface, g.ifaceOK = info.Stats, true
	}
	s := Stats{Members: make([]MemberStats, len(g.members)), Reopens: g.reopens, Iface: g.iface, IfaceOK: g.ifaceOK}
	for i, m := range g.members {
		ms := MemberStats{
			Packets:       m.c.packets.Load(),
			Bytes:         m.c.bytes.Load(),
			Blocks:        m.c.blocks.Load(),
			BadBlocks:     m.c.badBlocks.Load(),
			Drops:         m.kDrops,
			Freezes:       m.kFreezes,
			KernelPackets: m.kPackets,
			Discarded:     m.discarded + m.c.badPkts.Load(),
		}
		s.Members[i] = ms
		s.Packets += ms.Packets
		s.Bytes += ms.Bytes
		s.Blocks += ms.Blocks
		s.BadBlocks += ms.BadBlocks
		s.Drops += ms.Drops
		s.Freezes += ms.Freezes
		s.KernelPackets += ms.KernelPackets
		s.Discarded += ms.Discarded
	}
	return s
}

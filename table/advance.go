package table

// Advance ends the slot being filled at time end exactly as Close does
// (newcomers settled, the slot's duration set, idle flows expired, the next
// slot started) but builds no Snapshot: for a tick nobody reads, such as
// the ticks before the last report of `-t -s N`. At a million flows a
// snapshot is a million rows written every 2 s.
func (f *Flows) Advance(end int64) {
	f.settle()
	f.global[f.tick%Slots].dur = max(end-f.slotStart, 0)
	f.rotate(end)
}

// tooBig reports whether a pooled snapshot buffer of capacity c is far
// bigger than a tick of n rows needs: more than four times, beyond a floor
// under which keeping it costs little. Without it the two pooled buffers
// keep a flood's peak (about 150 MB at a million flows) forever.
func tooBig(c, n int) bool { return c > 4*max(n, 4096) }

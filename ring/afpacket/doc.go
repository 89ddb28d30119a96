// Package afpacket captures live traffic: a [Group] of AF_PACKET sockets
// with memory-mapped TPACKET_V3 receive rings, joined in one PACKET_FANOUT
// group, that hands each member's frames to its [Handler] in batches of
// ring.Record (Linux only; elsewhere [Open] fails with [ErrNotSupported]).
// It also looks up interfaces ([LookupInterface], [DefaultInterface]) for
// the rules and messages that name them.
//
// The only use of unsafe is in mmap_linux.go, for the atomic hand-off of
// ring blocks with the kernel; everything else reads ring memory through
// bounds-checked slices.
package afpacket

// Package pcapfile reads pcap and pcapng capture files in batches of
// [ring.Record] ([File]: [Open], [NewReader], [FromBytes]) and writes pcap
// files ([Writer]).
//
// The reader streams through a fixed buffer and hands out records whose
// Data aliases that buffer (see package ring for who owns packet memory).
// Nothing in a file is trusted: every length is bounded before it is used,
// and damage is a *[CorruptError] naming the byte offset.
package pcapfile

// Package ring holds fastop's sources of frames: pcap and pcapng files
// ([File]) and, on Linux, AF_PACKET TPACKET_V3 rings joined in a
// PACKET_FANOUT group ([Group]).
//
// # Who owns packet memory
//
// Sources hand out frames in batches of [Record]. A Record's Data aliases
// memory owned by the source (a file chunk or a ring block); it is valid only
// until the next call that fills a batch, or until the callback that received
// it returns. Copy what must outlive that.
package ring

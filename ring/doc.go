// Package ring holds what fastop's sources of frames have in common: the
// [Record] they hand out in batches. The sources live below it:
// ring/afpacket captures live (AF_PACKET TPACKET_V3 rings in a
// PACKET_FANOUT group, Linux only), ring/pcapfile reads pcap and pcapng
// files and writes pcap, and ring/filter compiles pcap-filter expressions
// to classic BPF for both (the kernel runs it on live sockets, its VM on
// files).
//
// # Who owns packet memory
//
// Sources hand out frames in batches of [Record]. A Record's Data aliases
// memory owned by the source (a file chunk or a ring block); it is valid only
// until the next call that fills a batch, or until the callback that received
// it returns. Copy what must outlive that.
package ring

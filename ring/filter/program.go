// Package filter compiles pcap-filter expressions (tcpdump's filter
// language) to classic BPF without libpcap, and runs classic BPF programs in
// fastop's own VM for files and benchmarks.
package filter

// Instruction is one classic BPF instruction, laid out as the kernel's
// struct sock_filter.
type Instruction struct {
	Op uint16
	Jt uint8
	Jf uint8
	K  uint32
}

// Program is a classic BPF program. It returns the number of bytes to keep
// (0 rejects the packet).
type Program []Instruction

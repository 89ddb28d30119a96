package ring

// File reads frames from a pcap or pcapng file; see OpenFile.
// (Implemented by the file-reader work.)
type File struct{}

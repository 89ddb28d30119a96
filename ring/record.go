package ring

import "github.com/fastop/fastop/decode"

// Record is one captured frame and what the source knows about it.
type Record struct {
	Data []byte      // captured bytes; aliases source memory (see the package doc)
	TS   int64       // capture time, Unix nanoseconds
	Meta decode.Meta // link type, wire length, packet type, out-of-band VLAN, ifindex
}

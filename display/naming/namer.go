package naming

import "net/netip"

// Namer turns an address into a host name. It must not block: return false
// when no name is known yet (iftop shows the number until a lookup ends).
// Names come from the network and are not trusted; the formatters clean them.
type Namer interface {
	Name(netip.Addr) (string, bool)
}

// MaxNameLen caps a host name from a Namer, in bytes after cleaning; 253 is
// the longest DNS name in text form.
const MaxNameLen = 253

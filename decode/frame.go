package decode

// Frame decodes one frame into p, overwriting every field of p.
//
// It returns nil when p holds an IP packet worth counting (possibly with
// FlagTruncated set when only the transport header was cut), ErrNotIP for
// other protocols, and ErrTruncated, ErrMalformed or ErrLinkType when the
// frame cannot be counted. It never allocates and never panics.
func Frame(data []byte, m *Meta, p *Packet) error {
	*p = Packet{PktType: m.PktType}
	return ErrLinkType // TODO: implemented by the decode work
}

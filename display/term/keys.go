package term

import "unicode/utf8"

// Key is one key press: a byte value 0–127 for ASCII keys and control
// characters (Ctrl-C is 3, Enter is '\r', a lone Esc is 27, Backspace is
// 127), or one of the negative Key constants for keys that arrive as escape
// sequences.
type Key int32

// Keys that are not single bytes.
const (
	KeyUnknown Key = -1 - iota // an escape sequence or non-ASCII character fastop has no use for
	KeyUp
	KeyDown
	KeyLeft
	KeyRight
	KeyHome
	KeyEnd
	KeyInsert
	KeyDelete
	KeyPgUp
	KeyPgDn
)

// Control keys by name.
const (
	KeyCtrlA     Key = 0x01
	KeyCtrlC     Key = 0x03
	KeyCtrlE     Key = 0x05
	KeyCtrlG     Key = 0x07
	KeyCtrlH     Key = 0x08 // Backspace on some terminals
	KeyTab       Key = 0x09
	KeyLF        Key = 0x0a
	KeyCtrlL     Key = 0x0c
	KeyEnter     Key = 0x0d
	KeyCtrlU     Key = 0x15
	KeyCtrlW     Key = 0x17
	KeyCtrlZ     Key = 0x1a
	KeyEsc       Key = 0x1b
	KeyBackspace Key = 0x7f
)

// KeyReader turns the bytes a raw-mode terminal sends into keys. It is a
// small state machine: an escape sequence split across reads is kept until
// the rest arrives, and a lone Esc is told apart from the start of a
// sequence by a timeout (the caller calls Flush when no byte followed within
// it; EscTimeout is the usual value). The zero value is ready.
type KeyReader struct {
	pending []byte
}

// EscTimeout is how long a lone Esc waits for the rest of a sequence. Keys
// from a local terminal arrive in one read; this covers slow links.
const EscTimeout = 50e6 // nanoseconds (50 ms)

// maxSeq bounds an escape sequence; a longer one is junk and dropped.
const maxSeq = 32

// Feed parses b, appending complete keys to dst. An incomplete escape
// sequence at the end is kept for the next Feed or for Flush.
func (p *KeyReader) Feed(dst []Key, b []byte) []Key {
	if len(p.pending) > 0 {
		p.pending = append(p.pending, b...)
		b = p.pending
		p.pending = nil
	}
	for len(b) > 0 {
		k, n := parseKey(b, false)
		if n == 0 { // incomplete: wait for more
			p.pending = append(p.pending[:0], b...)
			break
		}
		dst = append(dst, k)
		b = b[n:]
	}
	return dst
}

// Pending reports whether an incomplete sequence waits for more bytes.
func (p *KeyReader) Pending() bool { return len(p.pending) > 0 }

// Flush parses what is pending as if nothing more will come: a lone Esc is
// the Esc key.
func (p *KeyReader) Flush(dst []Key) []Key {
	b := p.pending
	p.pending = nil
	for len(b) > 0 {
		k, n := parseKey(b, true)
		dst = append(dst, k)
		b = b[n:]
	}
	return dst
}

// parseKey parses the key at the start of b and returns it with the number
// of bytes it took; n is 0 when b holds only the start of a sequence and
// final is false.
func parseKey(b []byte, final bool) (Key, int) {
	c := b[0]
	switch {
	case c == 0x1b:
		return parseEsc(b, final)
	case c < utf8.RuneSelf:
		return Key(c), 1
	}
	// Non-ASCII: one key per UTF-8 character (or per invalid byte).
	if !final && !utf8.FullRune(b) {
		return 0, 0
	}
	_, n := utf8.DecodeRune(b)
	return KeyUnknown, n
}

// parseEsc parses what starts with ESC: CSI (ESC [) and SS3 (ESC O)
// sequences for the cursor and editing keys, or a lone Esc.
func parseEsc(b []byte, final bool) (Key, int) {
	if len(b) == 1 {
		if final {
			return KeyEsc, 1
		}
		return 0, 0
	}
	switch b[1] {
	case 'O': // SS3: ESC O A … (application cursor keys), ESC O H / F
		if len(b) < 3 {
			if final {
				return KeyEsc, 1
			}
			return 0, 0
		}
		return finalKey(b[2], nil), 3
	case '[': // CSI: ESC [ params intermediates final
		i := 2
		for i < len(b) && i < maxSeq && b[i] >= 0x20 && b[i] <= 0x3f {
			i++
		}
		switch {
		case i >= maxSeq:
			return KeyUnknown, i
		case i == len(b):
			if final {
				return KeyUnknown, i
			}
			return 0, 0
		case b[i] < 0x40 || b[i] > 0x7e:
			// Not a valid final byte: drop the sequence up to it.
			return KeyUnknown, i
		}
		return finalKey(b[i], b[2:i]), i + 1
	}
	// ESC followed by anything else: the Esc key; the next byte is a key of
	// its own.
	return KeyEsc, 1
}

// finalKey maps the final byte of a CSI or SS3 sequence (and, for '~', its
// first parameter) to a key.
func finalKey(f byte, params []byte) Key {
	switch f {
	case 'A':
		return KeyUp
	case 'B':
		return KeyDown
	case 'C':
		return KeyRight
	case 'D':
		return KeyLeft
	case 'H':
		return KeyHome
	case 'F':
		return KeyEnd
	case '~':
		n := 0
		for _, c := range params {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
			if n > 1000 {
				break
			}
		}
		switch n {
		case 1, 7:
			return KeyHome
		case 4, 8:
			return KeyEnd
		case 2:
			return KeyInsert
		case 3:
			return KeyDelete
		case 5:
			return KeyPgUp
		case 6:
			return KeyPgDn
		}
	}
	return KeyUnknown
}

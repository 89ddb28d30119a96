package term

import "unicode/utf8"

// AppendClean appends untrusted text (a PTR name, an interface name) so that
// it cannot act on a terminal: printable ASCII stays, every other rune
// (controls below 0x20, DEL, C1 controls, anything non-ASCII) and every byte
// of invalid UTF-8 becomes one '?'. At most limit bytes are appended (no
// limit when limit < 0).
func AppendClean(dst []byte, s string, limit int) []byte {
	n := 0
	for i := 0; i < len(s) && (limit < 0 || n < limit); n++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			dst = append(dst, c)
			i++
			continue
		}
		dst = append(dst, '?')
		if c < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:]) // size 1 for an invalid byte
		i += size
	}
	return dst
}

// Clean is AppendClean into a new string, with no limit.
func Clean(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return string(AppendClean(make([]byte, 0, len(s)), s, -1))
		}
	}
	return s
}

package display

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/fastop/fastop/display/term"
)

// RCEntry is one directive read from an rc file.
type RCEntry struct {
	Key   string
	Value string
	Line  int // where the directive starts
}

// MaxRCSize bounds an rc file; a real one is a few hundred bytes.
const MaxRCSize = 1 << 20

// maxRCWarnings bounds the warnings of one file.
const maxRCWarnings = 50

// ErrRCTooLarge is returned for an rc file over MaxRCSize.
var ErrRCTooLarge = errors.New("larger than 1 MiB")

// ParseRC reads an rc file in iftop's format (docs/iftop.md#config-file) and
// returns its known directives (those known says are) in file order, each
// key once, and warnings as whole lines ("FILE:LINE: warning: …", no
// newline). What each directive means is the caller's (cmd's table); the
// format is:
//
//   - one "name: value" per line; blanks before the name are allowed, the
//     name ends at the first blank or ':', the value is trimmed of blanks
//     and tabs (and a CR, for files written on Windows);
//   - '#' starts a comment anywhere, so values cannot hold '#';
//   - a line ending in '\' goes on on the next line (the '\' is removed);
//     a warning names the line the directive starts on;
//   - lines without ':' are ignored;
//   - an unknown name warns `unknown directive "NAME"`;
//   - a name seen before warns `repeated directive "NAME"` and the first
//     value wins, as in iftop.
//
// Only a read error or a file over MaxRCSize is an error.
func ParseRC(r io.Reader, file string, known func(name string) bool) ([]RCEntry, []string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxRCSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(data) > MaxRCSize {
		return nil, nil, fmt.Errorf("%s: %w", file, ErrRCTooLarge)
	}
	var (
		entries  []RCEntry
		warnings []string
		dropped  int
		seen     = map[string]bool{}
		logical  []byte
	)
	warn := func(line int, format string, args ...any) {
		if len(warnings) >= maxRCWarnings {
			dropped++
			return
		}
		warnings = append(warnings, RCWarning(file, line, fmt.Sprintf(format, args...)))
	}
	lineNo, start := 0, 0
	for len(data) > 0 {
		var phys []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			phys, data = data[:i], data[i+1:]
		} else {
			phys, data = data, nil
		}
		lineNo++
		phys = bytes.TrimSuffix(phys, []byte{'\r'})
		if len(logical) == 0 {
			start = lineNo
		}
		if n := len(phys); n > 0 && phys[n-1] == '\\' {
			logical = append(logical, phys[:n-1]...)
			if len(data) > 0 {
				continue
			}
		} else {
			logical = append(logical, phys...)
		}
		key, value, ok := splitRCLine(logical)
		logical = logical[:0]
		if !ok {
			continue
		}
		if !known(key) {
			warn(start, "unknown directive %q", term.Clean(key))
			continue
		}
		if seen[key] {
			warn(start, "repeated directive %q", key)
			continue
		}
		seen[key] = true
		entries = append(entries, RCEntry{Key: key, Value: value, Line: start})
	}
	if dropped > 0 {
		warnings = append(warnings, fmt.Sprintf("%s: warning: %d more warnings not shown", file, dropped))
	}
	return entries, warnings, nil
}

// splitRCLine splits one logical line into its name and value; ok is false
// for a line with no ':' (before any comment) or no name.
func splitRCLine(l []byte) (key, value string, ok bool) {
	if i := bytes.IndexByte(l, '#'); i >= 0 {
		l = l[:i]
	}
	colon := bytes.IndexByte(l, ':')
	if colon < 0 {
		return "", "", false
	}
	k := bytes.TrimLeft(l[:colon], " \t")
	if i := bytes.IndexAny(k, " \t"); i >= 0 {
		k = k[:i]
	}
	if len(k) == 0 {
		return "", "", false
	}
	return string(k), string(bytes.Trim(l[colon+1:], " \t\r")), true
}

// RCWarning formats a warning about line of file as ParseRC does.
func RCWarning(file string, line int, msg string) string {
	return term.Clean(file) + ":" + strconv.Itoa(line) + ": warning: " + term.Clean(msg)
}

// RCBoolValue is iftop's bool: true only for exactly "yes" or "true";
// everything else ("Yes", "on", "1") is false.
func RCBoolValue(s string) bool { return s == "yes" || s == "true" }

// RCIntValue is iftop's int, C's strtol in base 10: blanks, a sign, then
// the longest run of digits; what follows is ignored ("2x" is 2), no
// digits is 0, and values out of range stop at the int64 limits.
func RCIntValue(s string) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var n uint64
	const limit = 1 << 63
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		switch {
		case n >= limit: // saturated
		case n > (limit-d)/10:
			n = limit
		default:
			n = n*10 + d
		}
	}
	switch {
	case neg && n >= limit:
		return -1 << 63
	case neg:
		return -int64(n)
	case n >= limit:
		return 1<<63 - 1
	}
	return int64(n)
}

// RCEnumValue returns the index of s in values (exact match).
func RCEnumValue(s string, values []string) (int, bool) {
	for i, v := range values {
		if s == v {
			return i, true
		}
	}
	return 0, false
}

package display

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/fastop/fastop/display/term"
)

// RCKind is the type of an rc-file directive's value.
type RCKind uint8

// Values of RCKind.
const (
	RCString RCKind = iota // taken as written
	RCBool                 // true only for exactly "yes" or "true" (RCBool)
	RCInt                  // strtol: leading digits, junk after them ignored, none is 0 (RCInt)
	RCEnum                 // one of Enum, exactly
	RCRate                 // bits/s as -m takes it: digits and an optional K, M, G or B
	RCNumber               // fastop's numeric options, parsed strictly as on the command line
)

// RCKey describes a directive of ~/.iftoprc.
type RCKey struct {
	Name   string
	Kind   RCKind
	Enum   []string // the values of an RCEnum
	Option string   // the command-line option it stands for, for the documentation
	Doc    string
}

// RCKeys lists every directive fastop reads, iftop's first
// (docs/iftop.md#config-file: same names, same value types), then
// screen-filter (which iftop documents but rejects), then fastop's own under
// their long option names.
var RCKeys = []RCKey{
	{Name: "interface", Kind: RCString, Option: "-i", Doc: "interface(s) to capture on"},
	{Name: "dns-resolution", Kind: RCBool, Option: "-n (no)", Doc: "look up host names"},
	{Name: "port-resolution", Kind: RCBool, Option: "-N (no)", Doc: "show service names instead of port numbers"},
	{Name: "filter-code", Kind: RCString, Option: "-f", Doc: "pcap-filter expression"},
	{Name: "show-bars", Kind: RCBool, Option: "-b (no)", Doc: "draw the bar graphs"},
	{Name: "promiscuous", Kind: RCBool, Option: "-p", Doc: "promiscuous mode"},
	{Name: "hide-source", Kind: RCBool, Option: "s key", Doc: "aggregate source hosts (shown as *)"},
	{Name: "hide-destination", Kind: RCBool, Option: "d key", Doc: "aggregate destination hosts"},
	{Name: "use-bytes", Kind: RCBool, Option: "-B", Doc: "rates in bytes"},
	{Name: "sort", Kind: RCEnum, Enum: []string{"2s", "10s", "40s", "source", "destination"}, Option: "-o", Doc: "sort order"},
	{Name: "line-display", Kind: RCEnum, Enum: []string{"two-line", "one-line-both", "one-line-sent", "one-line-received"}, Option: "t key", Doc: "rows per host pair on the screen"},
	{Name: "show-totals", Kind: RCBool, Option: "T key", Doc: "cumulative column on the screen"},
	{Name: "log-scale", Kind: RCBool, Option: "L key", Doc: "logarithmic bar scale"},
	{Name: "max-bandwidth", Kind: RCRate, Option: "-m", Doc: "fixed bar scale, bits/s"},
	{Name: "net-filter", Kind: RCString, Option: "-F", Doc: "IPv4 net/mask that is local"},
	{Name: "net-filter6", Kind: RCString, Option: "-G", Doc: "IPv6 net/mask that is local"},
	{Name: "link-local", Kind: RCBool, Option: "-l", Doc: "count IPv6 link-local traffic"},
	{Name: "port-display", Kind: RCEnum, Enum: []string{"off", "source-only", "destination-only", "on"}, Option: "-P (on), S D p keys", Doc: "which ports rows keep"},
	{Name: "timed-output", Kind: RCInt, Option: "-s", Doc: "text mode: one report after this many seconds"},
	{Name: "no-curses", Kind: RCBool, Option: "-t", Doc: "text mode"},
	{Name: "num-lines", Kind: RCInt, Option: "-L", Doc: "text mode: host pairs per report"},
	{Name: "screen-filter", Kind: RCString, Option: "l key", Doc: "screen filter regexp (iftop documents it but rejects it)"},

	{Name: "json", Kind: RCBool, Option: "--json", Doc: "JSON reports"},
	{Name: "fanout", Kind: RCNumber, Option: "--fanout", Doc: "capture sockets in the fanout group"},
	{Name: "fanout-mode", Kind: RCString, Option: "--fanout-mode", Doc: "hash, cpu, lb or qm"},
	{Name: "buffer", Kind: RCString, Option: "--buffer", Doc: "ring memory per fanout member, e.g. 64M"},
	{Name: "snaplen", Kind: RCNumber, Option: "--snaplen", Doc: "bytes of each packet kept in the ring"},
	{Name: "wait", Kind: RCBool, Option: "--wait", Doc: "wait for the interface to come up"},
	{Name: "max-flows", Kind: RCNumber, Option: "--max-flows", Doc: "flows kept before the (other) row"},
	{Name: "speed", Kind: RCNumber, Option: "--speed", Doc: "replay speed of -r on the screen"},
	{Name: "workers", Kind: RCNumber, Option: "--workers", Doc: "workers for a capture file"},
	{Name: "verbose", Kind: RCBool, Option: "-v", Doc: "capture details on stderr"},
}

// LookupRCKey returns the directive called name.
func LookupRCKey(name string) (RCKey, bool) {
	for _, k := range RCKeys {
		if k.Name == name {
			return k, true
		}
	}
	return RCKey{}, false
}

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
// returns its known directives in file order, each key once, and warnings as
// whole lines ("FILE:LINE: warning: …", no newline):
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
func ParseRC(r io.Reader, file string) ([]RCEntry, []string, error) {
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
		if _, known := LookupRCKey(key); !known {
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

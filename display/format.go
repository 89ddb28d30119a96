package display

import (
	"math"
	"strconv"
)

// Unit says whether a number is shown in bits (b, Kb, Mb, Gb) or in bytes
// (B, KB, MB, GB).
type Unit uint8

// Values of Unit.
const (
	Bits Unit = iota
	Bytes
)

// Bases for [AppendReadable]. iftop steps every rate and total by 1024; only
// the log-scale header labels step by 1000.
const (
	Base1024 = 1024.0
	Base1000 = 1000.0
)

// unitNames[u][i] is the suffix of the i-th step; there is no T
// (docs/iftop.md#number-format), so the last step takes every larger value.
var unitNames = [2][4]string{
	{"b", "Kb", "Mb", "Gb"},
	{"B", "KB", "MB", "GB"},
}

// AppendReadable appends v, already in the display unit (bits or bytes),
// formatted as iftop's readable_size does: a leading space, then " %4.0f"
// with a bare b/B below 1000; above, one step up at a time (K, M, G by base),
// with two decimals below 10 units, one below 100, none below 1000 units or
// at G. So 1000–1023 bits read 0.98Kb–1.00Kb and 999.5 reads " 1000b".
// NaN and negative values read as 0.
func AppendReadable(dst []byte, v float64, u Unit, base float64) []byte {
	if !(v > 0) { // NaN, zero and negatives
		v = 0
	}
	names := &unitNames[u&1]
	step := 1.0
	for i := 0; ; i++ {
		if i > 0 {
			if v < 10*step {
				return appendFixed(dst, v/step, 2, names[i])
			}
			if v < 100*step {
				return appendFixed(dst, v/step, 1, names[i])
			}
		}
		if v < 1000*step || i == len(names)-1 {
			return appendFixed(dst, v/step, 0, names[i])
		}
		step *= base
	}
}

// appendFixed appends " %4.<prec>f" + unit. strconv rounds exact halves to
// even, as glibc's printf does.
func appendFixed(dst []byte, x float64, prec int, unit string) []byte {
	var num [32]byte
	b := strconv.AppendFloat(num[:0], x, 'f', prec, 64)
	dst = append(dst, ' ')
	for n := len(b); n < 4; n++ {
		dst = append(dst, ' ')
	}
	dst = append(dst, b...)
	return append(dst, unit...)
}

// AppendRate appends a rate given in bytes per second: in bits (×8) unless
// u is Bytes (iftop's -B), 1024-based.
func AppendRate(dst []byte, bytesPerSec float64, u Unit) []byte {
	if u == Bits {
		bytesPerSec *= 8
	}
	return AppendReadable(dst, bytesPerSec, u, Base1024)
}

// AppendTotal appends a cumulative count of bytes. Totals are always in
// bytes, whatever -B says (iftop's cum and "cumulative" columns).
func AppendTotal(dst []byte, bytes uint64) []byte {
	return AppendReadable(dst, float64(bytes), Bytes, Base1024)
}

// formatRate is AppendRate into a new string.
func formatRate(bytesPerSec float64, u Unit) string {
	var b [24]byte
	return string(AppendRate(b[:0], bytesPerSec, u))
}

// formatTotal is AppendTotal into a new string.
func formatTotal(bytes uint64) string {
	var b [24]byte
	return string(AppendTotal(b[:0], bytes))
}

// BitsPerSecond converts a rate in bytes per second to whole bits per
// second, rounded to nearest (halves away from zero) and clamped to the
// uint64 range; NaN and negatives give 0. The JSON report uses it.
func BitsPerSecond(bytesPerSec float64) uint64 {
	b := math.Round(bytesPerSec * 8)
	switch {
	case !(b > 0):
		return 0
	case b >= 1<<64:
		return math.MaxUint64
	}
	return uint64(b)
}

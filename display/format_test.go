package display

import (
	"math"
	"testing"
)

func TestAppendReadable(t *testing.T) {
	tests := []struct {
		name string
		v    float64
		u    Unit
		base float64
		want string
	}{
		// docs/iftop.md#number-format: below 1000 a bare unit, %4.0f.
		{"zero", 0, Bits, Base1024, "    0b"},
		{"six", 6, Bits, Base1024, "    6b"},
		{"446", 446, Bits, Base1024, "  446b"},
		{"999", 999, Bits, Base1024, "  999b"},
		{"999.49 rounds down", 999.49, Bits, Base1024, "  999b"},
		{"999.5 rounds to 1000b", 999.5, Bits, Base1024, " 1000b"},
		{"999.99 rounds to 1000b", 999.99, Bits, Base1024, " 1000b"},
		{"998.5 half to even", 998.5, Bits, Base1024, "  998b"},
		// 1000–1023 already step up to K and read below 1.
		{"1000 is 0.98Kb", 1000, Bits, Base1024, " 0.98Kb"},
		{"ping 1008 bit/s", 1008, Bits, Base1024, " 0.98Kb"},
		{"1023 is 1.00Kb", 1023, Bits, Base1024, " 1.00Kb"},
		{"1024", 1024, Bits, Base1024, " 1.00Kb"},
		{"5.48Kb", 5.48 * 1024, Bits, Base1024, " 5.48Kb"},
		{"just under 10K keeps two decimals", 10239, Bits, Base1024, " 10.00Kb"},
		{"10.0Kb", 10 * 1024, Bits, Base1024, " 10.0Kb"},
		{"99.9Kb", 99.9 * 1024, Bits, Base1024, " 99.9Kb"},
		{"100Kb", 100 * 1024, Bits, Base1024, "  100Kb"},
		{"995Kb", 995 * 1024, Bits, Base1024, "  995Kb"},
		{"1000K steps to M", 1000 * 1024, Bits, Base1024, " 0.98Mb"},
		{"4.51Mb", 4.51 * 1024 * 1024, Bits, Base1024, " 4.51Mb"},
		{"19.2Gb", 19.2 * (1 << 30), Bits, Base1024, " 19.2Gb"},
		{"no T: 1.2e12 is 1118Gb", 1.2e12, Bits, Base1024, " 1118Gb"},
		{"no T: 1e15", 1e15, Bits, Base1024, " 931323Gb"},
		// Bytes mode (-B) and totals.
		{"702B", 702, Bytes, Base1024, "  702B"},
		{"0B", 0, Bytes, Base1024, "    0B"},
		{"701KB", 701 * 1024, Bytes, Base1024, "  701KB"},
		{"9.96KB", 9.96 * 1024, Bytes, Base1024, " 9.96KB"},
		{"23.8MB", 23.8 * 1024 * 1024, Bytes, Base1024, " 23.8MB"},
		{"30.5GB", 30.5 * (1 << 30), Bytes, Base1024, " 30.5GB"},
		// Linear scale labels: 1000-based values, 1024-based format
		// (docs/iftop.md#scale-header).
		{"1e9/5", 2e8, Bits, Base1024, "  191Mb"},
		{"1e9", 1e9, Bits, Base1024, "  954Mb"},
		{"64k/5", 12800, Bits, Base1024, " 12.5Kb"},
		{"1e11/5", 2e10, Bits, Base1024, " 18.6Gb"},
		{"1e11", 1e11, Bits, Base1024, " 93.1Gb"},
		{"10M/5", 2 * 1024 * 1024, Bits, Base1024, " 2.00Mb"},
		{"bytes 1e9 bits/5", 1e9 / 8 / 5, Bytes, Base1024, " 23.8MB"},
		{"bytes 1e9 bits", 1e9 / 8, Bytes, Base1024, "  119MB"},
		// Log scale labels are 1000-based.
		{"log 10", 10, Bits, Base1000, "   10b"},
		{"log 100", 100, Bits, Base1000, "  100b"},
		{"log 1e3", 1e3, Bits, Base1000, " 1.00Kb"},
		{"log 1e4", 1e4, Bits, Base1000, " 10.0Kb"},
		{"log 1e5", 1e5, Bits, Base1000, "  100Kb"},
		{"log 1e7", 1e7, Bits, Base1000, " 10.0Mb"},
		{"log 1e9", 1e9, Bits, Base1000, " 1.00Gb"},
		// Garbage in reads as zero.
		{"NaN", math.NaN(), Bits, Base1024, "    0b"},
		{"negative", -5, Bits, Base1024, "    0b"},
		{"-Inf", math.Inf(-1), Bytes, Base1024, "    0B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendReadable(nil, tt.v, tt.u, tt.base))
			if got != tt.want {
				t.Errorf("AppendReadable(%v, %v, %v) = %q, want %q", tt.v, tt.u, tt.base, got, tt.want)
			}
		})
	}
}

func TestAppendRateAndTotal(t *testing.T) {
	tests := []struct {
		name        string
		bytesPerSec float64
		u           Unit
		want        string
	}{
		{"bits are bytes times 8", 126, Bits, " 0.98Kb"},
		{"bytes mode keeps bytes", 126, Bytes, "  126B"},
		{"5 Mbit/s stream", 5 * 1024 * 1024 / 8, Bits, " 5.00Mb"},
		{"bytes mode KB", 701 * 1024, Bytes, "  701KB"},
	}
	for _, tt := range tests {
		if got := formatRate(tt.bytesPerSec, tt.u); got != tt.want {
			t.Errorf("%s: formatRate(%v, %v) = %q, want %q", tt.name, tt.bytesPerSec, tt.u, got, tt.want)
		}
	}
	totals := []struct {
		n    uint64
		want string
	}{
		{0, "    0B"},
		{3 * 1024 * 1024, " 3.00MB"},
		{100018, " 97.7KB"},
		{1 << 40, " 1024GB"},
		{math.MaxUint64, " 17179869184GB"},
	}
	for _, tt := range totals {
		if got := formatTotal(tt.n); got != tt.want {
			t.Errorf("formatTotal(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestBitsPerSecond(t *testing.T) {
	tests := []struct {
		in   float64
		want uint64
	}{
		{0, 0},
		{1, 8},
		{1.0625, 9}, // 8.5 rounds away from zero
		{1.05, 8},   // 8.4
		{1e9, 8e9},
		{math.NaN(), 0},
		{-3, 0},
		{math.Inf(1), math.MaxUint64},
		{1e30, math.MaxUint64},
	}
	for _, tt := range tests {
		if got := BitsPerSecond(tt.in); got != tt.want {
			t.Errorf("BitsPerSecond(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestAppendRateNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendRate(buf[:0], 563708.5, Bits)
		buf = AppendTotal(buf, 1<<33)
	})
	if allocs != 0 {
		t.Errorf("AppendRate+AppendTotal allocate %v times per call, want 0", allocs)
	}
}

func BenchmarkAppendRate(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 64)
	v := 1.0
	for b.Loop() {
		buf = AppendRate(buf[:0], v, Bits)
		v *= 1.37
		if v > 1e13 {
			v = 1
		}
	}
}

package afpacket

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMemAvailable(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   22665528 kB\n", 22665528 << 10, true},
		{"MemAvailable: 0 kB\n", 0, true},
		{"MemTotal: 5 kB\n", 0, false},
		{"MemAvailable: lots kB\n", 0, false},
		{"MemAvailable: 99999999999999999999 kB\n", 0, false},
		{"", 0, false},
	} {
		got, err := parseMemAvailable(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseMemAvailable(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestRingMemoryLimit: rings may take half of the memory available to
// root, a quarter to anyone else, counting the rings this process already
// has open (issue 12 item 7).
func TestRingMemoryLimit(t *testing.T) {
	const avail = 8 << 30
	for _, tc := range []struct {
		name      string
		need      int64
		open      int64
		root      bool
		ok        bool
		wantLimit string
	}{
		{"root, under half", 3 << 30, 0, true, true, ""},
		{"root, over half", 5 << 30, 0, true, false, "4 GiB (half of MemAvailable"},
		{"user, over a quarter", 3 << 30, 0, false, false, "2 GiB (a quarter of MemAvailable"},
		{"user, under a quarter", 1 << 30, 0, false, true, ""},
		// 3 GiB already open: they are no longer in MemAvailable, so the
		// limit is half of 8 + 3 GiB; 3 + 3 > 5.5.
		{"root, with rings open", 3 << 30, 3 << 30, true, false, "5.5 GiB"},
		{"root, with rings open, fits", 2 << 30, 3 << 30, true, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkRingMemory("eth0", tc.need, tc.open, avail, tc.root)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, ErrRingMemory) || !strings.Contains(err.Error(), tc.wantLimit) ||
				!strings.Contains(err.Error(), "--buffer") || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line with ErrRingMemory, the limit %q and the fix", err, tc.wantLimit)
			}
		})
	}
}

// TestLiveRingMemoryLimit: Open refuses rings beyond the limit before
// asking the kernel (which would take tens of seconds for 100 GiB), and the
// limit counts every group open in the process.
func TestLiveRingMemoryLimit(t *testing.T) {
	l := newLiveNet(t)
	_, err := openIn(l.cns, Config{Interface: l.veth.B, Members: 256, Buffer: MaxBuffer})
	if !errors.Is(err, ErrRingMemory) || !strings.Contains(err.Error(), "MemAvailable") {
		t.Fatalf("256 TiB of rings: %v", err)
	}

	// With 64 MiB said to be available root may have 32 MiB of rings.
	defer func(f func() (int64, error)) { memAvailable = f }(memAvailable)
	memAvailable = func() (int64, error) { return 64 << 20, nil }
	g1, err := openIn(l.cns, Config{Interface: l.veth.B, Members: 2, Buffer: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	memAvailable = func() (int64, error) { return 48 << 20, nil } // g1's 16 MiB are taken
	cfg := Config{Interface: l.veth.B, Members: 2, Buffer: 16 << 20}
	if _, err := openIn(l.cns, cfg); !errors.Is(err, ErrRingMemory) {
		t.Errorf("a second group beyond the limit: %v", err)
	}
	if err := g1.Close(); err != nil {
		t.Fatal(err)
	}
	memAvailable = func() (int64, error) { return 64 << 20, nil }
	g2, err := openIn(l.cns, cfg)
	if err != nil {
		t.Fatalf("after the first group closed: %v", err)
	}
	g2.Close()
}

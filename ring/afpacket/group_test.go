package afpacket

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{Interface: "eth0"}.withDefaults()
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{Interface: "eth0", Members: 1, Mode: FanoutHash, BlockSize: 1 << 20, Blocks: 32,
		BlockTimeout: 20 * time.Millisecond, Snaplen: 128, IdleInterval: 100 * time.Millisecond}
	if c.Members != want.Members || c.Mode != want.Mode || c.BlockSize != want.BlockSize || c.Blocks != want.Blocks ||
		c.BlockTimeout != want.BlockTimeout || c.Snaplen != want.Snaplen || c.IdleInterval != want.IdleInterval {
		t.Errorf("defaults = %+v, want %+v", c, want)
	}
	if got := int64(c.Blocks) * int64(c.BlockSize); got != 32<<20 {
		t.Errorf("default ring per member = %d bytes, want 32 MiB", got)
	}
}

func TestConfigBuffer(t *testing.T) {
	page := os.Getpagesize()
	tests := []struct {
		buffer            int64
		wantBlock, wantNr int
	}{
		{32 << 20, 1 << 20, 32},
		{64 << 20, 1 << 20, 64},
		{16 << 20, 1 << 20, 16},
		{8 << 20, 512 << 10, 16},
		{4 << 20, 256 << 10, 16},
		{2 << 20, 128 << 10, 16},
		{1 << 20, 64 << 10, 16},
		{int64(8 * page), page, 8},
	}
	for _, tc := range tests {
		c := Config{Interface: "eth0", Buffer: tc.buffer}.withDefaults()
		if err := c.validate(); err != nil {
			t.Errorf("buffer %d: %v", tc.buffer, err)
			continue
		}
		if c.BlockSize != tc.wantBlock || c.Blocks != tc.wantNr {
			t.Errorf("buffer %d: %d blocks of %d, want %d of %d", tc.buffer, c.Blocks, c.BlockSize, tc.wantNr, tc.wantBlock)
		}
	}
}

func TestConfigInvalid(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no interface", Config{}, "no interface"},
		{"any", Config{Interface: "any"}, `"any"`},
		{"too many members", Config{Interface: "e", Members: 257}, "fanout members"},
		{"negative members", Config{Interface: "e", Members: -1}, "fanout members"},
		{"bad mode", Config{Interface: "e", Mode: 9}, "fanout mode"},
		{"block not a power of two", Config{Interface: "e", BlockSize: 100000}, "power of two"},
		{"block below a page", Config{Interface: "e", BlockSize: 1024}, "power of two"},
		{"one block", Config{Interface: "e", Blocks: 1}, "fewer than 2 blocks"},
		{"tiny buffer", Config{Interface: "e", Buffer: 4096}, "out of range"},
		{"buffer and blocks", Config{Interface: "e", Buffer: 1 << 20, Blocks: 5}, "not both"},
		{"timeout too short", Config{Interface: "e", BlockTimeout: time.Microsecond}, "block timeout"},
		{"snaplen too big", Config{Interface: "e", Snaplen: MaxSnaplen + 1}, "snaplen"},
		{"negative snaplen", Config{Interface: "e", Snaplen: -5}, "snaplen"},
		{"bad CPU", Config{Interface: "e", CPUs: []int{-1}}, "CPU"},
		{"idle too short", Config{Interface: "e", IdleInterval: time.Microsecond}, "idle interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg.withDefaults()
			err := c.validate()
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalidConfig mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if _, err := Open(&tc.cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Open: err = %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4096", 4096, true},
		{"32M", 32 << 20, true},
		{"32m", 32 << 20, true},
		{"512KiB", 512 << 10, true},
		{"1g", 1 << 30, true},
		{" 2 MB ", 2 << 20, true},
		{"10b", 10, true},
		{"", 0, false},
		{"-1M", 0, false},
		{"1.5M", 0, false},
		{"12T", 0, false},
		{"99999999999999999G", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ParseSize(%q) error %v does not wrap ErrInvalidConfig", tc.in, err)
		}
	}
}

func TestFanoutModeNames(t *testing.T) {
	for _, m := range []FanoutMode{FanoutHash, FanoutCPU, FanoutLB, FanoutQM} {
		got, err := ParseFanoutMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseFanoutMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if got, _ := ParseFanoutMode("HASH"); got != FanoutHash {
		t.Errorf("ParseFanoutMode is case-sensitive")
	}
	if _, err := ParseFanoutMode("rollover"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("ParseFanoutMode(rollover): %v", err)
	}
	if FanoutMode(0).String() != "hash" || StateGone.String() != "gone" || State(0).String() != "unknown" {
		t.Errorf("names: %v %v %v", FanoutMode(0), StateGone, State(0))
	}
}

func TestPickDefault(t *testing.T) {
	tests := []struct {
		name string
		ifs  []brief
		want string
	}{
		{"first up non-loopback", []brief{{"lo", 1, true}, {"eth0", 2, true}, {"eth1", 3, true}}, "eth0"},
		{"ifindex order, not list order", []brief{{"eth1", 3, true}, {"eth0", 2, true}, {"lo", 1, true}}, "eth0"},
		{"down skipped", []brief{{"lo", 1, true}, {"eth0", 2, false}, {"wlan0", 3, true}}, "wlan0"},
		{"iftop's exclusions", []brief{{"lo0", 1, true}, {"dummy0", 2, true}, {"vmnet1", 3, true}, {"gif0", 4, true}, {"stf0", 5, true}, {"wmaster0", 6, true}, {"bond0", 7, true}}, "bond0"},
		{"none", []brief{{"lo", 1, true}, {"eth0", 2, false}}, ""},
	}
	for _, tc := range tests {
		got, ok := pickDefault(tc.ifs)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

func TestLookupInterfaceLoopback(t *testing.T) {
	names, err := InterfaceNames()
	if err != nil {
		t.Fatal(err)
	}
	var lo string
	for _, n := range names {
		if ifi, err := LookupInterface(n); err == nil && ifi.Loopback {
			lo = n
			if ifi.Index <= 0 || !ifi.Up {
				t.Errorf("loopback %+v: want an index and up", ifi)
			}
		}
	}
	if lo == "" {
		t.Skip("skipping: this machine has no loopback interface")
	}
	_, err = LookupInterface("fastop-no-such0")
	if !errors.Is(err, ErrNoSuchInterface) || !strings.Contains(err.Error(), lo) || !strings.Contains(err.Error(), "have:") {
		t.Errorf("missing interface: err = %v, want ErrNoSuchInterface listing %s", err, lo)
	}
}

// TestBufferRange: a --buffer outside what a ring can be is a range error
// in the units typed (issue 12 item 14), not a remark about block counts.
func TestBufferRange(t *testing.T) {
	page := int64(os.Getpagesize())
	lo := 2 * page
	tests := []struct {
		in, want string
	}{
		{"1", fmt.Sprintf("1 is out of range: use %d to %d (ring memory per fanout member)", lo, int64(MaxBuffer))},
		{"4K", fmt.Sprintf("4K is out of range: use %dK to %dK (ring memory per fanout member)", lo>>10, int64(MaxBuffer)>>10)},
		{"2000g", fmt.Sprintf("2000g is out of range: use %dK to 1024g (ring memory per fanout member)", lo>>10)},
		{"1025GiB", fmt.Sprintf("1025GiB is out of range: use %dK to 1024GiB (ring memory per fanout member)", lo>>10)},
	}
	for _, tc := range tests {
		_, err := ParseBuffer(tc.in)
		if !errors.Is(err, ErrInvalidConfig) || !errors.Is(err, ErrOutOfRange) || err.Error() != tc.want {
			t.Errorf("ParseBuffer(%q) = %v\n want %s", tc.in, err, tc.want)
		}
	}
	for _, ok := range []string{"32M", fmt.Sprint(lo), "1024G"} {
		if _, err := ParseBuffer(ok); err != nil {
			t.Errorf("ParseBuffer(%q): %v", ok, err)
		}
	}
	// Config.Buffer below the range: the same range, in bytes.
	c := Config{Interface: "e", Buffer: 1}.withDefaults()
	err := c.validate()
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), fmt.Sprintf("use --buffer %d to %d", lo, int64(MaxBuffer))) {
		t.Errorf("Buffer 1: %v", err)
	}
}

package display

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseRC(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		entries  []RCEntry
		warnings []string
	}{
		{"empty", "", nil, nil},
		{"one", "dns-resolution: no\n", []RCEntry{{"dns-resolution", "no", 1}}, nil},
		{"no newline at the end", "sort: 2s", []RCEntry{{"sort", "2s", 1}}, nil},
		{"blanks", "  \tinterface  :\t eth0 \t\n", []RCEntry{{"interface", "eth0", 1}}, nil},
		{"crlf", "interface: eth0\r\nsort: 40s\r\n", []RCEntry{{"interface", "eth0", 1}, {"sort", "40s", 2}}, nil},
		{"comment lines", "# a comment\n  # another\nlog-scale: yes\n", []RCEntry{{"log-scale", "yes", 3}}, nil},
		{"comment after the value", "filter-code: port 80 # http only\n", []RCEntry{{"filter-code", "port 80", 1}}, nil},
		{"comment hides the colon", "# interface: eth0\ninterface # : eth1\n", nil, nil},
		{"no colon", "just some words\n\n\n", nil, nil},
		{"empty key", ": value\n", nil, nil},
		{"key ends at a blank", "interface eth0: x\n", []RCEntry{{"interface", "x", 1}}, nil},
		{"empty value", "filter-code:\n", []RCEntry{{"filter-code", "", 1}}, nil},
		{"colon in the value", "net-filter6: fd00::/8\n", []RCEntry{{"net-filter6", "fd00::/8", 1}}, nil},
		{"continuation", "filter-code: tcp and \\\n  port 80\nsort: 2s\n",
			[]RCEntry{{"filter-code", "tcp and   port 80", 1}, {"sort", "2s", 3}}, nil},
		{"continuation at the end of the file", "filter-code: tcp\\", []RCEntry{{"filter-code", "tcp", 1}}, nil},
		{"unknown", "dns-resolution: no\nbogus-key: 1\n", []RCEntry{{"dns-resolution", "no", 1}},
			[]string{`rc:2: warning: unknown directive "bogus-key"`}},
		{"repeated: the first wins", "sort: 2s\nsort: 40s\n", []RCEntry{{"sort", "2s", 1}},
			[]string{`rc:2: warning: repeated directive "sort"`}},
		{"screen-filter is known", "screen-filter: 10\\.0\n", []RCEntry{{"screen-filter", `10\.0`, 1}}, nil},
		{"fastop's own", "json: yes\nfanout: 4\nbuffer: 64M\nspeed: 2.5\n",
			[]RCEntry{{"json", "yes", 1}, {"fanout", "4", 2}, {"buffer", "64M", 3}, {"speed", "2.5", 4}}, nil},
		{"warning names the first line of a continued one", "a\\\nb: c\nbogus\\\n: x\n", nil,
			[]string{`rc:1: warning: unknown directive "ab"`, `rc:3: warning: unknown directive "bogus"`}},
		{"hostile key is cleaned", "\x1b[2Jevil: x\n", nil, []string{`rc:1: warning: unknown directive "?[2Jevil"`}},
		// iftop's own example (docs/iftop.md#config-file): line 3 repeats a
		// key given on the command line (fastop does not warn for those),
		// line 6 and line 9.
		{"iftop's example", "interface: fva\ndns-resolution: no\nbogus\nshow-bars: yes\n\nscreen-filter: x\n\n\nbogus-key: 1\n",
			[]RCEntry{{"interface", "fva", 1}, {"dns-resolution", "no", 2}, {"show-bars", "yes", 4}, {"screen-filter", "x", 6}},
			[]string{`rc:9: warning: unknown directive "bogus-key"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, warnings, err := ParseRC(strings.NewReader(tt.in), "rc", testKnown)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(entries, tt.entries) {
				t.Errorf("entries = %+v, want %+v", entries, tt.entries)
			}
			if !slices.Equal(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
		})
	}
}

func TestParseRCLimits(t *testing.T) {
	// Too many warnings: the first 50 and a count.
	_, warnings, err := ParseRC(strings.NewReader(strings.Repeat("x: 1\n", 70)), "rc", testKnown)
	if err != nil || len(warnings) != 51 || warnings[50] != "rc: warning: 20 more warnings not shown" {
		t.Errorf("%d warnings, last %q, err %v", len(warnings), warnings[len(warnings)-1], err)
	}
	// Too large.
	_, _, err = ParseRC(strings.NewReader(strings.Repeat("#", MaxRCSize+1)), "big", testKnown)
	if !errors.Is(err, ErrRCTooLarge) || !strings.HasPrefix(err.Error(), "big: ") {
		t.Errorf("a file over 1 MiB: %v", err)
	}
	// A read error.
	_, _, err = ParseRC(iotest.ErrReader(errors.New("input/output error")), "rc", testKnown)
	if err == nil || err.Error() != "rc: input/output error" {
		t.Errorf("read error: %v", err)
	}
}

func TestRCValues(t *testing.T) {
	for s, want := range map[string]bool{"yes": true, "true": true, "Yes": false, "TRUE": false, "on": false, "1": false, "": false, "no": false} {
		if RCBoolValue(s) != want {
			t.Errorf("RCBoolValue(%q) = %v", s, !want)
		}
	}
	ints := []struct {
		in   string
		want int64
	}{
		{"10", 10}, {"2x", 2}, {"abc", 0}, {"", 0}, {"  42", 42}, {"\t-7", -7}, {"+3", 3},
		{"- 3", 0}, {"0x10", 0}, {"007", 7}, {"1.5", 1},
		{"9223372036854775807", math.MaxInt64}, {"9223372036854775808", math.MaxInt64},
		{"99999999999999999999999", math.MaxInt64}, {"-9223372036854775808", math.MinInt64},
		{"-99999999999999999999", math.MinInt64},
	}
	for _, tt := range ints {
		if got := RCIntValue(tt.in); got != tt.want {
			t.Errorf("RCIntValue(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	sorts := []string{"2s", "10s", "40s", "source", "destination"}
	for s, want := range map[string]int{"2s": 0, "10s": 1, "40s": 2, "source": 3, "destination": 4} {
		if got, ok := RCEnumValue(s, sorts); !ok || got != want {
			t.Errorf("RCEnumValue(%q) = %d %v", s, got, ok)
		}
	}
	for _, s := range []string{"10S", " 2s", "dest", ""} {
		if _, ok := RCEnumValue(s, sorts); ok {
			t.Errorf("RCEnumValue(%q) accepted", s)
		}
	}
}

// testKnown knows the directives these tests use (cmd's table knows the
// real set).
func testKnown(name string) bool {
	switch name {
	case "dns-resolution", "sort", "interface", "log-scale", "filter-code", "net-filter6",
		"screen-filter", "json", "fanout", "buffer", "speed", "show-bars":
		return true
	}
	return false
}

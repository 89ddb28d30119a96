package term

import "testing"

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain.example", "plain.example"},
		{"", ""},
		{"\x00\x01\x1f \x7f", "??? ?"},
		{"\x1b[6n", "?[6n"},
		{"\u009b6n", "?6n"},
		{"\xc2", "?"},           // truncated UTF-8
		{"\xed\xa0\x80", "???"}, // surrogate half: invalid, byte by byte
		{"\u202eevil", "?evil"}, // bidi override
		{"日本", "??"},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := string(AppendClean(nil, "abcdef", 3)); got != "abc" {
		t.Errorf("AppendClean limit 3 = %q, want %q", got, "abc")
	}
}

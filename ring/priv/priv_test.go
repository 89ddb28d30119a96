package priv

import "testing"

func TestParseStatus(t *testing.T) {
	const text = "Name:\tfastop\nNoNewPrivs:\t1\nCapInh:\t0000000000000000\nCapPrm:\t0000000000002000\n" +
		"CapEff:\t0000000000002000\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nSeccomp:\t0\n"
	s, err := ParseStatus(text)
	if err != nil {
		t.Fatal(err)
	}
	want := Status{Eff: Of(NetRaw), Prm: Of(NetRaw), Bnd: 0x1ffffffffff, NoNewPrivs: true}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
	if got := s.String(); got != "effective CAP_NET_RAW, permitted CAP_NET_RAW, inheritable none, ambient none, bounding CAP_NET_RAW and CAP_NET_ADMIN and 39 more, no_new_privs true" {
		t.Errorf("String: %s", got)
	}
	for _, bad := range []string{"", "Name:\tx\n", "CapInh:\tzz\nCapPrm:\t0\nCapEff:\t0\nCapBnd:\t0\nCapAmb:\t0\n"} {
		if _, err := ParseStatus(bad); err == nil {
			t.Errorf("ParseStatus(%q): no error", bad)
		}
	}
}

func TestSetString(t *testing.T) {
	tests := []struct {
		s    Set
		want string
	}{
		{0, "none"},
		{Of(NetRaw), "CAP_NET_RAW"},
		{Of(NetRaw, NetAdmin), "CAP_NET_RAW and CAP_NET_ADMIN"},
		{Of(NetAdmin, 0, 21), "CAP_NET_ADMIN and 2 more"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%#x: %q, want %q", uint64(tt.s), got, tt.want)
		}
	}
}

package display

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/table"
)

// mapNamer is a Namer backed by a map, for tests.
type mapNamer map[netip.Addr]string

func (m mapNamer) Name(a netip.Addr) (string, bool) {
	n, ok := m[a]
	return n, ok
}

const (
	tcp  = 6
	udp  = 17
	icmp = 1
)

var testServices = mustServices(`
http        80/tcp  www   # WorldWideWeb HTTP
https       443/tcp
https       443/udp       # HTTP/3
domain      53/udp
postgresql  5432/tcp
very-long-service-name-for-tests 7777/tcp
`)

func TestAppendHost(t *testing.T) {
	ip := netip.MustParseAddr
	names := mapNamer{
		ip("10.99.0.1"):     "hosta.lan",
		ip("10.99.0.2"):     "server-b.example.test",
		ip("10.99.0.200"):   "a-very-long-hostname-for-testing.example.test",
		ip("10.99.0.3"):     "c3",
		ip("fd00:99::1"):    "hosta6.lan",
		ip("fd00:99::2"):    "v6host.example.test",
		ip("10.99.0.66"):    strings.Repeat("x", 40),
		ip("10.99.0.99"):    "",
		ip("10.0.0.1"):      "evil\x1b[2J\x1b]0;pwned\x07.example",
		ip("10.0.0.2"):      "line\nbreak\r.example",
		ip("10.0.0.3"):      "c1\u009b31mcsi\u0085nel",
		ip("10.0.0.4"):      "bad\x9b\xff\xfeutf8",
		ip("10.0.0.5"):      "del\x7f.tab\t.caf\u00e9",
		ip("2001:db8::bad"): "\x1b[31m" + strings.Repeat("\x1b", 300),
	}
	numeric := HostFormat{}
	named := HostFormat{Namer: names, Services: testServices}
	nums := HostFormat{Namer: names}
	svc := HostFormat{Services: testServices}

	tests := []struct {
		name  string
		f     HostFormat
		addr  string
		port  uint16
		proto uint8
		width int
		want  string
	}{
		{"ipv4 bare", numeric, "10.99.0.1", 0, icmp, 26, "10.99.0.1                 "},
		{"ipv4 port", numeric, "10.99.0.1", 57680, tcp, 26, "10.99.0.1:57680           "},
		{"ipv6 bare has no brackets", numeric, "fd00:99::abcd", 0, 58, 26, "fd00:99::abcd             "},
		{"ipv6 port in brackets", numeric, "fd00:99::1", 39718, tcp, 26, "[fd00:99::1]:39718        "},
		{"text width 40", numeric, "10.99.0.1", 57680, tcp, 40, "10.99.0.1:57680                         "},
		{"hidden", numeric, "", 0, 0, 26, " *                        "},
		{"hidden with port", svc, "", 5201, tcp, 10, " * :5201  "},
		{"hidden v6-less brackets", svc, "", 443, udp, 12, " * :https   "},
		// Services: the real protocol is looked up
		// (docs/iftop.md#host-fields).
		{"tcp/80 is http", svc, "10.99.0.200", 80, tcp, 26, "10.99.0.200:http          "},
		{"udp/80 stays 80", svc, "10.99.0.200", 80, udp, 26, "10.99.0.200:80            "},
		{"udp/443 is https", svc, "fd00:99::abcd", 443, udp, 26, "[fd00:99::abcd]:https     "},
		{"-N keeps numbers", numeric, "fd00:99::abcd", 443, udp, 26, "[fd00:99::abcd]:443       "},
		{"icmp has no port", svc, "10.99.0.3", 0, icmp, 12, "10.99.0.3   "},
		// Names (docs/iftop.md#names, at L = 26).
		{"name exact 26", named, "10.99.0.2", 5201, tcp, 26, "server-b.example.test:5201"},
		{"name and port", named, "10.99.0.1", 57680, tcp, 26, "hosta.lan:57680           "},
		{"v6 name in brackets", named, "fd00:99::1", 39718, tcp, 26, "[hosta6.lan]:39718        "},
		{"v6 name exact 26", named, "fd00:99::2", 5202, tcp, 26, "[v6host.example.test]:5202"},
		{"long name cut for suffix", nums, "10.99.0.200", 80, tcp, 26, "a-very-long-hostname-fo:80"},
		{"short name", nums, "10.99.0.3", 9000, tcp, 26, "c3:9000                   "},
		{"name cut to L-1", named, "10.99.0.66", 0, 0, 26, strings.Repeat("x", 25) + " "},
		{"empty name falls back", named, "10.99.0.99", 0, 0, 12, "10.99.0.99  "},
		{"unnamed stays numeric", named, "10.99.0.10", 53, udp, 26, "10.99.0.10:domain         "},
		// Truncation.
		{"numeric v6 wider than field", numeric, "2001:db8:1234:5678:9abc:def0:1234:5678", 0, 0, 26, "2001:db8:1234:5678:9abc:de"},
		{"v6 cut inside brackets", numeric, "2001:db8:1234:5678:9abc:def0:1234:5678", 443, tcp, 40, "[2001:db8:1234:5678:9abc:def0:1234:]:443"},
		{"narrow brackets", numeric, "fd00:99::1", 80, tcp, 8, "[fd0]:80"},
		{"too narrow for brackets", numeric, "fd00:99::1", 80, tcp, 5, "fd:80"},
		{"suffix fills field", numeric, "10.99.0.1", 57680, tcp, 6, ":57680"},
		{"suffix wider than field", numeric, "10.99.0.1", 57680, tcp, 4, ":576"},
		{"long service wider than field", svc, "10.99.0.1", 7777, tcp, 12, ":very-long-s"},
		{"width 1", numeric, "10.99.0.1", 0, 0, 1, "1"},
		{"width 0", numeric, "10.99.0.1", 80, tcp, 0, ""},
		{"negative width", numeric, "10.99.0.1", 80, tcp, -3, ""},
		// Hostile names are neutralised inside the formatter.
		{"ESC and OSC", nums, "10.0.0.1", 0, 0, 40, "evil?[2J?]0;pwned?.example              "},
		{"newlines", nums, "10.0.0.2", 0, 0, 26, "line?break?.example       "},
		{"C1 CSI and NEL runes", nums, "10.0.0.3", 0, 0, 26, "c1?31mcsi?nel             "},
		{"invalid UTF-8 bytes", nums, "10.0.0.4", 0, 0, 26, "bad???utf8                "},
		{"DEL tab non-ASCII", nums, "10.0.0.5", 0, 0, 26, "del?.tab?.caf?            "},
		{"escape flood capped", nums, "2001:db8::bad", 443, tcp, 40, "[?[31m" + strings.Repeat("?", 29) + "]:443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addr netip.Addr
			if tt.addr != "" {
				addr = ip(tt.addr)
			}
			got := string(tt.f.AppendHost([]byte("pre"), addr, tt.port, tt.proto, tt.width))
			if got != "pre"+tt.want {
				t.Errorf("AppendHost(%q, %d, %d, %d) = %q, want %q", tt.addr, tt.port, tt.proto, tt.width, got[3:], tt.want)
			}
		})
	}
}

func TestAppendName(t *testing.T) {
	ip := netip.MustParseAddr
	long := strings.Repeat("a\x1b", 200)
	f := HostFormat{Namer: mapNamer{ip("10.0.0.1"): long, ip("10.0.0.2"): "ok.example"}}
	tests := []struct {
		addr  netip.Addr
		limit int
		want  string
	}{
		{ip("10.0.0.2"), -1, "ok.example"},
		{ip("10.0.0.2"), 2, "ok"},
		{ip("10.0.0.3"), 2, "10.0.0.3"}, // numbers are never cut here
		{netip.Addr{}, -1, HiddenHost},
		{ip("10.0.0.1"), -1, strings.Repeat("a?", naming.MaxNameLen/2) + "a"},
		{ip("10.0.0.1"), 1000, strings.Repeat("a?", naming.MaxNameLen/2) + "a"},
	}
	for _, tt := range tests {
		if got := string(f.AppendName(nil, tt.addr, tt.limit)); got != tt.want {
			t.Errorf("AppendName(%v, %d) = %q, want %q", tt.addr, tt.limit, got, tt.want)
		}
	}
}

func TestAppendEndpoint(t *testing.T) {
	k := displaytest.MkKey("10.99.0.1", 57680, "10.99.0.2", 5201, tcp)
	other := table.Key{}
	hidden := table.View{Ports: table.PortsOn, HideSrc: true}.DisplayKey(k)
	f := HostFormat{Services: testServices}
	tests := []struct {
		k     table.Key
		side  Side
		width int
		want  string
	}{
		{k, Src, 20, "10.99.0.1:57680     "},
		{k, Dst, 20, "10.99.0.2:5201      "},
		{hidden, Src, 20, " * :57680           "},
		{hidden, Dst, 20, "10.99.0.2:5201      "},
		{other, Src, 10, "(other)   "},
		{other, Dst, 5, "(othe"},
	}
	for _, tt := range tests {
		if got := string(f.AppendEndpoint(nil, &tt.k, tt.side, tt.width)); got != tt.want {
			t.Errorf("AppendEndpoint(%v, %d, %d) = %q, want %q", tt.k, tt.side, tt.width, got, tt.want)
		}
	}
}

func TestAppendHostNoAllocs(t *testing.T) {
	f := HostFormat{Services: testServices}
	a := netip.MustParseAddr("fd00:99::abcd")
	buf := make([]byte, 0, 128)
	allocs := testing.AllocsPerRun(100, func() {
		buf = f.AppendHost(buf[:0], a, 443, udp, 26)
		buf = f.AppendHost(buf, a, 39718, tcp, 40)
	})
	if allocs != 0 {
		t.Errorf("AppendHost allocates %v times per call, want 0", allocs)
	}
}

// FuzzAppendHost checks that whatever a resolver returns, the field is
// exactly width bytes of printable ASCII.
func FuzzAppendHost(f *testing.F) {
	f.Add("hosta.lan", uint16(80), uint8(6), 26, true)
	f.Add("\x1b[2J\x1b]0;x\x07", uint16(0), uint8(0), 40, false)
	f.Add("\u009b\xff\xfe日本", uint16(443), uint8(17), 3, true)
	f.Add("", uint16(65535), uint8(6), 1, false)
	f.Fuzz(func(t *testing.T, name string, port uint16, proto uint8, width int, v6 bool) {
		width %= 300
		addr := netip.MustParseAddr("10.1.2.3")
		if v6 {
			addr = netip.MustParseAddr("2001:db8::1")
		}
		hf := HostFormat{Namer: mapNamer{addr: name}, Services: testServices}
		got := hf.AppendHost(nil, addr, port, proto, width)
		if want := max(width, 0); len(got) != want {
			t.Fatalf("len = %d, want %d: %q", len(got), want, got)
		}
		for _, c := range got {
			if c < 0x20 || c >= 0x7f {
				t.Fatalf("unsafe byte %#x in %q", c, got)
			}
		}
		if !utf8.Valid(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
	})
}

func BenchmarkAppendHost(b *testing.B) {
	f := HostFormat{Services: testServices}
	a := netip.MustParseAddr("fd00:99::abcd")
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = f.AppendHost(buf[:0], a, 443, udp, 40)
	}
}

// mustServices parses a services file or panics.
func mustServices(text string) *naming.Services {
	s, err := naming.ParseServices(strings.NewReader(text))
	if err != nil {
		panic(err)
	}
	return s
}

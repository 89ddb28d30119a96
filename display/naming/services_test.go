package naming

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// IP protocol numbers.
const (
	tcp = 6
	udp = 17
)

func TestParseServices(t *testing.T) {
	in := strings.Join([]string{
		"# Network services, Internet style",
		"",
		"tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer",
		"ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol",
		"http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP",
		"https 443/tcp",
		"https 443/udp # HTTP/3",
		"   domain   53/udp   ",
		"windows-line 8443/tcp\r",
		"dup-first 9000/tcp",
		"dup-second 9000/tcp",
		"same-port 9000/udp",
		"amqp 5672/sctp",
		"ddp-service 4/ddp",
		"zero 0/tcp",
		"too-big 65536/tcp",
		"negative -1/tcp",
		"hex 0x50/tcp",
		"noslash 81",
		"noport",
		"#commented 82/tcp",
		"inline#comment 83/tcp",
		"caf\u00e9 84/tcp",
		"ctl\x01 85/tcp",
		strings.Repeat("n", 33) + " 86/tcp",
		strings.Repeat("m", 32) + " 87/tcp",
		"plus +88/tcp",
		"space 89 /tcp",
		"TCP-upper 90/TCP",
		"last-line-no-newline 91/udp",
	}, "\n")
	s, err := ParseServices(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		port  uint16
		proto uint8
		want  string // "" means absent
	}{
		{1, tcp, "tcpmux"},
		{22, tcp, "ssh"},
		{22, udp, ""},
		{80, tcp, "http"},
		{80, udp, ""},
		{443, tcp, "https"},
		{443, udp, "https"},
		{53, udp, "domain"},
		{53, tcp, ""},
		{8443, tcp, "windows-line"},
		{9000, tcp, "dup-first"},
		{9000, udp, "same-port"},
		{5672, 132, "amqp"},
		{4, tcp, ""},
		{0, tcp, ""},
		{81, tcp, ""},
		{82, tcp, ""},
		{83, tcp, ""},
		{84, tcp, ""},
		{85, tcp, ""},
		{86, tcp, ""},
		{87, tcp, strings.Repeat("m", 32)},
		{88, tcp, ""},
		{89, tcp, ""},
		{90, tcp, ""},
		{91, udp, "last-line-no-newline"},
	}
	for _, tt := range tests {
		got, ok := s.Lookup(tt.port, tt.proto)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("Lookup(%d, %d) = %q, %v; want %q", tt.port, tt.proto, got, ok, tt.want)
		}
	}
	if want := 12; s.Len() != want {
		t.Errorf("Len = %d, want %d", s.Len(), want)
	}
}

func TestServicesNilAndEmpty(t *testing.T) {
	var s *Services
	if _, ok := s.Lookup(80, tcp); ok || s.Len() != 0 {
		t.Error("nil Services must be empty")
	}
	e, err := ParseServices(strings.NewReader(""))
	if err != nil || e.Len() != 0 {
		t.Errorf("empty input: Len %d, err %v", e.Len(), err)
	}
}

func TestParseServicesTooLarge(t *testing.T) {
	_, err := ParseServices(bytes.NewReader(make([]byte, maxServicesSize+1)))
	if !errors.Is(err, errServicesTooLarge) {
		t.Errorf("err = %v, want errServicesTooLarge", err)
	}
	s, err := ParseServices(bytes.NewReader(append(bytes.Repeat([]byte{'\n'}, maxServicesSize-12), "x 1/tcp\n"...)))
	if err != nil || s.Len() != 1 {
		t.Errorf("4 MiB input: Len %d, err %v", s.Len(), err)
	}
}

func TestLoadServices(t *testing.T) {
	_, err := loadServices(filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
	path := filepath.Join(t.TempDir(), "services")
	if err := os.WriteFile(path, []byte("myproto 4242/udp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := loadServices(path)
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := s.Lookup(4242, udp); name != "myproto" {
		t.Errorf("Lookup(4242/udp) = %q, want myproto", name)
	}
}

func TestBuiltinServices(t *testing.T) {
	b := BuiltinServices()
	want := []struct {
		port  uint16
		proto uint8
		name  string
	}{
		{22, tcp, "ssh"}, {80, tcp, "http"}, {443, tcp, "https"}, {443, udp, "https"},
		{53, tcp, "domain"}, {53, udp, "domain"}, {123, udp, "ntp"}, {25, tcp, "smtp"},
		{143, tcp, "imap2"}, {110, tcp, "pop3"}, {389, tcp, "ldap"}, {3306, tcp, "mysql"},
		{5432, tcp, "postgresql"}, {6379, tcp, "redis"}, {2049, tcp, "nfs"}, {2049, udp, "nfs"},
	}
	for _, w := range want {
		if got, _ := b.Lookup(w.port, w.proto); got != w.name {
			t.Errorf("builtin Lookup(%d, %d) = %q, want %q", w.port, w.proto, got, w.name)
		}
	}
	// UDP/80 is not a service, so it shows as :80
	// (docs/iftop.md#host-fields).
	if name, ok := b.Lookup(80, udp); ok {
		t.Errorf("builtin has 80/udp = %q; iftop shows :80", name)
	}
	if n := strings.Count(builtinServices, "/"); b.Len() != n {
		t.Errorf("builtin table parsed %d of %d entries", b.Len(), n)
	}
}

func TestDefaultServices(t *testing.T) {
	d := DefaultServices()
	if d != DefaultServices() {
		t.Error("DefaultServices is not loaded once")
	}
	sys, err := loadServices(servicesPath)
	switch {
	case err == nil && sys.Len() > 0:
		if d.Len() != sys.Len() {
			t.Errorf("DefaultServices has %d entries, %s has %d", d.Len(), servicesPath, sys.Len())
		}
	default:
		if d != BuiltinServices() {
			t.Errorf("without %s (%v), DefaultServices is not the built-in table", servicesPath, err)
		}
	}
}

// FuzzParseServices checks that parsing never fails on content, keeps only
// safe names, and is stable: writing the table back out and parsing it again
// gives the same table.
func FuzzParseServices(f *testing.F) {
	f.Add([]byte("ssh 22/tcp\nhttp\t80/tcp www # web\nhttps 443/udp\n"))
	f.Add([]byte("# comment only\n\n\r\n"))
	f.Add([]byte("x 65535/udplite\ny 0/tcp\nz 99999/udp\nw 1/sctp alias\n"))
	f.Add([]byte("a\x00 1/tcp\n\xff 2/tcp\nb 3/tcp\x1b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseServices(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("ParseServices: %v", err)
		}
		protoName := map[uint8]string{}
		for name, p := range serviceProtos {
			protoName[p] = name
		}
		var out []string
		for k, name := range s.m {
			if name == "" || len(name) > MaxServiceName || !printableASCII([]byte(name)) || strings.Contains(name, "#") {
				t.Fatalf("unsafe name %q", name)
			}
			port, proto := uint16(k>>8), uint8(k)
			if port == 0 {
				t.Fatalf("port 0 for %q", name)
			}
			out = append(out, fmt.Sprintf("%s %d/%s", name, port, protoName[proto]))
		}
		slices.Sort(out)
		again := parseServices([]byte(strings.Join(out, "\n")))
		if again.Len() != s.Len() {
			t.Fatalf("re-parse: %d entries, want %d", again.Len(), s.Len())
		}
		for k, name := range s.m {
			if again.m[k] != name {
				t.Fatalf("re-parse: key %#x = %q, want %q", k, again.m[k], name)
			}
		}
	})
}

func BenchmarkServicesLookup(b *testing.B) {
	s := BuiltinServices()
	b.ReportAllocs()
	for b.Loop() {
		s.Lookup(443, udp)
	}
}

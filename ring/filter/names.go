package filter

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Names resolves the names a filter expression may contain. fastop's
// production resolver (SystemNames) reads the same files as libpcap, so a
// filter means the same as under tcpdump on the same host; tests inject
// fixed tables (StaticNames).
type Names interface {
	// Service returns the port of a service name for one transport
	// protocol, "tcp" or "udp" (/etc/services).
	Service(name, proto string) (uint16, bool)
	// Protocol returns the IP protocol number of a name (/etc/protocols).
	Protocol(name string) (uint8, bool)
	// Host returns the addresses of a host name (/etc/hosts, then DNS).
	// An error or no addresses means "unknown host".
	Host(name string) ([]netip.Addr, error)
	// Ether returns the MAC address of a host name (/etc/ethers).
	Ether(name string) ([6]byte, bool)
}

// StaticNames is a fixed name table, for tests and for callers that want
// deterministic behaviour. Keys of Services are "name/proto" ("http/tcp").
type StaticNames struct {
	Services  map[string]uint16
	Protocols map[string]uint8
	Hosts     map[string][]netip.Addr
	Ethers    map[string][6]byte
}

// Service implements Names.
func (s *StaticNames) Service(name, proto string) (uint16, bool) {
	p, ok := s.Services[name+"/"+proto]
	return p, ok
}

// Protocol implements Names.
func (s *StaticNames) Protocol(name string) (uint8, bool) {
	p, ok := s.Protocols[name]
	return p, ok
}

// Host implements Names.
func (s *StaticNames) Host(name string) ([]netip.Addr, error) {
	if a, ok := s.Hosts[name]; ok && len(a) > 0 {
		return a, nil
	}
	return nil, errUnknownName
}

// Ether implements Names.
func (s *StaticNames) Ether(name string) ([6]byte, bool) {
	m, ok := s.Ethers[name]
	return m, ok
}

var errUnknownName = errors.New("unknown name")

// SystemNames reads /etc/services, /etc/protocols, /etc/hosts and
// /etc/ethers (once, on first use), and asks DNS for host names the hosts
// file does not know, with a timeout of DNSTimeout.
type SystemNames struct {
	// Root is prepended to the file paths ("" in production; a test
	// directory in tests).
	Root string
	// DNSTimeout bounds a DNS lookup; 0 disables DNS.
	DNSTimeout time.Duration

	once      sync.Once
	services  map[string]uint16
	protocols map[string]uint8
	hosts     map[string][]netip.Addr
	ethers    map[string][6]byte
}

// NewSystemNames returns the production resolver: the system files and
// DNS with a 5 s timeout.
func NewSystemNames() *SystemNames { return &SystemNames{DNSTimeout: 5 * time.Second} }

func (s *SystemNames) load() {
	s.once.Do(func() {
		s.services = readServices(s.open("/etc/services"))
		s.protocols = readProtocols(s.open("/etc/protocols"))
		s.hosts = readHosts(s.open("/etc/hosts"))
		s.ethers = readEthers(s.open("/etc/ethers"))
	})
}

func (s *SystemNames) open(path string) io.Reader {
	f, err := os.Open(s.Root + path)
	if err != nil {
		return strings.NewReader("")
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 16<<20))
	if err != nil {
		return strings.NewReader("")
	}
	return strings.NewReader(string(b))
}

// Service implements Names.
func (s *SystemNames) Service(name, proto string) (uint16, bool) {
	s.load()
	p, ok := s.services[name+"/"+proto]
	return p, ok
}

// Protocol implements Names.
func (s *SystemNames) Protocol(name string) (uint8, bool) {
	s.load()
	p, ok := s.protocols[name]
	return p, ok
}

// Host implements Names.
func (s *SystemNames) Host(name string) ([]netip.Addr, error) {
	s.load()
	if a, ok := s.hosts[strings.ToLower(name)]; ok {
		return a, nil
	}
	if s.DNSTimeout <= 0 {
		return nil, errUnknownName
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.DNSTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil, err
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, nil
}

// Ether implements Names.
func (s *SystemNames) Ether(name string) ([6]byte, bool) {
	s.load()
	m, ok := s.ethers[name]
	return m, ok
}

// fields returns the fields of a line without its # comment.
func fields(line string) []string {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	return strings.Fields(line)
}

// readServices parses services(5): "name port/proto aliases…".
func readServices(r io.Reader) map[string]uint16 {
	m := map[string]uint16{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		portStr, proto, ok := strings.Cut(f[1], "/")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil {
			continue
		}
		for _, name := range append([]string{f[0]}, f[2:]...) {
			key := name + "/" + proto
			if _, dup := m[key]; !dup { // the first entry wins, as in getservbyname
				m[key] = uint16(port)
			}
		}
	}
	return m
}

// readProtocols parses protocols(5): "name number aliases…".
func readProtocols(r io.Reader) map[string]uint8 {
	m := map[string]uint8{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		n, err := strconv.ParseUint(f[1], 10, 8)
		if err != nil {
			continue
		}
		for _, name := range append([]string{f[0]}, f[2:]...) {
			if _, dup := m[name]; !dup {
				m[name] = uint8(n)
			}
		}
	}
	return m
}

// readHosts parses hosts(5): "address name aliases…"; names are case
// insensitive, addresses are kept in file order.
func readHosts(r io.Reader) map[string][]netip.Addr {
	m := map[string][]netip.Addr{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil || a.Zone() != "" {
			continue
		}
		for _, name := range f[1:] {
			name = strings.ToLower(name)
			m[name] = append(m[name], a.Unmap())
		}
	}
	return m
}

// readEthers parses ethers(5): "MAC name".
func readEthers(r io.Reader) map[string][6]byte {
	m := map[string][6]byte{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		mac, ok := parseMAC(f[0])
		if !ok {
			continue
		}
		if _, dup := m[f[1]]; !dup {
			m[f[1]] = mac
		}
	}
	return m
}

// parseMAC accepts the forms libpcap accepts: xx:xx:xx:xx:xx:xx (one or
// two hex digits per byte), the same with - or ., xxxx.xxxx.xxxx and 12
// hex digits.
func parseMAC(s string) ([6]byte, bool) {
	var mac [6]byte
	hexval := func(s string) (byte, bool) {
		if len(s) == 0 || len(s) > 2 {
			return 0, false
		}
		v, err := strconv.ParseUint(s, 16, 8)
		return byte(v), err == nil
	}
	for _, sep := range []string{":", "-", "."} {
		parts := strings.Split(s, sep)
		if len(parts) == 6 {
			for i, p := range parts {
				b, ok := hexval(p)
				if !ok {
					return mac, false
				}
				mac[i] = b
			}
			return mac, true
		}
	}
	digits := strings.ReplaceAll(s, ".", "")
	if len(digits) != 12 || (strings.Contains(s, ".") && len(strings.Split(s, ".")) != 3) {
		return mac, false
	}
	for i := range 6 {
		b, ok := hexval(digits[2*i : 2*i+2])
		if !ok {
			return mac, false
		}
		mac[i] = b
	}
	return mac, true
}

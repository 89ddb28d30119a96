package naming

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
)

// servicesPath is where the system lists service names.
const servicesPath = "/etc/services"

// maxServicesSize bounds what ParseServices reads; a real /etc/services is
// about 12 KiB.
const maxServicesSize = 4 << 20

// MaxServiceName caps a service name; IANA's are at most 15 characters.
const MaxServiceName = 32

// errServicesTooLarge is returned for a services file over 4 MiB.
var errServicesTooLarge = errors.New("services file is larger than 4 MiB")

// Services maps (port, IP protocol) to a service name, as iftop's service
// hash does. The zero value and nil are empty tables. A Services is never
// modified after it is built, so it may be shared freely.
type Services struct {
	m map[uint32]string
}

func serviceKey(port uint16, proto uint8) uint32 { return uint32(port)<<8 | uint32(proto) }

// Lookup returns the service name for port over IP protocol proto.
func (s *Services) Lookup(port uint16, proto uint8) (string, bool) {
	if s == nil {
		return "", false
	}
	name, ok := s.m[serviceKey(port, proto)]
	return name, ok
}

// Len returns the number of (port, protocol) entries.
func (s *Services) Len() int {
	if s == nil {
		return 0
	}
	return len(s.m)
}

// serviceProtos are the protocols of /etc/services whose ports fastop can
// see; the others (ddp and the like) are skipped.
var serviceProtos = map[string]uint8{
	"tcp":     6,
	"udp":     17,
	"dccp":    33,
	"sctp":    132,
	"udplite": 136,
}

// ParseServices reads a file in /etc/services format: "name port/proto
// [aliases…] [# comment]". The first entry for a (port, protocol) wins, as
// with getservbyport. Lines that do not parse, port 0, unknown protocols and
// names that are not printable ASCII or are longer than 32 bytes are
// skipped; only an I/O error or an input over 4 MiB is an error.
func ParseServices(r io.Reader) (*Services, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxServicesSize+1))
	if err != nil {
		return nil, fmt.Errorf("read services: %w", err)
	}
	if len(data) > maxServicesSize {
		return nil, errServicesTooLarge
	}
	return parseServices(data), nil
}

func parseServices(data []byte) *Services {
	s := &Services{m: make(map[uint32]string, bytes.Count(data, []byte{'\n'})+1)}
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		name, rest := nextField(line)
		spec, _ := nextField(rest)
		if len(name) == 0 || len(name) > MaxServiceName || !printableASCII(name) {
			continue
		}
		portText, protoText, ok := bytes.Cut(spec, []byte{'/'})
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(string(portText), 10, 16)
		if err != nil || port == 0 {
			continue
		}
		proto, ok := serviceProtos[string(protoText)]
		if !ok {
			continue
		}
		k := serviceKey(uint16(port), proto)
		if _, dup := s.m[k]; !dup {
			s.m[k] = string(name)
		}
	}
	return s
}

// nextField splits off the first field separated by spaces or tabs.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && isBlank(b[i]) {
		i++
	}
	j := i
	for j < len(b) && !isBlank(b[j]) {
		j++
	}
	return b[i:j], b[j:]
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' }

func printableASCII(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// loadServices parses the services file at path.
func loadServices(path string) (*Services, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open services file: %w", err)
	}
	defer f.Close()
	s, err := ParseServices(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// builtinServices is used when /etc/services cannot be read (minimal
// containers). Names and protocols follow Debian's netbase, so a port shows
// the same name with or without the file.
const builtinServices = `
ftp-data 20/tcp
ftp 21/tcp
ssh 22/tcp
telnet 23/tcp
smtp 25/tcp
whois 43/tcp
domain 53/tcp
domain 53/udp
bootps 67/udp
bootpc 68/udp
tftp 69/udp
http 80/tcp
kerberos 88/tcp
kerberos 88/udp
pop3 110/tcp
sunrpc 111/tcp
sunrpc 111/udp
auth 113/tcp
nntp 119/tcp
ntp 123/udp
netbios-ns 137/udp
netbios-dgm 138/udp
netbios-ssn 139/tcp
imap2 143/tcp
snmp 161/tcp
snmp 161/udp
snmp-trap 162/tcp
snmp-trap 162/udp
bgp 179/tcp
ldap 389/tcp
ldap 389/udp
https 443/tcp
https 443/udp
microsoft-ds 445/tcp
submissions 465/tcp
isakmp 500/udp
syslog 514/udp
submission 587/tcp
ipp 631/tcp
ldaps 636/tcp
ldaps 636/udp
domain-s 853/tcp
domain-s 853/udp
rsync 873/tcp
imaps 993/tcp
pop3s 995/tcp
socks 1080/tcp
openvpn 1194/tcp
openvpn 1194/udp
radius 1812/tcp
radius 1812/udp
radius-acct 1813/tcp
radius-acct 1813/udp
nfs 2049/tcp
nfs 2049/udp
mysql 3306/tcp
ms-wbt-server 3389/tcp
svn 3690/tcp
ipsec-nat-t 4500/udp
sip 5060/tcp
sip 5060/udp
sip-tls 5061/tcp
sip-tls 5061/udp
xmpp-client 5222/tcp
xmpp-server 5269/tcp
mdns 5353/udp
postgresql 5432/tcp
amqps 5671/tcp
amqp 5672/tcp
redis 6379/tcp
syslog-tls 6514/tcp
ircd 6667/tcp
ircs-u 6697/tcp
http-alt 8080/tcp
git 9418/tcp
`

var builtinOnce = sync.OnceValue(func() *Services { return parseServices([]byte(builtinServices)) })

// BuiltinServices returns fastop's own table of common services.
func BuiltinServices() *Services { return builtinOnce() }

var defaultOnce = sync.OnceValue(func() *Services {
	s, err := loadServices(servicesPath)
	if err != nil || s.Len() == 0 {
		return BuiltinServices()
	}
	return s
})

// DefaultServices returns /etc/services, read once on first use, or the
// built-in table when the file is missing, unreadable or empty.
func DefaultServices() *Services { return defaultOnce() }

// protoNames are tcpdump's lowercase names for the protocols one meets.
var protoNames = map[uint8]string{
	1:   "icmp",
	2:   "igmp",
	4:   "ipip",
	6:   "tcp",
	17:  "udp",
	33:  "dccp",
	41:  "ip6",
	47:  "gre",
	50:  "esp",
	51:  "ah",
	58:  "icmp6",
	89:  "ospf",
	103: "pim",
	112: "vrrp",
	115: "l2tp",
	132: "sctp",
	136: "udplite",
}

// ProtoName returns tcpdump's lowercase name for IP protocol p ("tcp",
// "udp", "icmp", "icmp6", …), or its number in decimal when it has none.
func ProtoName(p uint8) string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	return strconv.Itoa(int(p))
}

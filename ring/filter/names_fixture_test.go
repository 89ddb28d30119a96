package filter

import "net/netip"

// debianNames answers like the Debian 12 machine (netbase) on which the
// golden files were made; tests never read the system files or DNS.
func debianNames() *StaticNames {
	return &StaticNames{
		Services: map[string]uint16{
			"ssh/tcp": 22, "http/tcp": 80, "www/tcp": 80, "https/tcp": 443, "https/udp": 443,
			"domain/tcp": 53, "domain/udp": 53, "ntp/udp": 123, "ftp/tcp": 21, "ftp-data/tcp": 20,
			"telnet/tcp": 23, "smtp/tcp": 25, "bgp/tcp": 179, "snmp/udp": 161, "syslog/udp": 514,
		},
		Protocols: map[string]uint8{
			"ip": 0, "icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "ipv6": 41, "ipv6-frag": 44,
			"gre": 47, "esp": 50, "ah": 51, "ipv6-icmp": 58, "ospf": 89, "pim": 103, "vrrp": 112, "sctp": 132,
		},
		Hosts: map[string][]netip.Addr{
			"localhost": {netip.MustParseAddr("127.0.0.1")},
			"dual":      {netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")},
			"v6only":    {netip.MustParseAddr("2001:db8::2")},
			"router":    {netip.MustParseAddr("192.0.2.254")},
		},
		Ethers: map[string][6]byte{
			"router": {0x02, 0, 0, 0, 0, 0xfe},
		},
	}
}

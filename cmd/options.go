package cmd

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/fastop/fastop/ring/afpacket"
	"github.com/fastop/fastop/table"
	"github.com/spf13/pflag"
)

// Options holds every option of the monitor: iftop's, under iftop's
// letters, and fastop's own under long names.
type Options struct {
	Interface    string // -i: interface(s), comma-separated
	Filter       string // -f: pcap-filter expression
	NoDNS        bool   // -n
	NoPortNames  bool   // -N
	Promisc      bool   // -p
	NoBars       bool   // -b
	Bytes        bool   // -B
	NetFilter    string // -F net/mask
	NetFilter6   string // -G net6/mask6
	LinkLocal    bool   // -l
	Ports        bool   // -P
	MaxBandwidth string // -m
	ConfigFile   string // -c
	Text         bool   // -t
	Seconds      int    // -s
	Lines        int    // -L
	Sort         string // -o

	Read       string  // -r: capture file
	JSON       bool    // --json
	Fanout     int     // --fanout
	FanoutMode string  // --fanout-mode
	Buffer     string  // --buffer
	Snaplen    int     // --snaplen
	Wait       bool    // --wait
	MaxFlows   int     // --max-flows
	DumpFilter bool    // -d
	Speed      float64 // --speed
	Verbose    bool    // -v
	Workers    int     // --workers (files)
	Master     bool    // --master: capture a bond or team itself, not its links
	Export     ExportOptions
	Rows       RowOptions

	set settings // filled by complete
	ui  rcUI     // screen settings from ~/.iftoprc (applyRC)
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Interface, "interface", "i", "", "listen on `interface` (comma-separated for several; default: the first one up, as iftop picks it)")
	fs.StringVarP(&o.Filter, "filter", "f", "", "count only packets matching the pcap-filter `expression` (only IP and IPv6 are ever counted)")
	fs.BoolVarP(&o.NoDNS, "no-dns", "n", false, "don't do hostname lookups")
	fs.BoolVarP(&o.NoPortNames, "no-port-names", "N", false, "don't convert port numbers to services")
	fs.BoolVarP(&o.Promisc, "promiscuous", "p", false, "run in promiscuous mode (show traffic between other hosts on the same segment)")
	fs.BoolVarP(&o.NoBars, "no-bars", "b", false, "don't display a bar graph of traffic")
	fs.BoolVarP(&o.Bytes, "bytes", "B", false, "display bandwidth in bytes")
	fs.StringVarP(&o.NetFilter, "net-filter", "F", "", "show traffic flows in/out of IPv4 `net/mask`")
	fs.StringVarP(&o.NetFilter6, "net-filter6", "G", "", "show traffic flows in/out of IPv6 `net6/mask6`")
	fs.BoolVarP(&o.LinkLocal, "link-local", "l", false, "display and count link-local IPv6 traffic")
	fs.BoolVarP(&o.Ports, "ports", "P", false, "show ports as well as hosts")
	fs.StringVarP(&o.MaxBandwidth, "max-bandwidth", "m", "", "set the upper `limit` of the bandwidth scale (bits: 10M, 1G …)")
	fs.StringVarP(&o.ConfigFile, "config", "c", "", "read options from `file` instead of ~/.iftoprc")
	fs.BoolVarP(&o.Text, "text", "t", false, "text output on stdout instead of the full screen")
	fs.IntVarP(&o.Seconds, "seconds", "s", 0, "print one report after `num` seconds, then quit")
	fs.IntVarP(&o.Lines, "lines", "L", 0, "host pairs per text report (default 10); flows per --json report (default 100, 0: all)")
	fs.StringVarP(&o.Sort, "sort", "o", "10s", "sort by `order`: 2s, 10s, 40s, source or destination")

	fs.StringVarP(&o.Read, "read", "r", "", "read packets from a pcap or pcapng `file` instead of an interface")
	fs.BoolVar(&o.JSON, "json", false, "print reports as JSON, one object per line")
	fs.IntVar(&o.Fanout, "fanout", 0, "capture with `n` sockets in a PACKET_FANOUT group, one thread each (default: CPUs, at most 8)")
	fs.StringVar(&o.FanoutMode, "fanout-mode", "hash", "how the kernel spreads packets: hash, cpu, lb or qm")
	fs.StringVar(&o.Buffer, "buffer", "32M", "ring memory per fanout member (`size`, e.g. 64M)")
	fs.IntVar(&o.Snaplen, "snaplen", 128, "bytes of each packet kept in the ring (headers only; bytes are counted from the wire length)")
	fs.BoolVar(&o.Wait, "wait", false, "wait for the interface to come up instead of failing")
	fs.IntVar(&o.MaxFlows, "max-flows", table.DefaultMaxFlows, "most flows kept; more are counted in an \"other\" row")
	fs.BoolVarP(&o.DumpFilter, "dump-filter", "d", false, "print the compiled filter program (tcpdump -d format) and exit")
	fs.Float64Var(&o.Speed, "speed", 1, "replay speed for -r on the screen (2 = twice as fast)")
	fs.BoolVarP(&o.Verbose, "verbose", "v", false, "print capture details (ring memory, fanout) on stderr")
	fs.IntVar(&o.Workers, "workers", 1, "workers to spread a capture file over (-r)")
	fs.BoolVar(&o.Master, "master", false, "capture a bond or team named by -i itself instead of each of its links")
	o.Rows.AddFlags(fs)
	o.Export.AddFlags(fs)
}

// parseNetFilter parses -F: NET/MASK where MASK is a prefix length or a
// dotted mask. The address is masked, as iftop does. Unlike iftop, a bad
// mask is an error rather than a silent /24.
func parseNetFilter(s string) (netip.Prefix, error) {
	netStr, maskStr, ok := strings.Cut(s, "/")
	if !ok {
		return netip.Prefix{}, fmt.Errorf("-F %q: expected net/mask, e.g. 10.0.0.0/24 or 10.0.0.0/255.255.255.0", s)
	}
	a, err := netip.ParseAddr(netStr)
	if err != nil || !a.Is4() {
		return netip.Prefix{}, fmt.Errorf("-F %q: %q is not an IPv4 address", s, netStr)
	}
	bits, err := maskBits(maskStr, 32)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("-F %q: %v", s, err)
	}
	return netip.PrefixFrom(a, bits).Masked(), nil
}

// parseNetFilter6 parses -G: NET6/MASK6 with a prefix length (1–128) or an
// IPv6 mask. Prefixes shorter than /16 work (iftop treats them as /16).
func parseNetFilter6(s string) (netip.Prefix, error) {
	netStr, maskStr, ok := strings.Cut(s, "/")
	if !ok {
		return netip.Prefix{}, fmt.Errorf("-G %q: expected net6/mask6, e.g. fd00::/8", s)
	}
	a, err := netip.ParseAddr(netStr)
	if err != nil || !a.Is6() || a.Is4In6() {
		return netip.Prefix{}, fmt.Errorf("-G %q: %q is not an IPv6 address", s, netStr)
	}
	bits, err := maskBits(maskStr, 128)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("-G %q: %v", s, err)
	}
	if bits == 0 {
		return netip.Prefix{}, fmt.Errorf("-G %q: prefix length 0 matches everything; use 1 to 128", s)
	}
	return netip.PrefixFrom(a, bits).Masked(), nil
}

// maskBits reads a prefix length or a contiguous mask address.
func maskBits(s string, max int) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > max {
			return 0, fmt.Errorf("prefix length %d out of range 0-%d", n, max)
		}
		return n, nil
	}
	m, err := netip.ParseAddr(s)
	if err != nil || m.BitLen() != max {
		return 0, fmt.Errorf("%q is neither a prefix length nor a netmask", s)
	}
	b := m.AsSlice()
	bits, seenZero := 0, false
	for _, x := range b {
		for i := 7; i >= 0; i-- {
			if x&(1<<i) != 0 {
				if seenZero {
					return 0, fmt.Errorf("netmask %s is not contiguous", s)
				}
				bits++
			} else {
				seenZero = true
			}
		}
	}
	return bits, nil
}

// parseRate parses -m and max-bandwidth: digits, then optionally one unit
// letter k/K (×1024), m/M (×1024²), g/G (×1024³) or b/B (×1), in bits per
// second, exactly as iftop accepts it.
func parseRate(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty rate")
	}
	num, mult := s, uint64(1)
	switch s[len(s)-1] {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	case 'b', 'B':
	default:
		mult = 0
	}
	if mult != 0 {
		num = s[:len(s)-1]
	} else {
		mult = 1
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("invalid rate %q: use a whole number of bits per second with an optional K, M or G (e.g. 100M)", s)
	}
	if n > (1<<63)/mult {
		return 0, fmt.Errorf("rate %q is too large", s)
	}
	return n * mult, nil
}

// parseSize parses --buffer: a byte count with an optional K, M or G
// (1024-based), as afpacket.ParseSize reads it.
func parseSize(s string) (int64, error) {
	n, err := afpacket.ParseBuffer(s)
	if errors.Is(err, afpacket.ErrOutOfRange) {
		return 0, err // it names the range, in the unit typed
	}
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid size %q: use bytes with an optional K, M or G (e.g. 64M)", s)
	}
	return n, nil
}

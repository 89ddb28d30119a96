package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/report"
	"github.com/fastop/fastop/ring/pcapfile"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// parseResult is what running fastop with some argv gave.
type parseResult struct {
	opts   *Options // nil when the monitor did not run
	out    string
	errOut string
	code   int
}

// parseArgs runs the root command on args with a monitor that only
// captures the options, and maps the error to an exit status as Main does.
// HOME is a fresh directory, so no ~/.iftoprc of the machine is read.
func parseArgs(t *testing.T, args ...string) parseResult {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	var res parseResult
	var out, errOut bytes.Buffer
	root := NewRootCommand(IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, func(_ context.Context, o *Options) error {
		res.opts = o
		return nil
	})
	root.SetArgs(args)
	ctx := context.Background()
	err := root.ExecuteContext(ctx)
	res.code = exitStatus(err, ctx, &errOut)
	res.out, res.errOut = out.String(), errOut.String()
	return res
}

// TestOptions parses argv strings, iftop's way (short, combined, attached
// or separate arguments) and with long names, and checks the options.
func TestOptions(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "rc")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		flags []string // the flags this case covers
		check func(o *Options) bool
	}{
		{nil, nil, func(o *Options) bool {
			return o.Interface == "" && !o.NoDNS && o.Sort == "10s" && o.set.order == display.Sort10s && o.Buffer == "32M" &&
				o.set.buffer == 32<<20 && o.Snaplen == 128 && o.MaxFlows == 1<<20 && o.Speed == 1 && o.Workers == 1 &&
				o.FanoutMode == "hash" && o.set.view == table.View{} && o.set.maxBW == 0
		}},
		{[]string{"-i", "eth0"}, []string{"interface"}, func(o *Options) bool { return o.Interface == "eth0" }},
		{[]string{"-ieth0"}, nil, func(o *Options) bool { return o.Interface == "eth0" }},
		{[]string{"--interface", "eth0,eth1"}, nil, func(o *Options) bool { return o.Interface == "eth0,eth1" }},
		{[]string{"--interface=eth0"}, nil, func(o *Options) bool { return o.Interface == "eth0" }},
		{[]string{"-f", "tcp port 80"}, []string{"filter"}, func(o *Options) bool { return o.Filter == "tcp port 80" }},
		{[]string{"--filter=udp"}, nil, func(o *Options) bool { return o.Filter == "udp" }},
		{[]string{"-n"}, []string{"no-dns"}, func(o *Options) bool { return o.NoDNS }},
		{[]string{"--no-dns"}, nil, func(o *Options) bool { return o.NoDNS }},
		{[]string{"-N"}, []string{"no-port-names"}, func(o *Options) bool { return o.NoPortNames }},
		{[]string{"-p"}, []string{"promiscuous"}, func(o *Options) bool { return o.Promisc }},
		{[]string{"-b"}, []string{"no-bars"}, func(o *Options) bool { return o.NoBars }},
		{[]string{"-B"}, []string{"bytes"}, func(o *Options) bool { return o.Bytes }},
		{[]string{"-l"}, []string{"link-local"}, func(o *Options) bool { return o.LinkLocal }},
		{[]string{"-P"}, []string{"ports"}, func(o *Options) bool { return o.Ports && o.set.view.Ports == table.PortsOn }},
		{[]string{"-t"}, []string{"text"}, func(o *Options) bool { return o.Text }},
		{[]string{"-d"}, []string{"dump-filter"}, func(o *Options) bool { return o.DumpFilter }},
		{[]string{"-v"}, []string{"verbose"}, func(o *Options) bool { return o.Verbose }},
		{[]string{"-nNPB"}, nil, func(o *Options) bool { return o.NoDNS && o.NoPortNames && o.Ports && o.Bytes && !o.NoBars }},
		{[]string{"-nNieth0"}, nil, func(o *Options) bool { return o.NoDNS && o.NoPortNames && o.Interface == "eth0" }},
		{[]string{"-tnL", "3"}, nil, func(o *Options) bool { return o.Text && o.NoDNS && o.Lines == 3 }},
		{[]string{"-F", "10.1.2.3/24"}, []string{"net-filter"}, func(o *Options) bool {
			return o.NetFilter == "10.1.2.3/24" && o.set.net4.String() == "10.1.2.0/24"
		}},
		{[]string{"-F10.0.0.0/255.255.0.0"}, nil, func(o *Options) bool { return o.set.net4.String() == "10.0.0.0/16" }},
		{[]string{"-G", "fd00::/8"}, []string{"net-filter6"}, func(o *Options) bool { return o.set.net6.String() == "fd00::/8" }},
		{[]string{"-m", "10M"}, []string{"max-bandwidth"}, func(o *Options) bool { return o.set.maxBW == 10<<20 }},
		{[]string{"-m100k"}, nil, func(o *Options) bool { return o.set.maxBW == 100<<10 }},
		{[]string{"-c", cfg}, []string{"config"}, func(o *Options) bool { return o.ConfigFile == cfg }},
		{[]string{"-s", "5"}, []string{"seconds"}, func(o *Options) bool { return o.Seconds == 5 }},
		{[]string{"-s5"}, nil, func(o *Options) bool { return o.Seconds == 5 }},
		{[]string{"-L", "20"}, []string{"lines"}, func(o *Options) bool { return o.Lines == 20 && o.set.jsonLimit == 20 }},
		{[]string{"--json"}, nil, func(o *Options) bool { return o.set.jsonLimit == report.DefaultJSONLimit }},
		{[]string{"--json", "-L", "0"}, nil, func(o *Options) bool { return o.set.jsonLimit == 0 }},
		{[]string{"-o", "2s"}, []string{"sort"}, func(o *Options) bool { return o.set.order == display.Sort2s }},
		{[]string{"-odestination"}, nil, func(o *Options) bool { return o.set.order == display.SortDest }},
		{[]string{"--sort=source"}, nil, func(o *Options) bool { return o.set.order == display.SortSource }},
		{[]string{"-r", "x.pcap"}, []string{"read"}, func(o *Options) bool { return o.Read == "x.pcap" }},
		{[]string{"--json"}, []string{"json"}, func(o *Options) bool { return o.JSON }},
		{[]string{"--fanout", "4"}, []string{"fanout"}, func(o *Options) bool { return o.Fanout == 4 }},
		{[]string{"--fanout-mode=cpu"}, []string{"fanout-mode"}, func(o *Options) bool { return o.FanoutMode == "cpu" }},
		{[]string{"--master"}, []string{"master"}, func(o *Options) bool { return o.Master }},
		{[]string{"--buffer", "64M"}, []string{"buffer"}, func(o *Options) bool { return o.set.buffer == 64<<20 }},
		{[]string{"--snaplen", "256"}, []string{"snaplen"}, func(o *Options) bool { return o.Snaplen == 256 }},
		{[]string{"--wait"}, []string{"wait"}, func(o *Options) bool { return o.Wait }},
		{[]string{"--max-flows", "100"}, []string{"max-flows"}, func(o *Options) bool { return o.MaxFlows == 100 }},
		{[]string{"--speed", "2.5"}, []string{"speed"}, func(o *Options) bool { return o.Speed == 2.5 }},
		{[]string{"--workers", "3"}, []string{"workers"}, func(o *Options) bool { return o.Workers == 3 }},
		{[]string{"--prometheus", ":9100"}, []string{"prometheus"}, func(o *Options) bool { return o.Export.Prometheus == ":9100" }},
		{[]string{"--prometheus-top", "3"}, []string{"prometheus-top"}, func(o *Options) bool { return o.Export.PrometheusTop == 3 }},
		{[]string{"--ipfix", "127.0.0.1:4739"}, []string{"ipfix"}, func(o *Options) bool { return o.Export.IPFIX == "127.0.0.1:4739" }},
		{[]string{"--ipfix-active", "30s"}, []string{"ipfix-active"}, func(o *Options) bool { return o.Export.IPFIXActive == 30*time.Second }},
		{[]string{"--ipfix-idle", "5s"}, []string{"ipfix-idle"}, func(o *Options) bool { return o.Export.IPFIXIdle == 5*time.Second }},
		{[]string{"--ipfix-mtu", "9000"}, []string{"ipfix-mtu"}, func(o *Options) bool { return o.Export.IPFIXMTU == 9000 }},
		{[]string{"-i", "a", "-i", "b"}, nil, func(o *Options) bool { return o.Interface == "b" }}, // the last one wins, as in iftop
		{[]string{"-n", "--", "-x"}, nil, nil}, // "--" ends the options; "-x" is then an argument (an error)
		{[]string{"--group", "service", "--group-prefix", "16,48"}, []string{"group", "group-prefix"}, func(o *Options) bool {
			return o.set.group.By == group.Service && o.set.group.Prefixes == group.Prefixes{V4: 16, V6: 48} && o.set.group.Services != nil
		}},
	}
	covered := map[string]bool{"help": true, "version": true}
	for _, tt := range tests {
		for _, f := range tt.flags {
			covered[f] = true
		}
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := parseArgs(t, tt.args...)
			if tt.check == nil {
				if res.code != exitUsage {
					t.Errorf("exit %d, want %d", res.code, exitUsage)
				}
				return
			}
			if res.code != 0 || res.opts == nil {
				t.Fatalf("exit %d: %s", res.code, res.errOut)
			}
			if !tt.check(res.opts) {
				t.Errorf("options: %+v", *res.opts)
			}
			if res.errOut != "" {
				t.Errorf("stderr: %q", res.errOut)
			}
		})
	}
	// Every flag of the monitor has a case above.
	var o Options
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	o.AddFlags(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		if !covered[f.Name] {
			t.Errorf("no test for --%s", f.Name)
		}
	})
}

// TestOptionErrors checks the one-line errors and the exit status 2 of
// bad command lines.
func TestOptionErrors(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"-i"}, "requires an argument"},
		{[]string{"-nNi"}, "requires an argument"},
		{[]string{"--interface"}, "requires an argument"},
		{[]string{"-s"}, "requires an argument"},
		{[]string{"-Z"}, "unknown shorthand flag: 'Z' in -Z"},
		{[]string{"-nZ"}, "unknown shorthand flag: 'Z'"},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"-n", "foo"}, `unexpected argument "foo" after the options`},
		{[]string{"foo", "-n"}, `unexpected argument "foo"`},
		{[]string{"-o", "5s"}, "-o: invalid sort order"},
		{[]string{"-m", "1.5M"}, "-m: invalid rate"},
		{[]string{"-m", "K"}, "-m: invalid rate"},
		{[]string{"-F", "10.0.0.0"}, "expected net/mask"},
		{[]string{"-F", "10.0.0.0/33"}, "out of range"},
		{[]string{"-G", "fd00::/0"}, "prefix length 0"},
		{[]string{"-s", "-1"}, "-s -1"},
		{[]string{"-s", "x"}, `invalid argument "x"`},
		{[]string{"-L", "-2"}, "-L -2"},
		{[]string{"--workers", "0"}, "--workers 0"},
		{[]string{"--fanout", "999"}, "--fanout 999"},
		{[]string{"--max-flows", "0"}, "--max-flows 0"},
		{[]string{"--buffer", "lots"}, "--buffer: invalid size"},
		{[]string{"--buffer", "1"}, "--buffer: 1 is out of range: use 8192 to 1099511627776"},
		{[]string{"--buffer", "2048G"}, "--buffer: 2048G is out of range: use 8K to 1024G"},
		{[]string{"--speed", "0"}, "--speed 0"},
		{[]string{"-r", "x", "-i", "eth0"}, "-r and -i cannot be used together"},
		{[]string{"--prometheus-top", "-1"}, "--prometheus-top -1"},
		{[]string{"--ipfix-active", "0s"}, "--ipfix-active 0s"},
		{[]string{"--ipfix-idle", "10ms"}, "--ipfix-idle 10ms"},
		{[]string{"--ipfix-mtu", "100"}, "--ipfix-mtu 100"},
		{[]string{"-r", "x", "--prometheus", ":9100"}, "--prometheus serves live counters"},
		{[]string{"--group", "port"}, `--group: invalid row type "port": use host, service, src-net, dst-net, vlan, link`},
		{[]string{"--group-prefix", "24"}, `--group-prefix: invalid prefix lengths "24": expected IPV4,IPV6`},
		{[]string{"--group-prefix", "24,0"}, "the IPv6 prefix length must be 1 to 128"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := parseArgs(t, tt.args...)
			if res.code != exitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", res.code, exitUsage, res.errOut)
			}
			if res.opts != nil {
				t.Error("the monitor ran")
			}
			lines := strings.Split(strings.TrimSuffix(res.errOut, "\n"), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "fastop: ") || !strings.Contains(lines[0], tt.msg) ||
				lines[1] != "Try 'fastop --help' for more information." {
				t.Errorf("stderr %q, want a line with %q and the --help hint", res.errOut, tt.msg)
			}
		})
	}
}

// TestFlags runs --help on every command: it prints the usage on stdout
// and exits 0 without running anything.
func TestFlags(t *testing.T) {
	root := NewRootCommand(IO{}, nil)
	var walk func(c *cobra.Command, path []string)
	var paths [][]string
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub, append(cloneArgs(path), sub.Name()))
			}
		}
	}
	walk(root, nil)
	if len(paths) < 2 {
		t.Fatalf("commands: %v", paths)
	}
	for _, p := range paths {
		for _, help := range []string{"--help", "-h"} {
			args := append(cloneArgs(p), help)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				res := parseArgs(t, args...)
				if res.code != 0 || res.opts != nil || res.errOut != "" {
					t.Fatalf("exit %d, stderr %q", res.code, res.errOut)
				}
				if !strings.Contains(res.out, "Usage:") || !strings.Contains(res.out, "fastop") {
					t.Errorf("no usage on stdout: %q", res.out)
				}
			})
		}
	}
	// The monitor's help lists iftop's options with their letters.
	res := parseArgs(t, "--help")
	for _, f := range []string{"-i, --interface", "-n, --no-dns", "-N, --no-port-names", "-p, --promiscuous", "-b, --no-bars",
		"-B, --bytes", "-F, --net-filter", "-G, --net-filter6", "-l, --link-local", "-P, --ports", "-m, --max-bandwidth",
		"-c, --config", "-t, --text", "-s, --seconds", "-L, --lines", "-o, --sort", "-f, --filter"} {
		if !strings.Contains(res.out, f) {
			t.Errorf("--help lacks %q", f)
		}
	}
}

func cloneArgs(s []string) []string { return append([]string(nil), s...) }

// TestOptionRanges: every numeric option refuses a value it cannot hold
// (an overflowing -s ended the run at once) with one line that names the
// option and the range it takes; the ends of each range are accepted.
func TestOptionRanges(t *testing.T) {
	tests := []struct {
		args []string
		msg  string // "" when the value is accepted
	}{
		{[]string{"-s", "9223372037"}, "-s 9223372037: out of range; use 0 to 2147483647 (seconds)"},
		{[]string{"-s", "2147483648"}, "-s 2147483648: out of range; use 0 to 2147483647 (seconds)"},
		{[]string{"-s", "2147483647"}, ""},
		{[]string{"-s", "-1"}, "-s -1: out of range; use 0 to 2147483647 (seconds)"},
		{[]string{"-L", "-2"}, "-L -2: out of range; use 0 to 2147483647"},
		{[]string{"-L", "2147483648"}, "-L 2147483648: out of range; use 0 to 2147483647"},
		{[]string{"-L", "2147483647"}, ""},
		{[]string{"--snaplen", "0"}, "--snaplen 0: out of range; use 1 to 262144 (bytes)"},
		{[]string{"--snaplen", "-1"}, "--snaplen -1: out of range; use 1 to 262144 (bytes)"},
		{[]string{"--snaplen", "4294967297"}, "--snaplen 4294967297: out of range; use 1 to 262144 (bytes)"},
		{[]string{"--snaplen", "262144"}, ""},
		{[]string{"--snaplen", "1"}, ""},
		{[]string{"--fanout", "999"}, "--fanout 999: out of range; use 1 to 256"},
		{[]string{"--fanout", "-1"}, "--fanout -1: out of range; use 1 to 256"},
		{[]string{"--fanout", "256"}, ""},
		{[]string{"--workers", "0"}, "--workers 0: out of range; use 1 to 256"},
		{[]string{"--workers", "9223372036854775807"}, "--workers 9223372036854775807: out of range; use 1 to 256"},
		{[]string{"--max-flows", "0"}, "--max-flows 0: out of range; use 1 to 1073741824"},
		{[]string{"--max-flows", "4294967296"}, "--max-flows 4294967296: out of range; use 1 to 1073741824"},
		{[]string{"--max-flows", "1073741824"}, ""},
		{[]string{"--speed", "0"}, "--speed 0: out of range; use 0.01 to 10000"},
		{[]string{"--speed", "1e-300"}, "--speed 1e-300: out of range; use 0.01 to 10000"},
		{[]string{"--speed", "1e300"}, "--speed 1e+300: out of range; use 0.01 to 10000"},
		{[]string{"--speed", "NaN"}, "--speed NaN: out of range; use 0.01 to 10000"},
		{[]string{"--speed", "+Inf"}, "--speed +Inf: out of range; use 0.01 to 10000"},
		{[]string{"--speed", "0.01"}, ""},
		{[]string{"--speed", "10000"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := parseArgs(t, tt.args...)
			if tt.msg == "" {
				if res.code != 0 || res.opts == nil {
					t.Fatalf("exit %d, stderr %q; want the value accepted", res.code, res.errOut)
				}
				return
			}
			if res.code != exitUsage || res.opts != nil {
				t.Errorf("exit %d (monitor ran: %v), want %d", res.code, res.opts != nil, exitUsage)
			}
			if first, _, _ := strings.Cut(res.errOut, "\n"); first != "fastop: "+tt.msg {
				t.Errorf("stderr %q, want first line %q", res.errOut, "fastop: "+tt.msg)
			}
		})
	}
}

// TestBenchMaxFlowsRange: bench bounds --max-flows as the monitor does.
func TestBenchMaxFlowsRange(t *testing.T) {
	res := parseArgs(t, "bench", "--synthetic", "--max-flows", "4294967296")
	if first, _, _ := strings.Cut(res.errOut, "\n"); res.code != exitUsage || first != "fastop: --max-flows 4294967296: out of range; use 1 to 1073741824" {
		t.Fatalf("exit %d, stderr %q", res.code, res.errOut)
	}
}

// --json reports are bounded by default (the busiest DefaultJSONLimit
// flows); -L N sets the bound and -L 0 lifts it.
func TestJSONDefaultLimit(t *testing.T) {
	const flows = report.DefaultJSONLimit + 50
	path := filepath.Join(t.TempDir(), "flows.pcap")
	var buf bytes.Buffer
	w, err := pcapfile.NewWriter(&buf, decode.LinkRaw, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range flows {
		// A raw IPv4/UDP packet per flow, the bigger the later.
		n := 28 + i
		p := make([]byte, n)
		p[0], p[2], p[3], p[8], p[9] = 0x45, byte(n>>8), byte(n), 64, 17
		copy(p[12:], []byte{10, 0, byte(i >> 8), byte(i), 10, 1, 0, 1})
		p[20], p[21], p[22], p[23] = 0x30, 0x39, 0, 53
		p[24], p[25] = byte((n-20)>>8), byte(n-20)
		if err := w.WriteRecord(int64(1_700_000_000e9)+int64(i)*1e6, p, uint32(n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, report.DefaultJSONLimit},
		{[]string{"-L", "7"}, 7},
		{[]string{"-L", "0"}, flows},
	} {
		out, err := runFastop(t, append([]string{"-r", path, "--json", "-n", "-N"}, tc.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var r jsonReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if len(r.Flows) != tc.want || r.Capture.Counted != flows {
			t.Errorf("--json %v: %d flows of %d counted, want %d", tc.args, len(r.Flows), r.Capture.Counted, tc.want)
		}
	}
}

package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/screen"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
	"github.com/spf13/pflag"
)

// writeRC writes an rc file and returns its path.
func writeRC(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rc")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRC applies rc files (with -c) and checks the options, the screen
// settings and the warnings.
func TestRC(t *testing.T) {
	tests := []struct {
		name     string
		rc       string
		args     []string // besides -c FILE
		check    func(o *Options) bool
		warnings []string // substrings of stderr lines, in order
	}{
		{"empty", "", nil, func(o *Options) bool { return o.Sort == "10s" && !o.NoDNS }, nil},
		{"group", "group: dst-net\ngroup-prefix: /16,\n", nil, func(o *Options) bool {
			return o.set.group.By == group.DstNet && o.set.group.Prefixes == group.Prefixes{V4: 16, V6: 64}
		}, nil},
		{"group invalid", "group: port\ngroup-prefix: 40,64\n", nil, func(o *Options) bool {
			return o.set.group == group.Config{By: group.Host, Prefixes: group.DefaultPrefixes}
		},
			[]string{`rc:1: warning: invalid enumeration value "port" for directive "group"`, "rc:2: warning: group-prefix: invalid prefix lengths"}},
		{"group command line wins", "group: vlan\n", []string{"--group", "link"}, func(o *Options) bool { return o.set.group.By == group.Link }, nil},
		{"interface", "interface: eth1\n", nil, func(o *Options) bool { return o.Interface == "eth1" }, nil},
		{"dns-resolution no", "dns-resolution: no\n", nil, func(o *Options) bool { return o.NoDNS }, nil},
		{"dns-resolution Yes is false", "dns-resolution: Yes\n", nil, func(o *Options) bool { return o.NoDNS }, nil},
		{"dns-resolution true", "dns-resolution: true\n", nil, func(o *Options) bool { return !o.NoDNS }, nil},
		{"port-resolution", "port-resolution: no\n", nil, func(o *Options) bool { return o.NoPortNames }, nil},
		{"filter-code", "filter-code: tcp and \\\n port 80 # web\n", nil, func(o *Options) bool { return o.Filter == "tcp and  port 80" }, nil},
		{"show-bars", "show-bars: no\n", nil, func(o *Options) bool { return o.NoBars }, nil},
		{"promiscuous", "promiscuous: yes\n", nil, func(o *Options) bool { return o.Promisc }, nil},
		{"hide-source", "hide-source: yes\n", nil, func(o *Options) bool { return o.ui.hideSrc && o.set.view.HideSrc }, nil},
		{"hide-destination", "hide-destination: true\n", nil, func(o *Options) bool { return o.ui.hideDst && o.set.view.HideDst }, nil},
		{"use-bytes", "use-bytes: yes\n", nil, func(o *Options) bool { return o.Bytes }, nil},
		{"sort", "sort: destination\n", nil, func(o *Options) bool { return o.set.order == display.SortDest }, nil},
		{"sort invalid", "sort: 5s\n", nil, func(o *Options) bool { return o.set.order == display.Sort10s },
			[]string{`rc:1: warning: invalid enumeration value "5s" for directive "sort"`}},
		{"line-display", "line-display: one-line-received\n", nil, func(o *Options) bool { return o.ui.lineMode == table.OneLineRecv }, nil},
		{"line-display sent", "line-display: one-line-sent\n", nil, func(o *Options) bool { return o.ui.lineMode == table.OneLineSent }, nil},
		{"line-display both", "line-display: one-line-both\n", nil, func(o *Options) bool { return o.ui.lineMode == table.OneLineBoth }, nil},
		{"show-totals", "show-totals: yes\n", nil, func(o *Options) bool { return o.ui.totals }, nil},
		{"log-scale", "log-scale: yes\n", nil, func(o *Options) bool { return o.ui.logScale }, nil},
		{"max-bandwidth", "max-bandwidth: 100M\n", nil, func(o *Options) bool { return o.set.maxBW == 100<<20 }, nil},
		{"max-bandwidth invalid", "max-bandwidth: 1.5M\n", nil, func(o *Options) bool { return o.set.maxBW == 0 },
			[]string{"rc:1: warning: max-bandwidth: invalid rate"}},
		{"net-filter", "net-filter: 10.0.0.0/8\n", nil, func(o *Options) bool { return o.set.net4.String() == "10.0.0.0/8" }, nil},
		{"net-filter invalid", "net-filter: 10.0.0.0\n", nil, func(o *Options) bool { return !o.set.net4.IsValid() },
			[]string{"rc:1: warning: net-filter:"}},
		{"net-filter6", "net-filter6: fd00::/8\n", nil, func(o *Options) bool { return o.set.net6.String() == "fd00::/8" }, nil},
		{"link-local", "link-local: yes\n", nil, func(o *Options) bool { return o.LinkLocal }, nil},
		{"port-display on", "port-display: on\n", nil, func(o *Options) bool { return o.Ports && o.set.view.Ports == table.PortsOn }, nil},
		{"port-display source-only", "port-display: source-only\n", nil, func(o *Options) bool {
			return !o.Ports && o.set.view.Ports == table.PortsSource
		}, nil},
		{"port-display destination-only", "port-display: destination-only\n", nil, func(o *Options) bool { return o.set.view.Ports == table.PortsDest }, nil},
		{"timed-output", "timed-output: 5x\n", nil, func(o *Options) bool { return o.Seconds == 5 }, nil},
		{"timed-output negative", "timed-output: -5\n", nil, func(o *Options) bool { return o.Seconds == 0 }, []string{"rc:1: warning: invalid value"}},
		{"no-curses", "no-curses: yes\n", nil, func(o *Options) bool { return o.Text }, nil},
		{"num-lines", "num-lines: abc\n", nil, func(o *Options) bool { return o.Lines == 0 }, nil},
		{"num-lines 20", "num-lines: 20\n", nil, func(o *Options) bool { return o.Lines == 20 }, nil},
		{"screen-filter", "screen-filter: 10\\.0\\.0\n", nil, func(o *Options) bool { return o.ui.screenFilter == `10\.0\.0` }, nil},
		{"screen-filter invalid", "screen-filter: (abc\n", nil, func(o *Options) bool { return o.ui.screenFilter == "" },
			[]string{"rc:1: warning: screen-filter: Invalid regexp: missing closing )"}},
		{"json", "json: yes\n", nil, func(o *Options) bool { return o.JSON }, nil},
		{"fanout", "fanout: 4\nfanout-mode: cpu\n", nil, func(o *Options) bool { return o.Fanout == 4 && o.FanoutMode == "cpu" }, nil},
		{"fanout invalid", "fanout: four\n", nil, func(o *Options) bool { return o.Fanout == 0 }, []string{`rc:1: warning: invalid value "four" for directive "fanout"`}},
		{"buffer", "buffer: 64M\n", nil, func(o *Options) bool { return o.set.buffer == 64<<20 }, nil},
		{"buffer invalid", "buffer: lots\n", nil, func(o *Options) bool { return o.set.buffer == 32<<20 }, []string{"rc:1: warning: buffer: invalid size"}},
		{"snaplen", "snaplen: 256\n", nil, func(o *Options) bool { return o.Snaplen == 256 }, nil},
		{"wait", "wait: yes\n", nil, func(o *Options) bool { return o.Wait }, nil},
		{"max-flows", "max-flows: 1000\n", nil, func(o *Options) bool { return o.MaxFlows == 1000 }, nil},
		{"speed", "speed: 2.5\n", nil, func(o *Options) bool { return o.Speed == 2.5 }, nil},
		{"workers", "workers: 3\n", nil, func(o *Options) bool { return o.Workers == 3 }, nil},
		{"verbose", "verbose: yes\n", nil, func(o *Options) bool { return o.Verbose }, nil},
		{"master", "master: yes\n", nil, func(o *Options) bool { return o.Master }, nil},
		{"unknown and repeated", "bogus: 1\nsort: 2s\nsort: 40s\n", nil, func(o *Options) bool { return o.set.order == display.Sort2s },
			[]string{`rc:1: warning: unknown directive "bogus"`, `rc:3: warning: repeated directive "sort"`}},
		// The command line wins, without a warning.
		{"-n wins", "dns-resolution: yes\n", []string{"-n"}, func(o *Options) bool { return o.NoDNS }, nil},
		{"-o wins", "sort: source\n", []string{"-o", "2s"}, func(o *Options) bool { return o.set.order == display.Sort2s }, nil},
		{"-P wins", "port-display: source-only\n", []string{"-P"}, func(o *Options) bool { return o.set.view.Ports == table.PortsOn }, nil},
		{"-m wins over a bad value", "max-bandwidth: junk\n", []string{"-m", "1M"}, func(o *Options) bool { return o.set.maxBW == 1<<20 }, nil},
		{"-i wins", "interface: eth1\n", []string{"-i", "eth2"}, func(o *Options) bool { return o.Interface == "eth2" }, nil},
		{"--buffer wins", "buffer: 1M\n", []string{"--buffer", "2M"}, func(o *Options) bool { return o.set.buffer == 2<<20 }, nil},
		// iftop's example (docs/iftop.md#config-file), with fastop's answers.
		{"iftop's example", "interface: fva\n\ndns-resolution: no\n\n\nscreen-filter: x\n\n\nbogus-key: 1\n", []string{"-n"}, func(o *Options) bool {
			return o.Interface == "fva" && o.NoDNS && o.ui.screenFilter == "x"
		}, []string{`rc:9: warning: unknown directive "bogus-key"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := writeRC(t, tt.rc)
			res := parseArgs(t, append(tt.args, "-c", rc)...)
			if res.code != 0 || res.opts == nil {
				t.Fatalf("exit %d: %s", res.code, res.errOut)
			}
			if !tt.check(res.opts) {
				t.Errorf("options: %+v", *res.opts)
			}
			stderr := strings.ReplaceAll(res.errOut, rc, "rc")
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if stderr == "" {
				lines = nil
			}
			if len(lines) != len(tt.warnings) {
				t.Fatalf("stderr %q, want %d warnings %q", stderr, len(tt.warnings), tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("warning %d = %q, want %q…", i, lines[i], w)
				}
			}
		})
	}
}

func TestRCFiles(t *testing.T) {
	t.Run("-c missing", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nonexist")
		res := parseArgs(t, "-c", missing)
		if res.code != exitError || res.opts != nil {
			t.Fatalf("exit %d", res.code)
		}
		want := "fastop: -c " + missing + ": cannot read the config file: no such file or directory\n"
		if res.errOut != want {
			t.Errorf("stderr %q, want %q", res.errOut, want)
		}
	})
	t.Run("-c too large", func(t *testing.T) {
		big := writeRC(t, strings.Repeat("#", display.MaxRCSize+1))
		res := parseArgs(t, "-c", big)
		if res.code != exitError || !strings.Contains(res.errOut, "larger than 1 MiB") {
			t.Errorf("exit %d, stderr %q", res.code, res.errOut)
		}
	})
	t.Run("default missing is silent", func(t *testing.T) {
		res := parseArgs(t, "-n")
		if res.code != 0 || res.errOut != "" {
			t.Errorf("exit %d, stderr %q", res.code, res.errOut)
		}
	})
	t.Run("default is read", func(t *testing.T) {
		home := t.TempDir()
		os.WriteFile(filepath.Join(home, ".iftoprc"), []byte("sort: 40s\nline-display: one-line-both\n"), 0o644)
		o := &Options{}
		fs := pflag.NewFlagSet("fastop", pflag.ContinueOnError)
		o.AddFlags(fs)
		t.Setenv("HOME", home)
		var errOut bytes.Buffer
		if err := o.complete(fs, &errOut); err != nil || errOut.Len() != 0 {
			t.Fatalf("err %v, stderr %q", err, errOut.String())
		}
		if o.set.order != display.Sort40s || o.ui.lineMode != table.OneLineBoth {
			t.Errorf("~/.iftoprc not applied: %+v", o)
		}
	})
	t.Run("default unreadable warns", func(t *testing.T) {
		home := t.TempDir()
		os.Mkdir(filepath.Join(home, ".iftoprc"), 0o755) // a directory cannot be read as a file
		o := &Options{}
		fs := pflag.NewFlagSet("fastop", pflag.ContinueOnError)
		o.AddFlags(fs)
		t.Setenv("HOME", home)
		var errOut bytes.Buffer
		if err := o.complete(fs, &errOut); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errOut.String(), ".iftoprc: warning: config file ignored") {
			t.Errorf("stderr %q", errOut.String())
		}
	})
	t.Run("no home", func(t *testing.T) {
		t.Setenv("HOME", "")
		o := &Options{}
		if p, _ := o.rcFile(); p != "" {
			t.Errorf("rc file %q without a home", p)
		}
	})
}

// TestRCKeysAllHandled gives every directive of rcDirectives a valid
// value and checks that applyRC knows it (no "not supported" warning) and
// that it changes something.
func TestRCKeysAllHandled(t *testing.T) {
	valid := map[string]string{
		"interface": "eth9", "filter-code": "udp", "sort": "2s", "line-display": "one-line-sent", "max-bandwidth": "1M",
		"net-filter": "10.0.0.0/8", "net-filter6": "fd00::/8", "port-display": "source-only", "timed-output": "3",
		"num-lines": "4", "screen-filter": "x", "fanout": "3", "fanout-mode": "lb", "buffer": "8M", "snaplen": "96",
		"max-flows": "77", "speed": "3", "workers": "2", "group": "vlan", "group-prefix": "16,48",
		// The bools that default to true are set to no.
		"dns-resolution": "no", "port-resolution": "no", "show-bars": "no", "link-strip": "no",
	}
	for _, k := range rcDirectives {
		t.Run(k.name, func(t *testing.T) {
			v, ok := valid[k.name]
			if !ok {
				if k.kind != rcBool {
					t.Fatalf("no test value for %s", k.name)
				}
				v = "yes"
			}
			var def, o Options
			fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
			o.AddFlags(fs)
			def.AddFlags(pflag.NewFlagSet("y", pflag.ContinueOnError))
			w := o.applyRCEntries(fs, "rc", []display.RCEntry{{Key: k.name, Value: v, Line: 1}})
			if len(w) != 0 {
				t.Errorf("warnings %q", w)
			}
			if o.ui == def.ui && o.set.view == def.set.view && flagsEqual(&o, &def) {
				t.Errorf("%s: %s changed nothing", k.name, v)
			}
		})
	}
}

// TestRCDirectives checks the table: names are unique, every flag exists,
// the sort enum is display.ParseOrder's set, and IFTOPRC.md documents
// every directive.
func TestRCDirectives(t *testing.T) {
	var o Options
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	o.AddFlags(fs)
	seen := map[string]bool{}
	for _, d := range rcDirectives {
		if seen[d.name] {
			t.Errorf("%s listed twice", d.name)
		}
		seen[d.name] = true
		if d.flag != "" && fs.Lookup(d.flag) == nil {
			t.Errorf("%s: no flag %q", d.name, d.flag)
		}
		if (d.kind == rcEnum) != (d.enum != nil) || d.apply == nil {
			t.Errorf("%s: kind %d, enum %q, apply %v", d.name, d.kind, d.enum, d.apply != nil)
		}
	}
	// Every directive parses.
	var b strings.Builder
	for _, d := range rcDirectives {
		b.WriteString(d.name + ": x\n")
	}
	entries, warnings, _ := display.ParseRC(strings.NewReader(b.String()), "rc", knownRC)
	if len(entries) != len(rcDirectives) || len(warnings) != 0 {
		t.Errorf("%d entries and %q for %d directives", len(entries), warnings, len(rcDirectives))
	}
	sorts, _ := lookupRC("sort")
	for _, v := range sorts.enum {
		if _, err := display.ParseOrder(v); err != nil {
			t.Errorf("sort: %q is not an Order: %v", v, err)
		}
	}
	data, err := os.ReadFile(filepath.Join("..", "display", "IFTOPRC.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rcDirectives {
		if !strings.Contains(string(data), "| `"+d.name+"` |") {
			t.Errorf("IFTOPRC.md does not document %q", d.name)
		}
	}
}

// flagsEqual compares the exported options.
func flagsEqual(a, b *Options) bool {
	x, y := *a, *b
	x.set, y.set = settings{}, settings{}
	x.ui, y.ui = rcUI{}, rcUI{}
	return x == y
}

// FuzzIftoprc feeds any file to the parser and applies it. Whatever the
// file says: no panic; warnings are single lines naming the file; each
// directive comes once; and the options the file can set stay valid, so
// an rc file alone never makes fastop fail with a usage error.
func FuzzIftoprc(f *testing.F) {
	f.Add([]byte("interface: eth0\ndns-resolution: no\nsort: 2s\n"))
	f.Add([]byte("filter-code: tcp and \\\nport 80 # c\nmax-bandwidth: 10M\nnet-filter: 10.0.0.0/8\n"))
	f.Add([]byte("port-display: source-only\nline-display: one-line-both\nscreen-filter: (a\n"))
	f.Add([]byte("num-lines: -3\ntimed-output: 99999999999999999999\nbuffer: 1G\nspeed: NaN\nworkers: 0\n"))
	f.Add([]byte("bogus: 1\nsort: 2s\nsort: 40s\n\x00\xff: \x1b[2J\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, warnings, err := display.ParseRC(bytes.NewReader(data), "rc", knownRC)
		if err != nil {
			if len(data) <= display.MaxRCSize {
				t.Fatalf("error for %d bytes: %v", len(data), err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if !knownRC(e.Key) || seen[e.Key] {
				t.Fatalf("entry %q unknown or repeated", e.Key)
			}
			seen[e.Key] = true
			if strings.ContainsAny(e.Value, "#\n") || e.Line < 1 {
				t.Fatalf("entry %+v", e)
			}
		}
		var o Options
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		o.AddFlags(fs)
		warnings = append(warnings, o.applyRCEntries(fs, "rc", entries)...)
		for _, w := range warnings {
			if !strings.HasPrefix(w, "rc:") || strings.ContainsAny(w, "\n\r\x1b") {
				t.Fatalf("warning %q", w)
			}
		}
		if o.MaxBandwidth != "" {
			if _, err := parseRate(o.MaxBandwidth); err != nil {
				t.Fatalf("max-bandwidth %q accepted: %v", o.MaxBandwidth, err)
			}
		}
		if o.NetFilter != "" {
			if _, err := parseNetFilter(o.NetFilter); err != nil {
				t.Fatalf("net-filter %q accepted", o.NetFilter)
			}
		}
		if o.NetFilter6 != "" {
			if _, err := parseNetFilter6(o.NetFilter6); err != nil {
				t.Fatalf("net-filter6 %q accepted", o.NetFilter6)
			}
		}
		if _, err := display.ParseOrder(o.Sort); err != nil {
			t.Fatalf("sort %q accepted", o.Sort)
		}
		if _, err := parseSize(o.Buffer); err != nil {
			t.Fatalf("buffer %q accepted", o.Buffer)
		}
		if o.Seconds < 0 || o.Lines < 0 {
			t.Fatalf("negative -s %d or -L %d", o.Seconds, o.Lines)
		}
		if o.ui.screenFilter != "" {
			if _, err := screen.CompileFilter(o.ui.screenFilter); err != nil {
				t.Fatalf("screen-filter %q accepted", o.ui.screenFilter)
			}
		}
	})
}

package cmd

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/fastop/fastop/display/ipfix"
	"github.com/fastop/fastop/display/metrics"
	"github.com/fastop/fastop/display/screen"
	"github.com/fastop/fastop/ring/afpacket"
	"github.com/fastop/fastop/table"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// ExportOptions are the options of the exporters: Prometheus and IPFIX.
type ExportOptions struct {
	Prometheus    string        // --prometheus ADDR
	PrometheusTop int           // --prometheus-top N
	IPFIX         string        // --ipfix HOST:PORT
	IPFIXActive   time.Duration // --ipfix-active
	IPFIXIdle     time.Duration // --ipfix-idle
	IPFIXMTU      int           // --ipfix-mtu
}

// AddFlags registers the exporters' options on fs.
func (e *ExportOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&e.Prometheus, "prometheus", "", "serve Prometheus metrics at http://`addr`/metrics (e.g. 127.0.0.1:9100 or :9100)")
	fs.IntVar(&e.PrometheusTop, "prometheus-top", metrics.DefaultTop, "export the top `n` rows' 10 s rates as gauges in bytes/s (0: none)")
	fs.StringVar(&e.IPFIX, "ipfix", "", "export flows as IPFIX over UDP to the collector at `host:port` (e.g. 127.0.0.1:4739)")
	fs.DurationVar(&e.IPFIXActive, "ipfix-active", ipfix.DefaultActive, "IPFIX active timeout: a long flow is exported every `duration`")
	fs.DurationVar(&e.IPFIXIdle, "ipfix-idle", ipfix.DefaultIdle, "IPFIX idle timeout: a flow is exported once idle for `duration`")
	fs.IntVar(&e.IPFIXMTU, "ipfix-mtu", ipfix.DefaultMTU, "largest IPFIX message (UDP payload) in `bytes`; records are never split")
}

// complete checks the exporters' options against the others.
func (e *ExportOptions) complete(o *Options) error {
	if e.PrometheusTop < 0 || e.PrometheusTop > 1000 {
		return usageErrorf("--prometheus-top %d: use 0 to 1000 (0: no per-row gauges)", e.PrometheusTop)
	}
	if e.IPFIXActive < time.Second {
		return usageErrorf("--ipfix-active %v: use 1s or more (e.g. 60s)", e.IPFIXActive)
	}
	if e.IPFIXIdle < time.Second {
		return usageErrorf("--ipfix-idle %v: use 1s or more (e.g. 15s)", e.IPFIXIdle)
	}
	if e.IPFIXMTU < ipfix.MinMTU || e.IPFIXMTU > ipfix.MaxMTU {
		return usageErrorf("--ipfix-mtu %d: use %d to %d", e.IPFIXMTU, ipfix.MinMTU, ipfix.MaxMTU)
	}
	if o.Read != "" && e.Prometheus != "" {
		return usageErrorf("--prometheus serves live counters and cannot be used with -r (use --ipfix to export a file's flows)")
	}
	return nil
}

// on says whether any exporter is asked for.
func (e *ExportOptions) on() bool { return e.Prometheus != "" || e.IPFIX != "" }

// headless says whether fastop runs as a service: an exporter, stdout not
// a terminal and neither -t nor --json. Nothing is written on stdout then.
func (o *Options) headless(out io.Writer) bool {
	if !o.Export.on() || o.Text || o.JSON {
		return false
	}
	f, ok := out.(*os.File)
	return !ok || !term.IsTerminal(int(f.Fd()))
}

// errStopped ends a headless run that was asked to stop (SIGTERM): a
// service stopping is a success.
var errStopped = errors.New("stopped")

// exporters are the consumers of snapshots besides the screen and the
// reports.
type exporters struct {
	ipfix   *ipfix.Exporter
	metrics *metrics.Server
	ticked  *table.Snapshot // the last snapshot given to tick (files)
}

// startExporters opens what the options ask for. ifaces are the captured
// interfaces (none for a file); it fails, naming the flag, when an address
// is taken or a collector cannot be reached.
func startExporters(o *Options, ifaces []afpacket.Interface, live bool, notes io.Writer) (*exporters, error) {
	x := &exporters{}
	e := &o.Export
	if e.IPFIX != "" {
		cfg := ipfix.Config{
			Collector: e.IPFIX,
			Active:    e.IPFIXActive,
			Idle:      e.IPFIXIdle,
			MTU:       e.IPFIXMTU,
			Local:     localAddrs(o, ifaces),
		}
		if notes != nil {
			cfg.Notify = func(msg string) { fmt.Fprintf(notes, "fastop: --ipfix %s: %s\n", e.IPFIX, msg) }
		}
		if len(ifaces) == 1 {
			cfg.IfIndex = uint32(ifaces[0].Index)
		} else {
			// One per link, in the order of the snapshot's Interfaces:
			// a flow's part on each link is exported with its link's.
			for _, ifc := range ifaces {
				cfg.IfIndexes = append(cfg.IfIndexes, uint32(ifc.Index))
			}
		}
		if live {
			cfg.IfIndexOf = func(name string) uint32 {
				if ifc, err := afpacket.LookupInterface(name); err == nil {
					return uint32(ifc.Index)
				}
				return 0
			}
		}
		exp, err := ipfix.Dial(cfg)
		if err != nil {
			return nil, fmt.Errorf("--ipfix %s: %w", e.IPFIX, err)
		}
		x.ipfix = exp
		if live {
			exp.Start()
		}
	}
	if e.Prometheus != "" {
		cfg := metrics.Config{
			Addr:    e.Prometheus,
			Top:     e.PrometheusTop,
			View:    o.set.view,
			Group:   o.set.group,
			Version: version,
		}
		if x.ipfix != nil {
			exp := x.ipfix
			cfg.IPFIX = func() metrics.ExportStats {
				st := exp.Stats()
				return metrics.ExportStats{Messages: st.Messages, Records: st.Records, Errors: st.Errors, Skipped: st.Skipped}
			}
		}
		srv, err := metrics.Listen(cfg)
		if err != nil {
			x.close(nil)
			return nil, fmt.Errorf("--prometheus %s: %w", e.Prometheus, err)
		}
		x.metrics = srv
	}
	return x, nil
}

// localAddrs says which addresses are this host's for IPFIX's
// flowDirection: inside -F/-G when given (as the screen decides), else the
// interfaces' addresses.
func localAddrs(o *Options, ifaces []afpacket.Interface) func(netip.Addr) bool {
	n4, n6 := o.set.net4, o.set.net6
	local := map[netip.Addr]bool{}
	for _, ifc := range ifaces {
		for _, p := range ifc.Addrs {
			local[p.Addr().Unmap()] = true
		}
	}
	return func(a netip.Addr) bool {
		if a.Is4() && n4.IsValid() {
			return n4.Contains(a)
		}
		if a.Is6() && n6.IsValid() {
			return n6.Contains(a)
		}
		return local[a]
	}
}

// wrap returns an emit function that offers every snapshot to the
// exporters (they never make the merger wait) and then hands it to emit.
func (x *exporters) wrap(emit func(*table.Snapshot)) func(*table.Snapshot) {
	if x == nil || (x.ipfix == nil && x.metrics == nil) {
		return emit // nil: no tick is read, none is built
	}
	return func(s *table.Snapshot) {
		if x.ipfix != nil {
			x.ipfix.Offer(s)
		}
		if x.metrics != nil {
			x.metrics.Offer(s)
		}
		if emit != nil {
			emit(s)
		} else {
			s.Release()
		}
	}
}

// tick exports a file's closed tick, on the reader's goroutine.
func (x *exporters) tick(s *table.Snapshot) {
	if x != nil && x.ipfix != nil {
		x.ipfix.Update(s)
		x.ticked = s
	}
}

// final exports a file's last report (unless tick has seen it).
func (x *exporters) final(s *table.Snapshot) {
	if x != nil && x.ipfix != nil && s != x.ticked {
		x.ipfix.Update(s)
	}
}

// close flushes every flow not exported yet (counted up to the final
// snapshot, when there is one) and stops the exporters.
func (x *exporters) close(final *table.Snapshot) error {
	if x == nil {
		return nil
	}
	var err error
	if x.ipfix != nil {
		if x.ipfix.Close(final) != nil {
			err = fmt.Errorf("--ipfix: %v", x.ipfix.Stats().LastErr)
		}
		x.ipfix = nil
	}
	if x.metrics != nil {
		x.metrics.Close()
		x.metrics = nil
	}
	return err
}

// screenStatus returns what the screen polls to note the IPFIX exporter's
// errors (a collector that went away); nil when there is no IPFIX
// exporter.
func (x *exporters) screenStatus() func() screen.ExportStatus {
	if x == nil || x.ipfix == nil {
		return nil
	}
	exp := x.ipfix
	return func() screen.ExportStatus {
		st := exp.Stats()
		return screen.ExportStatus{Name: "IPFIX", Errors: st.Errors, Last: st.LastErr}
	}
}

// describe is the line a headless run writes on stderr at start.
func (x *exporters) describe(o *Options, names string) string {
	var parts []string
	if x.metrics != nil {
		parts = append(parts, fmt.Sprintf("metrics at http://%s/metrics", x.metrics.Addr()))
	}
	if x.ipfix != nil {
		parts = append(parts, "IPFIX to "+o.Export.IPFIX)
	}
	return fmt.Sprintf("fastop: capturing on %s; %s\n", names, strings.Join(parts, "; "))
}

package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultTop is how many rows are exported as rate gauges by default.
const DefaultTop = 10

// ExportStats is what an exporter reports about itself (IPFIX).
type ExportStats struct {
	Messages, Records, Errors, Skipped uint64
}

// Config configures a Server.
type Config struct {
	Addr    string       // listen address, e.g. 127.0.0.1:9100 or :9100
	Top     int          // rows exported as rate gauges (0: none)
	View    table.View   // how rows are aggregated (the screen's: host pairs, or flows with -P)
	Group   group.Config // what a row is (--group); other than host pairs, the top rows are fastop_top_group_rate_bytes_per_second
	Version string       // fastop's version, for fastop_build_info
	// IPFIX, when set, reports the IPFIX exporter's counters.
	IPFIX func() ExportStats
	// SysfsNet is where interface speeds are read (default /sys/class/net).
	SysfsNet string
}

// Server serves /metrics from the snapshots it is offered.
type Server struct {
	cfg     Config
	ln      net.Listener
	srv     *http.Server
	reg     *prometheus.Registry
	latest  chan *table.Snapshot // the newest snapshot not summarised yet
	stop    chan struct{}
	done    chan struct{}
	sum     atomic.Pointer[summary]
	skipped atomic.Uint64
	rows    []table.Flow // reused by summarise
}

type ifaceSum struct {
	name    string
	master  string // the bond or team the link belongs to; "" when none
	speed   int64  // bits/s as the capture read it; 0 when unknown
	tx, rx  table.Stat
	capture table.Capture
	down    bool
}

type topRow struct {
	left, right string  // host rows: the two ends; grouped rows: the label in left
	sent, recv  float64 // bytes per second over the 10 s window
}

// summary is what a scrape reads: built once per tick, immutable.
type summary struct {
	time   int64
	folded uint64 // cumulative
	ifaces []ifaceSum
	top    []topRow
}

// Listen opens the listening socket (so that a busy address is an error at
// start) and serves /metrics in the background.
func Listen(cfg Config) (*Server, error) {
	if cfg.SysfsNet == "" {
		cfg.SysfsNet = "/sys/class/net"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, listenError(err)
	}
	s := &Server{
		cfg:    cfg,
		ln:     ln,
		reg:    prometheus.NewRegistry(),
		latest: make(chan *table.Snapshot, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	s.reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		(*collector)(s),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "fastop: metrics at /metrics")
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	go s.run()
	return s, nil
}

// listenError says why the address cannot be used, in a few words.
func listenError(err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return errors.New("address already in use (another exporter or fastop listens there; pick another port)")
	case errors.Is(err, syscall.EACCES):
		return errors.New("permission denied (ports below 1024 need CAP_NET_BIND_SERVICE; pick a port above 1023)")
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return errors.New("no interface has that address (use 127.0.0.1, :PORT for all addresses, or an address of this host)")
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("cannot resolve %q: %s", dnsErr.Name, dnsErr.Err)
	}
	var addrErr *net.AddrError
	if errors.As(err, &addrErr) {
		return fmt.Errorf("%s (expected HOST:PORT, e.g. 127.0.0.1:9100 or :9100)", addrErr.Err)
	}
	return err
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Offer hands the server a snapshot without waiting: it takes a hold on it
// (Retain), and an older one not summarised yet is released unread, since
// only the newest counts. Call it from the merger, once per tick.
func (s *Server) Offer(snap *table.Snapshot) {
	snap.Retain()
	for {
		select {
		case s.latest <- snap:
			return
		default:
		}
		select {
		case old := <-s.latest:
			s.skipped.Add(1)
			old.Release()
		default:
		}
	}
}

// Close stops serving.
func (s *Server) Close() error {
	close(s.stop)
	<-s.done
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

func (s *Server) run() {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			select {
			case snap := <-s.latest:
				snap.Release()
			default:
			}
			return
		case snap := <-s.latest:
			s.sum.Store(s.summarise(snap))
			snap.Release()
		}
	}
}

// summarise copies what a scrape needs out of snap.
func (s *Server) summarise(snap *table.Snapshot) *summary {
	sum := &summary{time: snap.Time, folded: snap.Capture.Folded}
	for _, in := range snap.Interfaces {
		sum.ifaces = append(sum.ifaces, ifaceSum{name: in.Name, master: in.Master, speed: in.Speed, tx: in.TX, rx: in.RX, capture: in.Capture, down: in.Down})
	}
	if s.cfg.Top > 0 {
		s.rows = group.Rows(snap, s.cfg.View, s.cfg.Group, s.rows)
		rows := topN(s.rows, s.cfg.Top)
		for i := range rows {
			r := &rows[i]
			t := topRow{
				sent: snap.Rate(table.Win10s, r.Sent.Win[table.Win10s]),
				recv: snap.Rate(table.Win10s, r.Recv.Win[table.Win10s]),
			}
			if s.cfg.Group.By == group.Host {
				t.left, t.right = endpoint(&r.Key, false), endpoint(&r.Key, true)
			} else {
				// Numeric, as the host labels: no service name (a label
				// value that changed with /etc/services would start a
				// new series).
				t.left = string(display.AppendGroupLabel(nil, s.cfg.Group.By, &r.Key, nil, snap.Interfaces))
			}
			sum.top = append(sum.top, t)
		}
	}
	return sum
}

// topN returns the n rows with the most traffic over 10 s, in the
// screen's order. Rows without traffic in that window are left out. A
// bounded min-heap finds the n-th largest total first, so only the rows at
// or above it are sorted (ties at the boundary included, so the order is
// exactly the screen's): O(rows · log n) instead of a full sort.
func topN(rows []table.Flow, n int) []table.Flow {
	total := func(r *table.Flow) uint64 { return r.Sent.Win[table.Win10s] + r.Recv.Win[table.Win10s] }
	heap := make([]uint64, 0, n) // min-heap of the n largest totals
	for i := range rows {
		v := total(&rows[i])
		if v == 0 {
			continue
		}
		if len(heap) < n {
			heap = append(heap, v)
			for j := len(heap) - 1; j > 0; {
				p := (j - 1) / 2
				if heap[p] <= heap[j] {
					break
				}
				heap[p], heap[j] = heap[j], heap[p]
				j = p
			}
			continue
		}
		if v <= heap[0] {
			continue
		}
		heap[0] = v
		for j := 0; ; {
			l, m := 2*j+1, j
			if l < len(heap) && heap[l] < heap[m] {
				m = l
			}
			if l+1 < len(heap) && heap[l+1] < heap[m] {
				m = l + 1
			}
			if m == j {
				break
			}
			heap[m], heap[j] = heap[j], heap[m]
			j = m
		}
	}
	if len(heap) == 0 {
		return rows[:0]
	}
	threshold := heap[0]
	top := rows[:0]
	for _, r := range rows {
		if total(&r) >= threshold {
			top = append(top, r)
		}
	}
	table.SortByColumn(top, table.Win10s, table.TwoLine)
	return top[:min(n, len(top))]
}

// endpoint is one end of a row as the screen shows it with -n -N: the
// address, with its port when the row keeps ports.
func endpoint(k *table.Key, right bool) string {
	if k.IsOther() {
		return "(other)"
	}
	a, port := k.AAddr(), k.APort
	if right {
		a, port = k.BAddr(), k.BPort
	}
	if !a.IsValid() {
		return "*"
	}
	if port == 0 {
		return a.String()
	}
	return netip.AddrPortFrom(a, port).String()
}

// speed reads an interface's speed in bytes per second (Prometheus' base
// unit; promtool rejects "bits"): /sys/class/net/X/speed says Mb/s, -1 or
// an error when unknown.
func (s *Server) speed(name string) (float64, bool) {
	if strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(s.cfg.SysfsNet, name, "speed"))
	if err != nil {
		return 0, false
	}
	mbps, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || mbps <= 0 {
		return 0, false
	}
	return float64(mbps) * 1e6 / 8, true
}

// collector is the Server seen by the registry.
type collector Server

var (
	labelsDir   = []string{"interface", "master", "direction"}
	descBytes   = prometheus.NewDesc("fastop_interface_bytes_total", "IP bytes (the IP header's length field, as iftop counts) per interface and direction: sent by this host, or received (third-party traffic counts as received, as in iftop).", labelsDir, nil)
	descPackets = prometheus.NewDesc("fastop_interface_packets_total", "Packets counted to flows per interface and direction.", labelsDir, nil)
	descSpeed   = prometheus.NewDesc("fastop_interface_speed_bytes_per_second", "Link speed from /sys/class/net/IF/speed, in bytes/s (Prometheus base unit); no series when the kernel does not know it.", []string{"interface"}, nil)
	descUp      = prometheus.NewDesc("fastop_interface_up", "1 when the captured interface is up, 0 when it is down or gone.", []string{"interface"}, nil)
	descCapPkts = prometheus.NewDesc("fastop_capture_packets_total", "Frames the capture delivered, counted or not.", []string{"interface"}, nil)
	descDropped = prometheus.NewDesc("fastop_capture_dropped_total", "Frames the kernel dropped because the ring was full (PACKET_STATISTICS).", []string{"interface"}, nil)
	descUndec   = prometheus.NewDesc("fastop_capture_undecodable_total", "Frames with truncated or malformed IP headers, or an unsupported link type.", []string{"interface"}, nil)
	descFolded  = prometheus.NewDesc("fastop_capture_folded_flows_total", "Flows folded into the \"other\" row because the flow table (shared by all interfaces) was full: rows that gave way to heavier flows, and new flows refused a row (once per tick refused).", nil, nil)
	descTop     = prometheus.NewDesc("fastop_top_rate_bytes_per_second", "The top rows of the screen: 10 s average rate in bytes/s (Prometheus base unit), per direction (sent: left to right).", []string{"left", "right", "direction"}, nil)
	descTopGrp  = prometheus.NewDesc("fastop_top_group_rate_bytes_per_second", "With --group other than host: the top rows of the screen (services, networks, VLANs or links, as group says): 10 s average rate in bytes/s, per direction (sent: by the local side).", []string{"group", "key", "direction"}, nil)
	descTime    = prometheus.NewDesc("fastop_snapshot_timestamp_seconds", "When the snapshot these values come from was taken (Unix time).", nil, nil)
	descSkipped = prometheus.NewDesc("fastop_metrics_skipped_snapshots_total", "Snapshots replaced by a newer one before they were summarised (harmless: values are cumulative).", nil, nil)
	descBuild   = prometheus.NewDesc("fastop_build_info", "fastop's version and the Go version it was built with.", []string{"version", "goversion"}, nil)
	descIPMsgs  = prometheus.NewDesc("fastop_ipfix_messages_total", "IPFIX messages sent.", nil, nil)
	descIPRecs  = prometheus.NewDesc("fastop_ipfix_records_total", "IPFIX flow records sent.", nil, nil)
	descIPErrs  = prometheus.NewDesc("fastop_ipfix_export_errors_total", "IPFIX messages the network refused (collector down, no route).", nil, nil)
	descIPSkip  = prometheus.NewDesc("fastop_ipfix_skipped_snapshots_total", "Snapshots the IPFIX exporter skipped because it was behind.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBytes, descPackets, descSpeed, descUp, descCapPkts, descDropped, descUndec,
		descFolded, descTop, descTopGrp, descTime, descSkipped, descBuild, descIPMsgs, descIPRecs, descIPErrs, descIPSkip} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := (*Server)(c)
	ch <- prometheus.MustNewConstMetric(descBuild, prometheus.GaugeValue, 1, s.cfg.Version, runtime.Version())
	ch <- prometheus.MustNewConstMetric(descSkipped, prometheus.CounterValue, float64(s.skipped.Load()))
	if s.cfg.IPFIX != nil {
		st := s.cfg.IPFIX()
		ch <- prometheus.MustNewConstMetric(descIPMsgs, prometheus.CounterValue, float64(st.Messages))
		ch <- prometheus.MustNewConstMetric(descIPRecs, prometheus.CounterValue, float64(st.Records))
		ch <- prometheus.MustNewConstMetric(descIPErrs, prometheus.CounterValue, float64(st.Errors))
		ch <- prometheus.MustNewConstMetric(descIPSkip, prometheus.CounterValue, float64(st.Skipped))
	}
	sum := s.sum.Load()
	if sum == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(descTime, prometheus.GaugeValue, float64(sum.time)/1e9)
	ch <- prometheus.MustNewConstMetric(descFolded, prometheus.CounterValue, float64(sum.folded))
	for i := range sum.ifaces {
		in := &sum.ifaces[i]
		m := in.master
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(in.tx.Bytes), in.name, m, "sent")
		ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(in.rx.Bytes), in.name, m, "recv")
		ch <- prometheus.MustNewConstMetric(descPackets, prometheus.CounterValue, float64(in.tx.Packets), in.name, m, "sent")
		ch <- prometheus.MustNewConstMetric(descPackets, prometheus.CounterValue, float64(in.rx.Packets), in.name, m, "recv")
		ch <- prometheus.MustNewConstMetric(descCapPkts, prometheus.CounterValue, float64(in.capture.Packets), in.name)
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(in.capture.Dropped), in.name)
		ch <- prometheus.MustNewConstMetric(descUndec, prometheus.CounterValue, float64(in.capture.Undecodable), in.name)
		up := 1.0
		if in.down {
			up = 0
		}
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up, in.name)
		if in.speed > 0 {
			ch <- prometheus.MustNewConstMetric(descSpeed, prometheus.GaugeValue, float64(in.speed)/8, in.name)
		} else if bps, ok := s.speed(in.name); ok {
			ch <- prometheus.MustNewConstMetric(descSpeed, prometheus.GaugeValue, bps, in.name)
		}
	}
	by := s.cfg.Group.By
	for i := range sum.top {
		r := &sum.top[i]
		if by != group.Host {
			ch <- prometheus.MustNewConstMetric(descTopGrp, prometheus.GaugeValue, r.sent, by.String(), r.left, "sent")
			ch <- prometheus.MustNewConstMetric(descTopGrp, prometheus.GaugeValue, r.recv, by.String(), r.left, "recv")
			continue
		}
		ch <- prometheus.MustNewConstMetric(descTop, prometheus.GaugeValue, r.sent, r.left, r.right, "sent")
		ch <- prometheus.MustNewConstMetric(descTop, prometheus.GaugeValue, r.recv, r.left, r.right, "recv")
	}
}

package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fastop/fastop/bench/gen"
)

// httpGet fetches url from inside the capture namespace.
func (r *liveRig) httpGet(t *testing.T, u string) (string, error) {
	t.Helper()
	// The transport dials from goroutines of its own: each dial enters
	// the namespace itself.
	dial := func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		err = r.cns.Do(func() error {
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	c := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: dial}}
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("%s: %s", u, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// freeTCPPort returns a TCP port of 127.0.0.1 free in the namespace.
func (r *liveRig) freeTCPPort(t *testing.T) int {
	t.Helper()
	var port int
	if err := r.cns.Do(func() error {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		port = l.Addr().(*net.TCPAddr).Port
		return l.Close()
	}); err != nil {
		t.Fatal(err)
	}
	return port
}

// A Prometheus server (Debian's prometheus package) scrapes a headless
// fastop that captures known traffic between two test namespaces; its query
// API returns exactly the packets and IP bytes that were sent. The page
// passes promtool check metrics, and a stop ends the headless run with
// success and nothing on stdout.
func TestPrometheusScrapesLiveCounters(t *testing.T) {
	requireTool(t, "prometheus")
	requireTool(t, "promtool")
	rig := newLiveRig(t)
	if err := rig.cns.IP("link", "set", "lo", "up"); err != nil {
		t.Fatal(err)
	}
	var flows []gen.Flow
	for i := range 20 {
		flows = append(flows, gen.Flow{DstMAC: rig.capMAC, SrcMAC: rig.genMAC,
			Src: netip.AddrFrom4([4]byte{10, 5, byte(i), 1}), Dst: netip.AddrFrom4([4]byte{10, 6, 0, 2}),
			Proto: gen.ProtoUDP, SrcPort: uint16(20000 + i), DstPort: 9000, Payload: 100 + 10*i})
	}
	frames, err := gen.Prebuild(flows)
	if err != nil {
		t.Fatal(err)
	}
	port := rig.freeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errOut := &signalWriter{mark: "metrics at", ready: make(chan struct{})}
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- rig.cns.Do(func() error {
			root := NewRootCommand(IO{In: strings.NewReader(""), Out: &out, ErrOut: errOut}, nil)
			root.SetArgs([]string{"-i", rig.veth.B, "-n", "--fanout", "2", "--prometheus", addr, "--prometheus-top", "5"})
			return root.ExecuteContext(ctx)
		})
	}()
	select {
	case <-errOut.ready:
	case err := <-done:
		t.Fatalf("fastop ended before capturing: %v: %s", err, errOut.buf.String())
	}
	res, err := rig.sender.Run(context.Background(), gen.RunConfig{Source: frames, Count: 5000, Rate: 20000})
	if err != nil || res.Failed != 0 {
		t.Fatalf("generator: %v, %d refused", err, res.Failed)
	}
	var wantBytes uint64
	for i := range flows {
		wantBytes += res.PerFlow[i] * uint64(flows[i].IPLen())
	}

	// The Prometheus server, in the same namespace, scrapes every second.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: fastop\n    static_configs:\n      - targets: ['%s']\n", addr)), 0o644)
	promPort := rig.freeTCPPort(t)
	prom := rig.cns.Command("prometheus", "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", promPort))
	var promLog bytes.Buffer
	prom.Stdout, prom.Stderr = &promLog, &promLog
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		prom.Process.Kill()
		prom.Wait()
	}()

	query := func(q string) (float64, bool) {
		body, err := rig.httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=%s", promPort, url.QueryEscape(q)))
		if err != nil {
			return 0, false
		}
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.Unmarshal([]byte(body), &r) != nil || len(r.Data.Result) != 1 {
			return 0, false
		}
		s, _ := r.Data.Result[0].Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil
	}
	series := fmt.Sprintf(`{interface=%q,direction="recv"}`, rig.veth.B)
	var pkts, byts float64
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		var ok1, ok2 bool
		pkts, ok1 = query("fastop_interface_packets_total" + series)
		byts, ok2 = query("fastop_interface_bytes_total" + series)
		if ok1 && ok2 && uint64(pkts) == res.Sent && uint64(byts) == wantBytes {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if uint64(pkts) != res.Sent || uint64(byts) != wantBytes {
		t.Errorf("Prometheus says %v packets, %v bytes; sent %d packets, %d IP bytes (prometheus log: %s)", pkts, byts, res.Sent, wantBytes, promLog.String())
	}
	if v, ok := query(fmt.Sprintf(`fastop_capture_packets_total{interface=%q}`, rig.veth.B)); !ok || uint64(v) != res.Sent {
		t.Errorf("fastop_capture_packets_total %v (%v), want %d", v, ok, res.Sent)
	}
	if v, ok := query(`fastop_build_info`); !ok || v != 1 {
		t.Errorf("fastop_build_info %v (%v)", v, ok)
	}

	page, err := rig.httpGet(t, "http://"+addr+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	check := exec.Command("promtool", "check", "metrics")
	check.Stdin = strings.NewReader(page)
	if msg, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v: %s", err, msg)
	}
	for _, want := range []string{"fastop_top_rate_bytes_per_second{", "fastop_capture_dropped_total{", "process_cpu_seconds_total", "go_goroutines"} {
		if !strings.Contains(page, want) {
			t.Errorf("no %s on the page", want)
		}
	}

	cancel()
	if err := <-done; !errors.Is(err, errStopped) {
		t.Errorf("a stopped headless run returned %v, want errStopped (exit 0)", err)
	}
	if out.Len() != 0 {
		t.Errorf("headless fastop wrote %q on stdout", out.String())
	}
}

// An address already taken is one line at start that names --prometheus.
func TestPrometheusAddressInUse(t *testing.T) {
	rig := newLiveRig(t)
	if err := rig.cns.IP("link", "set", "lo", "up"); err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	if err := rig.cns.Do(func() (err error) {
		l, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out, errOut bytes.Buffer
	err := rig.cns.Do(func() error {
		root := NewRootCommand(IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, nil)
		root.SetArgs([]string{"-i", rig.veth.B, "--prometheus", l.Addr().String()})
		return root.ExecuteContext(context.Background())
	})
	if err == nil {
		t.Fatal("fastop ran on a busy address")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "--prometheus "+l.Addr().String()+": address already in use") || strings.Contains(msg, "\n") {
		t.Errorf("error %q", msg)
	}
}

// Live capture exported as IPFIX: fastop captures known traffic between two
// test namespaces and, when stopped, flushes every flow to nfcapd running
// in the capture namespace; nfdump reads back exactly what was sent per
// uniflow, with the receiving interface's ifindex and the ingress
// direction (the traffic is addressed to the capturing host).
func TestIPFIXLive(t *testing.T) {
	rig := newLiveRig(t)
	if err := rig.cns.IP("link", "set", "lo", "up"); err != nil {
		t.Fatal(err)
	}
	if err := rig.cns.IP("addr", "add", "10.6.0.2/16", "dev", rig.veth.B); err != nil {
		t.Fatal(err)
	}
	c := startNfcapdWith(t, rig.cns.Command)
	var flows []gen.Flow
	for i := range 30 {
		f := gen.Flow{DstMAC: rig.capMAC, SrcMAC: rig.genMAC,
			Src: netip.AddrFrom4([4]byte{10, 5, byte(i), 1}), Dst: netip.AddrFrom4([4]byte{10, 6, 0, 2}),
			Proto: gen.ProtoUDP, SrcPort: uint16(20000 + i), DstPort: 9000, Payload: 100 + 10*i}
		if i%3 == 0 {
			f.Proto = gen.ProtoTCP
		}
		flows = append(flows, f)
	}
	frames, err := gen.Prebuild(flows)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errOut := &signalWriter{mark: "IPFIX to", ready: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		done <- rig.cns.Do(func() error {
			root := NewRootCommand(IO{In: strings.NewReader(""), Out: io.Discard, ErrOut: errOut}, nil)
			root.SetArgs([]string{"-i", rig.veth.B, "-n", "--fanout", "2", "--ipfix", c.addr})
			return root.ExecuteContext(ctx)
		})
	}()
	select {
	case <-errOut.ready:
	case err := <-done:
		t.Fatalf("fastop ended before capturing: %v: %s", err, errOut.buf.String())
	}
	res, err := rig.sender.Run(context.Background(), gen.RunConfig{Source: frames, Count: 6000, Rate: 20000})
	if err != nil || res.Failed != 0 {
		t.Fatalf("generator: %v, %d refused", err, res.Failed)
	}
	time.Sleep(500 * time.Millisecond) // the last ring block retires
	cancel()
	if err := <-done; !errors.Is(err, errStopped) {
		t.Fatalf("fastop: %v (stderr %s)", err, errOut.buf.String())
	}
	want := map[tuple]counts{}
	for i, f := range flows {
		if res.PerFlow[i] > 0 {
			want[tuple{f.Src, f.Dst, f.SrcPort, f.DstPort, f.Proto}] = counts{res.PerFlow[i], res.PerFlow[i] * uint64(f.IPLen())}
		}
	}
	got, n, ifs := c.records(t)
	compareFlows(t, "live", got, want)
	var index int
	rig.cns.Do(func() error {
		ifi, err := net.InterfaceByName(rig.veth.B)
		if err == nil {
			index = ifi.Index
		}
		return err
	})
	if want := fmt.Sprintf("%d,0,0", index); ifs[want] != n {
		t.Errorf("records by in,out,dir: %v; want all %d as %s (ingress on ifindex %d)", ifs, n, want, index)
	}
}

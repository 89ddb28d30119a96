package metrics

import (
	"io"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// With --group, the top rows are gauges labelled with the group and the
// row's key as the screen shows it numerically; at most 2 × top series;
// the page passes promtool check metrics (Debian's prometheus package: the
// test fails without it).
func TestTopGroupRows(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is required (apt-get install prometheus)")
	}
	k := func(a byte, ap uint16, b byte, bp uint16, vlan uint16) table.Key {
		return table.Key{Family: 4, A: [16]byte{10, 0, 0, a}, B: [16]byte{10, 9, 0, b}, APort: ap, BPort: bp, Proto: 6, VLAN: vlan}
	}
	st := func(n uint64) table.Stat {
		return table.Stat{Win: [3]uint64{n, 5 * n, 20 * n}, Bytes: 20 * n, Packets: n}
	}
	snap := &table.Snapshot{
		Window:     [3]int64{2e9, 10e9, 40e9},
		Interfaces: []table.Interface{{Name: "eth0"}},
		Flows: []table.Flow{
			{Key: k(1, 50000, 1, 443, 100), Sent: st(1000), Recv: st(100)},
			{Key: k(2, 443, 2, 50001, 100), Sent: st(3000), Recv: st(300)},
			{Key: k(3, 40000, 3, 22, 0), Sent: st(50), Recv: st(5)},
			{Key: k(4, 40000, 4, 5201, 7), Sent: st(10), Recv: st(1)},
			{Key: k(5, 40000, 5, 5202, 7), Sent: st(9), Recv: st(1)},
		},
	}
	tests := []struct {
		by   group.By
		top  int
		want map[string]float64 // series → bytes/s
	}{
		{group.Service, 2, map[string]float64{
			`{direction="sent",group="service",key="tcp/443"} `: 4000 * 5 / 10.0,
			`{direction="recv",group="service",key="tcp/443"} `: 400 * 5 / 10.0,
			`{direction="sent",group="service",key="tcp/22"} `:  50 * 5 / 10.0,
		}},
		{group.VLAN, 5, map[string]float64{
			`{direction="sent",group="vlan",key="vlan 100"} `: 4000 * 5 / 10.0,
			`{direction="sent",group="vlan",key="untagged"} `: 50 * 5 / 10.0,
			`{direction="recv",group="vlan",key="vlan 7"} `:   2 * 5 / 10.0,
		}},
		{group.DstNet, 1, map[string]float64{
			`{direction="sent",group="dst-net",key="10.9.0.0/24"} `: 4069 * 5 / 10.0,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.by.String(), func(t *testing.T) {
			s := &Server{cfg: Config{Top: tt.top, Group: group.Config{By: tt.by}}}
			s.sum.Store(s.summarise(snap))
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister((*collector)(s))
			srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
			defer srv.Close()
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page := string(body)
			series := 0
			for _, l := range strings.Split(page, "\n") {
				if strings.HasPrefix(l, "fastop_top_group_rate_bytes_per_second{") {
					series++
				}
				if strings.HasPrefix(l, "fastop_top_rate_bytes_per_second{") {
					t.Errorf("a host pair series under --group %v: %s", tt.by, l)
				}
			}
			if want := 2 * min(tt.top, 3); tt.by == group.Service && series != want {
				t.Errorf("%d series, want %d (2 per top row)", series, want)
			}
			if series > 2*tt.top {
				t.Errorf("%d series for top %d", series, tt.top)
			}
			for sr, v := range tt.want {
				line := "fastop_top_group_rate_bytes_per_second" + sr
				if !strings.Contains(page, line+formatFloat(v)+"\n") {
					t.Errorf("no %s%v on the page:\n%s", line, v, page)
				}
			}
			check := exec.Command(promtool, "check", "metrics")
			check.Stdin = strings.NewReader(page)
			if msg, err := check.CombinedOutput(); err != nil {
				t.Errorf("promtool check metrics: %v: %s", err, msg)
			}
		})
	}
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

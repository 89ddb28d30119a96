package metrics

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/fastop/fastop/table"
	"github.com/prometheus/client_golang/prometheus"
)

// topN picks the same rows, in the same order, as a full sort in the
// screen's order, ties at the boundary included.
func TestTopN(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ rows, n, spread int }{
		{0, 10, 1}, {5, 10, 10}, {100, 10, 1000}, {1000, 10, 5}, {1000, 1, 3}, {5000, 100, 50},
	} {
		t.Run(fmt.Sprintf("%d rows top %d spread %d", tc.rows, tc.n, tc.spread), func(t *testing.T) {
			rows := make([]table.Flow, tc.rows)
			for i := range rows {
				rows[i].Key = table.Key{Family: 4, A: [16]byte{10, byte(i >> 8), byte(i)}, B: [16]byte{10, 1}}
				rows[i].Sent.Win[table.Win10s] = uint64(rng.IntN(tc.spread))
				rows[i].Recv.Win[table.Win10s] = uint64(rng.IntN(tc.spread))
				rows[i].Sent.Win[table.Win2s] = uint64(rng.IntN(3))
			}
			var want []table.Flow
			for _, r := range rows {
				if r.Sent.Win[table.Win10s]+r.Recv.Win[table.Win10s] > 0 {
					want = append(want, r)
				}
			}
			table.SortByColumn(want, table.Win10s, table.TwoLine)
			want = want[:min(tc.n, len(want))]
			got := topN(slices.Clone(rows), tc.n)
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("row %d: %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
}

// A scrape reads the interface speed from sysfs when it is known, in
// bytes per second, and gives no value when it is -1 or missing.
func TestSpeed(t *testing.T) {
	dir := t.TempDir()
	for name, v := range map[string]string{"eth0": "10000\n", "veth0": "-1\n", "bad": "x\n"} {
		if err := mkfile(dir, name, v); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{cfg: Config{SysfsNet: dir}}
	tests := []struct {
		name string
		bps  float64
		ok   bool
	}{
		{"eth0", 10e9 / 8, true},
		{"veth0", 0, false},
		{"bad", 0, false},
		{"gone", 0, false},
		{"../eth0", 0, false},
	}
	for _, tc := range tests {
		if bps, ok := s.speed(tc.name); bps != tc.bps || ok != tc.ok {
			t.Errorf("%s: %v %v, want %v %v", tc.name, bps, ok, tc.bps, tc.ok)
		}
	}
}

// A captured link's master (bond or team) labels its series, and the
// speed the capture read for it is used before sysfs is asked.
func TestLinkMasterAndSpeed(t *testing.T) {
	s := &Server{cfg: Config{SysfsNet: t.TempDir()}}
	snap := &table.Snapshot{Interfaces: []table.Interface{
		{Name: "eth0", TX: table.Stat{Bytes: 100, Packets: 2}, Link: table.Link{Master: "bond0", Speed: 10e9, State: "active"}},
		{Name: "eth9", RX: table.Stat{Bytes: 7, Packets: 1}},
	}}
	s.sum.Store(s.summarise(snap))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister((*collector)(s))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{} // "name{label=value,...}" → value
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			got[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for k, v := range map[string]float64{
		"fastop_interface_bytes_total{direction=sent,interface=eth0,master=bond0}": 100,
		"fastop_interface_bytes_total{direction=recv,interface=eth9,master=}":      7,
		"fastop_interface_speed_bytes_per_second{interface=eth0}":                  10e9 / 8,
	} {
		if gv, ok := got[k]; !ok || gv != v {
			t.Errorf("%s = %v (present %v), want %v", k, gv, ok, v)
		}
	}
	if _, ok := got["fastop_interface_speed_bytes_per_second{interface=eth9}"]; ok {
		t.Error("eth9's speed is unknown, yet it has a speed series")
	}
}

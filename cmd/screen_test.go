package cmd

import (
	"errors"
	"testing"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/screen"
	"github.com/fastop/fastop/table"
)

// TestScreenConfig checks how the options and ~/.iftoprc become the
// screen's starting state.
func TestScreenConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	utf8 := env(map[string]string{"LANG": "en_US.UTF-8"})
	rc := writeRC(t, "line-display: one-line-received\nshow-totals: yes\nlog-scale: yes\nscreen-filter: 10\\.0\nhide-source: yes\nport-display: destination-only\n")

	res := parseArgs(t, "-c", rc, "-n", "-N", "-b", "-B", "-m", "10M", "-o", "source", "-f", "udp", "-i", "eth1")
	if res.opts == nil {
		t.Fatalf("exit %d: %s", res.code, res.errOut)
	}
	errFilter := errors.New("x")
	cfg := res.opts.screenConfig(screenControl{Interface: "eth1", SetFilter: func(string) error { return errFilter }}, utf8)
	st := cfg.State
	switch {
	case st.DNS, st.PortNames, st.Bars:
		t.Errorf("-n -N -b not applied: %+v", st)
	case st.Order != display.SortSource:
		t.Errorf("order %v", st.Order)
	case st.Mode != table.OneLineRecv || !st.Totals || !st.Log:
		t.Errorf("rc screen settings not applied: %+v", st)
	case st.Filter == nil || st.FilterText != `10\.0` || !st.Filter.MatchString("10.0.0.1"):
		t.Errorf("screen filter %q", st.FilterText)
	case st.View != (table.View{Ports: table.PortsDest, HideSrc: true}):
		t.Errorf("view %+v", st.View)
	case st.FilterCode != "udp":
		t.Errorf("filter code %q", st.FilterCode)
	}
	if cfg.MaxBandwidth != 10<<20 || !cfg.Bytes || cfg.ASCII || !cfg.Live || cfg.Services == nil {
		t.Errorf("config %+v", cfg)
	}
	if cfg.Listening != "Listening on eth1" || cfg.EndMsg != "" {
		t.Errorf("hints %q, %q", cfg.Listening, cfg.EndMsg)
	}
	if cfg.SetFilter == nil || cfg.SetFilter("x") != errFilter {
		t.Error("SetFilter not passed on")
	}

	// Defaults, a file, and a C locale.
	res = parseArgs(t, "-r", "cap.pcap")
	cfg = res.opts.screenConfig(screenControl{}, env(map[string]string{"LC_ALL": "C", "LANG": "en_US.UTF-8"}))
	if def := screen.DefaultUIState(); cfg.State != def {
		t.Errorf("default state %+v, want %+v", cfg.State, def)
	}
	if !cfg.ASCII || cfg.Live || cfg.MaxBandwidth != 0 || cfg.SetFilter != nil {
		t.Errorf("config %+v", cfg)
	}
	if cfg.Listening != "Reading cap.pcap" || cfg.EndMsg != "End of cap.pcap: q quits" {
		t.Errorf("hints %q, %q", cfg.Listening, cfg.EndMsg)
	}
}

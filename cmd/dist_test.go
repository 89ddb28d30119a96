package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The files in dist/ are what the README tells a fleet to install: the
// systemd unit passes systemd-analyze verify, the Prometheus configuration
// passes promtool check config (which checks the alert rules it names),
// and the alert rules pass their own promtool unit tests (a link at 95% of
// its speed fires, one at 50% does not; rising kernel drops fire).
func TestDistFiles(t *testing.T) {
	t.Run("systemd unit", func(t *testing.T) {
		requireTool(t, "systemd-analyze")
		unit, err := os.ReadFile("../dist/fastop.service")
		if err != nil {
			t.Fatal(err)
		}
		// verify checks that ExecStart's program exists: point it at one
		// that does (this test binary) in a copy of the unit.
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(unit), "ExecStart=/usr/local/bin/fastop ") {
			t.Fatal("the unit does not start /usr/local/bin/fastop")
		}
		copyPath := filepath.Join(t.TempDir(), "fastop.service")
		os.WriteFile(copyPath, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/fastop", self)), 0o644)
		if out, err := exec.Command("systemd-analyze", "verify", copyPath).CombinedOutput(); err != nil || len(out) != 0 {
			t.Errorf("systemd-analyze verify: %v: %s", err, out)
		}
		for _, want := range []string{"CapabilityBoundingSet=CAP_NET_RAW\n", "AmbientCapabilities=CAP_NET_RAW\n", "NoNewPrivileges=yes", "DynamicUser=yes", "ProtectSystem=strict"} {
			if !strings.Contains(string(unit), want) {
				t.Errorf("the unit lacks %s", want)
			}
		}
	})
	t.Run("prometheus config and alerts", func(t *testing.T) {
		requireTool(t, "promtool")
		for _, args := range [][]string{
			{"check", "config", "prometheus.yml"},
			{"check", "rules", "fastop-alerts.yml"},
			{"test", "rules", "fastop-alerts.test.yml"},
		} {
			cmd := exec.Command("promtool", args...)
			cmd.Dir = "../dist"
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("promtool %s: %v: %s", strings.Join(args, " "), err, out)
			}
		}
	})
}

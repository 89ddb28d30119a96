package ring

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenWithoutPrivilege: without CAP_NET_RAW, Open fails with
// ErrPermission (and os.ErrPermission) and names the setcap fix. As root it
// runs itself again as nobody, with no capabilities.
func TestOpenWithoutPrivilege(t *testing.T) {
	if os.Geteuid() != 0 {
		g, err := Open(&Config{Interface: "lo"})
		if err == nil {
			g.Close()
			t.Skip("skipping: this process may capture without root (it has CAP_NET_RAW)")
		}
		if !errors.Is(err, ErrPermission) || !errors.Is(err, os.ErrPermission) ||
			!strings.Contains(err.Error(), "setcap cap_net_raw,cap_net_admin+ep $(command -v fastop)") {
			t.Fatalf("Open without CAP_NET_RAW: %v", err)
		}
		return
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skipf("skipping: running as root and setpriv (util-linux) is missing to drop privileges: %v", err)
	}
	// Copy the test binary where nobody may run it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "ring.test")
	if err := afCopyFile(self, exe); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
		exe, "-test.run=^TestOpenWithoutPrivilege$", "-test.v")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestOpenWithoutPrivilege") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	t.Logf("as nobody:\n%s", out)
}

func afCopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

package netns

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

var sweepOnce sync.Once

// NewT creates a namespace for a test and deletes it when the test ends,
// failed or not. It skips the test, saying why, when namespaces cannot be
// made here (not root, no ip(8), not Linux), and fails it when they should
// work but do not.
func NewT(tb TB) *NS {
	tb.Helper()
	if err := Available(); err != nil {
		tb.Skipf("skipping live test: %v", err)
	}
	sweepOnce.Do(func() { Sweep() })
	n, err := New()
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() {
		if err := n.Close(); err != nil {
			tb.Fatalf("%v", err)
		}
	})
	return n
}

// NewVethT creates a veth pair between a and b for a test and deletes it
// when the test ends.
func NewVethT(tb TB, a, b *NS) *Veth {
	tb.Helper()
	v, err := NewVeth(a, b)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

// RerunAsNobody runs the calling test binary again as user nobody, with no
// capabilities, limited to the test named test, and fails tb unless that
// run passes; it returns the run's output. A test calls it when it is root,
// to check what fastop says to a user without privileges. It skips when
// setpriv (util-linux) is missing.
func RerunAsNobody(tb TB, test string) string {
	tb.Helper()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		tb.Skipf("skipping: running as root and setpriv (util-linux) is missing to drop privileges: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		tb.Fatalf("%v", err)
	}
	// A copy of the test binary in a directory nobody may enter.
	dir, err := os.MkdirTemp("", "fastop-nobody-")
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatalf("%v", err)
	}
	exe := filepath.Join(dir, filepath.Base(self))
	if err := copyExecutable(self, exe); err != nil {
		tb.Fatalf("%v", err)
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
		exe, "-test.run=^"+test+"$", "-test.v")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+test) {
		tb.Fatalf("as nobody: %v\n%s", err, out)
	}
	return string(out)
}

func copyExecutable(src, dst string) error {
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

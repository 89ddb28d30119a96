package netns

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestNamespaceAndVeth(t *testing.T) {
	a, b := NewT(t), NewT(t)
	v := NewVethT(t, a, b)
	var index int
	if err := b.Do(func() error {
		ifi, err := net.InterfaceByName(v.B)
		if err != nil {
			return err
		}
		if ifi.Flags&net.FlagUp == 0 {
			return errors.New(v.B + " is not up")
		}
		index = ifi.Index
		got, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + v.B + "/disable_ipv6")
		if err != nil || strings.TrimSpace(string(got)) != "1" {
			return errors.New("IPv6 is not disabled on " + v.B + ": " + string(got))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Do's thread went back: the interface is not visible here.
	if _, err := net.InterfaceByName(v.B); err == nil {
		t.Errorf("%s is visible outside its namespace", v.B)
	}
	if err := a.Do(func() error { _, err := net.InterfaceByName(v.A); return err }); err != nil {
		t.Errorf("end A: %v", err)
	}
	if err := b.Do(func() error { panic("boom") }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a panic in Do: %v", err)
	}
	out, err := b.Exec("ip", "-o", "link", "show", v.B)
	if err != nil || !strings.Contains(string(out), v.B) {
		t.Errorf("Exec: %v: %s", err, out)
	}
	if err := v.Recreate(); err != nil {
		t.Fatal(err)
	}
	if err := b.Do(func() error {
		ifi, err := net.InterfaceByName(v.B)
		if err == nil && ifi.Index == index {
			t.Logf("re-created %s kept index %d", v.B, index)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace %s still exists after Close: %v", a.Name, err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := v.Close(); err != nil {
		t.Errorf("closing a pair deleted with its namespace: %v", err)
	}
}

// TestSweep removes a namespace named for a process that has exited, and
// leaves one of a live process alone.
func TestSweep(t *testing.T) {
	NewT(t) // skips unless root
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := Prefix + strconv.Itoa(cmd.Process.Pid) + "-1"
	live := Prefix + strconv.Itoa(os.Getppid()) + "-77"
	for _, name := range []string{dead, live} {
		if err := ip("netns", "add", name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ip("netns", "del", name) })
	}
	if err := Sweep(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/run/netns/" + dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Sweep left %s of exited process %d", dead, cmd.Process.Pid)
	}
	if _, err := os.Stat("/run/netns/" + live); err != nil {
		t.Errorf("Sweep removed %s of a live process: %v", live, err)
	}
}

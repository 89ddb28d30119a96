package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCPUProfileAsSudoUser: as root under sudo, the profile is created as
// the user who ran sudo: where that user may not write it is refused, and
// where they may it belongs to them.
func TestCPUProfileAsSudoUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root to act as sudo's user")
	}
	t.Setenv("SUDO_UID", "65534")
	t.Setenv("SUDO_GID", "65534")
	rootOnly := t.TempDir() // 0700, root's
	res := benchProfile(t, filepath.Join(rootOnly, "cpu.prof"))
	if res.code != exitError || !strings.Contains(res.errOut, "permission denied to user 65534, who ran sudo") {
		t.Errorf("exit %d, stderr %q", res.code, res.errOut)
	}
	if _, err := os.Lstat(filepath.Join(rootOnly, "cpu.prof")); !os.IsNotExist(err) {
		t.Errorf("created in a directory the user may not write: %v", err)
	}
	// A directory of theirs in /tmp (t.TempDir's parent is root's, 0700).
	theirs, err := os.MkdirTemp("", "fastop-sudo-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(theirs) })
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(theirs, "cpu.prof")
	if res := benchProfile(t, path); res.code != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.errOut)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 {
		t.Errorf("profile owned by %d:%d, want 65534:65534", st.Uid, st.Gid)
	}
}

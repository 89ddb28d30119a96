package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchProfile runs a small synthetic bench writing its profile to path.
func benchProfile(t *testing.T, path string) parseResult {
	t.Helper()
	return parseArgs(t, "bench", "--synthetic", "--flows", "10", "--packets", "2000", "--rounds", "1", "--workers", "1", "--cpuprofile", path)
}

// TestCPUProfileNewFileOnly: --cpuprofile creates a new file and refuses
// anything that exists (a file, a symbolic link, a device), leaving it as
// it was: with a sudo rule for fastop it would otherwise write any path as
// root.
func TestCPUProfileNewFileOnly(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	if err := os.WriteFile(existing, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	target := filepath.Join(dir, "target")
	if err := os.Symlink(target, dangling); err != nil {
		t.Fatal(err)
	}
	toExisting := filepath.Join(dir, "to-existing")
	if err := os.Symlink(existing, toExisting); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{existing, dangling, toExisting, "/dev/null", dir} {
		t.Run(path, func(t *testing.T) {
			res := benchProfile(t, path)
			first, _, _ := strings.Cut(res.errOut, "\n")
			if res.code != exitUsage || !strings.HasPrefix(first, "fastop: --cpuprofile "+path+": the file exists;") || !strings.Contains(first, "remove it or name a new one") {
				t.Errorf("exit %d, stderr %q", res.code, res.errOut)
			}
		})
	}
	if b, err := os.ReadFile(existing); err != nil || string(b) != "keep me" {
		t.Errorf("the existing file now holds %q (%v)", b, err)
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("the dangling link's target was created: %v", err)
	}
	fresh := filepath.Join(dir, "cpu.prof")
	res := benchProfile(t, fresh)
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.errOut)
	}
	if fi, err := os.Lstat(fresh); err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		t.Errorf("profile: %v, %v", fi, err)
	}
	if res := benchProfile(t, filepath.Join(dir, "no", "such", "dir")); res.code != exitError || !strings.Contains(res.errOut, "--cpuprofile") {
		t.Errorf("missing directory: exit %d, stderr %q", res.code, res.errOut)
	}
}

// TestCPUProfileHelp: --help states the rule.
func TestCPUProfileHelp(t *testing.T) {
	res := parseArgs(t, "bench", "--help")
	if !strings.Contains(res.out, "it must not exist, and under sudo it is created as the user who ran sudo") {
		t.Errorf("bench --help does not state the --cpuprofile rule:\n%s", res.out)
	}
}

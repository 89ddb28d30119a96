package slab

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestMakeAdvisesHugePages reads the kernel's view of a large slab: the
// mapping that holds it must carry the huge-page advice (VmFlags "hg").
func TestMakeAdvisesHugePages(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
		t.Skipf("this kernel has no transparent huge pages: %v", err)
	}
	s := Make[uint64](4 * HugePage / 8)
	for i := range s {
		s[i] = 1
	}
	a := addr(s)
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := vmaRange(line); ok {
			in = lo <= a && a < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			if !strings.Contains(line, " hg") {
				t.Fatalf("the mapping of a slab at %#x: %q, want the hg flag", a, line)
			}
			return
		}
	}
	t.Fatalf("no mapping holds the slab at %#x (scan: %v)", a, sc.Err())
}

// vmaRange parses the "lo-hi perms ..." line that starts a mapping.
func vmaRange(line string) (lo, hi uintptr, ok bool) {
	r, _, found := strings.Cut(line, " ")
	l, h, dash := strings.Cut(r, "-")
	if !found || !dash {
		return 0, 0, false
	}
	a, err1 := strconv.ParseUint(l, 16, 64)
	b, err2 := strconv.ParseUint(h, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uintptr(a), uintptr(b), true
}

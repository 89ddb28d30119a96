package slab

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
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
	if !advised(t, addr(s)) {
		t.Fatalf("the mapping of a slab at %#x lacks the huge-page advice", addr(s))
	}
}

// advised reports whether the mapping that holds address a carries the
// huge-page advice (VmFlags "hg" in /proc/self/smaps).
func advised(t *testing.T, a uintptr) bool {
	t.Helper()
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
			return strings.Contains(line, " hg")
		}
	}
	t.Fatalf("no mapping holds %#x (scan: %v)", a, sc.Err())
	return false
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

// TestAdviseLeavesPointers advises a slice of a type with pointers: its
// whole huge pages get the advice, the values stay what they were and
// the collector still sees them. It runs in a process of its own, whose
// heap no other test has advised.
func TestAdviseLeavesPointers(t *testing.T) {
	if os.Getenv("SLAB_ADVISE_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAdviseLeavesPointers$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SLAB_ADVISE_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("in a process of its own: %v\n%s", err, out)
		}
		return
	}
	type row struct {
		n    int
		name *string
	}
	s := make([]row, 3*HugePage/16)
	if advised(t, addr(s)+HugePage) {
		t.Fatalf("fresh memory at %#x was advised before Advise", addr(s))
	}
	Advise(s)
	for i := range s {
		name := strconv.Itoa(i)
		s[i] = row{i, &name}
	}
	runtime.GC()
	for i := range s {
		if s[i].n != i || *s[i].name != strconv.Itoa(i) {
			t.Fatalf("row %d: %d %q", i, s[i].n, *s[i].name)
		}
	}
	if !advised(t, addr(s)+HugePage) {
		t.Fatalf("the slice's whole huge pages were not advised")
	}
}

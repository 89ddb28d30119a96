package netns

import (
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		ns, a := NSName(), IfName("a")
		if seen[ns] || seen[a] {
			t.Fatalf("repeated name %q or %q", ns, a)
		}
		seen[ns], seen[a] = true, true
		if len(a) > 15 || !strings.HasSuffix(a, "a") || !strings.HasPrefix(a, "f") {
			t.Errorf("interface name %q: want at most 15 bytes, ending in the suffix", a)
		}
		if pid, ok := ownerPID(ns); !ok || pid <= 0 {
			t.Errorf("ownerPID(%q) = %d, %v", ns, pid, ok)
		}
	}
	for _, bad := range []string{"other-1-2", "fastop-x-1", "fastop-12", "fastop--1"} {
		if _, ok := ownerPID(bad); ok {
			t.Errorf("ownerPID(%q) accepted a name this package did not make", bad)
		}
	}
}

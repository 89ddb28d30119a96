package netns

import "sync"

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

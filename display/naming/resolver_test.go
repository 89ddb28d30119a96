package naming

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stubDNS answers PTR lookups from a table; block makes every lookup wait
// for its context (a dead server).
type stubDNS struct {
	mu    sync.Mutex
	names map[string][]string
	calls map[string]int
	block bool
	inFly atomic.Int32
	peak  atomic.Int32
}

func (d *stubDNS) lookup(ctx context.Context, addr string) ([]string, error) {
	n := d.inFly.Add(1)
	defer d.inFly.Add(-1)
	for {
		p := d.peak.Load()
		if n <= p || d.peak.CompareAndSwap(p, n) {
			break
		}
	}
	d.mu.Lock()
	d.calls[addr]++
	names, ok := d.names[addr]
	block := d.block
	d.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if !ok {
		return nil, errors.New("no PTR record")
	}
	return names, nil
}

func (d *stubDNS) callCount(addr string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[addr]
}

func newStub(names map[string][]string) *stubDNS {
	return &stubDNS{names: names, calls: map[string]int{}}
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// waitName polls r until it knows a.
func waitName(t *testing.T, r *Resolver, a netip.Addr) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if n, ok := r.Name(a); ok {
			return n
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no name for %v", a)
	return ""
}

func TestResolver(t *testing.T) {
	a := netip.MustParseAddr("10.0.0.1")
	none := netip.MustParseAddr("10.0.0.9")
	dns := newStub(map[string][]string{"10.0.0.1": {"hosta.lan.", "alias.lan."}})
	clk := &clock{now: time.Unix(1000, 0)}
	r := NewResolver(ResolverConfig{Lookup: dns.lookup, Now: clk.Now, TTL: time.Minute, NegativeTTL: 10 * time.Second})
	defer r.Close()

	if _, ok := r.Name(a); ok {
		t.Fatal("a name before any lookup")
	}
	if got := waitName(t, r, a); got != "hosta.lan" {
		t.Errorf("name %q, want hosta.lan (first PTR, no trailing dot)", got)
	}
	select {
	case <-r.Updated():
	default:
		t.Error("no update signal after a name arrived")
	}
	if r.Generation() == 0 {
		t.Error("generation did not move")
	}
	// Cached: no second lookup within the TTL.
	for range 10 {
		r.Name(a)
	}
	if n := dns.callCount("10.0.0.1"); n != 1 {
		t.Errorf("%d lookups within the TTL, want 1", n)
	}
	// A failure is cached too (negative caching), then retried.
	r.Name(none)
	deadline := time.Now().Add(5 * time.Second)
	for dns.callCount("10.0.0.9") == 0 || r.pending(none) {
		if time.Now().After(deadline) {
			t.Fatal("the failing lookup never ran")
		}
		time.Sleep(time.Millisecond)
	}
	for range 10 {
		if _, ok := r.Name(none); ok {
			t.Fatal("a name for an address without PTR")
		}
	}
	if n := dns.callCount("10.0.0.9"); n != 1 {
		t.Errorf("%d lookups of a failure within the negative TTL, want 1", n)
	}
	clk.add(11 * time.Second)
	r.Name(none)
	waitCalls(t, dns, "10.0.0.9", 2)

	// After the TTL the name is looked up again, and shown meanwhile.
	clk.add(time.Minute)
	if n, ok := r.Name(a); !ok || n != "hosta.lan" {
		t.Errorf("stale name not shown while refreshed: %q %v", n, ok)
	}
	waitCalls(t, dns, "10.0.0.1", 2)
	for r.pending(a) { // the refresh has ended: a pending entry queues nothing
		time.Sleep(time.Millisecond)
	}
	// A refresh that fails keeps the old name.
	dns.mu.Lock()
	delete(dns.names, "10.0.0.1")
	dns.mu.Unlock()
	clk.add(2 * time.Minute)
	r.Name(a)
	waitCalls(t, dns, "10.0.0.1", 3)
	for r.pending(a) {
		time.Sleep(time.Millisecond)
	}
	if n, ok := r.Name(a); !ok || n != "hosta.lan" {
		t.Errorf("a failed refresh lost the name: %q %v", n, ok)
	}

	// Cached() never queues.
	c := netip.MustParseAddr("10.0.0.3")
	if _, ok := r.Cached().Name(c); ok || dns.callCount("10.0.0.3") != 0 {
		t.Error("Cached().Name looked up an address")
	}
	time.Sleep(20 * time.Millisecond)
	if dns.callCount("10.0.0.3") != 0 {
		t.Error("Cached().Name queued a lookup")
	}
}

func waitCalls(t *testing.T, d *stubDNS, addr string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for d.callCount(addr) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d lookups, want %d", addr, d.callCount(addr), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// pending reports whether a lookup of a is queued or running.
func (r *Resolver) pending(a netip.Addr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.cache[a]
	return e != nil && e.pending
}

func TestResolverNotLookedUp(t *testing.T) {
	dns := newStub(nil)
	r := NewResolver(ResolverConfig{Lookup: dns.lookup})
	defer r.Close()
	for _, s := range []string{"fe80::1", "fec0::1", "ff02::1", "::", "0.0.0.0"} {
		r.Name(netip.MustParseAddr(s))
	}
	r.Name(netip.Addr{})
	time.Sleep(20 * time.Millisecond)
	dns.mu.Lock()
	defer dns.mu.Unlock()
	if len(dns.calls) != 0 {
		t.Errorf("looked up %v", dns.calls)
	}
}

// TestResolverDeadServer checks that a DNS server that never answers
// stalls nothing: Name returns at once, at most Workers lookups run, the
// queue drops what does not fit, and dropped addresses are asked for again.
func TestResolverDeadServer(t *testing.T) {
	dns := newStub(nil)
	dns.block = true
	r := NewResolver(ResolverConfig{Lookup: dns.lookup, Workers: 4, Queue: 8, Timeout: 100 * time.Millisecond})
	start := time.Now()
	for i := range 10_000 {
		a := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		if _, ok := r.Name(a); ok {
			t.Fatal("a name from a dead server")
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("10000 Name calls took %v with a dead server", d)
	}
	if p := dns.peak.Load(); p > 4 {
		t.Errorf("%d lookups in flight, want at most 4", p)
	}
	r.mu.Lock()
	n := len(r.cache)
	r.mu.Unlock()
	if n > 4+8+4 {
		t.Errorf("%d addresses pending, want at most workers + queue", n)
	}
	// The lookups time out; a dropped address is queued when asked again.
	late := netip.AddrFrom4([4]byte{10, 1, 39, 15}) // the last one: dropped
	deadline := time.Now().Add(5 * time.Second)
	for dns.callCount(late.String()) == 0 {
		r.Name(late)
		if time.Now().After(deadline) {
			t.Fatal("a dropped address was never looked up")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Close cancels the lookups in flight and returns.
	done := make(chan struct{})
	go func() { r.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close hung on a dead server")
	}
}

func TestResolverEvicts(t *testing.T) {
	dns := newStub(nil)
	r := NewResolver(ResolverConfig{Lookup: dns.lookup, MaxEntries: 100, Queue: 1000})
	defer r.Close()
	for i := range 1000 {
		r.Name(netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}))
		if i%50 == 0 {
			time.Sleep(5 * time.Millisecond) // let the workers catch up
		}
	}
	time.Sleep(50 * time.Millisecond)
	r.mu.Lock()
	done := 0
	for _, e := range r.cache {
		if !e.pending {
			done++
		}
	}
	r.mu.Unlock()
	if done > 100 {
		t.Errorf("cache holds %d answered entries, want at most MaxEntries (100)", done)
	}
	if dns.callCount("10.2.3.231") != 1 {
		t.Error("the last address was not looked up")
	}
}

package naming

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fastop/fastop/table/crash"
)

// ResolverConfig configures a Resolver. Zero fields take the defaults.
type ResolverConfig struct {
	// Lookup returns the names of an address (a PTR lookup). nil: Go's own
	// resolver (net.Resolver{PreferGo: true}: /etc/hosts, then DNS; no cgo,
	// no NSS modules).
	Lookup      func(ctx context.Context, addr string) ([]string, error)
	Workers     int           // lookups in flight at once (4)
	Queue       int           // addresses waiting for a worker (256); more are dropped and asked for again later
	Timeout     time.Duration // per lookup (3 s)
	TTL         time.Duration // a name is kept this long, then looked up again (10 min)
	NegativeTTL time.Duration // a failure is kept this long (1 min)
	MaxEntries  int           // cache size (65536); older entries go when it is full
	Now         func() time.Time
}

// Resolver is a Namer that looks names up in the background. Name never
// blocks: it returns a cached name, or false and queues a lookup. A slow or
// dead DNS server costs at most Workers goroutines waiting Timeout each;
// the queue is bounded and drops requests when full (they are asked for
// again at the next frame, as the address is still on screen), so neither
// the screen nor the capture ever waits for DNS.
//
// Unlike iftop, names expire (TTL), failures are retried (NegativeTTL),
// and a dropped request is not lost for good. Like iftop, IPv6 link-local
// and site-local addresses are not looked up: their PTR records live on
// no DNS server. Names come from the network and are not trusted: they are
// capped at MaxNameLen bytes here, and HostFormat cleans them for the
// terminal.
type Resolver struct {
	cfg     ResolverConfig
	mu      sync.Mutex
	cache   map[netip.Addr]*nameEntry
	queue   chan netip.Addr
	updated chan struct{}
	gen     atomic.Uint64
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

type nameEntry struct {
	name    string
	ok      bool
	pending bool
	expires time.Time
}

// NewResolver starts a resolver's workers; Close stops them.
func NewResolver(cfg ResolverConfig) *Resolver {
	if cfg.Lookup == nil {
		r := &net.Resolver{PreferGo: true}
		cfg.Lookup = r.LookupAddr
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 256
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Minute
	}
	if cfg.NegativeTTL <= 0 {
		cfg.NegativeTTL = time.Minute
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 1 << 16
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Resolver{
		cfg:     cfg,
		cache:   make(map[netip.Addr]*nameEntry),
		queue:   make(chan netip.Addr, cfg.Queue),
		updated: make(chan struct{}, 1),
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	for range cfg.Workers {
		r.wg.Add(1)
		go r.work()
	}
	return r
}

// Close stops the workers and waits for them (a lookup in flight is
// cancelled).
func (r *Resolver) Close() {
	r.cancel()
	r.wg.Wait()
}

// Updated delivers a value after names arrived, so that the screen can
// redraw (screen.Config.Redraw). Several arrivals may come as one.
func (r *Resolver) Updated() <-chan struct{} { return r.updated }

// Generation counts the names that arrived; a frame drawn at the same
// generation shows the same names.
func (r *Resolver) Generation() uint64 { return r.gen.Load() }

// Name returns the name of a, or false while it is unknown, in which case
// a lookup is queued if there is room.
func (r *Resolver) Name(a netip.Addr) (string, bool) { return r.name(a, true) }

// Cached returns a Namer that reads the cache without queueing lookups:
// sorting or filtering a large table by name must not ask DNS about every
// host in it, only the ones on screen.
func (r *Resolver) Cached() Namer { return cachedNamer{r} }

type cachedNamer struct{ r *Resolver }

func (c cachedNamer) Name(a netip.Addr) (string, bool) { return c.r.name(a, false) }

// lookable reports whether a is worth a PTR lookup.
func lookable(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() {
		return false
	}
	if a.Is6() && !a.Is4In6() {
		if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
			return false
		}
		if b := a.As16(); b[0] == 0xfe && b[1]&0xc0 == 0xc0 { // fec0::/10, site-local
			return false
		}
	}
	return true
}

func (r *Resolver) name(a netip.Addr, request bool) (string, bool) {
	if !lookable(a) {
		return "", false
	}
	now := r.cfg.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.cache[a]
	if e != nil && (e.pending || now.Before(e.expires)) {
		return e.name, e.ok
	}
	// Unknown or expired: a stale name is still shown while it is looked
	// up again.
	if !request {
		if e != nil {
			return e.name, e.ok
		}
		return "", false
	}
	select {
	case r.queue <- a:
		if e == nil {
			if len(r.cache) >= r.cfg.MaxEntries {
				r.evict(now)
			}
			e = &nameEntry{}
			r.cache[a] = e
		}
		e.pending = true
	default:
		// The queue is full: ask again at the next frame.
	}
	if e != nil {
		return e.name, e.ok
	}
	return "", false
}

// evict makes room: expired entries go first, then any quarter of the
// cache. Called with mu held.
func (r *Resolver) evict(now time.Time) {
	for a, e := range r.cache {
		if !e.pending && !now.Before(e.expires) {
			delete(r.cache, a)
		}
	}
	n := len(r.cache) - r.cfg.MaxEntries*3/4
	for a, e := range r.cache {
		if n <= 0 {
			break
		}
		if !e.pending {
			delete(r.cache, a)
			n--
		}
	}
}

func (r *Resolver) work() {
	defer crash.Guard()
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case a := <-r.queue:
			crash.Point("resolver")
			r.resolve(a)
		}
	}
}

func (r *Resolver) resolve(a netip.Addr) {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	names, err := r.cfg.Lookup(ctx, a.String())
	cancel()
	name := ""
	if err == nil || len(names) > 0 {
		for _, n := range names {
			n = strings.TrimSuffix(n, ".")
			if n != "" {
				name = n
				break
			}
		}
	}
	if len(name) > MaxNameLen {
		name = name[:MaxNameLen]
	}
	now := r.cfg.Now()
	r.mu.Lock()
	e := r.cache[a]
	if e == nil {
		e = &nameEntry{}
		r.cache[a] = e
	}
	e.pending = false
	if name != "" {
		e.name, e.ok, e.expires = name, true, now.Add(r.cfg.TTL)
	} else {
		// Keep a name that was known before: one failed refresh does not
		// make a host nameless.
		e.expires = now.Add(r.cfg.NegativeTTL)
	}
	r.mu.Unlock()
	if name != "" {
		r.gen.Add(1)
		select {
		case r.updated <- struct{}{}:
		default:
		}
	}
}

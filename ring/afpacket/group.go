package afpacket

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/ring/filter"
)

// A Group captures one interface live: a set of AF_PACKET sockets, one per
// fanout member, each with its own memory-mapped TPACKET_V3 receive ring,
// joined in one PACKET_FANOUT group so that the kernel spreads packets over
// the members (Linux only; elsewhere [Open] fails with [ErrNotSupported]).
//
// # Life cycle
//
// [Open] creates every member behind a drop-all filter, joins them in a
// fanout group whose id the kernel picks (so groups never clash, in this
// process or another), then opens the gate by attaching the real filter to
// every member; that way no packet is copied to two members, or split from
// its flow, while members join. Capture starts when Open returns: frames
// wait in the rings until [Group.Run] starts one reader per member (a ring
// that fills up meanwhile drops, and counts it). Run blocks until its
// context is done, [Group.Close] is called, or a fatal error occurs; when it
// returns the gate is closed again. Close releases everything; it is
// idempotent, safe from any goroutine, and works whether or not Run was
// called.
//
// # Readers and handlers
//
// Each member is served by one goroutine locked to its own OS thread
// (pinned to Config.CPUs[i] when given). The member's socket and ring are
// created on that thread, so ring memory is local to its NUMA node. The
// reader walks whole ring blocks: it loads the block status atomically (an
// acquire, pairing with the kernel's smp_wmb before it hands the block
// over), decodes the block's packet headers into a reused []ring.Record, calls
// [Handler.Batch] once with all of them, and only then hands the block back
// with an atomic store. Records alias ring memory: they are valid until Batch
// returns. When no block arrives, Batch is called with an empty slice at
// least every Config.IdleInterval, so a handler can close its ticks while the
// link is idle (and while the interface is down or gone). A reader waits in
// poll(2) on its socket and an eventfd; Close and Run's context write the
// eventfd, so a blocked reader wakes at once.
//
// Handlers are per member and never called concurrently with themselves, so
// a handler needs no locks. The packet path takes no lock and writes no
// memory shared with another member: per-block counters are atomics owned by
// one member.
//
// # What a Record says
//
// Data holds the first Snaplen bytes of the frame as the kernel saw it:
// from the Ethernet header for Ethernet and loopback interfaces
// (decode.LinkEthernet; loopback frames have zero MACs), from the IP header
// for interfaces without a link header such as tun or WireGuard
// (decode.LinkRaw). Meta.WireLen is the kernel's tp_len, the frame's full
// length even when Data is truncated or the frame is a GSO/GRO super-packet;
// it excludes an outer VLAN tag that the kernel moved to metadata (add 4 per
// Meta.VLANOK for on-the-wire L2 bytes), and it is what Data's offsets refer
// to. Meta.VLANOK, VLANTCI and VLANTPID give that outer tag (a TCI of 0 with
// VLANOK is a real priority tag); inner tags stay in Data. Meta.PktType is
// the kernel's packet type: decode.PktOutgoing for frames this host sent,
// the others for frames it received. On loopback interfaces the kernel shows
// every packet twice (outgoing, then received); the group drops the outgoing
// copy in its kernel filter, so each packet is seen once. TS is the kernel's
// capture timestamp in Unix nanoseconds, and Meta.Ifindex the interface
// index.
//
// # Accounting
//
// [Group.Stats] adds up, per member and in total, what readers delivered
// (Packets, Bytes), what the kernel counted (PACKET_STATISTICS, read into
// 64-bit totals every time Stats runs and at least once a second during
// Run, since the kernel's counters are 32-bit and reset on read), and the
// interface's own counters. Once every ring is drained,
// Packets + Drops + Discarded == KernelPackets: every packet that passed the
// filter was either delivered, dropped by the kernel for want of ring space,
// or thrown away unread when a member was torn down.
//
// # Interface changes
//
// While Run runs, the group watches its interface. When it goes down the
// kernel stops feeding the sockets and resumes on its own when it comes back
// up; [Group.State] says [StateDown] meanwhile. When it disappears
// ([StateGone]), or comes back with another index, or a socket dies, the
// group tears the members down, waits (with back-off) for an interface of
// that name to exist again, and re-creates them in a new fanout group. Run
// does not return for any of this.
type Group struct {
	cfg  Config
	impl *group
}

// Handler receives one member's packets; see [Group]. Batch runs on the
// member's own goroutine, once per ring block with that block's records (an
// empty slice when idle). recs and the memory its Data fields point to are
// only valid until Batch returns.
type Handler interface {
	Batch(recs []ring.Record)
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(recs []ring.Record)

// Batch calls f(recs).
func (f HandlerFunc) Batch(recs []ring.Record) { f(recs) }

// FanoutMode selects how the kernel spreads packets over the members.
type FanoutMode uint8

// Fanout modes. The zero value means [FanoutHash].
const (
	_ FanoutMode = iota
	// FanoutHash sends both directions of a flow (addresses, ports,
	// protocol) to the same member: PACKET_FANOUT_HASH, whose hash is
	// symmetric on Linux ≥ 4.4.16 / 4.6.5 / 4.7.
	FanoutHash
	// FanoutCPU picks the member by the CPU that received the packet: the
	// cheapest, and flow-sticky only with symmetric RSS.
	FanoutCPU
	// FanoutLB spreads packets round-robin, with no flow locality.
	FanoutLB
	// FanoutQM picks the member by the NIC receive queue.
	FanoutQM
)

var fanoutNames = [...]string{FanoutHash: "hash", FanoutCPU: "cpu", FanoutLB: "lb", FanoutQM: "qm"}

// String returns the mode's name as ParseFanoutMode accepts it.
func (m FanoutMode) String() string {
	if m == 0 {
		return "hash"
	}
	if int(m) < len(fanoutNames) {
		return fanoutNames[m]
	}
	return "FanoutMode(" + strconv.Itoa(int(m)) + ")"
}

// ParseFanoutMode parses "hash", "cpu", "lb" or "qm".
func ParseFanoutMode(s string) (FanoutMode, error) {
	for m, name := range fanoutNames {
		if name != "" && strings.EqualFold(s, name) {
			return FanoutMode(m), nil
		}
	}
	return 0, fmt.Errorf("ring: unknown fanout mode %q (use hash, cpu, lb or qm): %w", s, ErrInvalidConfig)
}

// State is an interface's condition as the group last saw it.
type State int32

// States. The zero value means the group has not looked yet.
const (
	_         State = iota
	StateUp         // up with carrier: packets flow
	StateDown       // administratively down or without carrier
	StateGone       // no interface of that name exists
)

// String returns "up", "down" or "gone".
func (s State) String() string {
	switch s {
	case StateUp:
		return "up"
	case StateDown:
		return "down"
	case StateGone:
		return "gone"
	}
	return "unknown"
}

// Defaults, sized for one member of a 10 GbE capture.
const (
	// DefaultBlockSize is one ring block: a power of two, so the kernel's
	// page-order allocation wastes nothing. A reader wakes once per block
	// (or per BlockTimeout), and a wake costs a netpoller round trip for
	// a locked thread; 1 MiB blocks rather than 256 KiB ones took a
	// whole fastop process from 144.9 to 122.9 ms per million packets
	// at 100,000 flows (bench --live --fanout 2, medians of 5
	// alternating runs; 82.9 to 75.4 at 1,000 flows).
	DefaultBlockSize = 1 << 20
	// DefaultBlocks gives 32 MiB per member. At low rates one block
	// retires per BlockTimeout, so Blocks × BlockTimeout (0.64 s) is the
	// reader stall the ring survives then; at high rates it is the ring's
	// bytes over the rate, whatever the block size. Live, nothing in
	// fastop makes a reader wait; more blocks would cost memory.
	DefaultBlocks = 32
	// DefaultBlockTimeout is how long the kernel keeps a partly filled
	// block before handing it over: the capture's added latency.
	DefaultBlockTimeout = 20 * time.Millisecond
	// DefaultSnaplen is how many bytes of each frame the kernel copies
	// (enough for Ethernet + two VLAN tags + IPv6 + extension headers +
	// TCP); lengths always come from the wire length, never from this.
	DefaultSnaplen = 128
	// DefaultIdleInterval bounds the time between two Batch calls.
	DefaultIdleInterval = 100 * time.Millisecond

	// MaxMembers is the largest fanout group the kernel's PACKET_FANOUT
	// option accepts.
	MaxMembers = 256
	// MaxSnaplen is the largest snaplen accepted (libpcap's maximum).
	MaxSnaplen = 262144
	// MaxBuffer is the largest ring per member that Config.Buffer may ask
	// for (the memory actually available usually allows much less: see
	// Open). The smallest is [MinBuffer].
	MaxBuffer = 1 << 40
)

// MinBuffer is the smallest ring per member: two blocks of one page.
func MinBuffer() int64 { return 2 * int64(os.Getpagesize()) }

// Config configures [Open]. The zero value of every field means its default.
type Config struct {
	// Interface is the interface to capture on (required). "any" is
	// refused: it shows stacked devices' packets several times.
	Interface string
	// Members is the number of fanout members (default 1), at most
	// MaxMembers. More members than CPUs buys nothing.
	Members int
	// Mode is the fanout mode (default FanoutHash).
	Mode FanoutMode
	// Rollover adds PACKET_FANOUT_FLAG_ROLLOVER: a member whose ring is
	// full spills to another instead of dropping.
	Rollover bool

	// Buffer is the ring memory per member in bytes (--buffer). When set,
	// BlockSize defaults to 1 MiB, halved until there are at least 16
	// blocks, and Blocks is Buffer / BlockSize. Set Buffer or Blocks, not
	// both.
	Buffer int64
	// BlockSize is the size of one ring block: a power of two, at least
	// the page size (default DefaultBlockSize).
	BlockSize int
	// Blocks is the number of ring blocks per member, at least 2 (default
	// DefaultBlocks).
	Blocks int
	// BlockTimeout is the kernel's block retire timeout, 1 ms to 60 s
	// (default DefaultBlockTimeout).
	BlockTimeout time.Duration
	// Snaplen is the number of bytes of each frame kept in the ring, 1 to
	// MaxSnaplen (default DefaultSnaplen). The kernel filter's accept value
	// enforces it, so the ring holds headers, not payloads.
	Snaplen int

	// Filter is the kernel filter (classic BPF). A return value of 0
	// rejects a packet; any other value accepts it and is capped at
	// Snaplen. Nil means the built-in filter: IPv4 and IPv6 only, behind
	// up to two in-band VLAN tags. Remember that on a live socket the outer
	// VLAN tag is not in the frame but in metadata (SKF_AD_VLAN_TAG_PRESENT).
	Filter filter.Program

	// Promisc puts the interface in promiscuous mode for as long as the
	// group is open (PACKET_MR_PROMISC: released when the sockets close,
	// even if the process dies).
	Promisc bool
	// CPUs pins member i's reader thread to CPUs[i % len(CPUs)] (default:
	// not pinned).
	CPUs []int
	// WaitUp lets Open succeed on an interface that is down: capture
	// starts when it comes up. Without it Open fails with ErrInterfaceDown.
	WaitUp bool
	// IdleInterval is the longest a handler goes without a Batch call
	// (default DefaultIdleInterval).
	IdleInterval time.Duration
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	if c.Members == 0 {
		c.Members = 1
	}
	if c.Mode == 0 {
		c.Mode = FanoutHash
	}
	if c.Buffer > 0 && c.Blocks == 0 {
		if c.BlockSize == 0 {
			c.BlockSize = DefaultBlockSize
			for c.BlockSize > os.Getpagesize() && c.Buffer/int64(c.BlockSize) < 16 {
				c.BlockSize /= 2
			}
		}
		c.Blocks = int(c.Buffer / int64(c.BlockSize))
	}
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.Blocks == 0 {
		c.Blocks = DefaultBlocks
	}
	if c.BlockTimeout == 0 {
		c.BlockTimeout = DefaultBlockTimeout
	}
	if c.Snaplen == 0 {
		c.Snaplen = DefaultSnaplen
	}
	if c.IdleInterval == 0 {
		c.IdleInterval = DefaultIdleInterval
	}
	c.CPUs = append([]int(nil), c.CPUs...)
	c.Filter = append(filter.Program(nil), c.Filter...)
	return c
}

// validate checks a config that has been through withDefaults.
func (c *Config) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("ring: "+format+": %w", append(args, ErrInvalidConfig)...)
	}
	page := os.Getpagesize()
	switch {
	case c.Interface == "":
		return bad("no interface given")
	case c.Interface == "any":
		return bad(`capturing on "any" counts stacked devices twice; name the interface`)
	case c.Members < 1 || c.Members > MaxMembers:
		return bad("%d fanout members (use 1 to %d)", c.Members, MaxMembers)
	case c.Mode > FanoutQM:
		return bad("unknown fanout mode %d", c.Mode)
	case c.Buffer < 0:
		return bad("negative buffer size %d", c.Buffer)
	case c.Buffer > 0 && (c.Buffer < MinBuffer() || c.Buffer > MaxBuffer):
		return bad("ring buffer of %d bytes is out of range: use --buffer %d to %d (per fanout member)", c.Buffer, MinBuffer(), int64(MaxBuffer))
	case c.Buffer > 0 && c.Blocks != int(c.Buffer/int64(c.BlockSize)):
		return bad("set the buffer size or the block count, not both")
	case c.BlockSize < page || c.BlockSize&(c.BlockSize-1) != 0:
		return bad("block size %d is not a power of two of at least the page size %d", c.BlockSize, page)
	case c.Blocks < 2:
		return bad("ring of %d bytes holds fewer than 2 blocks of %d bytes (use a larger --buffer)", int64(c.Blocks)*int64(c.BlockSize), c.BlockSize)
	case int64(c.Blocks)*int64(c.BlockSize) > MaxBuffer:
		return bad("ring of %d blocks of %d bytes is too large", c.Blocks, c.BlockSize)
	case c.BlockTimeout < time.Millisecond || c.BlockTimeout > time.Minute:
		return bad("block timeout %v outside 1ms..1m", c.BlockTimeout)
	case c.Snaplen < 1 || c.Snaplen > MaxSnaplen:
		return bad("snaplen %d outside 1..%d", c.Snaplen, MaxSnaplen)
	case c.IdleInterval < time.Millisecond:
		return bad("idle interval %v below 1ms", c.IdleInterval)
	case len(c.Filter) > 4096-8:
		return bad("filter of %d instructions is too long", len(c.Filter))
	}
	for _, cpu := range c.CPUs {
		if cpu < 0 || cpu >= 1<<16 {
			return bad("CPU %d out of range", cpu)
		}
	}
	return nil
}

// ParseSize parses a byte count such as "32M", "512KiB", "1g" or "4096"
// (K, M, G are powers of 1024, with or without "iB"/"B").
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	low := strings.ToLower(t)
	for _, suf := range []struct {
		s string
		m int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}} {
		if strings.HasSuffix(low, suf.s) {
			t, mult = strings.TrimSpace(t[:len(t)-len(suf.s)]), suf.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("ring: bad size %q (use a number with an optional K, M or G suffix): %w", s, ErrInvalidConfig)
	}
	return n * mult, nil
}

// ParseBuffer parses --buffer, the ring memory per member, as [ParseSize]
// does, and checks it against [MinBuffer] and [MaxBuffer]. Out of range, the
// error gives the range in the unit typed (falling back to a smaller unit
// where a bound is not a whole number of it), e.g.
// "1 is out of range: use 8192 to 1099511627776 (...)"; it wraps
// ErrInvalidConfig and ErrOutOfRange.
func ParseBuffer(s string) (int64, error) {
	n, err := ParseSize(s)
	if err != nil {
		return 0, err
	}
	if n >= MinBuffer() && n <= MaxBuffer {
		return n, nil
	}
	suffix, unit := sizeUnit(s)
	return 0, fmt.Errorf("%s is out of range: use %s to %s (ring memory per fanout member)%w",
		strings.TrimSpace(s), inUnit(MinBuffer(), suffix, unit), inUnit(MaxBuffer, suffix, unit), quiet{ErrInvalidConfig, ErrOutOfRange})
}

// quiet wraps errors without adding to the message.
type quiet []error

func (quiet) Error() string     { return "" }
func (q quiet) Unwrap() []error { return q }

// sizeUnit returns the suffix of a size as typed ("", "K", "MiB", "g"...)
// and its multiplier.
func sizeUnit(s string) (string, int64) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	suffix := strings.TrimSpace(t[i:])
	switch strings.ToLower(suffix)[:min(1, len(suffix))] {
	case "k":
		return suffix, 1 << 10
	case "m":
		return suffix, 1 << 20
	case "g":
		return suffix, 1 << 30
	}
	return suffix, 1
}

// inUnit writes n in unit (named suffix), or in the largest smaller unit
// that divides it.
func inUnit(n int64, suffix string, unit int64) string {
	if n%unit == 0 {
		return strconv.FormatInt(n/unit, 10) + suffix
	}
	for _, u := range []struct {
		m int64
		s string
	}{{1 << 20, "M"}, {1 << 10, "K"}} {
		if u.m < unit && n%u.m == 0 {
			return strconv.FormatInt(n/u.m, 10) + u.s
		}
	}
	return strconv.FormatInt(n, 10)
}

// Errors. Each error a Group returns wraps one of these (and the errno,
// where there is one), so errors.Is works on either. An interface whose
// link layer fastop cannot decode gives an error wrapping
// decode.ErrLinkType, as a file of such frames does.
var (
	// ErrNotSupported: live capture needs Linux.
	ErrNotSupported = errors.New("live capture is not supported")
	// ErrPermission: no CAP_NET_RAW (the message names the setcap fix).
	ErrPermission = errors.New("permission denied")
	// ErrNoSuchInterface: the interface does not exist (the message lists
	// those that do).
	ErrNoSuchInterface = errors.New("no such interface")
	// ErrInterfaceDown: the interface is down and Config.WaitUp is off.
	ErrInterfaceDown = errors.New("interface is down")
	// ErrRingMemory: the kernel refused the ring memory.
	ErrRingMemory = errors.New("ring memory refused")
	// ErrFanout: the kernel refused to join the fanout group.
	ErrFanout = errors.New("fanout group refused")
	// ErrFilter: the kernel refused the filter program.
	ErrFilter = errors.New("filter refused")
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("invalid configuration")
	// ErrOutOfRange: a size outside its range (ParseBuffer; the message
	// gives the range).
	ErrOutOfRange = errors.New("out of range")
	// ErrClosed: the group has been closed.
	ErrClosed = os.ErrClosed
	// ErrClosePending: Close was called from a Handler, which cannot wait
	// for the teardown; the group closes once the handler returns, and a
	// later Close returns the teardown's result.
	ErrClosePending = errors.New("close pending")
	// ErrBadBlock: a ring block whose layout is impossible.
	ErrBadBlock = errors.New("corrupt ring block")
)

// Open creates the members of a capture group on cfg.Interface (nil means
// all defaults, which fails for want of an interface). It returns once every
// member's ring exists, has joined the fanout group and captures; frames
// are read by [Group.Run]. On error nothing is left open.
//
// Ring memory is kernel memory that is never swapped. Open refuses
// (ErrRingMemory) rings that would take this process's rings, over all its
// open groups, beyond half of /proc/meminfo's MemAvailable (a quarter for
// a user other than root), and (ErrFilter) a filter that cannot fit in the
// socket option memory net.core.optmem_max allows.
func Open(cfg *Config) (*Group, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	impl, err := openGroup(&c)
	if err != nil {
		return nil, err
	}
	return &Group{cfg: c, impl: impl}, nil
}

// Run starts one reader per member, calling newHandler(i) (on Run's own
// goroutine, before any reader starts) for member i's handler, and reads
// until ctx is done, Close is called, or a fatal error occurs; then it
// stops capturing. It returns nil when stopped by ctx or Close. Run may be
// called once per Group.
func (g *Group) Run(ctx context.Context, newHandler func(member int) Handler) error {
	return g.impl.run(ctx, newHandler)
}

// Stats reads the kernel's counters for every member (they reset on read,
// so this is the only reader) and returns the cumulative totals. It is safe
// to call from any goroutine, e.g. a merger once per tick.
func (g *Group) Stats() Stats { return g.impl.stats() }

// SetFilter replaces the kernel filter on every member (nil restores the
// built-in one). Each socket swaps atomically, and a packet goes to exactly
// one member, so no packet is lost or counted twice; packets already in a
// ring were judged by the old filter. It may be called before or during Run.
func (g *Group) SetFilter(p filter.Program) error { return g.impl.setFilter(p) }

// State returns the interface's state as last seen: by the watcher every
// IdleInterval-ish while Run runs, else by looking now.
func (g *Group) State() State { return g.impl.state() }

// Members returns the number of fanout members.
func (g *Group) Members() int { return g.cfg.Members }

// Interface returns the interface name.
func (g *Group) Interface() string { return g.cfg.Interface }

// Config returns the configuration in effect, defaults filled in.
func (g *Group) Config() Config {
	c := g.cfg
	c.CPUs = append([]int(nil), c.CPUs...)
	c.Filter = append(filter.Program(nil), c.Filter...)
	return c
}

// RingBytes returns the ring memory of all members together.
func (g *Group) RingBytes() int64 {
	return int64(g.cfg.Members) * int64(g.cfg.Blocks) * int64(g.cfg.BlockSize)
}

// CPUTime returns the CPU time (user + system) the members' reader threads
// have used, handlers included; kernel softirq work done on other threads
// (filtering and copying into the rings) is not in it.
func (g *Group) CPUTime() (time.Duration, error) { return g.impl.cpuTime() }

// Close stops Run (if running), tears down every member and releases the
// sockets, rings and promiscuous mode, and returns the result of doing so.
// It is idempotent and safe from any goroutine: every call returns the same
// result, waiting for the teardown if another call is doing it. Called from
// a Handler, which the teardown would have to wait for, it returns at once
// with an error wrapping [ErrClosePending] and the group closes once the
// handler returns (Run returns then); a later Close reports the result.
func (g *Group) Close() error { return g.impl.close() }

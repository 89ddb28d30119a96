package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fastop/fastop/ring/afpacket"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/crash"
)

// DefaultGrace is how long past a slot boundary an idle live member waits
// before it hands its delta over: a ring block is retired by the kernel's
// block timeout (tens of ms), so packets stamped before the boundary are
// in a reader's hands well within it.
const DefaultGrace = 150 * time.Millisecond

// Group is one interface's live capture: an afpacket.Group. An interface here
// so that the wiring can be tested without a socket.
type Group interface {
	Interface() string
	Members() int
	// Run reads until ctx ends or the capture fails, calling each member's
	// handler on that member's own goroutine.
	Run(ctx context.Context, newHandler func(member int) afpacket.Handler) error
	Stats() afpacket.Stats
	State() afpacket.State
}

// LiveConfig configures a live capture: one or more groups feeding one
// engine, as `fastop -i` and `fastop bench --live` run it.
type LiveConfig struct {
	Groups     []Group
	Classifier *table.Classifier // direction rules
	MaxFlows   int               // bound on the merged table (0: table.DefaultMaxFlows)
	Grace      time.Duration     // 0: DefaultGrace
	// Links, when set, says at every tick what group i is as a link
	// (speed, master, state); it runs on the merger and must not block.
	Links func(i int) table.Link
	// Bonds, when set, holds per group the bond configuration its
	// transmitted packets are checked against (table.BondLink).
	Bonds *BondLinks
	// Emit receives every closed tick's snapshot on the merger goroutine
	// and should Release it (nil: ticks are closed without snapshots).
	Emit func(*table.Snapshot)
	// Added delivers groups opened while the capture runs (a link that
	// joined a bond): each becomes a new source, its interface the next
	// entry of the snapshots' Interfaces (and of Links' i), counted from
	// the slot it joins in. RunLive runs and stops it like the others;
	// the caller still closes it. Groups sent after ctx ends are ignored.
	Added <-chan Group
	// now is the wall clock (tests replace it).
	now func() int64
}

// RunLive starts the engine and one reader per group and blocks until ctx
// ends or a group fails; then it stops every reader, flushes every member
// and returns the final snapshot, counted up to the moment the readers
// stopped. At every tick the kernel's drops since the last tick are added
// to each interface's count and its state (up or down) is recorded. The
// error is the first group's failure, named by its interface; ctx ending
// is not an error.
func RunLive(ctx context.Context, cfg LiveConfig) (*table.Snapshot, error) {
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	now := cfg.now
	if now == nil {
		now = func() int64 { return time.Now().UnixNano() }
	}
	var names []string
	var source []int // member → group
	offsets := make([]int, len(cfg.Groups))
	for gi, g := range cfg.Groups {
		names = append(names, g.Interface())
		offsets[gi] = len(source)
		for range g.Members() {
			source = append(source, gi)
		}
	}
	// OnClose runs on the merger; groups grows on RunLive's goroutine.
	var mu sync.Mutex
	groups := slices.Clone(cfg.Groups)
	var lastDrops []uint64 // per group; the merger's alone
	e := NewEngine(EngineConfig{
		Members:    len(source),
		Start:      now(),
		Classifier: cfg.Classifier,
		MaxFlows:   cfg.MaxFlows,
		Sources:    names,
		Source:     func(m int) int { return source[m] },
		Grace:      cfg.Grace,
		OnClose: func(f *table.Flows) {
			mu.Lock()
			gs := groups
			mu.Unlock()
			for len(lastDrops) < len(gs) {
				lastDrops = append(lastDrops, 0)
			}
			for i, g := range gs {
				if d := g.Stats().Drops; d > lastDrops[i] {
					f.AddDropped(i, d-lastDrops[i])
					lastDrops[i] = d
				}
				f.SetInterfaceDown(i, g.State() != afpacket.StateUp)
				if cfg.Links != nil {
					f.SetLink(i, cfg.Links(i))
				}
			}
		},
		Emit:  cfg.Emit,
		Bonds: cfg.Bonds,
	})
	e.setClock(now)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Read until every reader has ended, joined ones too: none blocks on it
	// for long.
	errs := make(chan error, len(cfg.Groups))
	start := func(g Group, off int) {
		go func() {
			defer crash.Guard()
			err := g.Run(ctx, func(m int) afpacket.Handler { return e.Member(off + m) })
			if err != nil && ctx.Err() == nil {
				err = fmt.Errorf("%s: %w", g.Interface(), err)
			} else {
				err = nil
			}
			cancel() // one group's failure stops them all
			errs <- err
		}()
	}
	for gi, g := range cfg.Groups {
		start(g, offsets[gi])
	}
	var runErr error
	added, done := cfg.Added, ctx.Done()
	for running := len(cfg.Groups); running > 0; {
		select {
		case err := <-errs:
			running--
			if err != nil && runErr == nil {
				runErr = err
			}
		case g := <-added:
			if ctx.Err() != nil {
				added = nil
				continue
			}
			_, off := e.AddSource(g.Interface(), g.Members(), now())
			mu.Lock()
			groups = append(groups, g)
			mu.Unlock()
			start(g, off)
			running++
		case <-done:
			added, done = nil, nil // from here on, only the readers' ends
		}
	}
	// Every reader has returned: their members can be flushed from here.
	for m := range e.Len() {
		e.Member(m).Flush()
	}
	return e.Wait(now()), runErr
}

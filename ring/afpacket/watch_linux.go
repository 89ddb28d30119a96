package afpacket

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// Watcher timing: how often Run looks at the interface (and harvests
// kernel counters), and the back-off between attempts to re-create members.
const (
	watchInterval = 250 * time.Millisecond
	retryMax      = 2 * time.Second
)

// poke wakes the watcher.
func (g *group) poke() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// watch is Run's own loop: every watchInterval (or when a reader reports
// a socket error) it harvests the kernel counters, looks at the interface,
// and re-creates the members when their sockets can no longer capture.
func (g *group) watch(ctx context.Context) error {
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	backoff := watchInterval
	var retryAt time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.closing:
			return nil
		case <-g.wake:
		case <-t.C:
		}
		info, err := g.nl.link(g.cfg.Interface)
		g.mu.Lock()
		for _, m := range g.members {
			m.harvestLocked()
		}
		if err == nil && info.HasStats {
			g.iface, g.ifaceOK = info.Stats, true
		}
		ifindex := g.ifindex
		attached := ifindex != 0
		dead := false
		for _, m := range g.members {
			if m.sockDead.Load() || (m.sock != nil && m.sock.boundIfindex() != ifindex) {
				dead = true
			}
		}
		g.mu.Unlock()
		if err != nil {
			if errors.Is(err, unix.ENODEV) {
				g.setState(StateGone)
				if attached {
					g.detachAll()
				}
			}
			continue // otherwise a netlink hiccup: look again next tick
		}
		if attached && (dead || info.Index != ifindex) {
			g.detachAll()
			attached = false
		}
		if !attached {
			if time.Now().Before(retryAt) {
				g.setState(stateOf(&info, false))
				continue
			}
			if err := g.attachAll(info.Index); err != nil {
				if errors.Is(err, ErrPermission) || errors.Is(err, ErrRingMemory) || errors.Is(err, ErrFilter) {
					return err
				}
				backoff = min(2*backoff, retryMax)
				retryAt = time.Now().Add(backoff)
				g.setState(stateOf(&info, false))
				continue
			}
			g.mu.Lock()
			g.reopens++
			g.mu.Unlock()
			backoff = watchInterval
			attached = true
		}
		g.setState(stateOf(&info, attached))
	}
}

// stateOf says what an interface's flags mean for the group.
func stateOf(info *linkInfo, attached bool) State {
	if attached && info.running() {
		return StateUp
	}
	return StateDown
}

// setState records the interface's state as just seen.
func (g *group) setState(s State) {
	g.mu.Lock()
	g.ifState = s
	g.mu.Unlock()
}

// state is Group.State: while Run runs, what the watcher saw last; else a
// look now.
func (g *group) state() State {
	g.mu.Lock()
	running, last := g.phase == phaseRunning, g.ifState
	g.mu.Unlock()
	if running {
		return last
	}
	info, err := g.nl.link(g.cfg.Interface)
	switch {
	case errors.Is(err, unix.ENODEV):
		g.setState(StateGone)
	case err == nil:
		g.mu.Lock()
		attached := g.ifindex != 0 && info.Index == g.ifindex
		g.ifState = stateOf(&info, attached)
		g.mu.Unlock()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ifState
}

package afpacket

import (
	"errors"
	"os"

	"github.com/fastop/fastop/ring/filter"
	"golang.org/x/sys/unix"
)

// The filter gate: members are created behind the drop-all gateProgram and
// get the real filter (kprog) only once every one of them has joined the
// fanout group, so that no packet is copied to two members or split from
// its flow while they join; the gate closes again when Run returns.

// attachAll creates every member's socket on ifindex (in parallel, each on
// its own thread), joins them in a new fanout group, sets promiscuous mode
// and, if Run has opened the gate, attaches the filter. On error every
// member is detached again.
func (g *group) attachAll(ifindex int) error {
	dones := make([]chan error, len(g.members))
	for i, m := range g.members {
		dones[i] = m.post(reqAttach, ifindex, nil)
	}
	var first error
	for _, d := range dones {
		if err := <-d; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		g.detachAll()
		return first
	}
	g.mu.Lock()
	socks := make([]*socket, len(g.members))
	for i, m := range g.members {
		socks[i] = m.sock
	}
	g.mu.Unlock()
	id := -1
	if len(socks) > 1 {
		var err error
		if id, err = joinFanout(socks, &g.cfg); err != nil {
			g.detachAll()
			return err
		}
	}
	if g.cfg.Promisc {
		if err := socks[0].promisc(); err != nil {
			g.detachAll()
			return syscallError(g.cfg.Interface, 0, "setsockopt PACKET_ADD_MEMBERSHIP", err)
		}
	}
	// Only now, with every member in the group, may a filter other than
	// the gate be attached (here, or by SetFilter).
	g.mu.Lock()
	g.ifindex, g.fanoutID = ifindex, id
	var ferr error
	if g.gateOpenLocked() {
		for i, s := range socks {
			if err := attachFilter(s.fd, g.kprog); err != nil {
				ferr = attachError(g.cfg.Interface, i, len(g.kprog), g.optmem, err)
				break
			}
		}
	}
	g.mu.Unlock()
	if ferr != nil {
		g.detachAll()
		return ferr
	}
	return nil
}

// detachAll tears every member's socket down (on the members' threads).
func (g *group) detachAll() {
	g.mu.Lock()
	g.ifindex = 0
	g.mu.Unlock()
	dones := make([]chan error, len(g.members))
	for i, m := range g.members {
		dones[i] = m.post(reqDetach, 0, nil)
	}
	for _, d := range dones {
		<-d
	}
}

// attachedIndex returns the interface index the members' sockets are
// bound to, 0 when they have none.
func (g *group) attachedIndex() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ifindex
}

// closeGate attaches the drop-all filter to every member: capture stops.
// The phase has already left idle and running, so neither attachAll nor
// SetFilter opens it again.
func (g *group) closeGate() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, m := range g.members {
		if m.sock == nil {
			continue
		}
		if err := attachFilter(m.sock.fd, gateProgram); err != nil {
			return syscallError(g.cfg.Interface, i, "setsockopt SO_ATTACH_FILTER", err)
		}
	}
	return nil
}

// setFilter is Group.SetFilter: the new program goes on every member at
// once when the gate is open, else it waits for attachAll.
func (g *group) setFilter(p filter.Program) error {
	if len(p) > 0 {
		if err := p.Validate(); err != nil {
			return errorf(ErrFilter, err, "filter for %q", g.cfg.Interface)
		}
	}
	kprog, err := kernelProgram(p, g.link, g.cfg.Snaplen, g.loopback)
	if err != nil {
		return err
	}
	if err := checkOptmem(g.cfg.Interface, len(kprog), g.optmem); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gateOpenLocked() && g.ifindex != 0 {
		for i, m := range g.members {
			if m.sock == nil {
				continue
			}
			if err := attachFilter(m.sock.fd, kprog); err != nil {
				for _, prev := range g.members[:i] {
					if prev.sock != nil {
						attachFilter(prev.sock.fd, g.kprog)
					}
				}
				if errors.Is(err, unix.ENOMEM) {
					return attachError(g.cfg.Interface, i, len(kprog), g.optmem, err)
				}
				return errorf(ErrFilter, os.NewSyscallError("setsockopt SO_ATTACH_FILTER", err), "the kernel refused the filter for %q", g.cfg.Interface)
			}
		}
	}
	g.prog, g.kprog = append(filter.Program(nil), p...), kprog
	return nil
}

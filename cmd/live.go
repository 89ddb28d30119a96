package cmd

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/report"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/ring/afpacket"
	"github.com/fastop/fastop/ring/filter"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/crash"
	"github.com/fastop/fastop/table/pipeline"
)

// maxDefaultFanout caps the default fanout width. Beyond 8 members a
// monitor rarely gains (the kernel's own receive path is the limit), while
// each member costs a ring (32 MiB by default) and an OS thread.
const maxDefaultFanout = 8

// defaultFanout is the number of CPUs, capped at maxDefaultFanout.
func defaultFanout() int { return min(runtime.NumCPU(), maxDefaultFanout) }

// interfaces returns the interfaces -i names, or iftop's default one.
func (o *Options) interfaces() ([]string, error) {
	if o.Interface == "" {
		name, err := afpacket.DefaultInterface()
		if err != nil {
			return nil, err
		}
		return []string{name}, nil
	}
	var names []string
	seen := map[string]bool{}
	for _, n := range strings.Split(o.Interface, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			return nil, usageErrorf("-i %q: empty interface name", o.Interface)
		}
		if seen[n] {
			return nil, usageErrorf("-i %q: %s given twice", o.Interface, n)
		}
		seen[n] = true
		names = append(names, n)
	}
	return names, nil
}

// liveCapture is a set of groups, one per interface, feeding one engine.
type liveCapture struct {
	groups  []*afpacket.Group
	ifaces  []afpacket.Interface
	targets []linkTarget         // per group: the link and its master
	given   []afpacket.Interface // what -i names: a bond, not its links
	members int

	// The groups, targets, ifaces and linkNow grow during the run when a
	// link joins a bond (refreshLinks): mu guards them from then on.
	mu      sync.Mutex
	linkNow []table.Link // per group, as refreshLinks last read it

	// bonds holds, per group, the bond configuration its transmitted
	// packets are checked against (refreshed with the links); nil when
	// no group is a bond's link.
	bonds      *pipeline.BondLinks
	release    string // uname -r, for the bond transmit hash
	releaseErr error
	open       func(tg linkTarget) (*afpacket.Group, afpacket.Interface, error) // opens a link as at start
	filter     string                                                           // the filter the groups run now (-f, then the f key)
	notes      io.Writer                                                        // where a link that joins is said; nil under the screen
	tried      map[string]bool                                                  // links that joined and could not be opened (said once)

	export *exporters // Prometheus and IPFIX; nil when neither is on
}

// openLive looks up and opens every interface.
func openLive(o *Options, errOut io.Writer) (*liveCapture, error) {
	names, err := o.interfaces()
	if err != nil {
		return nil, err
	}
	members := o.Fanout
	if members == 0 {
		members = defaultFanout()
	}
	mode, err := afpacket.ParseFanoutMode(o.FanoutMode)
	if err != nil {
		return nil, &usageError{fmt.Errorf("--fanout-mode: %w", err)}
	}
	targets, given, err := expandLinks(o, names, errOut)
	if err != nil {
		return nil, err
	}
	lc := &liveCapture{given: given, filter: o.Filter, notes: errOut, tried: map[string]bool{}}
	lc.open = func(tg linkTarget) (*afpacket.Group, afpacket.Interface, error) {
		ifc, err := afpacket.LookupInterface(tg.name)
		if err != nil {
			return nil, ifc, tg.wrap(err)
		}
		cfg := &afpacket.Config{
			Interface: tg.name,
			Members:   members,
			Mode:      mode,
			Buffer:    o.set.buffer,
			Snaplen:   o.Snaplen,
			Promisc:   o.Promisc,
			// A bond's link that is down (failed, or taken out) must not
			// stop the others: it is captured when it comes back, and its
			// state says down meanwhile.
			WaitUp: o.Wait || tg.master != "",
		}
		lc.mu.Lock()
		expr := lc.filter
		lc.mu.Unlock()
		if strings.TrimSpace(expr) != "" {
			prog, err := compileLive(expr, o.Snaplen)
			if err != nil {
				return nil, ifc, err
			}
			cfg.Filter = prog
		}
		g, err := afpacket.Open(cfg)
		if err != nil {
			return nil, ifc, tg.wrap(err)
		}
		return g, ifc, nil
	}
	for _, tg := range targets {
		g, ifc, err := lc.open(tg)
		if err != nil {
			lc.close()
			return nil, err
		}
		lc.targets = append(lc.targets, tg)
		lc.linkNow = append(lc.linkNow, readLink(tg, g))
		lc.members += g.Members()
		lc.groups = append(lc.groups, g)
		lc.ifaces = append(lc.ifaces, ifc)
		if o.Verbose {
			fmt.Fprintf(errOut, "fastop: %s: %d fanout members (%s), ring memory %d MiB per member, %d MiB in all\n",
				term.Clean(tg.name), g.Members(), mode, g.RingBytes()/int64(g.Members())>>20, g.RingBytes()>>20)
		}
	}
	lc.initBonds(o.Verbose, errOut)
	return lc, nil
}

// compileLive compiles a filter for a live Ethernet socket; fastop counts
// IP and IPv6 only, whatever the filter says.
func compileLive(expr string, snaplen int) (filter.Program, error) {
	prog, err := filter.Compile(expr, filter.Options{
		Link:      decode.LinkEthernet,
		Live:      true,
		Snaplen:   uint32(snaplen),
		IPOnly:    true,
		Neighbors: filter.KernelNeighbors{},
	})
	if err != nil {
		return nil, err
	}
	return prog, nil
}

func (lc *liveCapture) names() []string {
	var n []string
	for _, g := range lc.groups {
		n = append(n, g.Interface())
	}
	return n
}

// classifier knows every address and MAC of every captured interface and
// of what -i named (a bond holds the addresses its links carry).
func (lc *liveCapture) classifier(o *Options) *table.Classifier {
	cfg := o.classifierConfig()
	for _, ifc := range slices.Concat(lc.ifaces, lc.given) {
		if len(ifc.MAC) == 6 && !ifc.Loopback {
			cfg.MACs = append(cfg.MACs, [6]byte(ifc.MAC))
		}
		for _, p := range ifc.Addrs {
			cfg.Addrs = append(cfg.Addrs, p.Addr())
		}
	}
	return table.NewClassifier(cfg)
}

// setFilter compiles expr and installs it on every member of every group.
// A bad filter leaves the old one in place.
func (lc *liveCapture) setFilter(expr string, snaplen int) error {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	var progs []filter.Program
	for range lc.groups {
		if strings.TrimSpace(expr) == "" {
			progs = append(progs, nil)
			continue
		}
		p, err := compileLive(expr, snaplen)
		if err != nil {
			return err
		}
		progs = append(progs, p)
	}
	for i, g := range lc.groups {
		if err := g.SetFilter(progs[i]); err != nil {
			return err
		}
	}
	lc.filter = expr // a link that joins later runs it too
	return nil
}

func (lc *liveCapture) close() {
	// Not under mu: closing waits for the readers, which may wait for
	// the merger, which reads links under mu.
	lc.mu.Lock()
	groups := slices.Clone(lc.groups)
	lc.mu.Unlock()
	for _, g := range groups {
		g.Close()
	}
}

// run captures until ctx ends or a group fails and returns the final
// snapshot, counted up to the end.
func (lc *liveCapture) run(ctx context.Context, o *Options, emit func(*table.Snapshot)) (*table.Snapshot, error) {
	groups := make([]pipeline.Group, len(lc.groups))
	for i, g := range lc.groups {
		groups[i] = g
	}
	ctx, cancel := context.WithCancel(ctx)
	refreshed := make(chan struct{})
	added := make(chan pipeline.Group)
	go func() {
		defer crash.Guard()
		lc.refreshLinks(ctx, added)
		close(refreshed)
	}()
	defer func() { cancel(); <-refreshed }()
	snap, runErr := pipeline.RunLive(ctx, pipeline.LiveConfig{
		Groups:     groups,
		Classifier: lc.classifier(o),
		MaxFlows:   o.MaxFlows,
		Links:      lc.link,
		Bonds:      lc.bonds,
		Added:      added,
		Emit:       lc.export.wrap(emit),
	})
	if err := lc.export.close(snap); err != nil && runErr == nil {
		runErr = err
	}
	return snap, runErr
}

// link is what group i is as a link now (for the merger, at every tick).
func (lc *liveCapture) link(i int) table.Link {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if i >= len(lc.linkNow) {
		return table.Link{}
	}
	return lc.linkNow[i]
}

// runLive captures from interfaces and shows the screen or prints text or
// JSON reports.
func runLive(ctx context.Context, o *Options, streams IO, screen bool) error {
	lc, err := openLive(o, streams.ErrOut)
	if err != nil {
		return err
	}
	defer lc.close()
	if err := limitPrivileges(streams.ErrOut, o.Verbose, liveKeeps...); err != nil {
		return err
	}
	names := strings.Join(lc.names(), ",")
	if o.Export.on() {
		// Notes about the collector go to stderr, except under the screen.
		notes := streams.ErrOut
		if screen {
			notes = nil
		}
		if lc.export, err = startExporters(o, lc.ifaces, true, notes); err != nil {
			return err
		}
		defer lc.export.close(nil)
		if o.headless(streams.Out) {
			return lc.runHeadless(ctx, o, streams, names)
		}
	}
	for _, ifc := range lc.given {
		printInterface(streams.ErrOut, ifc)
	}
	if screen {
		lc.notes = nil // a link that joins shows in the link strip
		return lc.runScreen(ctx, o, streams, names)
	}
	rep := newReporter(o, streams.Out, names)
	if !o.NoDNS && !o.JSON {
		// As iftop -t does: names for the hosts of each report, looked up
		// in the background; a host shows as a number until its name
		// arrives. (JSON always gives addresses.)
		res := naming.NewResolver(naming.ResolverConfig{})
		defer res.Close()
		rep.text.Namer = res
	}
	if err := rep.header("Listening on", names); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if o.Seconds > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(runCtx, time.Duration(o.Seconds)*time.Second)
		defer cancel()
	}
	emit := func(s *table.Snapshot) {
		switch {
		case o.Seconds == 0:
			// The first report that cannot be written (a full disk, a
			// closed pipe) ends the capture: rep keeps the error.
			if rep.report(s) != nil {
				stop()
			}
		case rep.text.Namer != nil:
			// Only the last report is printed; laying out the others
			// unprinted starts the lookups of their hosts, so that the
			// one at -s N seconds has names.
			report.AppendText(nil, s, &rep.text)
			s.Release()
		}
	}
	if o.Seconds > 0 && rep.text.Namer == nil {
		// Only the final snapshot is read: the ticks before it are
		// closed without building rows (unless an exporter reads them).
		emit = nil
	}
	snap, err := lc.run(runCtx, o, emit)
	if err != nil {
		return err
	}
	if rep.err != nil {
		return rep.err
	}
	if o.Seconds > 0 && ctx.Err() == nil {
		return rep.report(snap)
	}
	return rep.err
}

// printInterface writes iftop's startup lines to stderr.
func printInterface(w io.Writer, ifc afpacket.Interface) {
	fmt.Fprintf(w, "interface: %s\n", term.Clean(ifc.Name))
	var v4, v6 netip.Addr
	for _, p := range ifc.Addrs {
		a := p.Addr()
		if a.Is4() && !v4.IsValid() {
			v4 = a
		}
		if a.Is6() && !a.IsLinkLocalUnicast() && !v6.IsValid() {
			v6 = a
		}
	}
	if v4.IsValid() {
		fmt.Fprintf(w, "IP address is: %s\n", v4)
	}
	if v6.IsValid() {
		fmt.Fprintf(w, "IPv6 address is: %s\n", v6)
	}
	if len(ifc.MAC) > 0 {
		fmt.Fprintf(w, "MAC address is: %s\n", ifc.MAC)
	}
}

// runScreen shows the live capture on the full screen until q.
func (lc *liveCapture) runScreen(ctx context.Context, o *Options, streams IO, names string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	snaps := make(chan *table.Snapshot, 1)
	done := make(chan error, 1)
	go func() {
		defer crash.Guard()
		// The screen takes the newest snapshot; an older one it has not
		// taken yet is dropped rather than let the merger wait.
		emit := func(s *table.Snapshot) {
			select {
			case snaps <- s:
			default:
				select {
				case old := <-snaps:
					old.Release()
				default:
				}
				snaps <- s
			}
		}
		_, err := lc.run(ctx, o, emit)
		close(snaps)
		done <- err
	}()
	ctl := screenControl{
		Interface: names,
		Members:   lc.members,
		SetFilter: func(expr string) error { return lc.setFilter(expr, o.Snaplen) },
		Export:    lc.export.screenStatus(),
	}
	err := runScreen(ctx, o, streams, snaps, ctl)
	cancel()
	if runErr := <-done; err == nil {
		err = runErr
	}
	return err
}

// runHeadless captures for the exporters only, as a service does: nothing
// on stdout, one line on stderr at start, errors on stderr, and a stop
// (SIGTERM) is a success.
func (lc *liveCapture) runHeadless(ctx context.Context, o *Options, streams IO, names string) error {
	fmt.Fprint(streams.ErrOut, lc.export.describe(o, names))
	runCtx := ctx
	if o.Seconds > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, time.Duration(o.Seconds)*time.Second)
		defer cancel()
	}
	snap, err := lc.run(runCtx, o, nil) // the exporters read every tick
	if snap != nil {
		snap.Release()
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return errStopped
	}
	return nil
}

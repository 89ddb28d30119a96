package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/ring/afpacket"
	"github.com/fastop/fastop/ring/links"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/bondhash"
	"github.com/fastop/fastop/table/pipeline"
)

// sysfsRoot is where link discovery reads; tests may point it elsewhere.
var sysfsRoot = links.DefaultRoot

// linkRefresh is how often the links' state and speed are read again.
const linkRefresh = 2 * time.Second

// linkTarget is one link fastop opens a group on.
type linkTarget struct {
	name   string
	master string // the bond or team -i named; "" for a link given as it is
	sysfs  bool   // sysfs describes it (in this namespace)
}

// wrap names the link in an error about it: "link eth1 of bond0: …".
func (t linkTarget) wrap(err error) error {
	if t.master == "" {
		return err
	}
	return fmt.Errorf("link %s of %s: %w", t.name, t.master, err)
}

// expandLinks turns the -i names into the links to capture on: a bond or
// team becomes its links (never the master too: a socket on the master sees
// received frames a second time and transmitted ones before the link is
// chosen), unless --master; anything else stays as it is. It also returns
// the interfaces the names stand for, whose addresses and MACs tell the
// local side. A link named twice, directly or through its master, is an
// error: it would be counted twice.
func expandLinks(o *Options, names []string, errOut io.Writer) ([]linkTarget, []afpacket.Interface, error) {
	var targets []linkTarget
	var given []afpacket.Interface
	from := map[string]string{} // link → the -i name it came from
	for _, name := range names {
		ifc, err := afpacket.LookupInterface(name)
		if err != nil {
			return nil, nil, err
		}
		given = append(given, ifc)
		e, err := links.Expand(sysfsRoot, name)
		if err != nil {
			return nil, nil, fmt.Errorf("-i %s: %w", name, err)
		}
		known := e.Top.Index != 0
		if known && e.Top.Index != ifc.Index {
			// This sysfs was mounted in another network namespace: it
			// describes some other device of that name.
			known = false
			if o.Verbose {
				fmt.Fprintf(errOut, "fastop: %s: %s shows another network namespace (ifindex %d, not %d); capturing %s as it is\n",
					term.Clean(name), term.Clean(sysfsRoot), e.Top.Index, ifc.Index, term.Clean(name))
			}
		}
		var add []linkTarget
		switch {
		case !known || !e.Expanded():
			add = []linkTarget{{name: name, sysfs: known}}
		case o.Master:
			add = []linkTarget{{name: name, sysfs: true}}
			if o.Verbose {
				fmt.Fprintf(errOut, "fastop: %s: --master: capturing the %s itself (transmitted frames show no link)\n", term.Clean(name), kindWord(&e))
			}
		case e.VLAN:
			return nil, nil, usageErrorf("-i %s: a VLAN on %s %s: capture its links with -i %s -f 'vlan ID' (they carry every VLAN), or the VLAN device itself with --master",
				name, kindWord(&e), e.Master, e.Master)
		default:
			for _, l := range e.Links {
				add = append(add, linkTarget{name: l.Name, master: e.Master, sysfs: true})
			}
			if o.Verbose {
				fmt.Fprintf(errOut, "fastop: %s\n", describeExpansion(&e))
			}
		}
		for _, t := range add {
			if prev, ok := from[t.name]; ok {
				return nil, nil, usageErrorf("-i %s: %s is captured twice (through %s and %s); name it once", o.Interface, t.name, prev, name)
			}
			from[t.name] = name
		}
		targets = append(targets, add...)
	}
	if len(targets) > table.MaxLinks {
		// The flow table keeps each flow's part per link in 6 bits.
		return nil, nil, usageErrorf("-i %s: %d links to capture, more than the %d fastop tells apart: name fewer, or capture a bond itself with --master",
			o.Interface, len(targets), table.MaxLinks)
	}
	return targets, given, nil
}

// kindWord is what the aggregate an expansion went through is: "bond",
// "team", or "device" when sysfs no longer says.
func kindWord(e *links.Expansion) string {
	if d, err := links.Read(sysfsRoot, e.Master); err == nil && d.Kind != links.Plain {
		return string(d.Kind)
	}
	return "device"
}

// describeExpansion is -v's line for an expanded name:
// "bond0: bond (802.3ad, layer3+4): links eth0 (active, 10000 Mb/s), eth1 (down, speed unknown); …",
// names cleaned for the terminal.
func describeExpansion(e *links.Expansion) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Name, kindWord(e))
	if m, err := links.Read(sysfsRoot, e.Master); err == nil && m.Bond != nil {
		fmt.Fprintf(&b, " (%s", m.Bond.Mode)
		if m.Bond.HashPolicy != "" {
			fmt.Fprintf(&b, ", %s", m.Bond.HashPolicy)
		}
		if m.Bond.Aggregator >= 0 {
			fmt.Fprintf(&b, ", active aggregator %d", m.Bond.Aggregator)
		}
		b.WriteString(")")
	}
	b.WriteString(": links ")
	for i, l := range e.Links {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s, ", l.Name, l.State())
		if l.Speed > 0 {
			fmt.Fprintf(&b, "%d Mb/s", l.Speed/1_000_000)
		} else {
			b.WriteString("speed unknown")
		}
		if l.Slave != nil && l.Slave.Aggregator >= 0 {
			fmt.Fprintf(&b, ", aggregator %d", l.Slave.Aggregator)
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, "; capturing on each link, not on %s (--master captures %s itself)", e.Master, e.Master)
	return term.Clean(b.String())
}

// readLink is what a target is now: speed, master, state and 802.3ad
// aggregators from sysfs, or, where sysfs does not describe it, the state
// of its capture group. A link that left its master says "left MASTER".
func readLink(t linkTarget, g *afpacket.Group) table.Link {
	l := table.Link{Master: t.master}
	if t.sysfs {
		d, err := links.Read(sysfsRoot, t.name)
		if err == nil {
			l.Speed, l.State = d.Speed, d.State()
			if d.Slave != nil && d.Slave.Aggregator > 0 {
				l.Aggregator = d.Slave.Aggregator
			}
			if t.master != "" {
				m, err := links.Read(sysfsRoot, t.master)
				switch {
				case err != nil:
				case !slices.Contains(m.Members(), t.name):
					l.State, l.Aggregator = "left "+t.master, 0
				case m.Bond != nil && m.Bond.Aggregator > 0:
					l.ActiveAggregator = m.Bond.Aggregator
				}
			}
			return l
		}
	}
	switch {
	case g == nil:
		l.State = "unknown"
	case g.State() == afpacket.StateUp:
		l.State = "up"
	default:
		l.State = "down"
	}
	return l
}

// refreshLinks reads every link's state again every linkRefresh until ctx
// ends, and the membership of every bond or team -i expanded: a link that
// joined one is opened as the others were and sent on added, to be
// captured from then on (a link that left stays captured, its state says
// "left MASTER").
func (lc *liveCapture) refreshLinks(ctx context.Context, added chan<- pipeline.Group) {
	t := time.NewTicker(linkRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, tg := range lc.joined() {
			if !lc.join(ctx, tg, added) {
				return
			}
		}
		lc.mu.Lock()
		targets, groups := slices.Clone(lc.targets), slices.Clone(lc.groups)
		lc.mu.Unlock()
		now := make([]table.Link, len(targets))
		for i, tg := range targets {
			now[i] = readLink(tg, groups[i])
		}
		lc.mu.Lock()
		copy(lc.linkNow, now) // links that joined meanwhile keep theirs
		lc.mu.Unlock()
		lc.refreshBonds()
	}
}

// bondLinks says, per target, what the worker capturing it checks its
// transmitted packets against: the bond's mode, policy and the links that
// can transmit now, with the kernel's formula for release (nil for a
// link of no bond, or one that left its bond). relErr is why the release
// could not be read.
func bondLinks(targets []linkTarget, release string, relErr error) []*table.BondLink {
	out := make([]*table.BondLink, len(targets))
	masters := map[string]*links.Device{}
	for i, t := range targets {
		if t.master == "" || !t.sysfs {
			continue
		}
		m, seen := masters[t.master]
		if !seen {
			if d, err := links.Read(sysfsRoot, t.master); err == nil && d.Bond != nil {
				m = &d
			}
			masters[t.master] = m
		}
		if m == nil {
			continue
		}
		out[i] = bondLink(m, t.name, release, relErr)
	}
	return out
}

// bondLink is bondLinks for one link of bond m.
func bondLink(m *links.Device, self, release string, relErr error) *table.BondLink {
	l := &table.BondLink{Master: m.Name, Mode: m.Bond.Mode, Policy: m.Bond.HashPolicy, Members: m.Bond.Slaves,
		Self: slices.Index(m.Bond.Slaves, self)}
	if l.Self < 0 {
		return nil // it left the bond: its link block says so
	}
	mode, err := bondhash.ParseMode(m.Bond.Mode)
	switch {
	case err != nil:
		l.Why = err.Error()
	case mode != bondhash.ModeXOR && mode != bondhash.Mode8023AD:
		l.Why = fmt.Sprintf("mode %s does not choose links by hash", mode)
	}
	pol, err := bondhash.ParsePolicy(m.Bond.HashPolicy)
	switch {
	case l.Why != "":
	case err != nil:
		l.Why = err.Error()
	case pol != bondhash.PolicyLayer2 && pol != bondhash.PolicyLayer23 && pol != bondhash.PolicyLayer34:
		l.Why = fmt.Sprintf("xmit_hash_policy %s dissects more than fastop models (it predicts layer2, layer2+3 and layer3+4)", pol)
	}
	var v bondhash.Variant
	switch {
	case l.Why != "":
	case relErr != nil:
		l.Why = relErr.Error()
	default:
		if v, err = bondhash.VariantFor(release); err != nil {
			l.Why = err.Error()
		}
	}
	if l.Why == "" && len(l.Members) > table.MaxBondLinks {
		l.Why = fmt.Sprintf("more than %d links", table.MaxBondLinks)
	}
	l.Config = bondhash.Config{Mode: mode, Policy: pol, Variant: v, BigEndian: bondhash.NativeBigEndian()}
	for i, s := range m.Bond.Slaves {
		d, err := links.Read(sysfsRoot, s)
		if err == nil && canTransmit(m, &d, mode == bondhash.Mode8023AD) {
			l.Usable = append(l.Usable, i)
		}
	}
	return l
}

// canTransmit reports whether bond slave d is in the bond's usable-slaves
// array (bond_update_slave_arr): its MII status up (not going down or
// coming back) and active, and in 802.3ad a member of the active
// aggregator.
func canTransmit(m *links.Device, d *links.Device, lacp bool) bool {
	if d.Slave == nil || d.Slave.MII != "up" || d.Slave.State != "active" {
		return false
	}
	if lacp && m.Bond.Aggregator > 0 && d.Slave.Aggregator > 0 && d.Slave.Aggregator != m.Bond.Aggregator {
		return false
	}
	return true
}

// refreshBonds publishes what bondLinks says now to the workers, keeping
// the pointers of the links whose configuration did not change.
func (lc *liveCapture) refreshBonds() {
	if lc.bonds == nil {
		return
	}
	lc.mu.Lock()
	targets := slices.Clone(lc.targets)
	lc.mu.Unlock()
	for i, l := range bondLinks(targets, lc.release, lc.releaseErr) {
		if !l.Same(lc.bonds.Get(i)) {
			lc.bonds.Set(i, l)
		}
	}
}

// initBonds starts the transmit-link check when some target is a bond's
// link; -v says, per bond, what it predicts with or why it cannot.
func (lc *liveCapture) initBonds(verbose bool, errOut io.Writer) {
	if !slices.ContainsFunc(lc.targets, func(t linkTarget) bool { return t.master != "" }) {
		return
	}
	lc.release, lc.releaseErr = links.KernelRelease()
	lc.bonds = pipeline.NewBondLinks(table.MaxLinks) // room for the links that join later
	lc.refreshBonds()
	if !verbose {
		return
	}
	said := map[string]bool{}
	for i := range lc.targets {
		l := lc.bonds.Get(i)
		if l == nil || said[l.Master] {
			continue
		}
		said[l.Master] = true
		if l.Why != "" {
			fmt.Fprintf(errOut, "fastop: %s: no transmit link prediction: %s\n", term.Clean(l.Master), term.Clean(l.Why))
			continue
		}
		fmt.Fprintf(errOut, "fastop: %s: checking transmit links against the kernel's %s hash (the %s formula, from kernel %s)\n",
			term.Clean(l.Master), l.Config.Policy, l.Config.Variant.Name, term.Clean(lc.release))
	}
}

// joined returns the links that are now members of an expanded bond or
// team but are not captured, in the master's order.
func (lc *liveCapture) joined() []linkTarget {
	lc.mu.Lock()
	have := map[string]bool{}
	var masters []string
	for _, tg := range lc.targets {
		have[tg.name] = true
		if tg.master != "" && tg.sysfs && !slices.Contains(masters, tg.master) {
			masters = append(masters, tg.master)
		}
	}
	lc.mu.Unlock()
	var add []linkTarget
	for _, m := range masters {
		if len(have) >= table.MaxLinks {
			break
		}
		d, err := links.Read(sysfsRoot, m)
		if err != nil {
			continue // gone, or unreadable for now: its links say so
		}
		for _, name := range d.Members() {
			if !have[name] && !lc.tried[name] && len(have) < table.MaxLinks {
				add = append(add, linkTarget{name: name, master: m, sysfs: true})
				have[name] = true
			}
		}
	}
	return add
}

// join opens a link that joined its master and hands it to the capture;
// false when ctx ended first. A link that cannot be opened is said once
// and not tried again.
func (lc *liveCapture) join(ctx context.Context, tg linkTarget, added chan<- pipeline.Group) bool {
	g, ifc, err := lc.open(tg)
	if err != nil {
		lc.tried[tg.name] = true
		if lc.notes != nil {
			fmt.Fprintf(lc.notes, "fastop: %s joined %s but is not captured: %v\n", term.Clean(tg.name), term.Clean(tg.master), err)
		}
		return true
	}
	lc.mu.Lock()
	lc.targets = append(lc.targets, tg)
	lc.groups = append(lc.groups, g)
	lc.ifaces = append(lc.ifaces, ifc)
	lc.linkNow = append(lc.linkNow, readLink(tg, g))
	lc.members += g.Members()
	lc.mu.Unlock()
	select {
	case added <- g:
	case <-ctx.Done():
		return false // lc.close closes it with the others
	}
	if lc.notes != nil {
		fmt.Fprintf(lc.notes, "fastop: %s joined %s: capturing it\n", term.Clean(tg.name), term.Clean(tg.master))
	}
	return true
}

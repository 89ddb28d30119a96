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
// ends. Membership itself is read at start only: a link added to a bond
// later is not captured until fastop starts again.
func (lc *liveCapture) refreshLinks(ctx context.Context) {
	t := time.NewTicker(linkRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := make([]table.Link, len(lc.targets))
		for i, tg := range lc.targets {
			now[i] = readLink(tg, lc.groups[i])
		}
		lc.mu.Lock()
		lc.linkNow = now
		lc.mu.Unlock()
	}
}

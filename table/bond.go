package table

import (
	"slices"
	"strings"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/table/bondhash"
)

// MaxBondLinks bounds the links of one bond that fastop checks: the
// failover what-if keeps links² counters per tick and per history slot.
const MaxBondLinks = 16

// BondLink is what a worker capturing one link of a bond needs to check the
// links its transmitted packets left by: the bond's configuration as sysfs
// and uname said it at the last refresh. It is immutable once published
// (workers read it without locks); a change is a new BondLink.
type BondLink struct {
	Master string
	Mode   string // as sysfs says (balance-xor, 802.3ad, …)
	Policy string // xmit_hash_policy as sysfs says; "" when not exposed
	// Config is the hash to predict with. Unused when Why is set.
	Config bondhash.Config
	// Why says why no link is predicted (a mode or policy bondhash does
	// not model, a kernel it cannot read); "" when they are.
	Why string
	// Members are the bond's captured links in slave order, Usable the
	// indexes into Members of those that can transmit now, in that
	// order (the kernel's usable-slaves array), and Self this link's index
	// into Members.
	Members []string
	Usable  []int
	Self    int
}

// Predicting reports whether l checks links: the mode and policy are
// modelled and at least one link can transmit.
func (l *BondLink) Predicting() bool {
	return l.Why == "" && len(l.Usable) > 0 && len(l.Members) <= MaxBondLinks
}

// Same reports whether l and o describe the same configuration, so that a
// refresh that finds nothing new keeps the pointer workers hold.
func (l *BondLink) Same(o *BondLink) bool {
	if l == nil || o == nil {
		return l == o
	}
	return l.Master == o.Master && l.Mode == o.Mode && l.Policy == o.Policy &&
		l.Config == o.Config && l.Why == o.Why && l.Self == o.Self &&
		slices.Equal(l.Members, o.Members) && slices.Equal(l.Usable, o.Usable)
}

// reasonSlots is how many bondhash reasons a BondDelta tells apart.
const reasonSlots = 16

// BondDelta is what one worker checked of the packets its link
// transmitted during one tick. Per-link arrays are indexed by
// BondLink.Members.
type BondDelta struct {
	Link *BondLink // the configuration it was counted under
	// Agree: predicted, and left by the predicted link. Disagree: left
	// by another. Unknown: not predicted (BondLink.Why, or a reason per
	// packet in Why).
	Agree, Disagree, Unknown Counter
	Why                      [reasonSlots]uint64 // Unknown bytes by bondhash.Reason
	// Predicted is the bytes the formula puts on each link, IfLayer34
	// where layer3+4 would put them, and IfFails[f*len(Members)+j]
	// where they would go by link j if link f failed.
	Predicted []uint64
	IfLayer34 []uint64
	IfFails   []uint64
}

func newBondDelta(l *BondLink) *BondDelta {
	n := len(l.Members)
	return &BondDelta{Link: l, Predicted: make([]uint64, n), IfLayer34: make([]uint64, n), IfFails: make([]uint64, n*n)}
}

func (b *BondDelta) reset() {
	b.Agree, b.Disagree, b.Unknown = Counter{}, Counter{}, Counter{}
	b.Why = [reasonSlots]uint64{}
	clear(b.Predicted)
	clear(b.IfLayer34)
	clear(b.IfFails)
}

// bond returns the delta's bond counters for l. A new configuration of
// the same bond and link (a link went down, the policy changed) keeps the
// tick's counts so far, which the merger files under the newest; another
// bond or set of links starts them afresh (that tick's counts so far on
// this worker are lost: they would be summed over other links).
func (d *Delta) bond(l *BondLink) *BondDelta {
	b := d.Bond
	switch {
	case b == nil:
		b = newBondDelta(l)
		d.Bond = b
	case b.Link == l:
	case b.Link.Master == l.Master && b.Link.Self == l.Self && slices.Equal(b.Link.Members, l.Members):
		b.Link = l
	default:
		b = newBondDelta(l)
		d.Bond = b
	}
	return b
}

// CheckBond counts one packet that l's link transmitted: the link the
// kernel's formula predicts against the link it left by, and where it
// would go under layer3+4 and with each usable link failed. p is the
// decoded packet, vlanOutOfBand its decode.Meta.VLANOK.
func (d *Delta) CheckBond(l *BondLink, p *decode.Packet, vlanOutOfBand bool) {
	b := d.bond(l)
	bytes := p.IPLen
	why := bondhash.ReasonMode // BondLink.Why: the mode, policy or kernel
	var f bondhash.Flow
	if l.Predicting() {
		f, why = bondhash.FlowOf(p, vlanOutOfBand)
	} else if l.Why == "" {
		why = bondhash.ReasonNoLinks
	}
	if why != bondhash.ReasonNone {
		b.Unknown.add(bytes)
		b.Why[min(int(why), reasonSlots-1)] += uint64(bytes)
		return
	}
	n := len(l.Usable)
	pr := l.Config.Predict(&f, n)
	if !pr.OK() {
		b.Unknown.add(bytes)
		b.Why[min(int(pr.Why), reasonSlots-1)] += uint64(bytes)
	} else {
		link := l.Usable[pr.Link]
		b.Predicted[link] += uint64(bytes)
		if link == l.Self {
			b.Agree.add(bytes)
		} else {
			b.Disagree.add(bytes)
		}
	}
	q := pr
	if l.Config.Policy != bondhash.PolicyLayer34 {
		c := l.Config
		c.Policy = bondhash.PolicyLayer34
		q = c.Predict(&f, n)
	}
	if q.OK() {
		b.IfLayer34[l.Usable[q.Link]] += uint64(bytes)
	}
	if n < 2 || !pr.OK() {
		return
	}
	// With one link fewer every flow is hashed modulo n-1 over the
	// others, which keep their order: the link index is the same whichever
	// link failed, only the numbering around the failed one differs.
	k := int(pr.Hash % uint32(n-1))
	m := len(l.Members)
	for fi, failed := range l.Usable {
		j := k
		if j >= fi {
			j++
		}
		b.IfFails[failed*m+l.Usable[j]] += uint64(bytes)
	}
}

// BondView is what a snapshot says of one bond's transmit links over the
// 40 s window: how often the kernel's formula named the link a packet
// was seen leaving by, and the two what-ifs. Per-link slices are indexed
// like Links.
type BondView struct {
	Master  string
	Mode    string
	Policy  string // "" when sysfs does not expose one
	Variant string // the kernel variant predicted with ("5.18"); "" when none
	// Why says why no link is predicted; "" when they are.
	Why   string
	Links []BondLinkView
	// Agree, Disagree and Unknown sum the links' counts.
	Agree, Disagree, Unknown Counter
	// UnknownWhy is the reason most Unknown bytes had; "" when none.
	UnknownWhy string
	// IfFails[f][j] is the bytes link j would carry if link f failed:
	// every predicted flow rehashed over the links left. A row is nil
	// for a link that cannot transmit now (it has nothing to lose).
	IfFails [][]uint64
}

// BondLinkView is one link of a bond in a BondView.
type BondLinkView struct {
	Name   string
	Usable bool // it can transmit now (up, and in 802.3ad in the active aggregator)
	// Observed is the bytes seen leaving by this link, checked: Agree
	// (the formula named this link), Disagree (it named another) and
	// Unknown (it named none) sum to it.
	Observed                 uint64
	Agree, Disagree, Unknown Counter
	// Predicted is the bytes the formula puts on this link, whichever
	// link they left by; IfLayer34 the bytes it would put on it under
	// layer3+4.
	Predicted uint64
	IfLayer34 uint64
}

// Disagrees reports whether the predictions disagree with what was seen
// for more than 1% of the predicted transmitted bytes.
func (b *BondView) Disagrees() bool {
	checked := b.Agree.Bytes + b.Disagree.Bytes
	return checked > 0 && b.Disagree.Bytes*100 > checked
}

// bondSlot is one history slot of a bond; slices indexed by member.
type bondSlot struct {
	agree, disagree, unknown []Counter
	why                      [reasonSlots]uint64
	predicted, ifL34         []uint64
	ifFails                  []uint64 // [failed*members + link]
}

func (s *bondSlot) clear() {
	clear(s.agree)
	clear(s.disagree)
	clear(s.unknown)
	s.why = [reasonSlots]uint64{}
	clear(s.predicted)
	clear(s.ifL34)
	clear(s.ifFails)
}

// bondAcc is the merger's history of one bond.
type bondAcc struct {
	link *BondLink // the latest configuration merged
	hist [Slots]bondSlot
}

func newBondAcc(l *BondLink) *bondAcc {
	a := &bondAcc{link: l}
	n := len(l.Members)
	for i := range a.hist {
		a.hist[i] = bondSlot{
			agree: make([]Counter, n), disagree: make([]Counter, n), unknown: make([]Counter, n),
			predicted: make([]uint64, n), ifL34: make([]uint64, n), ifFails: make([]uint64, n*n),
		}
	}
	return a
}

// mergeBond adds a delta's bond counts to slot t. A bond whose members
// changed starts its history again: the per-link sums would mix links.
func (f *Flows) mergeBond(b *BondDelta, t int64) {
	if b == nil || b.Link == nil || b.Agree.Packets+b.Disagree.Packets+b.Unknown.Packets == 0 {
		return
	}
	l := b.Link
	if l.Self < 0 || l.Self >= len(l.Members) || len(b.Predicted) != len(l.Members) {
		return
	}
	var a *bondAcc
	for _, x := range f.bonds {
		if x.link.Master == l.Master {
			a = x
		}
	}
	switch {
	case a == nil:
		a = newBondAcc(l)
		f.bonds = append(f.bonds, a)
	case !slices.Equal(a.link.Members, l.Members):
		*a = *newBondAcc(l)
	}
	a.link = l
	s := &a.hist[t%Slots]
	s.agree[l.Self].addCounter(&b.Agree)
	s.disagree[l.Self].addCounter(&b.Disagree)
	s.unknown[l.Self].addCounter(&b.Unknown)
	for i, v := range b.Why {
		s.why[i] += v
	}
	for i := range b.Predicted {
		s.predicted[i] += b.Predicted[i]
		s.ifL34[i] += b.IfLayer34[i]
	}
	for i, v := range b.IfFails {
		s.ifFails[i] += v
	}
}

// rotateBonds clears slot n of every bond for the tick starting.
func (f *Flows) rotateBonds(n int64) {
	for _, a := range f.bonds {
		a.hist[n%Slots].clear()
	}
}

// bondViews sums each bond's history over the 40 s window ending at tick
// t, bonds by master name.
func (f *Flows) bondViews(t int64) []BondView {
	var out []BondView
	for _, a := range f.bonds {
		l := a.link
		n := len(l.Members)
		v := BondView{Master: l.Master, Mode: l.Mode, Policy: l.Policy, Why: l.Why}
		if l.Why == "" {
			v.Variant = l.Config.Variant.Name
		}
		v.Links = make([]BondLinkView, n)
		usable := make([]bool, n)
		for _, u := range l.Usable {
			usable[u] = true
		}
		fails := make([]uint64, n*n)
		var why [reasonSlots]uint64
		for j := max(t-Slots+1, 0); j <= t; j++ {
			s := &a.hist[j%Slots]
			for i := range n {
				lv := &v.Links[i]
				lv.Agree.addCounter(&s.agree[i])
				lv.Disagree.addCounter(&s.disagree[i])
				lv.Unknown.addCounter(&s.unknown[i])
				lv.Predicted += s.predicted[i]
				lv.IfLayer34 += s.ifL34[i]
			}
			for i, x := range s.ifFails {
				fails[i] += x
			}
			for i, x := range s.why {
				why[i] += x
			}
		}
		for i := range n {
			lv := &v.Links[i]
			lv.Name, lv.Usable = l.Members[i], usable[i]
			lv.Observed = lv.Agree.Bytes + lv.Disagree.Bytes + lv.Unknown.Bytes
			v.Agree.addCounter(&lv.Agree)
			v.Disagree.addCounter(&lv.Disagree)
			v.Unknown.addCounter(&lv.Unknown)
		}
		v.IfFails = make([][]uint64, n)
		for i := range n {
			if usable[i] && len(l.Usable) >= 2 {
				v.IfFails[i] = fails[i*n : (i+1)*n : (i+1)*n]
			}
		}
		best := 0
		for i, x := range why {
			if x > why[best] {
				best = i
			}
		}
		if why[best] > 0 {
			v.UnknownWhy = bondhash.Reason(best).String()
			if best == int(bondhash.ReasonMode) && l.Why != "" {
				v.UnknownWhy = l.Why
			}
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b BondView) int { return strings.Compare(a.Master, b.Master) })
	return out
}

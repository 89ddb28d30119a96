package bondhash

// FlowBytes is a flow with the bytes it sent, for the what-ifs.
type FlowBytes struct {
	Flow  Flow
	Bytes uint64
	// Link is the usable link the flow was seen leaving by, or -1 when
	// it was not seen and the prediction stands in.
	Link int
}

// Split is how bytes fall on links.
type Split struct {
	Bytes   []uint64 // per link
	Flows   []int    // flows per link
	Unknown uint64   // bytes of flows whose link cannot be predicted
	// UnknownFlows counts them; Why holds the reason of the first one.
	UnknownFlows int
	Why          Reason
}

func newSplit(n int) Split {
	return Split{Bytes: make([]uint64, n), Flows: make([]int, n)}
}

func (s *Split) add(p Prediction, b uint64) {
	if !p.OK() {
		if s.UnknownFlows == 0 {
			s.Why = p.Why
		}
		s.Unknown += b
		s.UnknownFlows++
		return
	}
	s.Bytes[p.Link] += b
	s.Flows[p.Link]++
}

// SplitIfLayer34 answers "what if the policy were layer3+4": the bytes of
// flows over links usable links under c's mode and kernel variant with the
// layer3+4 policy. links ≤ 0 gives an empty split with everything unknown.
func SplitIfLayer34(c Config, flows []FlowBytes, links int) Split {
	c.Policy = PolicyLayer34
	if links <= 0 {
		links = 0
	}
	s := newSplit(links)
	for i := range flows {
		s.add(c.Predict(&flows[i].Flow, links), flows[i].Bytes)
	}
	return s
}

// Move is where one flow goes when a link fails.
type Move struct {
	Index int // into the flows given
	From  int // the link it leaves by now (seen, or predicted)
	// To is the link it would leave by, numbered as before the failure
	// (never the failed link); -1 when it cannot be predicted.
	To  int
	Why Reason // why To is -1
}

// Failover is the answer to "what if link Failed went down".
type Failover struct {
	Failed int
	// Moves lists every flow whose link would change (those of the
	// failed link, and also flows of other links, since the kernel
	// rehashes every flow over one link fewer) and every flow whose new
	// link cannot be predicted.
	Moves []Move
	// After is the split over the links that remain, numbered as before
	// (the failed link's entry stays 0).
	After Split
	// FromFailed is how the failed link's bytes would spread (numbered
	// as before); its Unknown holds those that cannot be predicted.
	FromFailed Split
}

// IfLinkFails answers "where would the flows go if link failed stopped":
// the kernel drops the link from its usable array (the others keep their
// order) and hashes every flow modulo links-1. A flow's current link is
// its Link when seen, else its prediction over links. An out-of-range
// failed link or fewer than two links gives everything unknown.
func IfLinkFails(c Config, flows []FlowBytes, links, failed int) Failover {
	if links < 0 {
		links = 0
	}
	out := Failover{Failed: failed, After: newSplit(links), FromFailed: newSplit(links)}
	usable := failed >= 0 && failed < links && links >= 2
	for i := range flows {
		fb := &flows[i]
		from := fb.Link
		if from < 0 || from >= links {
			from = c.Predict(&fb.Flow, links).Link // -1 when unknown
		}
		var to Prediction
		if usable {
			to = c.Predict(&fb.Flow, links-1)
			if to.OK() && to.Link >= failed {
				to.Link++ // back to the numbering before the failure
			}
		} else {
			to = Prediction{Link: -1, Why: ReasonNoLinks}
		}
		out.After.add(to, fb.Bytes)
		if from == failed {
			out.FromFailed.add(to, fb.Bytes)
		}
		if to.Link != from || !to.OK() {
			out.Moves = append(out.Moves, Move{Index: i, From: from, To: to.Link, Why: to.Why})
		}
	}
	return out
}

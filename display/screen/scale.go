package screen

import "math"

// scaleSteps are the maxima of the automatic bar scale, in bits per second:
// iftop's table (Debian's, with 10 G and 100 G) extended to 1 Tbit/s. Above
// the last step the scale stays there and bars stop at the right edge, where
// iftop ran off its table and printed garbage labels.
var scaleSteps = [...]float64{64e3, 128e3, 256e3, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12}

// scaleCalmTicks is how many ticks in a row the traffic must fit a smaller
// scale before the scale shrinks to it (10 s: five 2 s ticks).
const scaleCalmTicks = 5

// autoScale is the automatic bar scale (no -m). Unlike iftop's, it grows to
// the smallest step that fits the largest bar (iftop lands two steps above
// on its first growth), and it shrinks again once the traffic has fitted a
// smaller step for scaleCalmTicks ticks (iftop never shrinks). The zero
// value is the first step, 64 kbit/s, as iftop starts.
type autoScale struct {
	idx  int
	calm int
}

// Max returns the current maximum in bits per second.
func (a autoScale) Max() float64 { return scaleSteps[a.idx] }

// Tick moves the scale after a new snapshot: need is the largest bar value
// drawn (renderInfo.Need). Growth is immediate; shrinking waits.
func (a autoScale) Tick(need float64) autoScale {
	f := fitStep(need)
	switch {
	case f > a.idx:
		a.idx, a.calm = f, 0
	case f < a.idx:
		a.calm++
		if a.calm >= scaleCalmTicks {
			a.idx, a.calm = f, 0
		}
	default:
		a.calm = 0
	}
	return a
}

// fitStep returns the index of the smallest step ≥ need, or the last one.
func fitStep(need float64) int {
	for i, s := range scaleSteps {
		if need <= s {
			return i
		}
	}
	return len(scaleSteps) - 1
}

// fitScale returns the smallest automatic step that holds need bits/s, or
// the largest step; at least cur, so a frame never draws bars past a scale
// the loop has not caught up with yet.
func fitScale(cur, need float64) float64 {
	return math.Max(cur, scaleSteps[fitStep(need)])
}

// barCells returns how many cells of a row of width w a bar for bits
// reverses: iftop's L_bar + 1 (L_bar = ⌊bits/max × w⌋, or ⌊ln bits / ln max
// × w⌋ on the log scale), none when L_bar is 0, at most w.
func barCells(bits, max float64, w int, log bool) int {
	if !(bits > 0) || !(max > 0) {
		return 0
	}
	var frac float64
	if log {
		if bits <= 1 {
			return 0
		}
		frac = math.Log(bits) / math.Log(logMax(max))
	} else {
		frac = bits / max
	}
	if frac*float64(w) >= float64(w) {
		return w
	}
	n := int(frac * float64(w))
	if n <= 0 {
		return 0
	}
	return min(n+1, w)
}

// logMax keeps the log scale meaningful for a tiny -m (ln 1 is 0).
func logMax(max float64) float64 { return math.Max(max, 100) }

package filter

// The code generator builds a graph of blocks, as libpcap does: each block
// runs some statements, then either returns or tests A (or compares A with
// X) and goes to one of two successors. Boolean operators only rewire
// edges. The graph is acyclic and the optimiser and layout work on it.

type blockKind uint8

const (
	bkCond blockKind = iota // conditional jump on A
	bkGoto                  // unconditional: go to t
	bkRet                   // return ret
)

type block struct {
	stmts []Instruction // non-jump instructions
	kind  blockKind
	op    uint16 // conditional jump opcode (JEQ/JGT/JGE/JSET, K or X)
	k     uint32
	t, f  *block
	ret   uint32

	// inA: the block uses the A register left by its predecessor (its
	// statements do not compute A from scratch), so it must not be
	// skipped over or moved by the optimiser.
	inA bool
	// effect: the block writes a scratch slot that later blocks read
	// (the live-VLAN offset), so it must run whenever it is reached.
	effect bool
}

// gen builds the code for a predicate given the blocks to go to when it
// is true and when it is false (continuation-passing style): and, or and
// not are then one line each and never copy code.
type gen func(t, f *block) *block

func gTrue() gen  { return func(t, f *block) *block { return t } }
func gFalse() gen { return func(t, f *block) *block { return f } }

func gAnd(a, b gen) gen {
	return func(t, f *block) *block { return a(b(t, f), f) }
}

func gOr(a, b gen) gen {
	return func(t, f *block) *block { return a(t, b(t, f)) }
}

func gNot(a gen) gen {
	return func(t, f *block) *block { return a(f, t) }
}

// gTest runs stmts, then tests A (or A against X) with the jump op.
func gTest(stmts []Instruction, op uint16, k uint32) gen {
	return func(t, f *block) *block {
		return &block{stmts: stmts, kind: bkCond, op: op, k: k, t: t, f: f}
	}
}

// andAll and orAll fold a list left to right; a nil entry is skipped.
func andAll(gs ...gen) gen { return fold(gs, gAnd, gTrue) }

func orAll(gs ...gen) gen { return fold(gs, gOr, gFalse) }

// fold combines the non-nil entries of gs with op; none gives empty().
func fold(gs []gen, op func(a, b gen) gen, empty func() gen) gen {
	var r gen
	for _, g := range gs {
		switch {
		case g == nil:
		case r == nil:
			r = g
		default:
			r = op(r, g)
		}
	}
	if r == nil {
		return empty()
	}
	return r
}

func ins(op uint16, k uint32) Instruction { return Instruction{Op: op, K: k} }

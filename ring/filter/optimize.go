package filter

import (
	"encoding/binary"
	"strings"
)

// The optimiser keeps libpcap's run-time semantics (a load past the
// captured bytes rejects the packet): it only skips a test when the same
// computation already ran, and succeeded, on every path to it.
//
//   - Jump threading: along each edge, the outcomes of earlier tests are
//     known (ldh [12] = 0x800, ldb [23] != 6, …); a later test of the same
//     computation whose outcome is then decided is jumped over.
//   - Blocks that cannot be reached are dropped, a test with one successor
//     becomes a jump, and identical blocks are merged.
//   - Redundant loads: a statement that would put into A or X the value
//     already there (on every path) is removed.
func optimize(root *block) *block {
	for range 4 {
		changed := thread(root)
		root = simplify(root)
		if !changed {
			break
		}
	}
	dropRedundant(root)
	// Merging and bypassing stay correct after dropRedundant: identical
	// code with identical successors is interchangeable whatever the
	// registers hold on entry.
	return simplify(root)
}

// topo returns the blocks reachable from root, each before its successors.
func topo(root *block) []*block {
	return reversePostorder(root, func(*block) bool { return true })
}

// reversePostorder walks the blocks reachable from root depth first, the
// false successor before the true one, and returns them in reverse
// postorder (each block before its successors). keepRet is called for each
// return block the first time it is reached; it says whether the block
// goes in the order.
func reversePostorder(root *block, keepRet func(*block) bool) []*block {
	seen := map[*block]bool{}
	var post []*block
	var visit func(b *block)
	visit = func(b *block) {
		if seen[b] {
			return
		}
		seen[b] = true
		switch b.kind {
		case bkRet:
			if !keepRet(b) {
				return
			}
		case bkCond:
			visit(b.f)
			visit(b.t)
		case bkGoto:
			visit(b.t)
		}
		post = append(post, b)
	}
	visit(root)
	for i, j := 0, len(post)-1; i < j; i, j = i+1, j-1 {
		post[i], post[j] = post[j], post[i]
	}
	return post
}

// fact is what is known about the value of one computation: it lies in
// [lo, hi], is one of in (when in is not nil), is none of ne, has the
// bits of zero clear and those of one set, and shares a bit with each
// mask of some.
type fact struct {
	lo, hi    uint32
	in        []uint32
	ne        []uint32
	zero, one uint32
	some      []uint32
}

// maxIn bounds the sets of possible values the optimiser tracks.
const maxIn = 16

type facts map[string]fact

func (f facts) clone() facts {
	g := make(facts, len(f))
	for k, v := range f {
		g[k] = v
	}
	return g
}

func contains(s []uint32, x uint32) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// meet keeps what holds on every incoming path.
func meet(fs []facts) facts {
	out := fs[0].clone()
	for _, g := range fs[1:] {
		for k, a := range out {
			b, ok := g[k]
			if !ok {
				delete(out, k)
				continue
			}
			m := fact{lo: min(a.lo, b.lo), hi: max(a.hi, b.hi), zero: a.zero & b.zero, one: a.one & b.one}
			for _, x := range a.ne {
				if b.excludes(x) {
					m.ne = append(m.ne, x)
				}
			}
			if a.in != nil && b.in != nil {
				m.in = append([]uint32{}, a.in...)
				for _, x := range b.in {
					if !contains(m.in, x) {
						m.in = append(m.in, x)
					}
				}
				if len(m.in) > maxIn {
					m.in = nil
				}
			}
			for _, x := range a.some {
				if contains(b.some, x) {
					m.some = append(m.some, x)
				}
			}
			out[k] = m
		}
	}
	return out
}

func (f fact) excludes(x uint32) bool {
	if x < f.lo || x > f.hi || contains(f.ne, x) || f.in != nil && !contains(f.in, x) {
		return true
	}
	return x&f.zero != 0 || x&f.one != f.one
}

// decide returns the outcome of "value op k" if the facts settle it.
func (f facts) decide(key string, op uint16, k uint32) (bool, bool) {
	v, ok := f[key]
	if !ok {
		return false, false
	}
	if v.in != nil && len(v.in) == 0 {
		return false, true // contradictory facts: no packet gets here
	}
	if v.in != nil {
		// every possible value gives the same outcome?
		first := evalJump(op, v.in[0], k)
		same := true
		for _, x := range v.in[1:] {
			if evalJump(op, x, k) != first {
				same = false
				break
			}
		}
		if same {
			return first, true
		}
	}
	switch aluOp(op) {
	case jmpJEQ:
		if v.excludes(k) {
			return false, true
		}
		if v.lo == v.hi {
			return true, true
		}
	case jmpJGT:
		if v.lo > k {
			return true, true
		}
		if v.hi <= k {
			return false, true
		}
	case jmpJGE:
		if v.lo >= k {
			return true, true
		}
		if v.hi < k {
			return false, true
		}
	case jmpJSET:
		if v.lo == v.hi {
			return v.lo&k != 0, true
		}
		if k&v.one != 0 {
			return true, true
		}
		if k&^v.zero == 0 {
			return false, true
		}
		for _, m := range v.some {
			if m&^k == 0 {
				return true, true
			}
		}
	}
	return false, false
}

func evalJump(op uint16, a, k uint32) bool {
	switch aluOp(op) {
	case jmpJEQ:
		return a == k
	case jmpJGT:
		return a > k
	case jmpJGE:
		return a >= k
	case jmpJSET:
		return a&k != 0
	}
	return false
}

// learn records the outcome of "value op k".
func (f facts) learn(key string, op uint16, k uint32, outcome bool) {
	v, ok := f[key]
	if !ok {
		v = fact{lo: 0, hi: 0xffffffff}
	}
	switch aluOp(op) {
	case jmpJEQ:
		if outcome {
			v = fact{lo: k, hi: k, in: []uint32{k}, zero: ^k, one: k}
		} else if !v.excludes(k) {
			v.ne = append(v.ne[:len(v.ne):len(v.ne)], k)
		}
	case jmpJGT:
		if outcome {
			if k == 0xffffffff {
				return
			}
			v.lo = max(v.lo, k+1)
		} else {
			v.hi = min(v.hi, k)
		}
	case jmpJGE:
		if outcome {
			v.lo = max(v.lo, k)
		} else {
			if k == 0 {
				return
			}
			v.hi = min(v.hi, k-1)
		}
	case jmpJSET:
		switch {
		case !outcome:
			v.zero |= k
		case k&(k-1) == 0:
			v.one |= k
		default:
			v.some = append(v.some[:len(v.some):len(v.some)], k)
		}
	default:
		return
	}
	if v.in != nil {
		var in []uint32
		for _, x := range v.in {
			if evalJump(op, x, k) == outcome {
				in = append(in, x)
			}
		}
		v.in = in
		if in == nil {
			v.in = []uint32{} // no value left: this path cannot happen
		}
	}
	f[key] = v
}

// keyOf identifies the computation a test looks at, or "" when the block
// cannot take part in threading (it tests X, uses A from its predecessor,
// or writes scratch memory that others read).
func keyOf(b *block) string {
	if b.kind != bkCond || b.inA || b.effect || opSrc(b.op) != srcK || len(b.stmts) == 0 {
		return ""
	}
	var sb strings.Builder
	var buf [6]byte
	// Keys of computations that read scratch memory start with 'M': a
	// block that writes scratch memory makes their facts stale.
	for _, s := range b.stmts {
		if s.Op == opLdMem || s.Op == opLdxMem {
			sb.WriteByte('M')
			break
		}
	}
	sb.WriteByte('=')
	for _, s := range b.stmts {
		binary.LittleEndian.PutUint16(buf[:], s.Op)
		binary.LittleEndian.PutUint32(buf[2:], s.K)
		sb.Write(buf[:])
	}
	return sb.String()
}

// thread redirects edges past tests whose outcome is known on that edge;
// it reports whether it changed any.
func thread(root *block) bool {
	changed := false
	order := topo(root)
	in := map[*block][]facts{root: {facts{}}}
	for _, b := range order {
		cs := in[b]
		if len(cs) == 0 {
			continue
		}
		f := meet(cs)
		if b.effect {
			for k := range f {
				if k[0] == 'M' {
					delete(f, k)
				}
			}
		}
		switch b.kind {
		case bkGoto:
			in[b.t] = append(in[b.t], f)
		case bkCond:
			key := keyOf(b)
			for _, outcome := range []bool{true, false} {
				g := f.clone()
				if key != "" {
					g.learn(key, b.op, b.k, outcome)
				}
				succ := b.f
				if outcome {
					succ = b.t
				}
				for range 4096 {
					k2 := keyOf(succ)
					if k2 == "" {
						break
					}
					res, known := g.decide(k2, succ.op, succ.k)
					if !known {
						break
					}
					next := succ.f
					if res {
						next = succ.t
					}
					if next.inA {
						break
					}
					g.learn(k2, succ.op, succ.k, res)
					succ = next
				}
				if outcome {
					changed = changed || b.t != succ
					b.t = succ
				} else {
					changed = changed || b.f != succ
					b.f = succ
				}
				in[succ] = append(in[succ], g)
			}
		}
	}
	return changed
}

// simplify rewrites the graph bottom-up: tests with a single successor,
// empty jumps, and duplicate blocks.
func simplify(root *block) *block {
	canon := map[*block]*block{}
	byKey := map[string]*block{}
	ids := map[*block]int{}
	var rewrite func(b *block) *block
	rewrite = func(b *block) *block {
		if c, ok := canon[b]; ok {
			return c
		}
		n := *b
		switch b.kind {
		case bkCond:
			n.t, n.f = rewrite(b.t), rewrite(b.f)
			if n.t == n.f && !n.effect {
				switch {
				case n.t.kind == bkRet && n.t.ret == 0:
					// reject either way: a failing load rejects too
					canon[b] = n.t
					return n.t
				case len(n.stmts) == 0:
					canon[b] = n.t
					return n.t
				}
				n.kind, n.f, n.op, n.k = bkGoto, nil, 0, 0
			}
		case bkGoto:
			n.t = rewrite(b.t)
			if len(n.stmts) == 0 && !n.effect {
				canon[b] = n.t
				return n.t
			}
		}
		key := blockKey(&n, ids)
		if c, ok := byKey[key]; ok {
			canon[b] = c
			return c
		}
		c := &n
		ids[c] = len(ids) + 1
		byKey[key] = c
		canon[b] = c
		return c
	}
	return rewrite(root)
}

func blockKey(b *block, ids map[*block]int) string {
	var sb strings.Builder
	var buf [8]byte
	put := func(v uint32) {
		binary.LittleEndian.PutUint32(buf[:4], v)
		sb.Write(buf[:4])
	}
	put(uint32(b.kind))
	put(uint32(b.op))
	put(b.k)
	put(b.ret)
	if b.inA {
		put(1)
	} else {
		put(0)
	}
	if b.effect {
		put(1)
	} else {
		put(0)
	}
	put(uint32(ids[b.t]))
	put(uint32(ids[b.f]))
	for _, s := range b.stmts {
		put(uint32(s.Op))
		put(s.K)
	}
	return sb.String()
}

// regs is a symbolic machine state: what A, X and each scratch slot hold,
// as value numbers. 0 means unknown.
type regs struct {
	a, x uint32
	m    [memWords]uint32
}

// numbering assigns value numbers to expressions.
type numbering struct {
	ids  map[[4]uint32]uint32
	next uint32
}

func (n *numbering) num(op uint16, k, a, b uint32) uint32 {
	key := [4]uint32{uint32(op), k, a, b}
	if v, ok := n.ids[key]; ok {
		return v
	}
	n.next++
	n.ids[key] = n.next
	return n.next
}

// fresh returns a number equal to nothing else.
func (n *numbering) fresh() uint32 {
	n.next++
	return n.next
}

// step applies one statement to r and reports whether it changed nothing
// (the register already held that value, so the statement can go).
func (n *numbering) step(r *regs, s Instruction) bool {
	switch {
	case s.Op == opLdImm:
		v := n.num(s.Op, s.K, 0, 0)
		same := r.a == v
		r.a = v
		return same
	case s.Op == opLdxImm:
		v := n.num(opLdImm, s.K, 0, 0)
		same := r.x == v
		r.x = v
		return same
	case s.Op == opLdW || s.Op == opLdH || s.Op == opLdB || s.Op == opLdLen:
		v := n.num(s.Op, s.K, 0, 0)
		same := r.a == v
		r.a = v
		return same
	case s.Op == opLdIndW || s.Op == opLdIndH || s.Op == opLdIndB:
		if r.x == 0 {
			r.a = n.fresh()
			return false
		}
		v := n.num(s.Op, s.K, r.x, 0)
		same := r.a == v
		r.a = v
		return same
	case s.Op == opLdxMsh || s.Op == opLdxLen:
		v := n.num(s.Op, s.K, 0, 0)
		same := r.x == v
		r.x = v
		return same
	case s.Op == opLdMem:
		if r.m[s.K] == 0 {
			r.m[s.K] = n.fresh()
		}
		same := r.a == r.m[s.K]
		r.a = r.m[s.K]
		return same
	case s.Op == opLdxMem:
		if r.m[s.K] == 0 {
			r.m[s.K] = n.fresh()
		}
		same := r.x == r.m[s.K]
		r.x = r.m[s.K]
		return same
	case s.Op == opSt:
		if r.a == 0 {
			r.a = n.fresh()
		}
		same := r.m[s.K] == r.a
		r.m[s.K] = r.a
		return same
	case s.Op == opStx:
		if r.x == 0 {
			r.x = n.fresh()
		}
		same := r.m[s.K] == r.x
		r.m[s.K] = r.x
		return same
	case s.Op == opTax:
		if r.a == 0 {
			r.a = n.fresh()
		}
		same := r.x == r.a
		r.x = r.a
		return same
	case s.Op == opTxa:
		if r.x == 0 {
			r.x = n.fresh()
		}
		same := r.a == r.x
		r.a = r.x
		return same
	case s.Op == opNeg:
		r.a = n.num(s.Op, 0, r.a, 0)
		if r.a == 0 {
			r.a = n.fresh()
		}
		return false
	case opClass(s.Op) == classALU:
		if r.a == 0 || opSrc(s.Op) == srcX && r.x == 0 {
			r.a = n.fresh()
			return false
		}
		other := s.K
		if opSrc(s.Op) == srcX {
			other = r.x
		}
		r.a = n.num(s.Op, 0, r.a, other)
		return false
	}
	r.a, r.x = n.fresh(), n.fresh()
	return false
}

// dropRedundant removes statements that recompute what a register already
// holds on every path into the block. A dropped load ran before on every
// path, so it did not fail, and dropping it keeps the verdict.
func dropRedundant(root *block) {
	order := topo(root)
	n := &numbering{ids: map[[4]uint32]uint32{}}
	exits := map[*block][]regs{}
	for i, b := range order {
		var r regs
		if i > 0 {
			ins := exits[b]
			if len(ins) == 0 {
				continue
			}
			r = ins[0]
			for _, o := range ins[1:] {
				if o.a != r.a {
					r.a = 0
				}
				if o.x != r.x {
					r.x = 0
				}
				for k := range r.m {
					if o.m[k] != r.m[k] {
						r.m[k] = 0
					}
				}
			}
		}
		kept := b.stmts[:0:0]
		for _, s := range b.stmts {
			if !n.step(&r, s) || b.effect {
				kept = append(kept, s)
			}
		}
		if len(kept) != len(b.stmts) {
			b.stmts = kept
			b.inA = true
		}
		switch b.kind {
		case bkCond:
			exits[b.t] = append(exits[b.t], r)
			exits[b.f] = append(exits[b.f], r)
		case bkGoto:
			exits[b.t] = append(exits[b.t], r)
		}
	}
}

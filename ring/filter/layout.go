package filter

// layout orders the blocks so that every jump goes forward, emits them,
// and inserts `ja` trampolines where a conditional jump would have to skip
// more than 255 instructions (its offsets are 8 bits).
func layout(root *block) Program {
	order, rets := orderBlocks(root)
	all := append(order, rets...)
	index := make(map[*block]int, len(all))
	for i, b := range all {
		index[b] = i
	}
	// Returns with the same value are one block.
	retOf := map[uint32]*block{}
	for _, b := range rets {
		retOf[b.ret] = b
	}
	target := func(b *block) *block {
		if b.kind == bkRet {
			return retOf[b.ret]
		}
		return b
	}
	trampT := make([]bool, len(all))
	trampF := make([]bool, len(all))
	start := make([]int, len(all)+1)
	needJa := func(i int) bool {
		b := all[i]
		return b.kind == bkGoto && (i+1 >= len(all) || all[i+1] != target(b.t))
	}
	size := func(i int) int {
		b := all[i]
		n := len(b.stmts)
		switch b.kind {
		case bkRet:
			return n + 1
		case bkGoto:
			if needJa(i) {
				n++
			}
			return n
		}
		n++
		if trampT[i] {
			n++
		}
		if trampF[i] {
			n++
		}
		return n
	}
	for {
		pos := 0
		for i := range all {
			start[i] = pos
			pos += size(i)
		}
		start[len(all)] = pos
		changed := false
		for i, b := range all {
			if b.kind != bkCond {
				continue
			}
			jump := start[i] + len(b.stmts)
			if !trampT[i] && start[index[target(b.t)]]-(jump+1) > 255 {
				trampT[i], changed = true, true
			}
			if !trampF[i] && start[index[target(b.f)]]-(jump+1) > 255 {
				trampF[i], changed = true, true
			}
		}
		if !changed {
			break
		}
	}
	prog := make(Program, 0, start[len(all)])
	for i, b := range all {
		prog = append(prog, b.stmts...)
		switch b.kind {
		case bkRet:
			prog = append(prog, Instruction{Op: opRetK, K: b.ret})
		case bkGoto:
			if needJa(i) {
				pc := len(prog)
				prog = append(prog, Instruction{Op: opJa, K: uint32(start[index[target(b.t)]] - (pc + 1))})
			}
		case bkCond:
			pc := len(prog)
			tt, ft := start[index[target(b.t)]], start[index[target(b.f)]]
			j := Instruction{Op: b.op, K: b.k}
			next := pc + 1
			if trampT[i] {
				j.Jt = uint8(next - (pc + 1))
				next++
			} else {
				j.Jt = uint8(tt - (pc + 1))
			}
			if trampF[i] {
				j.Jf = uint8(next - (pc + 1))
			} else {
				j.Jf = uint8(ft - (pc + 1))
			}
			prog = append(prog, j)
			if trampT[i] {
				pc := len(prog)
				prog = append(prog, Instruction{Op: opJa, K: uint32(tt - (pc + 1))})
			}
			if trampF[i] {
				pc := len(prog)
				prog = append(prog, Instruction{Op: opJa, K: uint32(ft - (pc + 1))})
			}
		}
	}
	return prog
}

// orderBlocks returns the non-return blocks in reverse postorder (every
// block before its successors; the true successor, visited last, usually
// right after its block), and the distinct return blocks, accepting ones
// first.
func orderBlocks(root *block) (order, rets []*block) {
	retSeen := map[uint32]bool{}
	order = reversePostorder(root, func(b *block) bool {
		if !retSeen[b.ret] {
			retSeen[b.ret] = true
			rets = append(rets, b)
		}
		return false
	})
	// accept (non-zero) before reject, as tcpdump prints them
	for i := 1; i < len(rets); i++ {
		for j := i; j > 0 && rets[j].ret != 0 && rets[j-1].ret == 0; j-- {
			rets[j], rets[j-1] = rets[j-1], rets[j]
		}
	}
	return order, rets
}

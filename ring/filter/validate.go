package filter

import (
	"errors"
	"fmt"
)

// ErrInvalidProgram is wrapped by every error of Validate and NewVM.
var ErrInvalidProgram = errors.New("invalid program")

// Validate checks p against the rules of the Linux classic BPF checker
// (net/core/filter.c bpf_check_classic), so that a program fastop attaches
// with SO_ATTACH_FILTER is not refused with a bare EINVAL: 1 to 4096
// instructions, known opcodes only, jumps forward and inside the program,
// no division or modulo by a constant 0, shifts by less than 32, scratch
// slots below 16 and written on every path before they are read, known
// ancillary offsets only, and a return as the last instruction.
func (p Program) Validate() error {
	return p.validate(false)
}

// validate implements Validate; loose accepts what libpcap's user-space
// interpreter runs but the kernel refuses: backward ja (libpcap's
// protochain loop, with a sign-extended offset), unknown ancillary offsets
// (plain out-of-range loads in user space) and reads of scratch slots no
// path has written (libpcap's geneve code does this).
func (p Program) validate(loose bool) error {
	n := len(p)
	if n == 0 {
		return fmt.Errorf("filter: %w: no instructions", ErrInvalidProgram)
	}
	if n > MaxInstructions {
		return fmt.Errorf("filter: %w: %d instructions, the kernel allows at most %d", ErrInvalidProgram, n, MaxInstructions)
	}
	for pc, ins := range p {
		if err := checkInstruction(p, pc, ins, loose); err != nil {
			return fmt.Errorf("filter: %w: instruction %d (%s): %s", ErrInvalidProgram, pc, ins.mnemonic(), err)
		}
	}
	if last := p[n-1].Op; last != opRetK && last != opRetA {
		return fmt.Errorf("filter: %w: the last instruction must be a return", ErrInvalidProgram)
	}
	if loose {
		return nil // the VM's scratch memory starts zeroed; libpcap's geneve code relies on it
	}
	return p.checkScratch()
}

// errText is a cheap error for checkInstruction; validate adds the context.
type errText string

func (e errText) Error() string { return string(e) }

func checkInstruction(p Program, pc int, ins Instruction, loose bool) error {
	n := len(p)
	if !validOpcode(ins.Op) {
		return errText(fmt.Sprintf("unknown opcode %#x", ins.Op))
	}
	switch ins.Op {
	case classALU | aluDIV | srcK, classALU | aluMOD | srcK:
		if ins.K == 0 {
			return errText("division by the constant 0")
		}
	case classALU | aluLSH | srcK, classALU | aluRSH | srcK:
		if ins.K >= 32 {
			return errText(fmt.Sprintf("shift by %d bits (at most 31)", ins.K))
		}
	case opLdMem, opLdxMem, opSt, opStx:
		if ins.K >= memWords {
			return errText(fmt.Sprintf("scratch slot %d (there are %d)", ins.K, memWords))
		}
	case opJa:
		if loose {
			t := pc + 1 + int(int32(ins.K))
			if t < 0 || t >= n {
				return errText("jump outside the program")
			}
		} else if ins.K >= uint32(n-1-pc) {
			return errText("jump backward or past the end")
		}
	case opLdW, opLdH, opLdB:
		if ins.K >= skfAdOff && !loose && !knownAncillary(ins.K-skfAdOff) {
			return errText(fmt.Sprintf("unknown ancillary offset %d", int32(ins.K)))
		}
	}
	if isCondJump(ins.Op) && (pc+int(ins.Jt)+1 >= n || pc+int(ins.Jf)+1 >= n) {
		return errText("jump past the end")
	}
	return nil
}

func knownAncillary(off uint32) bool {
	return off < skfAdMax && off%4 == 0
}

// validOpcode lists the opcodes the Linux checker allows (chk_code_allowed).
func validOpcode(op uint16) bool {
	switch op {
	case opLdW, opLdH, opLdB, opLdIndW, opLdIndH, opLdIndB, opLdLen, opLdImm, opLdMem,
		opLdxImm, opLdxMem, opLdxLen, opLdxMsh, opSt, opStx,
		opNeg, opJa, opRetK, opRetA, opTax, opTxa:
		return true
	}
	switch opClass(op) {
	case classALU:
		if op&^0xf8 != classALU {
			return false
		}
		switch aluOp(op) {
		case aluADD, aluSUB, aluMUL, aluDIV, aluOR, aluAND, aluLSH, aluRSH, aluMOD, aluXOR:
			return true
		}
	case classJMP:
		if op&^0xf8 != classJMP {
			return false
		}
		switch aluOp(op) {
		case jmpJEQ, jmpJGT, jmpJGE, jmpJSET:
			return true
		}
	}
	return false
}

// checkScratch is the kernel's check_load_and_stores: a forward pass that
// tracks which scratch slots are written on every path reaching each
// instruction (jumps only go forward, so one pass is enough).
func (p Program) checkScratch() error {
	var masksBuf [64]uint16
	var masks []uint16
	if len(p) <= len(masksBuf) {
		masks = masksBuf[:len(p)]
	} else {
		masks = make([]uint16, len(p))
	}
	for i := range masks {
		masks[i] = 0xffff
	}
	var valid uint16
	for pc, ins := range p {
		valid &= masks[pc]
		switch {
		case ins.Op == opSt || ins.Op == opStx:
			valid |= 1 << ins.K
		case ins.Op == opLdMem || ins.Op == opLdxMem:
			if valid&(1<<ins.K) == 0 {
				return fmt.Errorf("filter: %w: instruction %d (%s) reads scratch slot %d before every path has written it",
					ErrInvalidProgram, pc, ins.mnemonic(), ins.K)
			}
		case ins.Op == opJa:
			masks[pc+1+int(ins.K)] &= valid
			valid = 0xffff
		case isCondJump(ins.Op):
			masks[pc+1+int(ins.Jt)] &= valid
			masks[pc+1+int(ins.Jf)] &= valid
			valid = 0xffff
		}
	}
	return nil
}

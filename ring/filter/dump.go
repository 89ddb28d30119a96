package filter

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// String returns the program in the format of `tcpdump -d` (libpcap's
// bpf_image), one instruction per line, e.g.
//
//	(000) ldh      [12]
//	(001) jeq      #0x800           jt 2	jf 3
func (p Program) String() string {
	var b strings.Builder
	for i, ins := range p {
		b.WriteString(ins.image(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// DDD returns the program in the format of `tcpdump -ddd`: the instruction
// count, then "code jt jf k" in decimal, one line each.
func (p Program) DDD() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(p)))
	b.WriteByte('\n')
	for _, ins := range p {
		fmt.Fprintf(&b, "%d %d %d %d\n", ins.Op, ins.Jt, ins.Jf, ins.K)
	}
	return b.String()
}

// ErrSyntaxDDD is wrapped by ParseDDD's errors.
var ErrSyntaxDDD = errors.New("malformed -ddd program")

// ParseDDD reads the `tcpdump -ddd` format: an instruction count followed by
// that many "code jt jf k" lines. Lines may also be separated by ';' (the
// form of the golden files). It does not validate the program.
func ParseDDD(s string) (Program, error) {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ';' || r == ',' })
	var fields [][]string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 || len(fields[0]) != 1 {
		return nil, fmt.Errorf("filter: %w: expected the instruction count first", ErrSyntaxDDD)
	}
	n, err := strconv.Atoi(fields[0][0])
	if err != nil || n < 0 || n != len(fields)-1 {
		return nil, fmt.Errorf("filter: %w: count %q does not match %d instruction lines", ErrSyntaxDDD, fields[0][0], len(fields)-1)
	}
	p := make(Program, n)
	for i, f := range fields[1:] {
		if len(f) != 4 {
			return nil, fmt.Errorf("filter: %w: line %d: want 4 numbers, got %d", ErrSyntaxDDD, i+2, len(f))
		}
		var v [4]uint64
		limits := [4]int{16, 8, 8, 32}
		for j := range f {
			x, err := strconv.ParseUint(f[j], 10, limits[j])
			if err != nil {
				return nil, fmt.Errorf("filter: %w: line %d: %q is not a %d-bit number", ErrSyntaxDDD, i+2, f[j], limits[j])
			}
			v[j] = x
		}
		p[i] = Instruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
	}
	return p, nil
}

var ancillaryNames = [...]string{
	skfAdProtocol / 4:       "proto",
	skfAdPktType / 4:        "type",
	skfAdIfindex / 4:        "ifidx",
	skfAdNlattr / 4:         "nla",
	skfAdNlattrNest / 4:     "nlan",
	skfAdMark / 4:           "mark",
	skfAdQueue / 4:          "queue",
	skfAdHatype / 4:         "hatype",
	skfAdRxhash / 4:         "rxhash",
	skfAdCPU / 4:            "cpu",
	skfAdAluXorX / 4:        "xor_x",
	skfAdVLANTag / 4:        "vlan_tci",
	skfAdVLANTagPresent / 4: "vlanp",
	skfAdPayOffset / 4:      "poff",
	skfAdRandom / 4:         "random",
	skfAdVLANTPID / 4:       "vlan_tpid",
}

var aluNames = map[uint16]string{
	aluADD: "add", aluSUB: "sub", aluMUL: "mul", aluDIV: "div", aluOR: "or",
	aluAND: "and", aluLSH: "lsh", aluRSH: "rsh", aluMOD: "mod", aluXOR: "xor",
}

var jmpNames = map[uint16]string{jmpJEQ: "jeq", jmpJGT: "jgt", jmpJGE: "jge", jmpJSET: "jset"}

// mnemonic is the instruction's operator name as tcpdump prints it.
func (ins Instruction) mnemonic() string {
	op, _ := ins.parts(0)
	return op
}

// parts returns the operator and operand columns of bpf_image for the
// instruction at index n.
func (ins Instruction) parts(n int) (string, string) {
	k := ins.K
	switch ins.Op {
	case opRetK:
		return "ret", "#" + strconv.FormatUint(uint64(k), 10)
	case opRetA:
		return "ret", ""
	case opLdW, opLdH, opLdB:
		name := [...]string{sizeW: "ld", sizeH: "ldh", sizeB: "ldb"}[opSize(ins.Op)]
		if k >= skfAdOff && k-skfAdOff < skfAdMax && (k-skfAdOff)%4 == 0 {
			return name, "[" + ancillaryNames[(k-skfAdOff)/4] + "]"
		}
		return name, "[" + strconv.Itoa(int(int32(k))) + "]"
	case opLdIndW, opLdIndH, opLdIndB:
		name := [...]string{sizeW: "ld", sizeH: "ldh", sizeB: "ldb"}[opSize(ins.Op)]
		return name, "[x + " + strconv.Itoa(int(int32(k))) + "]"
	case opLdLen:
		return "ld", "#pktlen"
	case opLdxLen:
		return "ldx", "#pktlen"
	case opLdImm:
		return "ld", "#0x" + strconv.FormatUint(uint64(k), 16)
	case opLdxImm:
		return "ldx", "#0x" + strconv.FormatUint(uint64(k), 16)
	case opLdxMsh:
		return "ldxb", "4*([" + strconv.Itoa(int(int32(k))) + "]&0xf)"
	case opLdMem:
		return "ld", "M[" + strconv.FormatUint(uint64(k), 10) + "]"
	case opLdxMem:
		return "ldx", "M[" + strconv.FormatUint(uint64(k), 10) + "]"
	case opSt:
		return "st", "M[" + strconv.FormatUint(uint64(k), 10) + "]"
	case opStx:
		return "stx", "M[" + strconv.FormatUint(uint64(k), 10) + "]"
	case opJa:
		return "ja", strconv.Itoa(n + 1 + int(int32(k)))
	case opNeg:
		return "neg", ""
	case opTax:
		return "tax", ""
	case opTxa:
		return "txa", ""
	}
	switch opClass(ins.Op) {
	case classALU:
		if name, ok := aluNames[aluOp(ins.Op)]; ok && ins.Op&^0xf8 == classALU {
			if opSrc(ins.Op) == srcX {
				return name, "x"
			}
			switch aluOp(ins.Op) {
			case aluAND, aluOR, aluXOR:
				return name, "#0x" + strconv.FormatUint(uint64(k), 16)
			}
			return name, "#" + strconv.Itoa(int(int32(k)))
		}
	case classJMP:
		if name, ok := jmpNames[aluOp(ins.Op)]; ok && ins.Op&^0xf8 == classJMP {
			if opSrc(ins.Op) == srcX {
				return name, "x"
			}
			return name, "#0x" + strconv.FormatUint(uint64(k), 16)
		}
	}
	return "unimp", "0x" + strconv.FormatUint(uint64(ins.Op), 16)
}

// image formats one line of tcpdump -d output for the instruction at n.
func (ins Instruction) image(n int) string {
	op, operand := ins.parts(n)
	if isCondJump(ins.Op) {
		return fmt.Sprintf("(%03d) %-8s %-16s jt %d\tjf %d", n, op, operand, n+1+int(ins.Jt), n+1+int(ins.Jf))
	}
	return fmt.Sprintf("(%03d) %-8s %s", n, op, operand)
}

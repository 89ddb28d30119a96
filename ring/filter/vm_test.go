package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/fastop/fastop/decode"
)

func prog(ins ...Instruction) Program { return ins }

func I(op uint16, jt, jf uint8, k uint32) Instruction {
	return Instruction{Op: op, Jt: jt, Jf: jf, K: k}
}

// TestVMInstructions runs one small program per instruction.
func TestVMInstructions(t *testing.T) {
	pkt := []byte{0x01, 0x02, 0x03, 0x04, 0x45, 0x06, 0x07, 0x08}
	retA := I(opRetA, 0, 0, 0)
	alu := func(op uint16, a, k uint32) Program {
		return prog(I(opLdImm, 0, 0, a), I(classALU|op|srcK, 0, 0, k), retA)
	}
	aluX := func(op uint16, a, x uint32) Program {
		return prog(I(opLdImm, 0, 0, a), I(opLdxImm, 0, 0, x), I(classALU|op|srcX, 0, 0, 0), retA)
	}
	jmp := func(op uint16, a, k uint32) Program {
		return prog(I(opLdImm, 0, 0, a), I(classJMP|op|srcK, 0, 1, k), I(opRetK, 0, 0, 1), I(opRetK, 0, 0, 2))
	}
	jmpX := func(op uint16, a, x uint32) Program {
		return prog(I(opLdImm, 0, 0, a), I(opLdxImm, 0, 0, x), I(classJMP|op|srcX, 0, 1, 0), I(opRetK, 0, 0, 1), I(opRetK, 0, 0, 2))
	}
	for _, tc := range []struct {
		name string
		p    Program
		data []byte
		meta *decode.Meta
		want uint32
	}{
		{"ret k", prog(I(opRetK, 0, 0, 7)), pkt, nil, 7},
		{"ld word", prog(I(opLdW, 0, 0, 4), retA), pkt, nil, 0x45060708},
		{"ld half", prog(I(opLdH, 0, 0, 6), retA), pkt, nil, 0x0708},
		{"ld byte", prog(I(opLdB, 0, 0, 7), retA), pkt, nil, 0x08},
		{"ld word past the end", prog(I(opLdW, 0, 0, 5), retA), pkt, nil, 0},
		{"ld half past the end", prog(I(opLdH, 0, 0, 7), retA), pkt, nil, 0},
		{"ld byte past the end", prog(I(opLdB, 0, 0, 8), retA), pkt, nil, 0},
		{"ld huge offset", prog(I(opLdW, 0, 0, 0x7ffffffe), retA), pkt, nil, 0},
		{"ld ind", prog(I(opLdxImm, 0, 0, 2), I(opLdIndH, 0, 0, 1), retA), pkt, nil, 0x0445},
		{"ld ind wraps nowhere", prog(I(opLdxImm, 0, 0, 0xffffffff), I(opLdIndB, 0, 0, 1), retA), pkt, nil, 0},
		{"ld ind word past the end", prog(I(opLdxImm, 0, 0, 4), I(opLdIndW, 0, 0, 1), retA), pkt, nil, 0},
		{"ldxb msh", prog(I(opLdxMsh, 0, 0, 4), I(opTxa, 0, 0, 0), retA), pkt, nil, 20},
		{"ldxb msh past the end", prog(I(opLdxMsh, 0, 0, 8), I(opRetK, 0, 0, 1)), pkt, nil, 0},
		{"len is the wire length", prog(I(opLdLen, 0, 0, 0), retA), pkt, &decode.Meta{WireLen: 1500}, 1500},
		{"len without meta", prog(I(opLdLen, 0, 0, 0), retA), pkt, nil, 8},
		{"ldx len", prog(I(opLdxLen, 0, 0, 0), I(opTxa, 0, 0, 0), retA), pkt, &decode.Meta{WireLen: 99}, 99},
		{"st/ld mem", prog(I(opLdImm, 0, 0, 5), I(opSt, 0, 0, 3), I(opLdImm, 0, 0, 0), I(opLdMem, 0, 0, 3), retA), pkt, nil, 5},
		{"stx/ldx mem", prog(I(opLdxImm, 0, 0, 6), I(opStx, 0, 0, 15), I(opLdxMem, 0, 0, 15), I(opTxa, 0, 0, 0), retA), pkt, nil, 6},
		{"tax", prog(I(opLdImm, 0, 0, 9), I(opTax, 0, 0, 0), I(opLdImm, 0, 0, 0), I(opTxa, 0, 0, 0), retA), pkt, nil, 9},
		{"add", alu(aluADD, 0xffffffff, 2), pkt, nil, 1},
		{"sub", alu(aluSUB, 1, 2), pkt, nil, 0xffffffff},
		{"mul", alu(aluMUL, 0x10000, 0x10001), pkt, nil, 0x10000},
		{"div", alu(aluDIV, 7, 2), pkt, nil, 3},
		{"mod", alu(aluMOD, 7, 4), pkt, nil, 3},
		{"and", alu(aluAND, 0xf0f0, 0xff00), pkt, nil, 0xf000},
		{"or", alu(aluOR, 0xf0, 0x0f), pkt, nil, 0xff},
		{"xor", alu(aluXOR, 0xff, 0x0f), pkt, nil, 0xf0},
		{"lsh", alu(aluLSH, 1, 31), pkt, nil, 0x80000000},
		{"rsh", alu(aluRSH, 0x80000000, 31), pkt, nil, 1},
		{"neg", prog(I(opLdImm, 0, 0, 1), I(opNeg, 0, 0, 0), retA), pkt, nil, 0xffffffff},
		{"add x", aluX(aluADD, 2, 3), pkt, nil, 5},
		{"sub x", aluX(aluSUB, 2, 3), pkt, nil, 0xffffffff},
		{"mul x", aluX(aluMUL, 2, 3), pkt, nil, 6},
		{"div x", aluX(aluDIV, 7, 3), pkt, nil, 2},
		{"div by x = 0 rejects", aluX(aluDIV, 7, 0), pkt, nil, 0},
		{"mod x", aluX(aluMOD, 7, 3), pkt, nil, 1},
		{"mod by x = 0 rejects", aluX(aluMOD, 7, 0), pkt, nil, 0},
		{"and x", aluX(aluAND, 6, 3), pkt, nil, 2},
		{"or x", aluX(aluOR, 6, 3), pkt, nil, 7},
		{"xor x", aluX(aluXOR, 6, 3), pkt, nil, 5},
		{"lsh x", aluX(aluLSH, 1, 4), pkt, nil, 16},
		{"lsh x by 32 or more", aluX(aluLSH, 1, 40), pkt, nil, 0},
		{"rsh x", aluX(aluRSH, 16, 4), pkt, nil, 1},
		{"jeq true", jmp(jmpJEQ, 5, 5), pkt, nil, 1},
		{"jeq false", jmp(jmpJEQ, 5, 6), pkt, nil, 2},
		{"jgt is unsigned", jmp(jmpJGT, 0xffffffff, 1), pkt, nil, 1},
		{"jgt equal", jmp(jmpJGT, 5, 5), pkt, nil, 2},
		{"jge equal", jmp(jmpJGE, 5, 5), pkt, nil, 1},
		{"jge less", jmp(jmpJGE, 4, 5), pkt, nil, 2},
		{"jset", jmp(jmpJSET, 6, 2), pkt, nil, 1},
		{"jset clear", jmp(jmpJSET, 6, 1), pkt, nil, 2},
		{"jeq x", jmpX(jmpJEQ, 5, 5), pkt, nil, 1},
		{"jgt x", jmpX(jmpJGT, 5, 5), pkt, nil, 2},
		{"jge x", jmpX(jmpJGE, 5, 5), pkt, nil, 1},
		{"jset x", jmpX(jmpJSET, 4, 3), pkt, nil, 2},
		{"ja", prog(I(opJa, 0, 0, 1), I(opRetK, 0, 0, 1), I(opRetK, 0, 0, 2)), pkt, nil, 2},
		{"vlan present", prog(I(opLdB, 0, 0, skfAdOff+skfAdVLANTagPresent), retA), pkt, &decode.Meta{VLANOK: true}, 1},
		{"vlan absent", prog(I(opLdB, 0, 0, skfAdOff+skfAdVLANTagPresent), retA), pkt, &decode.Meta{}, 0},
		{"vlan tci", prog(I(opLdH, 0, 0, skfAdOff+skfAdVLANTag), retA), pkt, &decode.Meta{VLANOK: true, VLANTCI: 0x2064}, 0x2064},
		{"vlan tpid default", prog(I(opLdW, 0, 0, skfAdOff+skfAdVLANTPID), retA), pkt, &decode.Meta{VLANOK: true}, 0x8100},
		{"vlan tpid 802.1ad", prog(I(opLdW, 0, 0, skfAdOff+skfAdVLANTPID), retA), pkt, &decode.Meta{VLANOK: true, VLANTPID: 0x88a8}, 0x88a8},
		{"pkttype", prog(I(opLdH, 0, 0, skfAdOff+skfAdPktType), retA), pkt, &decode.Meta{PktType: decode.PktOutgoing}, 4},
		{"pkttype from a multicast MAC", prog(I(opLdH, 0, 0, skfAdOff+skfAdPktType), retA), pkt, &decode.Meta{Link: decode.LinkEthernet, PktType: decode.PktUnknown}, 2},
		{"ifindex", prog(I(opLdW, 0, 0, skfAdOff+skfAdIfindex), retA), pkt, &decode.Meta{Ifindex: 3}, 3},
		{"protocol of raw IPv4", prog(I(opLdH, 0, 0, skfAdOff+skfAdProtocol), retA), []byte{0x45, 0}, &decode.Meta{Link: decode.LinkRaw}, 0x0800},
		{"hatype ethernet", prog(I(opLdH, 0, 0, skfAdOff+skfAdHatype), retA), pkt, &decode.Meta{Link: decode.LinkEthernet}, 1},
		{"xor_x ancillary", prog(I(opLdImm, 0, 0, 6), I(opLdxImm, 0, 0, 3), I(opLdW, 0, 0, skfAdOff+skfAdAluXorX), retA), pkt, nil, 5},
		{"mark is 0", prog(I(opLdImm, 0, 0, 6), I(opLdW, 0, 0, skfAdOff+skfAdMark), retA), pkt, nil, 0},
	} {
		vm, err := NewVM(tc.p)
		if err != nil {
			t.Errorf("%s: NewVM: %v", tc.name, err)
			continue
		}
		if got := vm.Run(tc.data, tc.meta); got != tc.want {
			t.Errorf("%s: got %#x, want %#x", tc.name, got, tc.want)
		}
	}
}

// TestVMLibpcapMode runs a backward jump, which only the libpcap mode
// accepts, and checks that an endless loop ends with a reject.
func TestVMLibpcapMode(t *testing.T) {
	// count down from 3 with a backward ja
	loop := prog(
		I(opLdImm, 0, 0, 3),
		I(classALU|aluSUB|srcK, 0, 0, 1),  // 1
		I(classJMP|jmpJEQ|srcK, 1, 0, 0),  // 2: A == 0 → 4
		I(opJa, 0, 0, uint32(0xfffffffd)), // 3: back to 1 (3+1-3)
		I(opRetK, 0, 0, 9),
	)
	if _, err := NewVM(loop); err == nil || !errors.Is(err, ErrInvalidProgram) {
		t.Fatalf("NewVM accepted a backward jump: %v", err)
	}
	vm, err := NewVMWith(loop, VMOptions{Libpcap: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := vm.Run(nil, nil); got != 9 {
		t.Errorf("loop: got %d, want 9", got)
	}
	forever := prog(I(opLdImm, 0, 0, 1), I(opJa, 0, 0, uint32(0xfffffffe)), I(opRetK, 0, 0, 1))
	vm, err = NewVMWith(forever, VMOptions{Libpcap: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := vm.Run(nil, nil); got != 0 {
		t.Errorf("endless loop: got %d, want 0", got)
	}
	unknown := prog(I(opLdW, 0, 0, skfAdOff+100), I(opRetK, 0, 0, 1))
	if _, err := NewVM(unknown); err == nil {
		t.Error("NewVM accepted an unknown ancillary offset")
	}
	vm, err = NewVMWith(unknown, VMOptions{Libpcap: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := vm.Run([]byte{1, 2, 3, 4}, nil); got != 0 {
		t.Errorf("unknown ancillary load: got %d, want 0 (reject)", got)
	}
}

// TestValidate checks each rule of the kernel's checker.
func TestValidate(t *testing.T) {
	long := make(Program, MaxInstructions+1)
	for i := range long {
		long[i] = I(opRetK, 0, 0, 0)
	}
	ok := make(Program, MaxInstructions)
	copy(ok, long)
	for _, tc := range []struct {
		name string
		p    Program
		want string // "" means valid
	}{
		{"ret", prog(I(opRetK, 0, 0, 1)), ""},
		{"4096 instructions", ok, ""},
		{"empty", nil, "no instructions"},
		{"4097 instructions", long, "at most 4096"},
		{"no final return", prog(I(opLdImm, 0, 0, 1)), "last instruction must be a return"},
		{"unknown opcode", prog(I(0xff, 0, 0, 0), I(opRetK, 0, 0, 0)), "unknown opcode"},
		{"ret x", prog(I(classRET|0x08, 0, 0, 0)), "unknown opcode"},
		{"ld imm with a size", prog(I(classLD|sizeH|modeIMM, 0, 0, 0), I(opRetK, 0, 0, 0)), "unknown opcode"},
		{"division by constant 0", prog(I(classALU|aluDIV|srcK, 0, 0, 0), I(opRetK, 0, 0, 0)), "division by the constant 0"},
		{"modulo by constant 0", prog(I(classALU|aluMOD|srcK, 0, 0, 0), I(opRetK, 0, 0, 0)), "division by the constant 0"},
		{"shift by 32", prog(I(classALU|aluLSH|srcK, 0, 0, 32), I(opRetK, 0, 0, 0)), "shift by 32"},
		{"scratch slot 16", prog(I(opSt, 0, 0, 16), I(opRetK, 0, 0, 0)), "scratch slot 16"},
		{"ja past the end", prog(I(opJa, 0, 0, 1), I(opRetK, 0, 0, 0)), "jump backward or past the end"},
		{"ja backward", prog(I(opRetK, 0, 0, 0), I(opJa, 0, 0, 0xffffffff), I(opRetK, 0, 0, 0)), "jump backward or past the end"},
		{"jeq past the end", prog(I(classJMP|jmpJEQ|srcK, 1, 0, 0), I(opRetK, 0, 0, 0)), "jump past the end"},
		{"unknown ancillary", prog(I(opLdW, 0, 0, skfAdOff+64), I(opRetK, 0, 0, 0)), "unknown ancillary offset"},
		{"known ancillary", prog(I(opLdB, 0, 0, skfAdOff+skfAdVLANTag), I(opRetA, 0, 0, 0)), ""},
		{"network-relative load", prog(I(opLdW, 0, 0, 0xfff00000), I(opRetA, 0, 0, 0)), ""},
		{"scratch read first", prog(I(opLdMem, 0, 0, 0), I(opRetA, 0, 0, 0)), "reads scratch slot 0 before"},
		{"scratch written on one path only", prog(
			I(opLdImm, 0, 0, 0),
			I(classJMP|jmpJEQ|srcK, 0, 1, 0),
			I(opSt, 0, 0, 2),
			I(opLdxMem, 0, 0, 2),
			I(opRetA, 0, 0, 0)), "reads scratch slot 2 before"},
		{"scratch written on both paths", prog(
			I(opLdImm, 0, 0, 0),
			I(classJMP|jmpJEQ|srcK, 0, 2, 0),
			I(opSt, 0, 0, 2),
			I(opJa, 0, 0, 1),
			I(opSt, 0, 0, 2),
			I(opLdxMem, 0, 0, 2),
			I(opRetA, 0, 0, 0)), ""},
	} {
		err := tc.p.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && err == nil:
			t.Errorf("%s: accepted, want %q", tc.name, tc.want)
		case tc.want != "" && (!strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidProgram)):
			t.Errorf("%s: got %q, want %q", tc.name, err, tc.want)
		}
	}
}

// TestVMNoAllocs: running a program allocates nothing.
func TestVMNoAllocs(t *testing.T) {
	frame := ethIPv4UDP(53)
	meta := &decode.Meta{Link: decode.LinkEthernet, WireLen: uint32(len(frame)), VLANOK: true, VLANTCI: 100}
	for _, expr := range []string{"udp port 53", "vlan 100 and host 192.0.2.1", "tcp[tcpflags] & tcp-syn != 0", "len / (ip[8] - 64) != 1", "inbound"} {
		p, err := Compile(expr, Options{Link: decode.LinkEthernet, Live: true, Names: debianNames()})
		if err != nil {
			t.Fatal(err)
		}
		vm, err := NewVM(p)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(1000, func() { vm.Run(frame, meta) }); n != 0 {
			t.Errorf("%q: %v allocations per run", expr, n)
		}
	}
}

// ethIPv4UDP builds an Ethernet/IPv4/UDP frame to the given port.
func ethIPv4UDP(dport uint16) []byte {
	b := make([]byte, 14+20+8+4)
	copy(b, []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00})
	ip := b[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	ip[2], ip[3] = 0, byte(len(ip))
	copy(ip[12:], []byte{192, 0, 2, 1, 192, 0, 2, 2})
	udp := ip[20:]
	udp[0], udp[1] = 0x30, 0x39
	udp[2], udp[3] = byte(dport>>8), byte(dport)
	return b
}

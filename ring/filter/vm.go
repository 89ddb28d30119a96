package filter

import (
	"encoding/binary"

	"github.com/fastop/fastop/decode"
)

// VM runs a classic BPF program in user space with the semantics of
// libpcap's bpf_filter and the Linux socket filter: a load past the
// captured bytes or a division by zero ends the program with 0 (reject),
// `len` is the wire length, and loads at the Linux ancillary offsets read
// the frame's metadata (decode.Meta). A VM holds no per-run state, so one
// VM may be used by many goroutines at once.
type VM struct {
	code  []vmIns
	loose bool
}

// vmIns is an instruction decoded once by NewVM: a dense operation code
// (so the run loop's switch compiles to a jump table) and absolute jump
// targets.
type vmIns struct {
	op     vmOp
	jt, jf int32
	k      uint32
}

type vmOp uint8

const (
	vRetK vmOp = iota
	vRetA
	vLdW
	vLdH
	vLdB
	vLdIndW
	vLdIndH
	vLdIndB
	vLdLen
	vLdImm
	vLdMem
	vLdxImm
	vLdxMem
	vLdxLen
	vLdxMsh
	vSt
	vStx
	vAnc     // A = ancillary value number k
	vAncXorX // A ^= X (SKF_AD_ALU_XOR_X)
	vAddK
	vSubK
	vMulK
	vDivK
	vModK
	vOrK
	vAndK
	vXorK
	vLshK
	vRshK
	vAddX
	vSubX
	vMulX
	vDivX
	vModX
	vOrX
	vAndX
	vXorX
	vLshX
	vRshX
	vNeg
	vJa
	vJeqK
	vJgtK
	vJgeK
	vJsetK
	vJeqX
	vJgtX
	vJgeX
	vJsetX
	vTax
	vTxa
	vFail // a load the VM cannot serve (unknown ancillary in loose mode): reject
)

// VMOptions selects a looser program check for NewVMWith.
type VMOptions struct {
	// Libpcap accepts programs that only libpcap's user-space interpreter
	// runs: backward ja with a sign-extended offset (libpcap's protochain
	// code), unknown ancillary offsets (which then reject the packet) and
	// scratch slots read before any write (they read 0).
	// Such a VM counts backward jumps and rejects a packet after 4096 of
	// them, so a looping program cannot hang the caller.
	Libpcap bool
}

// NewVM checks p with Validate (the kernel's rules) and prepares it to run.
func NewVM(p Program) (*VM, error) {
	return NewVMWith(p, VMOptions{})
}

// NewVMWith is NewVM with options.
func NewVMWith(p Program, o VMOptions) (*VM, error) {
	if err := p.validate(o.Libpcap); err != nil {
		return nil, err
	}
	vm := &VM{code: make([]vmIns, len(p)), loose: o.Libpcap}
	for pc, ins := range p {
		vm.code[pc] = decodeIns(pc, ins)
	}
	return vm, nil
}

var aluK = map[uint16]vmOp{aluADD: vAddK, aluSUB: vSubK, aluMUL: vMulK, aluDIV: vDivK, aluMOD: vModK,
	aluOR: vOrK, aluAND: vAndK, aluXOR: vXorK, aluLSH: vLshK, aluRSH: vRshK}
var aluX = map[uint16]vmOp{aluADD: vAddX, aluSUB: vSubX, aluMUL: vMulX, aluDIV: vDivX, aluMOD: vModX,
	aluOR: vOrX, aluAND: vAndX, aluXOR: vXorX, aluLSH: vLshX, aluRSH: vRshX}
var jmpK = map[uint16]vmOp{jmpJEQ: vJeqK, jmpJGT: vJgtK, jmpJGE: vJgeK, jmpJSET: vJsetK}
var jmpX = map[uint16]vmOp{jmpJEQ: vJeqX, jmpJGT: vJgtX, jmpJGE: vJgeX, jmpJSET: vJsetX}

// decodeIns translates one validated instruction.
func decodeIns(pc int, ins Instruction) vmIns {
	d := vmIns{k: ins.K}
	switch ins.Op {
	case opRetK:
		d.op = vRetK
	case opRetA:
		d.op = vRetA
	case opLdW, opLdH, opLdB:
		if ins.K >= skfAdOff {
			off := ins.K - skfAdOff
			switch {
			case !knownAncillary(off):
				d.op = vFail
			case off == skfAdAluXorX:
				d.op = vAncXorX
			default:
				d.op, d.k = vAnc, off
			}
			break
		}
		d.op = map[uint16]vmOp{opLdW: vLdW, opLdH: vLdH, opLdB: vLdB}[ins.Op]
	case opLdIndW:
		d.op = vLdIndW
	case opLdIndH:
		d.op = vLdIndH
	case opLdIndB:
		d.op = vLdIndB
	case opLdLen:
		d.op = vLdLen
	case opLdImm:
		d.op = vLdImm
	case opLdMem:
		d.op = vLdMem
	case opLdxImm:
		d.op = vLdxImm
	case opLdxMem:
		d.op = vLdxMem
	case opLdxLen:
		d.op = vLdxLen
	case opLdxMsh:
		d.op = vLdxMsh
	case opSt:
		d.op = vSt
	case opStx:
		d.op = vStx
	case opNeg:
		d.op = vNeg
	case opTax:
		d.op = vTax
	case opTxa:
		d.op = vTxa
	case opJa:
		d.op = vJa
		d.jt = int32(pc + 1 + int(int32(ins.K)))
	default:
		switch opClass(ins.Op) {
		case classALU:
			if opSrc(ins.Op) == srcX {
				d.op = aluX[aluOp(ins.Op)]
			} else {
				d.op = aluK[aluOp(ins.Op)]
			}
		case classJMP:
			if opSrc(ins.Op) == srcX {
				d.op = jmpX[aluOp(ins.Op)]
			} else {
				d.op = jmpK[aluOp(ins.Op)]
			}
			d.jt = int32(pc + 1 + int(ins.Jt))
			d.jf = int32(pc + 1 + int(ins.Jf))
		}
	}
	return d
}

// maxBackJumps bounds a loose VM's loops.
const maxBackJumps = 4096

// Run executes the program on one frame and returns its result: the number
// of bytes to keep, 0 to reject. m may be nil (no metadata; the wire length
// is then len(data)). Run does not allocate.
func (vm *VM) Run(data []byte, m *decode.Meta) uint32 {
	var (
		a, x  uint32
		mem   [memWords]uint32
		pc    int32
		backs int
	)
	n := uint64(len(data))
	code := vm.code
	for {
		ins := &code[pc]
		pc++
		switch ins.op {
		case vRetK:
			return ins.k
		case vRetA:
			return a
		case vLdW:
			k := uint64(ins.k)
			if k+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(data[k:])
		case vLdH:
			k := uint64(ins.k)
			if k+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(data[k:]))
		case vLdB:
			k := uint64(ins.k)
			if k >= n {
				return 0
			}
			a = uint32(data[k])
		case vLdIndW:
			k := uint64(ins.k) + uint64(x)
			if k+4 > n {
				return 0
			}
			a = binary.BigEndian.Uint32(data[k:])
		case vLdIndH:
			k := uint64(ins.k) + uint64(x)
			if k+2 > n {
				return 0
			}
			a = uint32(binary.BigEndian.Uint16(data[k:]))
		case vLdIndB:
			k := uint64(ins.k) + uint64(x)
			if k >= n {
				return 0
			}
			a = uint32(data[k])
		case vLdLen:
			a = wireLen(data, m)
		case vLdxLen:
			x = wireLen(data, m)
		case vLdImm:
			a = ins.k
		case vLdxImm:
			x = ins.k
		case vLdMem:
			a = mem[ins.k&(memWords-1)]
		case vLdxMem:
			x = mem[ins.k&(memWords-1)]
		case vLdxMsh:
			k := uint64(ins.k)
			if k >= n {
				return 0
			}
			x = uint32(data[k]&0xf) << 2
		case vSt:
			mem[ins.k&(memWords-1)] = a
		case vStx:
			mem[ins.k&(memWords-1)] = x
		case vAnc:
			a = ancillary(ins.k, data, m)
		case vAncXorX:
			a ^= x
		case vFail:
			return 0
		case vAddK:
			a += ins.k
		case vSubK:
			a -= ins.k
		case vMulK:
			a *= ins.k
		case vDivK:
			a /= ins.k
		case vModK:
			a %= ins.k
		case vOrK:
			a |= ins.k
		case vAndK:
			a &= ins.k
		case vXorK:
			a ^= ins.k
		case vLshK:
			a <<= ins.k
		case vRshK:
			a >>= ins.k
		case vAddX:
			a += x
		case vSubX:
			a -= x
		case vMulX:
			a *= x
		case vDivX:
			if x == 0 {
				return 0
			}
			a /= x
		case vModX:
			if x == 0 {
				return 0
			}
			a %= x
		case vOrX:
			a |= x
		case vAndX:
			a &= x
		case vXorX:
			a ^= x
		case vLshX:
			a <<= x
		case vRshX:
			a >>= x
		case vNeg:
			a = -a
		case vJa:
			if ins.jt < pc {
				if backs++; backs > maxBackJumps {
					return 0
				}
			}
			pc = ins.jt
		case vJeqK:
			if a == ins.k {
				pc = ins.jt
			} else {
				pc = ins.jf
			}
		case vJgtK:
			if a > ins.k {
				pc = ins.jt
			} else {
				pc = ins.jf
			}
		case vJgeK:
			if a >= ins.k {
				pc = ins.jt
			} else {
				pc = ins.jf
			}
		case vJsetK:
			if a&ins.k != 0 {
				pc = ins.jt
			} else {
				pc = ins.jf
			}
		case vJeqX:
			if a == x {
				pc = ins.jt
			} else {
				pc = ins.jf
			}
		case vJgtX:
			if a > x {
				pc = ins.jt
			} else {
				pc = ins.jf
			}
		case vJgeX:
			if a >= x {
				pc = ins.jt
			} else {
				pc = ins.jf
			}
		case vJsetX:
			if a&x != 0 {
				pc = ins.jt
			} else {
				pc = ins.jf
			}
		case vTax:
			x = a
		case vTxa:
			a = x
		default:
			return 0
		}
	}
}

func wireLen(data []byte, m *decode.Meta) uint32 {
	if m != nil && m.WireLen != 0 {
		return m.WireLen
	}
	return uint32(len(data))
}

// Linux ARPHRD_ values for SKF_AD_HATYPE.
const (
	arphrdEther    = 1
	arphrdLoopback = 772
	arphrdNone     = 0xfffe
)

// ancillary returns what the kernel's socket filter would load at
// SKF_AD_OFF+off, from the frame's metadata and, where the kernel takes it
// from the socket buffer's parsed headers, from the frame itself.
func ancillary(off uint32, data []byte, m *decode.Meta) uint32 {
	var meta decode.Meta
	if m != nil {
		meta = *m
	}
	switch off {
	case skfAdProtocol:
		return uint32(frameProtocol(data, meta.Link))
	case skfAdPktType:
		return uint32(pktType(data, &meta))
	case skfAdIfindex:
		return uint32(meta.Ifindex)
	case skfAdHatype:
		switch meta.Link {
		case decode.LinkEthernet:
			return arphrdEther
		case decode.LinkNull, decode.LinkLoop:
			return arphrdLoopback
		case decode.LinkLinuxSLL:
			if len(data) >= 4 {
				return uint32(binary.BigEndian.Uint16(data[2:]))
			}
		case decode.LinkLinuxSLL2:
			if len(data) >= 10 {
				return uint32(binary.BigEndian.Uint16(data[8:]))
			}
		}
		return arphrdNone
	case skfAdVLANTag:
		if meta.VLANOK {
			return uint32(meta.VLANTCI)
		}
		return 0
	case skfAdVLANTagPresent:
		if meta.VLANOK {
			return 1
		}
		return 0
	case skfAdVLANTPID:
		if !meta.VLANOK {
			return 0
		}
		if meta.VLANTPID == 0 {
			return 0x8100
		}
		return uint32(meta.VLANTPID)
	}
	// mark, queue, rxhash, cpu, random, netlink attributes, payload
	// offset: nothing a capture file or ring record knows; the kernel's
	// value for an ordinary capture socket is 0 for most of them.
	return 0
}

// frameProtocol is skb->protocol: the EtherType the kernel assigned.
func frameProtocol(data []byte, link decode.LinkType) uint16 {
	switch link {
	case decode.LinkEthernet:
		if len(data) < 14 {
			return 0
		}
		t := binary.BigEndian.Uint16(data[12:])
		if t >= 0x0600 {
			return t
		}
		if len(data) >= 16 && data[14] == 0xff && data[15] == 0xff {
			return 0x0001 // ETH_P_802_3: raw IPX
		}
		return 0x0004 // ETH_P_802_2
	case decode.LinkLinuxSLL:
		if len(data) >= 16 {
			return binary.BigEndian.Uint16(data[14:])
		}
	case decode.LinkLinuxSLL2:
		if len(data) >= 2 {
			return binary.BigEndian.Uint16(data[0:])
		}
	case decode.LinkRaw, decode.LinkIPv4, decode.LinkIPv6:
		if len(data) >= 1 {
			switch data[0] >> 4 {
			case 4:
				return 0x0800
			case 6:
				return 0x86dd
			}
		}
	case decode.LinkNull, decode.LinkLoop:
		if len(data) >= 5 {
			switch data[4] >> 4 {
			case 4:
				return 0x0800
			case 6:
				return 0x86dd
			}
		}
	}
	return 0
}

// pktType is the metadata's packet type, or what the kernel would have
// derived for a frame whose source did not record it.
func pktType(data []byte, m *decode.Meta) decode.PktType {
	if m.PktType != decode.PktUnknown {
		return m.PktType
	}
	switch m.Link {
	case decode.LinkLinuxSLL:
		if len(data) >= 2 {
			return decode.PktType(binary.BigEndian.Uint16(data))
		}
	case decode.LinkLinuxSLL2:
		if len(data) >= 11 {
			return decode.PktType(data[10])
		}
	case decode.LinkEthernet:
		if len(data) >= 6 && data[0]&1 != 0 {
			if data[0]&data[1]&data[2]&data[3]&data[4]&data[5] == 0xff {
				return decode.PktBroadcast
			}
			return decode.PktMulticast
		}
	}
	return decode.PktHost
}

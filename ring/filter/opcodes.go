package filter

// Classic BPF opcode fields (linux/filter.h, pcap/bpf.h). An opcode is
// class | size | mode for loads, class | op | source for ALU and jumps.
const (
	classLD   = 0x00
	classLDX  = 0x01
	classST   = 0x02
	classSTX  = 0x03
	classALU  = 0x04
	classJMP  = 0x05
	classRET  = 0x06
	classMISC = 0x07

	sizeW = 0x00
	sizeH = 0x08
	sizeB = 0x10

	modeIMM = 0x00
	modeABS = 0x20
	modeIND = 0x40
	modeMEM = 0x60
	modeLEN = 0x80
	modeMSH = 0xa0

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluMOD = 0x90
	aluXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	srcK = 0x00
	srcX = 0x08

	retK = 0x00
	retA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80
)

// Complete opcodes used by the compiler and the VM.
const (
	opLdW    = classLD | sizeW | modeABS // A = word at [k]
	opLdH    = classLD | sizeH | modeABS // A = half at [k]
	opLdB    = classLD | sizeB | modeABS // A = byte at [k]
	opLdIndW = classLD | sizeW | modeIND // A = word at [X+k]
	opLdIndH = classLD | sizeH | modeIND
	opLdIndB = classLD | sizeB | modeIND
	opLdLen  = classLD | sizeW | modeLEN // A = wire length
	opLdImm  = classLD | modeIMM         // A = k
	opLdMem  = classLD | modeMEM         // A = M[k]
	opLdxImm = classLDX | modeIMM        // X = k
	opLdxMem = classLDX | modeMEM        // X = M[k]
	opLdxLen = classLDX | sizeW | modeLEN
	opLdxMsh = classLDX | sizeB | modeMSH // X = 4*([k]&0xf)
	opSt     = classST                    // M[k] = A
	opStx    = classSTX                   // M[k] = X
	opNeg    = classALU | aluNEG
	opJa     = classJMP | jmpJA
	opRetK   = classRET | retK
	opRetA   = classRET | retA
	opTax    = classMISC | miscTAX
	opTxa    = classMISC | miscTXA
)

// Linux ancillary data: an absolute load at skfAdOff+n reads socket-buffer
// metadata instead of packet bytes (linux/filter.h SKF_AD_*).
const (
	skfAdOff            = 0xfffff000 // -0x1000
	skfAdProtocol       = 0
	skfAdPktType        = 4
	skfAdIfindex        = 8
	skfAdNlattr         = 12
	skfAdNlattrNest     = 16
	skfAdMark           = 20
	skfAdQueue          = 24
	skfAdHatype         = 28
	skfAdRxhash         = 32
	skfAdCPU            = 36
	skfAdAluXorX        = 40
	skfAdVLANTag        = 44
	skfAdVLANTagPresent = 48
	skfAdPayOffset      = 52
	skfAdRandom         = 56
	skfAdVLANTPID       = 60
	skfAdMax            = 64
)

// memWords is the number of scratch memory slots (BPF_MEMWORDS).
const memWords = 16

// MaxInstructions is the kernel's limit on the length of a classic program
// (BPF_MAXINSNS).
const MaxInstructions = 4096

func opClass(op uint16) uint16 { return op & 0x07 }
func opSize(op uint16) uint16  { return op & 0x18 }
func aluOp(op uint16) uint16   { return op & 0xf0 }
func opSrc(op uint16) uint16   { return op & 0x08 }

// isCondJump reports a conditional jump (every JMP except ja).
func isCondJump(op uint16) bool { return opClass(op) == classJMP && aluOp(op) != jmpJA }

//go:build linux

package filter

import (
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/fastop/fastop/decode"
)

// kernelSocket opens an AF_PACKET socket bound to no protocol (it
// receives nothing) to attach programs to, or skips without CAP_NET_RAW.
func kernelSocket(t *testing.T) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, os.ErrPermission) {
		t.Skipf("attaching filters needs CAP_NET_RAW (run as root): %v", err)
	}
	if err != nil {
		t.Fatalf("AF_PACKET socket: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func attach(fd int, p Program) error {
	if len(p) == 0 || len(p) > 0xffff {
		return unix.EINVAL
	}
	k := make([]unix.SockFilter, len(p))
	for i, in := range p {
		k[i] = unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(k)), Filter: &k[0]})
}

// TestKernelAcceptsCompiledPrograms attaches every program fastop
// compiles for the golden expressions, for every link type, for files and
// for live sockets.
func TestKernelAcceptsCompiledPrograms(t *testing.T) {
	fd := kernelSocket(t)
	n := 0
	for lt, m := range goldenPrograms(t) {
		for expr := range m {
			for _, live := range []bool{false, true} {
				p, err := Compile(expr, Options{Link: lt, Live: live, Names: debianNames()})
				if err != nil {
					continue
				}
				if err := attach(fd, p); err != nil {
					t.Errorf("link %d live %v %q: SO_ATTACH_FILTER: %v\n%s", lt, live, expr, err, p)
				}
				n++
			}
		}
	}
	p, err := Compile(hostList(200), Options{Link: decode.LinkEthernet, Names: debianNames()})
	if err != nil {
		t.Fatal(err)
	}
	if err := attach(fd, p); err != nil {
		t.Errorf("200-host list (%d instructions): %v", len(p), err)
	}
	t.Logf("the kernel accepted %d compiled programs", n+1)
}

// TestValidateAgreesWithKernel compares Validate with the kernel's own
// checker on libpcap's programs (protochain's backward jump must be
// refused by both) and on many mutated programs.
func TestValidateAgreesWithKernel(t *testing.T) {
	fd := kernelSocket(t)
	var base []Program
	for _, m := range goldenPrograms(t) {
		for _, p := range m {
			base = append(base, p)
		}
	}
	check := func(p Program, what string) {
		kerr := attach(fd, p)
		verr := p.Validate()
		if (kerr == nil) != (verr == nil) {
			t.Errorf("%s: kernel says %v, Validate says %v\n%s", what, kerr, verr, p)
		}
	}
	for _, p := range base {
		check(p, "libpcap program")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ops := []uint16{opLdW, opLdH, opLdB, opLdIndW, opLdMem, opLdxMem, opSt, opStx, opLdImm, opLdxMsh,
		classALU | aluDIV | srcK, classALU | aluMOD | srcK, classALU | aluLSH | srcK, opJa,
		classJMP | jmpJEQ | srcK, classJMP | jmpJSET | srcX, opRetK, opRetA, opTax, 0xff, classRET | 0x08}
	for i := range 3000 {
		p := append(Program{}, base[rng.IntN(len(base))]...)
		for range 1 + rng.IntN(3) {
			j := rng.IntN(len(p))
			switch rng.IntN(4) {
			case 0:
				p[j].Op = ops[rng.IntN(len(ops))]
			case 1:
				p[j].K = []uint32{0, 1, 15, 16, 31, 32, 0xfffff000 + 4*uint32(rng.IntN(20)), 0xfff00000, rng.Uint32()}[rng.IntN(9)]
			case 2:
				p[j].Jt, p[j].Jf = uint8(rng.IntN(40)), uint8(rng.IntN(40))
			case 3:
				p = p[:j+1]
			}
		}
		check(p, "mutated program "+itoa(i))
	}
}

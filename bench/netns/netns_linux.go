package netns

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// NS is a network namespace created by [New]; ip(8) keeps it under
// /run/netns/NAME.
type NS struct {
	Name string

	once sync.Once
	err  error
}

// New creates an empty namespace with a unique name. Its loopback is down
// and IPv6 is disabled in it (all and default), so no duplicate address
// detection or router solicitation adds packets to a test's counts.
func New() (*NS, error) {
	n := &NS{Name: NSName()}
	if err := ip("netns", "add", n.Name); err != nil {
		return nil, err
	}
	for _, key := range []string{"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6"} {
		if err := n.Sysctl(key, "1"); err != nil && !errors.Is(err, os.ErrNotExist) {
			n.Close()
			return nil, err
		}
	}
	return n, nil
}

// Close deletes the namespace and, with it, every interface inside it. It
// is idempotent.
func (n *NS) Close() error {
	n.once.Do(func() { n.err = ip("netns", "del", n.Name) })
	return n.err
}

// Path is the namespace's bind mount.
func (n *NS) Path() string { return "/run/netns/" + n.Name }

// IP runs "ip -n NAME args…" (use nil n for the current namespace).
func (n *NS) IP(args ...string) error {
	if n != nil {
		args = append([]string{"-n", n.Name}, args...)
	}
	return ip(args...)
}

// Exec runs a command inside the namespace ("ip netns exec NAME …") and
// returns its combined output.
func (n *NS) Exec(name string, args ...string) ([]byte, error) {
	cmd := n.Command(name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, errorf("%s: %v: %s", strings.Join(cmd.Args, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// Command prepares a command that runs inside the namespace. ip netns exec
// execs it in place, so the process's pid is the command's own.
func (n *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Sysctl writes a /proc/sys/net value (key like "net/ipv4/ip_forward")
// inside the namespace: /proc/sys/net follows the writing thread's
// namespace.
func (n *NS) Sysctl(key, value string) error {
	return n.Do(func() error {
		return os.WriteFile("/proc/sys/"+strings.TrimPrefix(key, "/"), []byte(value), 0)
	})
}

// Do runs f on a locked OS thread inside the namespace and returns its
// error. Sockets f creates stay in the namespace for their whole life, so
// they may be used anywhere afterwards; goroutines f starts do not run in
// it. f must not call t.Fatal (it is not the test's goroutine): return an
// error instead. If the thread cannot be moved back, it is discarded.
func (n *NS) Do(f func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Every descriptor is closed before the result is sent, so the
		// caller never sees one of Do's own still open.
		unlock, err := n.do(f)
		if unlock {
			runtime.UnlockOSThread()
		}
		ch <- err
	}()
	return <-ch
}

// do runs f in the namespace on the calling locked thread and moves the
// thread back; it reports whether the thread is fit to be unlocked.
func (n *NS) do(f func() error) (unlock bool, err error) {
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, errorf("open own namespace: %w", err)
	}
	defer unix.Close(orig)
	target, err := unix.Open(n.Path(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return true, errorf("open %s: %w", n.Path(), err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return true, errorf("setns %s: %w", n.Name, err)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = errorf("panic in %s: %v", n.Name, r)
			}
		}()
		err = f()
	}()
	return unix.Setns(orig, unix.CLONE_NEWNET) == nil, err
}

// Veth is a veth pair; end A lives in NSA and end B in NSB (nil means the
// current namespace).
type Veth struct {
	A, B     string
	NSA, NSB *NS
	once     sync.Once
	err      error
}

// NewVeth creates a veth pair with unique names, one end in a and the
// other in b, both up.
func NewVeth(a, b *NS) (*Veth, error) {
	v := &Veth{A: IfName("a"), B: IfName("b"), NSA: a, NSB: b}
	if err := v.create(); err != nil {
		return nil, err
	}
	return v, nil
}

// Recreate deletes the pair and creates it again under the same names
// (the interfaces get new indexes and MAC addresses).
func (v *Veth) Recreate() error {
	if err := v.Delete(); err != nil {
		return err
	}
	return v.Create()
}

// Create creates the pair again after Delete, under the same names, both
// ends up.
func (v *Veth) Create() error { return v.create() }

func (v *Veth) create() error {
	args := []string{"link", "add", v.A}
	if v.NSA != nil {
		args = append(args, "netns", v.NSA.Name)
	}
	args = append(args, "type", "veth", "peer", "name", v.B)
	if v.NSB != nil {
		args = append(args, "netns", v.NSB.Name)
	}
	if err := ip(args...); err != nil {
		return err
	}
	if err := v.NSA.IP("link", "set", v.A, "up"); err != nil {
		v.Delete()
		return err
	}
	if err := v.NSB.IP("link", "set", v.B, "up"); err != nil {
		v.Delete()
		return err
	}
	return nil
}

// Delete removes the pair (deleting one end removes both).
func (v *Veth) Delete() error {
	return v.NSA.IP("link", "del", v.A)
}

// Close deletes the pair if it still exists; it is idempotent, and a pair
// already gone with its namespace is not an error.
func (v *Veth) Close() error {
	v.once.Do(func() {
		err := v.Delete()
		if err != nil && !v.gone() {
			v.err = err
		}
	})
	return v.err
}

func (v *Veth) gone() bool {
	if v.NSA != nil {
		if _, err := os.Stat(v.NSA.Path()); err != nil {
			return true
		}
	}
	return v.NSA.IP("link", "show", v.A) != nil
}

// SetUp brings interface name in n up or down.
func (n *NS) SetUp(name string, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	return n.IP("link", "set", name, state)
}

// Sweep deletes namespaces left by this package in processes that no
// longer exist (a test binary killed before its cleanup ran). It never
// touches a namespace of a live process or one it did not name.
func Sweep() error {
	ents, err := os.ReadDir("/run/netns")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return errorf("%w", err)
	}
	var first error
	for _, e := range ents {
		pid, ok := ownerPID(e.Name())
		if !ok || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // alive
		}
		if err := ip("netns", "del", e.Name()); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Available reports why namespaces cannot be created here, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return errorf("needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); run the tests as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errorf("needs ip(8) from iproute2: %w", err)
	}
	return nil
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return errorf("ip %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

//go:build !linux

package netns

import (
	"os/exec"
	"runtime"
)

// NS is a network namespace (Linux only).
type NS struct{ Name string }

// Veth is a veth pair (Linux only).
type Veth struct {
	A, B     string
	NSA, NSB *NS
}

func unsupported() error { return errorf("%w on %s", ErrNotSupported, runtime.GOOS) }

// New fails outside Linux.
func New() (*NS, error) { return nil, unsupported() }

// Close fails outside Linux.
func (n *NS) Close() error { return unsupported() }

// Path is the namespace's bind mount.
func (n *NS) Path() string { return "/run/netns/" + n.Name }

// IP fails outside Linux.
func (n *NS) IP(args ...string) error { return unsupported() }

// Exec fails outside Linux.
func (n *NS) Exec(name string, args ...string) ([]byte, error) { return nil, unsupported() }

// Command returns a command that fails to start outside Linux.
func (n *NS) Command(name string, args ...string) *exec.Cmd { return exec.Command("false") }

// Sysctl fails outside Linux.
func (n *NS) Sysctl(key, value string) error { return unsupported() }

// Do fails outside Linux.
func (n *NS) Do(f func() error) error { return unsupported() }

// SetUp fails outside Linux.
func (n *NS) SetUp(name string, up bool) error { return unsupported() }

// NewVeth fails outside Linux.
func NewVeth(a, b *NS) (*Veth, error) { return nil, unsupported() }

// Recreate fails outside Linux.
func (v *Veth) Recreate() error { return unsupported() }

// Create fails outside Linux.
func (v *Veth) Create() error { return unsupported() }

// Delete fails outside Linux.
func (v *Veth) Delete() error { return unsupported() }

// Close fails outside Linux.
func (v *Veth) Close() error { return unsupported() }

// Sweep does nothing outside Linux.
func Sweep() error { return nil }

// Available says why namespaces cannot be made here.
func Available() error { return unsupported() }

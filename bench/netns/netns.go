// Package netns creates throw-away network namespaces and veth pairs for
// fastop's live tests and benchmarks, and runs code inside a namespace.
//
// Everything it creates has a unique name that embeds the creating
// process's id ("fastop-<pid>-<n>" for namespaces, "fo<pid><n>a"/"…b" for
// veth ends, at most 15 bytes), so parallel test runs on one machine never
// collide, and [Sweep] can remove leftovers of processes that died before
// cleaning up. It drives iproute2's ip(8) and needs root (CAP_SYS_ADMIN and
// CAP_NET_ADMIN). Linux only; elsewhere every call fails with
// [ErrNotSupported].
//
// Traffic stays between the namespaces created here: nothing is attached
// to the host's own interfaces.
package netns

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// ErrNotSupported is returned outside Linux.
var ErrNotSupported = errors.New("network namespaces are not supported")

// Prefix starts the name of every namespace this package creates.
const Prefix = "fastop-"

var seq atomic.Uint64

// uniqueID returns "<pid>-<n>" with a per-process counter.
func uniqueID() (pid int, n uint64) {
	return os.Getpid(), seq.Add(1)
}

// NSName returns a fresh namespace name.
func NSName() string {
	pid, n := uniqueID()
	return Prefix + strconv.Itoa(pid) + "-" + strconv.FormatUint(n, 10)
}

// IfName returns a fresh interface name ending in suffix (at most 15 bytes
// in all, IFNAMSIZ-1). Names start with "fo" and never look like an ip(8)
// keyword.
func IfName(suffix string) string {
	pid, n := uniqueID()
	name := "fo" + strconv.FormatInt(int64(pid), 36) + "x" + strconv.FormatUint(n, 36) + suffix
	if len(name) > 15 {
		name = name[len(name)-15:]
		name = "f" + name[1:]
	}
	return name
}

// ownerPID parses the pid out of a namespace name made by NSName.
func ownerPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return 0, false
	}
	p, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(p)
	return pid, err == nil && pid > 0
}

// errorf prefixes the package name.
func errorf(format string, args ...any) error {
	return fmt.Errorf("netns: "+format, args...)
}

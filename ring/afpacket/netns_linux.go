package afpacket

import (
	"os"

	"golang.org/x/sys/unix"
)

// openNetns returns a descriptor of the calling thread's network namespace
// (Open's), or -1 when /proc cannot give one; members then stay where they
// start.
func openNetns() int {
	fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

// enterNetns moves the calling (locked) thread into the group's network
// namespace if it is elsewhere: sockets are created in the namespace of the
// thread that makes them, and a goroutine started from a thread that entered
// a namespace (a test's, or ip netns exec's) does not inherit it. In the
// common case both are the same and nothing is done (no CAP_SYS_ADMIN
// needed).
func (g *group) enterNetns() error {
	if g.nsfd < 0 {
		return nil
	}
	cur, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(cur)
	var a, b unix.Stat_t
	if unix.Fstat(cur, &a) == nil && unix.Fstat(g.nsfd, &b) == nil && a.Dev == b.Dev && a.Ino == b.Ino {
		return nil
	}
	if err := unix.Setns(g.nsfd, unix.CLONE_NEWNET); err != nil {
		return errorf(nil, os.NewSyscallError("setns", err), "entering the network namespace of %q", g.cfg.Interface)
	}
	return nil
}

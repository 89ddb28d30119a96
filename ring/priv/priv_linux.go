package priv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// allThreads runs a system call on every thread of the process and maps
// the runtime's refusal (cgo) to ErrThreads.
func allThreads(trap, a1, a2, a3 uintptr) error {
	_, _, errno := syscall.AllThreadsSyscall(trap, a1, a2, a3)
	switch errno {
	case 0:
		return nil
	case syscall.ENOTSUP:
		return ErrThreads
	}
	return errno
}

// NoNewPrivs sets PR_SET_NO_NEW_PRIVS on every thread: nothing fastop
// runs (ip, tcpdump for the benchmark) can gain privileges by exec, from
// file capabilities or set-user-ID bits. It cannot be undone.
func NoNewPrivs() error {
	if err := allThreads(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_NO_NEW_PRIVS: %w", err)
	}
	return nil
}

// lastCap is the highest capability this kernel knows.
func lastCap() Cap {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 && n < 64 {
			return Cap(n)
		}
	}
	return unix.CAP_LAST_CAP
}

func capget() (eff, prm, inh Set, err error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, 0, 0, fmt.Errorf("capget: %w", err)
	}
	join := func(lo, hi uint32) Set { return Set(lo) | Set(hi)<<32 }
	return join(data[0].Effective, data[1].Effective), join(data[0].Permitted, data[1].Permitted),
		join(data[0].Inheritable, data[1].Inheritable), nil
}

// Permitted returns the calling thread's permitted capabilities.
func Permitted() (Set, error) {
	_, prm, _, err := capget()
	return prm, err
}

// Limit keeps only the capabilities in keep that the process has, on
// every thread: effective and permitted become keep, inheritable and
// ambient empty, and, where the process may (CAP_SETPCAP, i.e. root),
// every other capability leaves the bounding set too, so that not even an
// exec of a set-user-ID-root program could bring it back. Limit() drops
// everything. It cannot be undone.
func Limit(keep ...Cap) error {
	eff, prm, _, err := capget()
	if err != nil {
		return err
	}
	want := Of(keep...) & prm
	if eff.Has(unix.CAP_SETPCAP) {
		for c := Cap(0); c <= lastCap(); c++ {
			if want.Has(c) {
				continue
			}
			if err := allThreads(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c), 0); err != nil && !errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("prctl PR_CAPBSET_DROP %s: %w", c, err)
			}
		}
	}
	// PR_CAP_AMBIENT_CLEAR_ALL needs no privilege; EINVAL: a kernel before
	// 4.3, which has no ambient set.
	if err := allThreads(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("prctl PR_CAP_AMBIENT_CLEAR_ALL: %w", err)
	}
	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := &[2]unix.CapUserData{
		{Effective: uint32(want), Permitted: uint32(want)},
		{Effective: uint32(want >> 32), Permitted: uint32(want >> 32)},
	}
	// unsafe: capset(2) takes the addresses of the header and of the two
	// data words; both are heap objects (Go does not move them), kept
	// alive until the call has run on every thread.
	err = allThreads(unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	runtime.KeepAlive(hdr)
	runtime.KeepAlive(data)
	if err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// Threads reads the privileges of every thread of the process.
func Threads() ([]Status, error) {
	dir := "/proc/self/task"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "status"))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // the thread ended meanwhile
			}
			return nil, err
		}
		s, err := ParseStatus(string(b))
		if err != nil {
			return nil, fmt.Errorf("thread %s: %w", e.Name(), err)
		}
		out = append(out, s)
	}
	return out, nil
}

// CreateNew creates path for writing. It refuses a path that exists
// (O_EXCL: a file is never overwritten, a symbolic link never followed),
// and when fastop runs as root under sudo it creates the file as the user
// who ran sudo (SUDO_UID, SUDO_GID), so that the file can only be made
// where that user could make it, and belongs to them.
func CreateNew(path string) (*os.File, error) {
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	uid, gid, ok := SudoUser()
	if !ok {
		return os.OpenFile(path, flags, 0o644)
	}
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		// The file system IDs and groups are the thread's own; the
		// thread stays locked, so the runtime ends it with the goroutine
		// rather than reuse it with the user's IDs.
		runtime.LockOSThread()
		if err := unix.Setgroups([]int{gid}); err != nil {
			done <- result{err: fmt.Errorf("setgroups: %w", err)}
			return
		}
		if err := unix.Setfsgid(gid); err != nil {
			done <- result{err: fmt.Errorf("setfsgid: %w", err)}
			return
		}
		if err := unix.Setfsuid(uid); err != nil {
			done <- result{err: fmt.Errorf("setfsuid: %w", err)}
			return
		}
		// setfsuid reports no failure other than EPERM: check it took.
		if prev, _ := unix.SetfsuidRetUid(uid); prev != uid {
			done <- result{err: fmt.Errorf("setfsuid %d did not take", uid)}
			return
		}
		f, err := os.OpenFile(path, flags, 0o644)
		done <- result{f, err}
	}()
	r := <-done
	return r.f, r.err
}

// SudoUser returns the user who ran sudo (SUDO_UID, SUDO_GID) when this
// process is root because of it.
func SudoUser() (uid, gid int, ok bool) {
	if os.Geteuid() != 0 {
		return 0, 0, false
	}
	u, err1 := strconv.Atoi(os.Getenv("SUDO_UID"))
	g, err2 := strconv.Atoi(os.Getenv("SUDO_GID"))
	if err1 != nil || err2 != nil || u <= 0 || g < 0 {
		return 0, 0, false
	}
	return u, g, true
}

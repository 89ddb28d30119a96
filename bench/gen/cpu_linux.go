package gen

import (
	"fmt"
	"os"
	"time"

	"github.com/fastop/fastop/ring/cputime"
	"golang.org/x/sys/unix"
)

// ProcessCPU returns this process's CPU time (getrusage RUSAGE_SELF), all
// threads together.
func ProcessCPU() (CPU, error) {
	return rusage(unix.RUSAGE_SELF)
}

// ThreadCPU returns the calling thread's CPU time (getrusage
// RUSAGE_THREAD); meaningful on a goroutine locked to its thread.
func ThreadCPU() (CPU, error) {
	return rusage(unix.RUSAGE_THREAD)
}

func rusage(who int) (CPU, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(who, &ru); err != nil {
		return CPU{}, fmt.Errorf("gen: %w", os.NewSyscallError("getrusage", err))
	}
	return CPU{
		User:   time.Duration(ru.Utime.Nano()),
		System: time.Duration(ru.Stime.Nano()),
	}, nil
}

// PidCPU returns the CPU time of process pid (all its threads, not its
// children) from /proc/PID/stat. The kernel reports it in clock ticks
// (USER_HZ, 100 per second on Linux), so it has 10 ms resolution: measure
// runs of seconds.
func PidCPU(pid int) (CPU, error) {
	user, sys, err := cputime.Stat(pid)
	if err != nil {
		return CPU{}, fmt.Errorf("gen: %w", err)
	}
	return CPU{User: user, System: sys}, nil
}

// TaskCPU returns a thread's on-CPU time (user and system together) with
// nanosecond resolution, from /proc/PID/task/TID/schedstat.
func TaskCPU(pid, tid int) (time.Duration, error) {
	d, err := cputime.Thread(pid, tid)
	if err != nil {
		return 0, fmt.Errorf("gen: %w", err)
	}
	return d, nil
}

// ProcCPU returns a process's on-CPU time with nanosecond resolution: the
// sum of its threads' schedstat.
func ProcCPU(pid int) (time.Duration, error) {
	d, err := cputime.Process(pid)
	if err != nil {
		return 0, fmt.Errorf("gen: %w", err)
	}
	return d, nil
}

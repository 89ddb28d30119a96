package gen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

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
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return CPU{}, fmt.Errorf("gen: cpu time of %d: %w", pid, err)
	}
	return parseStat(string(b))
}

// parseStat reads utime and stime (fields 14 and 15) from a
// /proc/PID/stat line; the command name (field 2) may contain spaces and
// parentheses, so fields are counted from its closing parenthesis.
func parseStat(s string) (CPU, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return CPU{}, fmt.Errorf("gen: malformed stat line")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return CPU{}, fmt.Errorf("gen: short stat line")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return CPU{}, fmt.Errorf("gen: malformed stat times")
	}
	const tick = time.Second / 100
	return CPU{User: time.Duration(ut) * tick, System: time.Duration(st) * tick}, nil
}

// TaskCPU returns a thread's on-CPU time (user and system together) with
// nanosecond resolution, from /proc/PID/task/TID/schedstat.
func TaskCPU(pid, tid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(tid) + "/schedstat")
	if err != nil {
		return 0, fmt.Errorf("gen: cpu time of thread %d: %w", tid, err)
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, fmt.Errorf("gen: empty schedstat")
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("gen: malformed schedstat: %w", err)
	}
	return time.Duration(ns), nil
}

// ProcCPU returns a process's on-CPU time with nanosecond resolution: the
// sum of its threads' schedstat.
func ProcCPU(pid int) (time.Duration, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return 0, fmt.Errorf("gen: threads of %d: %w", pid, err)
	}
	var total time.Duration
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		d, err := TaskCPU(pid, tid)
		if err != nil {
			continue // the thread exited meanwhile
		}
		total += d
	}
	return total, nil
}

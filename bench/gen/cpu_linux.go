package gen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
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

// ResetPeakRSS resets this process's peak resident set size (VmHWM) to
// its current size, so PeakRSS then measures one phase (clear_refs, value
// 5: Linux 4.0 and later).
func ResetPeakRSS() error {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("gen: reset peak RSS: %w", err)
	}
	return nil
}

// PeakRSS returns the peak resident set size (VmHWM) of process pid, or
// of this process when pid is 0, in bytes.
func PeakRSS(pid int) (uint64, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("gen: peak RSS: %w", err)
	}
	return parseHWM(string(b))
}

// parseHWM reads the VmHWM line ("VmHWM:    1234 kB") of a status file.
func parseHWM(status string) (uint64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			break
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			break
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("gen: no VmHWM line in the status file")
}

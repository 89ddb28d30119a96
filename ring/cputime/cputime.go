// Package cputime reads the CPU time of Linux threads and processes from
// /proc, for the capture's own accounting (afpacket.Group.CPUTime) and the
// benchmark's (bench/gen). Elsewhere every call fails: /proc is not there.
package cputime

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// tick is USER_HZ, the unit of /proc/PID/stat's times: 100 per second on
// every Linux architecture, whatever the kernel's HZ.
const tick = time.Second / 100

// ErrFormat is wrapped by the parse errors.
var ErrFormat = errors.New("malformed /proc file")

// Thread returns the time thread tid of process pid has spent on a CPU
// (user and system together): /proc/PID/task/TID/schedstat's nanoseconds,
// or, on a kernel without schedstat, the utime and stime of .../stat
// (10 ms resolution).
func Thread(pid, tid int) (time.Duration, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(tid)
	if b, err := os.ReadFile(dir + "/schedstat"); err == nil {
		if d, err := ParseSchedstat(string(b)); err == nil {
			return d, nil
		}
	}
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return 0, fmt.Errorf("cputime: cpu time of thread %d: %w", tid, err)
	}
	user, sys, err := ParseStat(string(b))
	if err != nil {
		return 0, fmt.Errorf("cputime: cpu time of thread %d: %w", tid, err)
	}
	return user + sys, nil
}

// Process returns a process's on-CPU time with nanosecond resolution: the
// sum of [Thread] over its threads (one that exits meanwhile is skipped).
func Process(pid int) (time.Duration, error) {
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return 0, fmt.Errorf("cputime: threads of %d: %w", pid, err)
	}
	var total time.Duration
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		d, err := Thread(pid, tid)
		if err != nil {
			continue // the thread exited meanwhile
		}
		total += d
	}
	return total, nil
}

// Stat returns the user and system time of process pid (all its threads,
// not its children) from /proc/PID/stat, in 10 ms ticks: measure runs of
// seconds.
func Stat(pid int) (user, system time.Duration, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("cputime: cpu time of %d: %w", pid, err)
	}
	user, system, err = ParseStat(string(b))
	if err != nil {
		return 0, 0, fmt.Errorf("cputime: cpu time of %d: %w", pid, err)
	}
	return user, system, nil
}

// ParseStat reads utime and stime (fields 14 and 15) from a /proc/PID/stat
// line. The command name (field 2) may hold spaces and parentheses, so the
// fields are counted from its last closing parenthesis.
func ParseStat(line string) (user, system time.Duration, err error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("%w: stat line without a command name", ErrFormat)
	}
	f := strings.Fields(line[i+1:])
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("%w: short stat line", ErrFormat)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 63)
	st, err2 := strconv.ParseUint(f[12], 10, 63)
	if err1 != nil || err2 != nil || ut > uint64(1<<63-1)/uint64(tick) || st > uint64(1<<63-1)/uint64(tick) {
		return 0, 0, fmt.Errorf("%w: stat times %q %q", ErrFormat, f[11], f[12])
	}
	return time.Duration(ut) * tick, time.Duration(st) * tick, nil
}

// ParseSchedstat reads the first field of /proc/.../schedstat: nanoseconds
// spent on a CPU.
func ParseSchedstat(s string) (time.Duration, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, fmt.Errorf("%w: empty schedstat", ErrFormat)
	}
	ns, err := strconv.ParseUint(f[0], 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%w: schedstat %q", ErrFormat, f[0])
	}
	return time.Duration(ns), nil
}

package afpacket

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuTime sums the CPU time of the member threads from
// /proc/self/task/TID/schedstat (nanoseconds on CPU), falling back to the
// utime and stime fields of .../stat (clock ticks of 1/100 s).
func (g *group) cpuTime() (time.Duration, error) {
	var total time.Duration
	for _, m := range g.members {
		tid := int(m.tid.Load())
		if tid == 0 {
			continue
		}
		d, err := threadCPU(tid)
		if err != nil {
			return total, err
		}
		total += d
	}
	return total, nil
}

func threadCPU(tid int) (time.Duration, error) {
	dir := "/proc/self/task/" + strconv.Itoa(tid)
	if b, err := os.ReadFile(dir + "/schedstat"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if ns, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return time.Duration(ns), nil
			}
		}
	}
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return 0, fmt.Errorf("ring: cpu time of thread %d: %w", tid, err)
	}
	// Fields after the parenthesized command name: state is field 3,
	// utime 14 and stime 15.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0, fmt.Errorf("ring: cpu time of thread %d: short stat line", tid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100), nil
}

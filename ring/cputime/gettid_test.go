package cputime

import (
	"os"
	"strconv"
	"testing"
)

// gettid reads the calling thread's id without x/sys: /proc/thread-self
// links to /proc/PID/task/TID.
func gettid(t *testing.T) int {
	t.Helper()
	p, err := os.Readlink("/proc/thread-self")
	if err != nil {
		t.Fatal(err)
	}
	i := len(p) - 1
	for i >= 0 && p[i] != '/' {
		i--
	}
	tid, err := strconv.Atoi(p[i+1:])
	if err != nil {
		t.Fatalf("/proc/thread-self -> %q", p)
	}
	return tid
}

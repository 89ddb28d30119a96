package cputime

import (
	"errors"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		user, sys  time.Duration
		ok         bool
	}{
		{"plain", "42 (fastop) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0", 2500 * time.Millisecond, 750 * time.Millisecond, true},
		{"parentheses and spaces in the name", "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0", 2500 * time.Millisecond, 750 * time.Millisecond, true},
		{"no name", "garbage", 0, 0, false},
		{"short", "42 (x) S 1 2 3", 0, 0, false},
		{"not a number", "42 (x) S 1 2 3 4 5 6 7 8 9 10 x 75", 0, 0, false},
		{"negative", "42 (x) S 1 2 3 4 5 6 7 8 9 10 -1 75", 0, 0, false},
		{"overflows a Duration", "42 (x) S 1 2 3 4 5 6 7 8 9 10 999999999999999999 75", 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, s, err := ParseStat(tc.line)
			if tc.ok != (err == nil) || u != tc.user || s != tc.sys {
				t.Errorf("ParseStat = %v, %v, %v; want %v, %v, ok %v", u, s, err, tc.user, tc.sys, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrFormat) {
				t.Errorf("error %v does not wrap ErrFormat", err)
			}
		})
	}
}

func TestParseSchedstat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"123456789 5000 10\n", 123456789, true},
		{"", 0, false},
		{"x 1 2", 0, false},
		{"-5 1 2", 0, false},
	} {
		d, err := ParseSchedstat(tc.in)
		if tc.ok != (err == nil) || d != tc.want {
			t.Errorf("ParseSchedstat(%q) = %v, %v; want %v, ok %v", tc.in, d, err, tc.want, tc.ok)
		}
	}
}

// TestLive reads this process's own threads: time only grows while a
// thread spins.
func TestLive(t *testing.T) {
	if runtime.GOOS != "linux" {
		if _, err := Process(os.Getpid()); err == nil {
			t.Fatal("Process succeeded without /proc")
		}
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := gettid(t)
	before, err := Thread(os.Getpid(), tid)
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(30 * time.Millisecond); time.Now().Before(end); {
	}
	after, err := Thread(os.Getpid(), tid)
	if err != nil || after <= before {
		t.Errorf("thread time %v then %v, %v", before, after, err)
	}
	if d, err := Process(os.Getpid()); err != nil || d < after {
		t.Errorf("Process = %v, %v; want at least the thread's %v", d, err, after)
	}
	if u, s, err := Stat(os.Getpid()); err != nil || u+s < 0 {
		t.Errorf("Stat = %v, %v, %v", u, s, err)
	}
	if _, err := Thread(os.Getpid(), 1<<30); err == nil {
		t.Error("a thread that does not exist has a CPU time")
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add("42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0")
	f.Add("1 (x) R")
	f.Fuzz(func(t *testing.T, line string) {
		u, s, err := ParseStat(line)
		if err == nil && (u < 0 || s < 0) {
			t.Errorf("negative times %v %v", u, s)
		}
	})
}

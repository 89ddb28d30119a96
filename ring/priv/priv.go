// Package priv gives up privileges fastop no longer needs: the right to
// gain new ones on exec (no_new_privs) and every Linux capability but the
// few a running capture still uses, on every thread of the process. It
// also creates files for a privileged process as the user who ran it.
//
// Capabilities and no_new_privs belong to each thread on Linux; Go runs
// many threads, so the calls go through syscall.AllThreadsSyscall, which
// the runtime offers only when the binary is built without cgo (fastop's
// build is: CGO_ENABLED=0). A cgo build gets ErrThreads and keeps them.
package priv

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Cap is a Linux capability number (linux/capability.h).
type Cap uint

// The capabilities fastop uses.
const (
	NetAdmin Cap = 12 // CAP_NET_ADMIN
	NetRaw   Cap = 13 // CAP_NET_RAW: creating AF_PACKET sockets
)

func (c Cap) String() string {
	switch c {
	case NetAdmin:
		return "CAP_NET_ADMIN"
	case NetRaw:
		return "CAP_NET_RAW"
	}
	return "capability " + strconv.Itoa(int(c))
}

// Set is a capability mask, bit n for capability n, as /proc prints it.
type Set uint64

// Of returns the set of caps.
func Of(caps ...Cap) Set {
	var s Set
	for _, c := range caps {
		s |= 1 << c
	}
	return s
}

// Has says whether c is in s.
func (s Set) Has(c Cap) bool { return s&(1<<c) != 0 }

// String names the capabilities fastop knows and counts the others:
// "none", "CAP_NET_RAW", "CAP_NET_RAW and 39 more".
func (s Set) String() string {
	if s == 0 {
		return "none"
	}
	var names []string
	for _, c := range []Cap{NetRaw, NetAdmin} {
		if s.Has(c) {
			names = append(names, c.String())
			s &^= 1 << c
		}
	}
	if s != 0 {
		n := 0
		for ; s != 0; s &= s - 1 {
			n++
		}
		names = append(names, strconv.Itoa(n)+" more")
	}
	return strings.Join(names, " and ")
}

// ErrThreads is returned when privileges cannot be changed on every thread
// (a cgo build: rebuild with CGO_ENABLED=0).
var ErrThreads = errors.New("this fastop is built with cgo, which cannot change privileges on every thread; build it with CGO_ENABLED=0 (make build)")

// Status is a thread's privileges as /proc/<pid>/task/<tid>/status gives
// them.
type Status struct {
	Eff, Prm, Inh, Bnd, Amb Set
	NoNewPrivs              bool
}

// String prints s in one line.
func (s Status) String() string {
	return fmt.Sprintf("effective %s, permitted %s, inheritable %s, ambient %s, bounding %s, no_new_privs %v",
		s.Eff, s.Prm, s.Inh, s.Amb, s.Bnd, s.NoNewPrivs)
}

// ParseStatus reads the Cap* and NoNewPrivs lines of a /proc status file.
func ParseStatus(text string) (Status, error) {
	var s Status
	seen := 0
	for line := range strings.SplitSeq(text, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		var dst *Set
		switch key {
		case "CapInh":
			dst = &s.Inh
		case "CapPrm":
			dst = &s.Prm
		case "CapEff":
			dst = &s.Eff
		case "CapBnd":
			dst = &s.Bnd
		case "CapAmb":
			dst = &s.Amb
		case "NoNewPrivs":
			s.NoNewPrivs = val == "1"
			seen++
			continue
		default:
			continue
		}
		v, err := strconv.ParseUint(val, 16, 64)
		if err != nil {
			return Status{}, fmt.Errorf("status line %q: %w", line, err)
		}
		*dst = Set(v)
		seen++
	}
	if seen < 5 {
		return Status{}, errors.New("status has no capability lines")
	}
	return s, nil
}

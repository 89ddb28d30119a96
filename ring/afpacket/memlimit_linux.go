package afpacket

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Ring memory is kernel memory that is never swapped, allocated when a
// member is created; asking for more than the machine has makes the kernel
// reclaim for tens of seconds (the process cannot even be killed meanwhile)
// before it fails. So Open refuses rings beyond a share of the memory
// available: half for root, a quarter for anyone else (a setcap'd binary
// lets any user allocate rings), counting every group the process has
// open, over all its interfaces.

// memAvailable reads MemAvailable from /proc/meminfo (a variable, so tests
// can pretend).
var memAvailable = func() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	return parseMemAvailable(string(b))
}

// parseMemAvailable returns the MemAvailable line of /proc/meminfo in bytes.
func parseMemAvailable(s string) (int64, error) {
	for line := range strings.Lines(s) {
		rest, ok := strings.CutPrefix(line, "MemAvailable:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb < 0 || kb > 1<<52 {
			return 0, fmt.Errorf("/proc/meminfo: bad MemAvailable %q", f[0])
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("/proc/meminfo has no MemAvailable line")
}

// ringsOpen is the ring memory of the groups open in this process.
var ringsOpen struct {
	sync.Mutex
	bytes int64
}

// reserveRings checks need bytes of rings for a group on iface against the
// limit and, when they fit, counts them until releaseRings. Without
// /proc/meminfo nothing is checked.
func reserveRings(iface string, need int64) error {
	avail, err := memAvailable()
	ringsOpen.Lock()
	defer ringsOpen.Unlock()
	if err == nil {
		if err := checkRingMemory(iface, need, ringsOpen.bytes, avail, os.Geteuid() == 0); err != nil {
			return err
		}
	}
	ringsOpen.bytes += need
	return nil
}

func releaseRings(n int64) {
	ringsOpen.Lock()
	ringsOpen.bytes -= n
	ringsOpen.Unlock()
}

// checkRingMemory says whether need more bytes of rings fit, with open
// bytes already allocated (and so no longer in avail).
func checkRingMemory(iface string, need, open, avail int64, root bool) error {
	share, name := int64(2), "half"
	if !root {
		share, name = 4, "a quarter"
	}
	limit := (avail + open) / share
	if open+need <= limit {
		return nil
	}
	already := ""
	if open > 0 {
		already = fmt.Sprintf(" (%s more already open)", gib(open))
	}
	who := "for root"
	if !root {
		who = "for a user other than root"
	}
	return errorf(ErrRingMemory, nil, "%s of ring memory for %q%s is more than the limit of %s (%s of MemAvailable in /proc/meminfo, %s %s): use a smaller --buffer or fewer fanout members",
		gib(need), iface, already, gib(limit), name, gib(avail+open), who)
}

// gib writes a byte count in GiB or MiB, to one decimal.
func gib(n int64) string {
	if n >= 1<<30 {
		return strings.TrimSuffix(strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64), ".0") + " GiB"
	}
	return strings.TrimSuffix(strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64), ".0") + " MiB"
}

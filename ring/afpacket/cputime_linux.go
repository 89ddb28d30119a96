package afpacket

import (
	"os"
	"time"

	"github.com/fastop/fastop/ring/cputime"
)

// cpuTime sums the CPU time of the member threads (schedstat's
// nanoseconds, see cputime.Thread).
func (g *group) cpuTime() (time.Duration, error) {
	var total time.Duration
	pid := os.Getpid()
	for _, m := range g.members {
		tid := int(m.tid.Load())
		if tid == 0 {
			continue
		}
		d, err := cputime.Thread(pid, tid)
		if err != nil {
			return total, err
		}
		total += d
	}
	return total, nil
}

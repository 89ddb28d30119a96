package slab

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkFirstTouch measures what the first write to fresh memory costs
// on this machine, per MiB: a new anonymous mapping of 64 MiB, one write
// per 4 KiB page (with huge pages advised, as Make does, and without),
// then unmapped. Fastop's tables are touched this way during a flood, so
// this cost is part of every CPU figure of a large table. In a VM whose
// free memory goes back to the host (free page reporting, ballooning) the
// first touch of memory handed back is a fault in the host too: measured
// once on a 2-vCPU VM at about 2 ms per MiB even with huge pages, against
// 0.05-0.1 for the guest's own zeroing. Compare with BenchmarkRetouch.
func BenchmarkFirstTouch(b *testing.B) {
	for _, huge := range []bool{true, false} {
		name := "pages=4KiB"
		if huge {
			name = "pages=2MiB"
		}
		b.Run(name, func(b *testing.B) {
			const size = 64 << 20
			var spent time.Duration
			for b.Loop() {
				m, err := unix.Mmap(-1, 0, size+HugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
				if err != nil {
					b.Fatal(err)
				}
				s := m[HugePage-int(addr(m)%HugePage):][:size]
				if huge {
					advise(s)
				}
				t0 := time.Now()
				for i := 0; i < len(s); i += 4096 {
					s[i] = 1
				}
				spent += time.Since(t0)
				if err := unix.Munmap(m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(spent.Microseconds())/1e3/float64(b.N)/(size>>20), "ms/MiB")
		})
	}
}

// BenchmarkRetouch is the same writes to memory already touched: what
// BenchmarkFirstTouch adds over it is the cost of the faults.
func BenchmarkRetouch(b *testing.B) {
	const size = 64 << 20
	s := make([]byte, size)
	for i := 0; i < len(s); i += 4096 {
		s[i] = 1
	}
	var spent time.Duration
	for b.Loop() {
		t0 := time.Now()
		for i := 0; i < len(s); i += 4096 {
			s[i]++
		}
		spent += time.Since(t0)
	}
	b.ReportMetric(float64(spent.Microseconds())/1e3/float64(b.N)/(size>>20), "ms/MiB")
}

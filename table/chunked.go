package table

import "github.com/fastop/fastop/ring/slab"

// chunked holds values of one type (the histories that outgrew their
// record) in chunks that never move once full (the first grows by
// doubling), so adding values copies none but the first few. A value is named by 1 + its index: 0 names
// none. Freed values are reused first.
type chunked[T any] struct {
	c    [][]T
	n    int32 // values handed out so far
	free []int32
}

// Chunks of side values: 1<<15 of them (5 MiB of 20 uint32 pairs), on
// huge pages; the first one grows by doubling from sideFirst.
const (
	sideShift = 15
	sideChunk = 1 << sideShift
	sideFirst = 16
)

// at returns value i (1-based).
func (c *chunked[T]) at(i int32) *T {
	j := i - 1
	return &c.c[j>>sideShift][j&(sideChunk-1)]
}

// alloc hands out a value (not zeroed when reused) and returns its name.
func (c *chunked[T]) alloc() int32 {
	if n := len(c.free); n > 0 {
		i := c.free[n-1]
		c.free = c.free[:n-1]
		return i
	}
	j := c.n
	k := int(j) >> sideShift
	switch {
	case k == len(c.c):
		n := sideChunk
		if k == 0 {
			n = sideFirst
		}
		c.c = append(c.c, slab.Make[T](n))
	case int(j)&(sideChunk-1) == len(c.c[k]):
		// Only the first chunk is ever short: it moves while it grows.
		grown := slab.Make[T](min(2*len(c.c[k]), sideChunk))
		copy(grown, c.c[k])
		c.c[k] = grown
	}
	c.n++
	return c.n
}

// release gives value i back for reuse.
func (c *chunked[T]) release(i int32) { c.free = append(c.free, i) }

// inUse returns how many values are handed out and not released.
func (c *chunked[T]) inUse() int { return int(c.n) - len(c.free) }

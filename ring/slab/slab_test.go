package slab

import (
	"runtime"
	"strings"
	"testing"
)

type rec struct {
	k    [5]uint64
	last int32
	hist [20][2]uint32
}

func TestMake(t *testing.T) {
	for _, n := range []int{1, 100, minHuge / 8, minHuge/8 + 1, 3 * HugePage / 8} {
		s := Make[uint64](n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("n=%d: len %d cap %d", n, len(s), cap(s))
		}
		for i := range s {
			if s[i] != 0 {
				t.Fatalf("n=%d: s[%d] = %d, want zeroed memory", n, i, s[i])
			}
			s[i] = uint64(i)
		}
		if n*8 >= minHuge && addr(s)%HugePage != 0 {
			t.Fatalf("n=%d: a large slab at %#x, want it on a huge page", n, addr(s))
		}
	}
	if s := Make[rec](0); s != nil {
		t.Fatalf("Make(0) = %d values, want nil", len(s))
	}
}

func TestMakeRefusesPointers(t *testing.T) {
	for name, mk := range map[string]func(){
		"pointer":       func() { Make[*int](1) },
		"string":        func() { Make[string](1) },
		"slice":         func() { Make[[]byte](1) },
		"map in struct": func() { Make[struct{ m map[int]int }](1) },
		"array of func": func() { Make[[2]func()](1) },
		"interface":     func() { Make[any](1) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "holds pointers") {
					t.Errorf("%s: recovered %v, want a panic saying it holds pointers", name, r)
				}
			}()
			mk()
		}()
	}
	Make[struct {
		a [3]int32
		b uintptr
		c [0]*int
	}](1) // no pointer in it: accepted
}

// TestMakeKeepsMemory checks that a large slab survives collections while
// it is reachable (the view keeps its byte slice alive) and that dropping
// it gives the memory back.
func TestMakeKeepsMemory(t *testing.T) {
	s := Make[rec](3 * HugePage / 256)
	for i := range s {
		s[i].k[0], s[i].last, s[i].hist[19][1] = uint64(i), int32(i), uint32(i)
	}
	for range 3 {
		runtime.GC()
		_ = make([]byte, 8<<20) // garbage that would reuse freed memory
	}
	for i := range s {
		if s[i].k[0] != uint64(i) || s[i].last != int32(i) || s[i].hist[19][1] != uint32(i) {
			t.Fatalf("record %d changed after collections: %+v", i, s[i].k)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	runtime.KeepAlive(s)
	s = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	if freed := int64(before.HeapAlloc) - int64(after.HeapAlloc); freed < 3*HugePage {
		t.Fatalf("dropping a %d-byte slab freed %d bytes of heap", 3*HugePage, freed)
	}
}

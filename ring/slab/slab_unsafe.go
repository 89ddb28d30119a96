// This file encapsulates the unsafe code of package slab: viewing a byte
// slice as a slice of a pointer-free type, and finding its address to
// align it. The view points into the byte slice's own heap object, so
// the garbage collector keeps that object alive as long as the view is
// reachable and frees it afterwards; since the object was allocated as
// bytes the collector never scans it, which is why Make refuses types
// holding pointers.

package slab

import (
	"unsafe"
)

func makeHuge[T any](n, size int) []T {
	b := make([]byte, n*size+HugePage)
	off := 0
	if r := uintptr(unsafe.Pointer(&b[0])) % HugePage; r != 0 {
		off = int(HugePage - r)
	}
	b = b[off : off+n*size : off+n*size]
	advise(b)
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}

// addr returns where s's memory begins (tests check its alignment and
// the pages behind it).
func addr[T any](s []T) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(s))) }

// adviseSlice advises the whole huge pages within the size bytes of s.
func adviseSlice[T any](s []T, size int) {
	p := unsafe.Pointer(unsafe.SliceData(s))
	off := (HugePage - uintptr(p)%HugePage) % HugePage
	if n := (uintptr(size) - min(off, uintptr(size))) / HugePage * HugePage; n > 0 {
		advise(unsafe.Slice((*byte)(unsafe.Add(p, off)), n))
	}
}

package slab

import (
	"fmt"
	"reflect"
)

// HugePage is the size of a transparent huge page on the platforms fastop
// runs on (x86-64, arm64 with 4 KiB base pages).
const HugePage = 2 << 20

// minHuge is the smallest slice Make backs with huge pages: below it the
// alignment slack (up to one huge page) would cost more than it saves,
// and a small table should not take 2 MiB.
const minHuge = 2 * HugePage

// Make returns a zeroed slice of n values of T. When the slice is large
// it is aligned to a huge page and the kernel is asked to back it with
// huge pages. T must not contain pointers.
func Make[T any](n int) []T {
	if n <= 0 {
		return nil
	}
	t := reflect.TypeFor[T]()
	if hasPointers(t) {
		panic(fmt.Sprintf("slab: %v holds pointers", t))
	}
	size := int(t.Size())
	if size == 0 || n*size < minHuge {
		return make([]T, n)
	}
	return makeHuge[T](n, size)
}

// hasPointers reports whether a value of t holds anything the garbage
// collector must see.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.Uintptr:
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	}
	return true // pointers, slices, strings, maps, channels, funcs, interfaces
}

// Advise asks the kernel to back the memory of s with huge pages where s
// covers whole ones: for a large slice of a type with pointers, which
// Make cannot hold, just allocated and not yet touched (memory already
// touched keeps its pages). It changes nothing else about s.
func Advise[T any](s []T) {
	size := int(reflect.TypeFor[T]().Size()) * len(s)
	if size < minHuge {
		return
	}
	adviseSlice(s, size)
}

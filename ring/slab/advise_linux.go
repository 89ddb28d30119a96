package slab

import "golang.org/x/sys/unix"

// advise asks for huge pages over b, which starts on a huge page. An
// error (no THP in this kernel, or it is switched off) changes nothing
// but the page size, so it is ignored.
func advise(b []byte) {
	_ = unix.Madvise(b[:len(b)/HugePage*HugePage], unix.MADV_HUGEPAGE)
}

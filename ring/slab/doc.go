// Package slab allocates the large pointer-free tables of fastop's flow
// tables (records, per-tick entries, indexes) so that the kernel backs them
// with huge pages.
//
// At a million flows the tables take hundreds of megabytes, all touched
// for the first time during a flood. With 4 KiB pages every first touch is
// a page fault: measured on a 2-vCPU VM, 150,000 faults and about a fifth
// of fastop's CPU during a million-flow flood. Go's heap does not ask for
// transparent huge pages, and most kernels give them only where asked
// (/sys/kernel/mm/transparent_hugepage/enabled set to "madvise"); Make asks
// (madvise MADV_HUGEPAGE) for the 2 MiB-aligned part of a large slice, so
// a 2 MiB page costs one fault instead of 512. Where the kernel has no
// huge pages the advice fails quietly and nothing else changes.
//
// The memory is an ordinary Go byte slice viewed as []T: the garbage
// collector frees it when the last view is gone, exactly as for make. T
// must hold no pointers (the collector does not look inside a byte
// slice); Make panics otherwise.
package slab

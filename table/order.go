package table

import (
	"cmp"
	"slices"
)

// CompareByColumn is the one order of rows by the 2 s, 10 s or 40 s column
// (col = Win2s …), iftop's: descending by sent+received of that column (in
// the sent-only or received-only modes, that direction first), ties broken
// the same way by the later columns, then by key so the order is total and
// deterministic. It is negative when a comes first. Sums wrap as uint64.
func CompareByColumn(a, b *Flow, col int, mode LineMode) int {
	for c := col; c <= Win40s; c++ {
		if r := compareColumn(a, b, c, mode); r != 0 {
			return r
		}
	}
	return CompareKeys(&a.Key, &b.Key)
}

func compareColumn(a, b *Flow, c int, mode LineMode) int {
	switch mode {
	case OneLineSent:
		if r := cmp.Compare(b.Sent.Win[c], a.Sent.Win[c]); r != 0 {
			return r
		}
	case OneLineRecv:
		if r := cmp.Compare(b.Recv.Win[c], a.Recv.Win[c]); r != 0 {
			return r
		}
	}
	return cmp.Compare(b.Sent.Win[c]+b.Recv.Win[c], a.Sent.Win[c]+a.Recv.Win[c])
}

// SortByColumn sorts rows by CompareByColumn.
func SortByColumn(rows []Flow, col int, mode LineMode) {
	slices.SortFunc(rows, func(a, b Flow) int { return CompareByColumn(&a, &b, col, mode) })
}

// maxSelect bounds the heap TopByColumn keeps; above it a full sort is as
// good.
const maxSelect = 4096

// TopByColumn returns the first n rows in CompareByColumn's order (all when
// n < 0), as SortByColumn followed by rows[:n] would. For a small n it
// selects before sorting: a heap of the n rows that come first so far gives
// the n-th row, only the rows at or before it are sorted, so it costs
// O(len(rows)·log n) instead of a full sort. Rows past the result are left
// in no particular order.
func TopByColumn(rows []Flow, col int, mode LineMode, n int) []Flow {
	if n < 0 || n > len(rows)/4 || n > maxSelect {
		SortByColumn(rows, col, mode)
		if n < 0 || n > len(rows) {
			return rows
		}
		return rows[:n]
	}
	if n == 0 {
		return rows[:0]
	}
	heap := topIndices(rows, col, mode, n, make([]int32, 0, n))
	last := rows[heap[0]] // a copy: the partition below moves rows
	m := 0
	for i := range rows {
		if CompareByColumn(&rows[i], &last, col, mode) <= 0 {
			rows[m], rows[i] = rows[i], rows[m]
			m++
		}
	}
	SortByColumn(rows[:m], col, mode)
	return rows[:n]
}

// topIndices returns, in heap (reused), the indices of the n rows that
// come first in CompareByColumn's order, the one that comes last of them
// first. rows is not modified.
func topIndices(rows []Flow, col int, mode LineMode, n int, heap []int32) []int32 {
	// heap holds the indices of the n rows that come first so far, the one
	// that comes last at the root.
	later := func(i, j int32) bool { return CompareByColumn(&rows[i], &rows[j], col, mode) > 0 }
	heap = heap[:0]
	for i := range int32(len(rows)) {
		if len(heap) < n {
			heap = append(heap, i)
			for c := len(heap) - 1; c > 0; {
				p := (c - 1) / 2
				if !later(heap[c], heap[p]) {
					break
				}
				heap[c], heap[p] = heap[p], heap[c]
				c = p
			}
			continue
		}
		if !later(heap[0], i) {
			continue
		}
		heap[0] = i
		for p := 0; ; {
			c := 2*p + 1
			if c >= len(heap) {
				break
			}
			if r := c + 1; r < len(heap) && later(heap[r], heap[c]) {
				c = r
			}
			if !later(heap[c], heap[p]) {
				break
			}
			heap[c], heap[p] = heap[p], heap[c]
			p = c
		}
	}
	return heap
}

// TopOf returns the first n of flows in CompareByColumn's order, sorted,
// copied into dst (reused), leaving flows as they are: a report of the
// busiest 100 of a million flows copies 100 rows, not a million (all of
// them, sorted, when n < 0 or n is large).
func TopOf(flows []Flow, col int, mode LineMode, n int, dst []Flow) []Flow {
	if n < 0 || n > len(flows)/4 || n > maxSelect {
		dst = append(dst[:0], flows...)
		return TopByColumn(dst, col, mode, n)
	}
	if n == 0 {
		return dst[:0]
	}
	var buf [64]int32
	heap := topIndices(flows, col, mode, n, buf[:0])
	dst = dst[:0]
	for _, i := range heap {
		dst = append(dst, flows[i])
	}
	SortByColumn(dst, col, mode)
	return dst
}

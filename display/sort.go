package display

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

// Order is a sort order of rows (iftop's -o and the 1 2 3 < > keys).
type Order uint8

// Values of Order. The zero value is iftop's default, the 10 s column.
const (
	Sort10s    Order = iota // by the 10 s column (default)
	Sort2s                  // by the 2 s column
	Sort40s                 // by the 40 s column
	SortSource              // by the source host text
	SortDest                // by the destination host text
)

var orderNames = [...]string{Sort10s: "10s", Sort2s: "2s", Sort40s: "40s", SortSource: "source", SortDest: "destination"}

// String returns the name -o takes.
func (o Order) String() string {
	if int(o) < len(orderNames) {
		return orderNames[o]
	}
	return fmt.Sprintf("Order(%d)", uint8(o))
}

// ParseOrder parses the value of -o or of the rc file's sort key: 2s, 10s,
// 40s, source or destination.
func ParseOrder(s string) (Order, error) {
	for o, name := range orderNames {
		if s == name {
			return Order(o), nil
		}
	}
	return 0, fmt.Errorf("invalid sort order %q: use 2s, 10s, 40s, source or destination", s)
}

// Column returns the window (table.Win2s …) that o sorts by, and false for
// the name orders.
func (o Order) Column() (int, bool) {
	switch o {
	case Sort2s:
		return table.Win2s, true
	case Sort10s:
		return table.Win10s, true
	case Sort40s:
		return table.Win40s, true
	}
	return 0, false
}

// SortRows sorts rows in place by o. Column orders are table.SortByColumn
// (descending, mode picks the direction compared first). Name orders compare
// the host text of that side byte-wise, as iftop's strcmp does on the shown
// name or number (ports are not part of it; the "other" row sorts as
// OtherHost), ties by the 40 s sent+received sum descending, then by key.
func SortRows(rows []table.Flow, o Order, mode table.LineMode, hf *HostFormat) {
	if col, ok := o.Column(); ok {
		table.SortByColumn(rows, col, mode)
		return
	}
	side := Src
	if o == SortDest {
		side = Dst
	}
	sortByName(rows, side, hf)
}

// sortByName builds every row's host text once into one arena and sorts an
// index, so a large table costs one pass of formatting plus n log n
// comparisons of short byte strings.
func sortByName(rows []table.Flow, side Side, hf *HostFormat) {
	if hf == nil {
		hf = &HostFormat{}
	}
	type entry struct {
		off, end int
		total    uint64 // 40 s sent+received
		row      int
	}
	entries := make([]entry, len(rows))
	arena := make([]byte, 0, len(rows)*16)
	for i := range rows {
		k := &rows[i].Key
		off := len(arena)
		switch {
		case k.IsOther():
			arena = append(arena, OtherHost...)
		case hf.Group != group.Host:
			arena = hf.appendGroupText(arena, k, side)
		case side == Src:
			arena = hf.AppendName(arena, k.AAddr(), -1)
		default:
			arena = hf.AppendName(arena, k.BAddr(), -1)
		}
		entries[i] = entry{off, len(arena), rows[i].Sent.Win[table.Win40s] + rows[i].Recv.Win[table.Win40s], i}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if r := bytes.Compare(arena[a.off:a.end], arena[b.off:b.end]); r != 0 {
			return r
		}
		if r := cmp.Compare(b.total, a.total); r != 0 {
			return r
		}
		return table.CompareKeys(&rows[a.row].Key, &rows[b.row].Key)
	})
	sorted := make([]table.Flow, len(rows))
	for i, e := range entries {
		sorted[i] = rows[e.row]
	}
	copy(rows, sorted)
}

// Limit returns the first n rows (all when n < 0 or n ≥ len(rows)).
func Limit(rows []table.Flow, n int) []table.Flow {
	if n < 0 || n >= len(rows) {
		return rows
	}
	return rows[:n]
}

// SortLimit sorts rows by o and returns the first n of them in order (all
// when n < 0), as SortRows then Limit would. Column orders select before
// sorting (table.TopByColumn), so a small n costs O(len(rows)·log n). Rows
// past the result are left in no particular order.
func SortLimit(rows []table.Flow, o Order, mode table.LineMode, hf *HostFormat, n int) []table.Flow {
	if col, ok := o.Column(); ok {
		return table.TopByColumn(rows, col, mode, n)
	}
	SortRows(rows, o, mode, hf)
	return Limit(rows, n)
}

// TopRows returns what SortLimit returns for the rows of s under v and g
// (group.Rows), using scratch for them. When every flow is a row of its
// own (every port shown, rows by host pair) and o orders by a column, it
// picks the n first straight from the snapshot: a report of the busiest
// 100 of a million flows copies 100 rows instead of a million.
func TopRows(s *table.Snapshot, v table.View, g group.Config, o Order, mode table.LineMode, hf *HostFormat, n int, scratch []table.Flow) (rows, scratchOut []table.Flow) {
	if col, ok := o.Column(); ok && g.By == group.Host && v == (table.View{Ports: table.PortsOn}) {
		scratch = table.TopOf(s.Flows, col, mode, n, scratch)
		return scratch, scratch
	}
	scratch = group.Rows(s, v, g, scratch)
	return SortLimit(scratch, o, mode, hf, n), scratch
}

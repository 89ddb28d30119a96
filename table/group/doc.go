// Package group turns a snapshot's flows into rows of another kind than
// iftop's host pairs: one row per service, per source or destination
// network, per VLAN or per link. Every byte and packet of the snapshot's
// flows lands in exactly one row (the "other" row of a full table stays a
// row of its own), with the flows' windows and cumulative counts summed, so
// grouped rows sort, scroll and report like host pairs.
//
// A grouped row is a table.Flow whose Key encodes the group (Key.Flow;
// Decode reads it back), so the screen, the reports and the exporters keep
// one row type and one order (table.CompareByColumn).
package group

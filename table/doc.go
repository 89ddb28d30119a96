// Package table keeps fastop's flow tables: per-worker deltas written
// without locks, the merged table with iftop's 20 × 2 s history, and the
// immutable snapshots that the screen and the reports read.
//
// # Keys and direction
//
// A [Key] always holds both addresses, both ports and the protocol, ordered
// as iftop orders a pair: the left side ("A", iftop's source) is the local
// end when fastop can tell which end is local. [Classifier] implements those
// rules. Host and port aggregation (iftop's s, d, S, D, p) is applied only
// when rows are built from a [Snapshot], so toggling them loses no history.
//
// # Time
//
// History is kept in slots of two seconds. A window average divides by the
// time the window actually covers, so the first report after start shows the
// real rate (iftop divides a partial first slot by a full 2 s).
//
// # Bonds
//
// A worker capturing a bond's link checks each packet the link transmitted
// against the link the kernel's formula names for it ([Delta.CheckBond],
// with package bondhash), and counts where it would go under layer3+4 and
// with each link failed; the merged table sums that over the 40 s window
// into [Snapshot.Bonds]. Flow keys carry no MACs, so this is the only
// place the layer2 policies can be checked.
package table

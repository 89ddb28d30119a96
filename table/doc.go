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
// The outermost 802.1Q VLAN ID is part of the key: the same addresses and
// ports on two VLANs are two flows.
//
// # Links
//
// When several interfaces are captured (a bond's links, -i a,b), the
// merged table keeps one record per flow and link: the link is the
// delta's Iface, added to the key by the merger, never on the workers'
// per-packet path. A snapshot shows one Flow per flow whose Links hold
// each link's part; the table bounds flows, not their parts, and a full
// table ranks and evicts whole flows (overflow.go). With one interface
// every flow is that link's and Links is nil.
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

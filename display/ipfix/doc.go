// Package ipfix exports fastop's flows to an IPFIX collector (RFC 7011,
// information elements of RFC 7012) over UDP.
//
// It is a consumer of table.Snapshot, like the screen: it never touches
// the flow table or the packet path. A Tracker keeps, per flow of the
// table, the cumulative counters it last saw and last exported, and turns
// each snapshot into uniflow records (one per direction, as softflowd and
// most exporters send them) when a flow ends, goes idle or reaches the
// active timeout. Flows folded into the table's "other" row are exported
// as one aggregate record without addresses, so the totals a collector
// adds up equal fastop's.
//
// Timestamps have the table's resolution: a record starts at the beginning
// of the 2 s slot in which its first packet was counted and ends at the end
// of the slot of its last. A tagged flow's records carry its outermost
// VLAN ID (vlanId), with templates of their own. When several links are
// captured the table splits each flow by the link that carried it
// (Flow.Links), and each link's part is exported as a flow of its own whose
// ingressInterface/egressInterface is that link's ifindex
// (Config.IfIndexes); with one interface they name it (Config.IfIndex).
package ipfix

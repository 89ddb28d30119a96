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
// of the slot of its last. The table's keys carry no VLAN and no link, so
// records carry no vlanId, and ingressInterface/egressInterface name the
// captured interface only when there is one.
package ipfix

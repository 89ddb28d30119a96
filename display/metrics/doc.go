// Package metrics serves fastop's counters to Prometheus (/metrics, text
// exposition format, OpenMetrics on request).
//
// It is a consumer of table.Snapshot, like the screen: the merger offers
// it each snapshot without waiting, a goroutine of its own turns the newest
// one into a small summary (per-interface totals, capture counters, the top
// rows), and a custom collector reads that summary at scrape time. A scrape
// never touches the flow table, the packet path or the merger.
package metrics

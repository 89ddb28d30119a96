// Package report writes the reports scripts read: iftop's text report (-t)
// and fastop's NDJSON report (--json).
//
// # Text report
//
// [AppendText] writes iftop's text report byte for byte (iftop 1.0pre4,
// -t), then fastop's additions, after iftop's block so that parsers of
// iftop's format keep working: a "Capture:" line with every capture counter,
// always written, and a "Folded:" line when the flow table overflowed into
// the "(other)" row. Where iftop has bugs (a 19-character interface name,
// the lost closing bracket of a long IPv6 address, output that is never
// flushed) fastop does not copy them.
//
// # JSON report
//
// [AppendJSON] writes one JSON object per line; JSON.md has the schema.
package report

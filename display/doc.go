// Package display turns table snapshots into what people and scripts read:
// the full-screen view, iftop's text report (-t) and the NDJSON report
// (--json).
//
// Everything here is a pure function of a [table.Snapshot] and options, so
// it is tested with golden files. The building blocks are shared by the
// screen and the reports:
//
//   - numbers: [AppendReadable], [AppendRate], [AppendTotal] follow iftop's
//     readable_size exactly (1024-based, a leading space, no T unit);
//   - host fields: [HostFormat] builds iftop's fixed-width "host:service"
//     fields; names from a [Namer] are untrusted and pass through
//     [AppendClean], so a PTR record cannot write escape sequences to the
//     terminal;
//   - services: [DefaultServices] reads /etc/services once, with a built-in
//     table for systems that lack the file;
//   - order: [SortRows], [SortLimit] and [Limit] implement iftop's -o and
//     -L; SortLimit selects the top rows of a large table without sorting
//     all of it.
//
// [Reporter] keeps scratch memory between reports; [WriteText] and
// [WriteJSON] are one-shot forms of its methods.
//
// # Text report
//
// [WriteText] writes iftop's text report byte for byte (iftop 1.0pre4, -t),
// then fastop's additions, after iftop's block so that parsers of iftop's
// format keep working: a "Capture:" line with every capture counter, always
// written, and a "Folded:" line when the flow table overflowed into the
// "(other)" row. Where iftop has bugs (a 19-character interface name, the
// lost closing bracket of a long IPv6 address, output that is never flushed)
// fastop does not copy them.
//
// # JSON report
//
// [WriteJSON] writes one JSON object per line; JSON.md has the schema.
package display

// Package display holds what the screen (display/screen) and the reports
// (display/report) are both made of, so that they show the same thing the
// same way, and the ~/.iftoprc parser:
//
//   - numbers: [AppendReadable], [AppendRate], [AppendTotal] follow iftop's
//     readable_size exactly (1024-based, a leading space, no T unit);
//   - host fields: [HostFormat] builds iftop's fixed-width "host:service"
//     fields; names from a [naming.Namer] are untrusted and pass through
//     [term.AppendClean], so a PTR record cannot write escape sequences to
//     the terminal;
//   - order: [SortRows] and [SortLimit] implement iftop's -o and -L;
//     SortLimit selects the top rows of a large table without sorting all of
//     it;
//   - ~/.iftoprc: [ParseRC] reads iftop's rc file (IFTOPRC.md lists the
//     directives).
//
// The packages below display:
//
//   - display/term: the terminal toolkit (cell grid, painter, escape
//     sequences, tty, keys, line editor, cleaning of untrusted text);
//   - display/naming: host names (the DNS resolver) and service names
//     (/etc/services);
//   - display/screen: the full screen;
//   - display/report: the text (-t) and NDJSON (--json) reports.
package display

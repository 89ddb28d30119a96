package screen

import (
	"strconv"
	"strings"

	"github.com/fastop/fastop/display/term"
)

// ExportStatus is what the screen says of an exporter that sends to a
// collector (IPFIX): how many messages the network refused since the
// start, and the last reason.
type ExportStatus struct {
	Name   string // "IPFIX"
	Errors uint64 // messages refused since the start
	Last   string // the last error, as the exporter gave it
}

// maxExportReason caps the reason in the health note.
const maxExportReason = 32

// appendExportNote appends "IPFIX: 3 errors (connection refused)": the
// count, and the last error's reason (its text after the last ": ", where
// Go puts the errno's words).
func appendExportNote(b []byte, e *ExportStatus) []byte {
	b = term.AppendClean(b, e.Name, 16)
	b = append(b, ": "...)
	b = strconv.AppendUint(b, e.Errors, 10)
	b = append(b, " error"...)
	if e.Errors != 1 {
		b = append(b, 's')
	}
	if why := e.Last[strings.LastIndex(e.Last, ": ")+1:]; strings.TrimSpace(why) != "" {
		b = append(b, " ("...)
		b = term.AppendClean(b, strings.TrimSpace(why), maxExportReason)
		b = append(b, ')')
	}
	return b
}

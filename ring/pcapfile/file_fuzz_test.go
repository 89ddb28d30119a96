package pcapfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/fastop/fastop/ring"
)

// FuzzReadFile reads arbitrary bytes as a capture file. Whatever they are,
// the reader must not panic, must return records that fit in the input, and
// must return the same records and error from memory and from streams with
// small buffers and short reads, every time.
func FuzzReadFile(f *testing.F) {
	for _, tf := range fileValid() {
		if len(tf.data) <= 4096 {
			f.Add(tf.data)
		}
	}
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "*.pcap*"))
	for _, p := range fixtures {
		if d, err := os.ReadFile(p); err == nil {
			f.Add(d)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a})
	f.Fuzz(func(t *testing.T, data []byte) {
		fileCheckConsistent(t, data)

		// Deterministic: a second pass gives the same bytes and error, and
		// every record lies inside the input.
		a, errA := FromBytes("fuzz", data)
		b, errB := FromBytes("fuzz", data)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("two opens disagree: %v, %v", errA, errB)
		}
		if errA != nil {
			return
		}
		ra, rb := make([]ring.Record, 5), make([]ring.Record, 5)
		cursor := 0 // records come in file order: their data is found at increasing offsets
		for {
			na, ea := a.ReadBatch(ra)
			nb, eb := b.ReadBatch(rb)
			if na != nb || (ea == nil) != (eb == nil) || (ea != nil && ea.Error() != eb.Error()) {
				t.Fatalf("two passes disagree: %d %v, %d %v", na, ea, nb, eb)
			}
			if a.Offset() > int64(len(data)) {
				t.Fatalf("Offset() = %d past the %d-byte input", a.Offset(), len(data))
			}
			for i := range na {
				if !bytes.Equal(ra[i].Data, rb[i].Data) || ra[i].TS != rb[i].TS || ra[i].Meta != rb[i].Meta {
					t.Fatalf("two passes disagree on a record")
				}
				if cursor = fileFind(ra[i].Data, data, cursor); cursor < 0 {
					t.Fatalf("record data does not alias the input after the previous record")
				}
			}
			if ea != nil {
				if ea != io.EOF && !fileIsDataErr(ea) {
					t.Fatalf("unexpected error type %T: %v", ea, ea)
				}
				return
			}
		}
	})
}

// fileFind returns the offset in whole, from "from" on, where sub begins (as
// memory, not as bytes), or -1.
func fileFind(sub, whole []byte, from int) int {
	if len(sub) == 0 {
		return from
	}
	for i := from; i+len(sub) <= len(whole); i++ {
		if &whole[i] == &sub[0] {
			return i
		}
	}
	return -1
}

func fileIsDataErr(err error) bool {
	switch err.(type) {
	case *CorruptError, *LinkTypeError:
		return true
	}
	return false
}

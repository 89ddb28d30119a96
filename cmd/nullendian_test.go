package cmd

import (
	"encoding/binary"
	"testing"

	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/ring/filter"
	"github.com/fastop/fastop/ring/pcapfile"
)

// nullCapture is a one-packet NULL-link pcap written in byte order bo: the
// 4-byte address family (AF_INET = 2) is in the writer's order, as BSD
// loopback captures store it.
func nullCapture(bo binary.AppendByteOrder) []byte {
	var b []byte
	b = bo.AppendUint32(b, 0xa1b2c3d4) // magic: microseconds
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, 0)   // thiszone
	b = bo.AppendUint32(b, 0)   // sigfigs
	b = bo.AppendUint32(b, 256) // snaplen
	b = bo.AppendUint32(b, 0)   // LINKTYPE_NULL
	ip := []byte{
		0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0,
		10, 0, 0, 1, 10, 0, 0, 2,
	}
	frame := bo.AppendUint32(nil, 2) // AF_INET
	frame = append(frame, ip...)
	b = bo.AppendUint32(b, 1) // ts sec
	b = bo.AppendUint32(b, 0) // ts usec
	b = bo.AppendUint32(b, uint32(len(frame)))
	b = bo.AppendUint32(b, uint32(len(frame)))
	return append(b, frame...)
}

// TestFileFilterNullByteOrder: -f on a NULL capture written big-endian
// matches as on one written little-endian (the address family is read in
// the file's byte order).
func TestFileFilterNullByteOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		bo   binary.AppendByteOrder
	}{{"little-endian", binary.LittleEndian}, {"big-endian", binary.BigEndian}} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := pcapfile.FromBytes(tc.name, nullCapture(tc.bo))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.BigEndian(); got != (tc.bo == binary.BigEndian) {
				t.Fatalf("BigEndian() = %v", got)
			}
			for _, c := range []struct {
				expr string
				want bool
			}{{"ip", true}, {"ip6", false}, {"host 10.0.0.2", true}} {
				prog, err := compileFile(c.expr, f)
				if err != nil {
					t.Fatalf("%s: %v", c.expr, err)
				}
				vm, err := filter.NewVM(prog)
				if err != nil {
					t.Fatal(err)
				}
				recs := make([]ring.Record, 1)
				if err := f.Rewind(); err != nil {
					t.Fatal(err)
				}
				n, err := f.ReadBatch(recs)
				if n != 1 {
					t.Fatalf("read %d records: %v", n, err)
				}
				if got := vm.Run(recs[0].Data, &recs[0].Meta) != 0; got != c.want {
					t.Errorf("%q matched %v, want %v", c.expr, got, c.want)
				}
			}
		})
	}
}

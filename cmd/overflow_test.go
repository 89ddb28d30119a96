package cmd

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring/pcapfile"
)

// The floods issue's overflow scenario, through `fastop -r`: with
// --max-flows 20000, 60,000 one-packet flows fill the table; then 140,000
// packets, a quarter of them an elephant (10.98.0.1:7000 → 10.98.0.2:9000
// UDP, 35 MB) that starts after the table is full, the rest new one-packet
// flows. The elephant has its own row with every one of its bytes, the rows
// and "other" add up to the totals, and `folded` counts every flow that has
// no row (each one-packet flow is folded once: refused, or given way).
func TestOverflowElephantKeepsItsRow(t *testing.T) {
	const (
		first    = 60_000
		later    = 140_000
		maxFlows = 20_000
		mouseLen = 100  // IP bytes
		elLen    = 1000 // IP bytes
	)
	for _, tc := range []struct {
		name    string
		spread  int64 // nanoseconds between packets
		workers string
	}{
		{"over 20 s", 100_000, "1"},
		{"over 20 s, 2 workers", 100_000, "2"},
		{"all in one tick", 5_000, "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "overflow.pcap")
			mice := writeOverflowCapture(t, file, first, later, tc.spread, mouseLen, elLen)
			elPackets := uint64(later / 4)

			out, err := runFastop(t, "-r", file, "--json", "-n", "-N", "-P", "-L", "100000", "--max-flows", fmt.Sprint(maxFlows), "--workers", tc.workers)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var rep struct {
				Flows []struct {
					Src     *string `json:"src"`
					Dst     *string `json:"dst"`
					SrcPort *int    `json:"src_port"`
					DstPort *int    `json:"dst_port"`
					Sent    jsonDir `json:"sent"`
					Recv    jsonDir `json:"recv"`
				} `json:"flows"`
				Capture map[string]uint64 `json:"capture"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
				t.Fatal(err)
			}
			var rows, sumBytes, sumPackets uint64
			var el *jsonDir
			var elSum jsonDir
			for i := range rep.Flows {
				fl := &rep.Flows[i]
				sumBytes += fl.Sent.Bytes + fl.Recv.Bytes
				sumPackets += fl.Sent.Packets + fl.Recv.Packets
				if fl.Src == nil || *fl.Src == "other" {
					continue
				}
				rows++
				if pair := *fl.Src + " " + *fl.Dst; pair == "10.98.0.1 10.98.0.2" || pair == "10.98.0.2 10.98.0.1" {
					elSum = jsonDir{Bytes: fl.Sent.Bytes + fl.Recv.Bytes, Packets: fl.Sent.Packets + fl.Recv.Packets}
					el = &elSum
				}
			}
			if el == nil {
				t.Fatal("the elephant has no row")
			}
			if el.Packets != elPackets || el.Bytes != elPackets*elLen {
				t.Errorf("elephant row: %d packets, %d bytes; want %d, %d", el.Packets, el.Bytes, elPackets, elPackets*elLen)
			}
			c := rep.Capture
			wantBytes := uint64(mice)*mouseLen + elPackets*elLen
			if c["counted"] != first+later || sumPackets != first+later || sumBytes != wantBytes {
				t.Errorf("counted %d, rows add up to %d packets and %d bytes; want %d and %d", c["counted"], sumPackets, sumBytes, first+later, wantBytes)
			}
			if rows != maxFlows {
				t.Errorf("%d rows, want %d", rows, maxFlows)
			}
			// Every one-packet flow without a row was folded exactly once.
			if want := uint64(mice) - (maxFlows - 1); c["folded"] != want {
				t.Errorf("folded %d, want %d", c["folded"], want)
			}

			txt, err := runFastop(t, "-r", file, "-t", "-n", "-N", "--max-flows", fmt.Sprint(maxFlows), "--workers", tc.workers)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("Folded: %d flows into the (other) row (flow table full)\n", uint64(mice)-(maxFlows-1))
			if !strings.Contains(txt, want) {
				t.Errorf("text report lacks %q:\n%s", want, txt)
			}
		})
	}
}

// writeOverflowCapture writes the scenario to file and returns the number of
// one-packet flows in it. Records keep the headers only (42 bytes); the IP
// length carries the size.
func writeOverflowCapture(t *testing.T, file string, first, later int, spread int64, mouseLen, elLen int) (mice int) {
	t.Helper()
	fh, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(fh)
	w, err := pcapfile.NewWriter(bw, decode.LinkEthernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	ts := int64(1_700_000_000) * 1e9
	frame := make([]byte, 42)
	put := func(src, dst [4]byte, sp, dp uint16, ipLen int) {
		copy(frame[0:12], []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1})
		binary.BigEndian.PutUint16(frame[12:], 0x0800)
		ip := frame[14:]
		clear(ip)
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(ipLen))
		ip[8], ip[9] = 64, 17
		copy(ip[12:16], src[:])
		copy(ip[16:20], dst[:])
		binary.BigEndian.PutUint16(ip[20:], sp)
		binary.BigEndian.PutUint16(ip[22:], dp)
		binary.BigEndian.PutUint16(ip[24:], uint16(ipLen-20))
		if err := w.WriteRecord(ts, frame, uint32(14+ipLen)); err != nil {
			t.Fatal(err)
		}
		ts += spread
	}
	mouse := func() {
		put([4]byte{10, byte(1 + mice>>16), byte(mice >> 8), byte(mice)}, [4]byte{10, 99, 0, 1}, 40000, 53, mouseLen)
		mice++
	}
	for range first {
		mouse()
	}
	for i := range later {
		if i%4 == 0 {
			put([4]byte{10, 98, 0, 1}, [4]byte{10, 98, 0, 2}, 7000, 9000, elLen)
		} else {
			mouse()
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return mice
}

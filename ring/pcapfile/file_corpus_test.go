package pcapfile

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fastop/fastop/decode"
)

// fileCorpusPath returns the pcap corpus, testdata/corpus/pcap under the
// repository root, or an error when it is missing.
func fileCorpusPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
	corpus := filepath.Join(dir, "testdata", "corpus", "pcap")
	if _, err := os.Stat(corpus); err != nil {
		return "", fmt.Errorf("pcap corpus missing (it is part of the repository: restore testdata/corpus): %w", err)
	}
	return corpus, nil
}

// fileCorpusDir returns the corpus folder, or fails when it is missing.
func fileCorpusDir(t testing.TB) string {
	t.Helper()
	dir, err := fileCorpusPath()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

type fileCorpusEntry struct {
	file  string // relative to the corpus folder
	link  decode.LinkType
	pkts  int
	trunc int
}

// fileCorpusTable parses the "Files" table of the corpus README, the oracle for
// record counts: | file | link type | pkts | trunc | what it exercises |.
func fileCorpusTable(t testing.TB, dir string) []fileCorpusEntry {
	t.Helper()
	links := map[string]decode.LinkType{
		"EN10MB": decode.LinkEthernet, "LINUX_SLL": decode.LinkLinuxSLL, "LINUX_SLL2": decode.LinkLinuxSLL2,
		"RAW": decode.LinkRaw, "IPV4": decode.LinkIPv4, "IPV6": decode.LinkIPv6, "NULL": decode.LinkNull,
		"LOOP": decode.LinkLoop,
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []fileCorpusEntry
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		if len(cols) < 6 || !strings.Contains(cols[1], ".pcap") {
			continue
		}
		name := strings.TrimSpace(cols[1])
		link, ok := links[strings.TrimSpace(cols[2])]
		if !ok {
			t.Fatalf("README: %s: unknown link type %q", name, cols[2])
		}
		pkts, err1 := strconv.Atoi(strings.TrimSpace(cols[3]))
		trunc, err2 := strconv.Atoi(strings.TrimSpace(cols[4]))
		if err1 != nil || err2 != nil {
			t.Fatalf("README: %s: bad counts %q %q", name, cols[3], cols[4])
		}
		entries = append(entries, fileCorpusEntry{name, link, pkts, trunc})
	}
	if len(entries) == 0 {
		t.Fatal("README: no file table found")
	}
	return entries
}

// TestFileCorpus reads every capture of the corpus and checks the record
// count, the truncated-record count and the link type against the README.
func TestFileCorpus(t *testing.T) {
	dir := fileCorpusDir(t)
	entries := fileCorpusTable(t, dir)
	var listed, found []string
	for _, e := range entries {
		listed = append(listed, e.file)
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), ".pcap") {
			rel, _ := filepath.Rel(dir, path)
			found = append(found, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(listed)
	slices.Sort(found)
	if !slices.Equal(listed, found) {
		t.Errorf("README lists %d files, the folder holds %d:\nlisted %v\nfound  %v", len(listed), len(found), listed, found)
	}
	total := 0
	for _, e := range entries {
		t.Run(e.file, func(t *testing.T) {
			path := filepath.Join(dir, e.file)
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.LinkType() != e.link {
				t.Errorf("LinkType() = %d, README says %d", f.LinkType(), e.link)
			}
			recs, err := fileReadAll(t, f, 100)
			if err != io.EOF {
				t.Fatalf("ended with %v", err)
			}
			trunc := 0
			for _, r := range recs {
				if r.meta.Link != e.link {
					t.Fatalf("a record of link type %d", r.meta.Link)
				}
				if uint32(len(r.data)) < r.meta.WireLen {
					trunc++
				}
			}
			if len(recs) != e.pkts || trunc != e.trunc {
				t.Errorf("%d records (%d truncated), README says %d (%d)", len(recs), trunc, e.pkts, e.trunc)
			}
			total += len(recs)

			// The same file from memory gives the same records.
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			mf, err := FromBytes(e.file, data)
			if err != nil {
				t.Fatal(err)
			}
			mrecs, err := fileReadAll(t, mf, 7)
			if err != io.EOF {
				t.Fatal(err)
			}
			fileSameRecs(t, mrecs, recs)
		})
	}
	t.Logf("%d files, %d records", len(entries), total)
}

// TestFileTshark compares what ReadBatch returns with tshark's reading of the
// same file (an independent pcap/pcapng reader): frame and captured lengths,
// timestamps and interface ids, for the corpus, the fixtures in testdata and
// a file written by Writer. It fails when tshark is missing: install
// tshark (Debian package tshark) or run with -short to leave it out.
func TestFileTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("tshark cross-check left out in -short mode")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Fatalf("tshark is needed for this cross-check (apt-get install tshark, or go test -short): %v", err)
	}
	var paths []string
	dir, err := fileCorpusPath()
	if err != nil {
		t.Fatal(err)
	}
	// tshark takes a third of a second to start: check the corpus
	// files that differ in format (pcapng, big-endian, nanoseconds),
	// those with snaplen-cut records, and one of each link type.
	seen := map[decode.LinkType]bool{}
	for _, e := range fileCorpusTable(t, dir) {
		path := filepath.Join(dir, e.file)
		head := make([]byte, 4)
		if fd, err := os.Open(path); err == nil {
			io.ReadFull(fd, head)
			fd.Close()
		}
		if !seen[e.link] || e.trunc > 0 || !bytes.Equal(head, []byte{0xd4, 0xc3, 0xb2, 0xa1}) {
			seen[e.link] = true
			paths = append(paths, path)
		}
	}
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "*.pcap*"))
	if len(fixtures) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	paths = append(paths, fixtures...)
	w := filepath.Join(t.TempDir(), "writer.pcap")
	fileWriteSample(t, w)
	paths = append(paths, w)

	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-E", "separator=,",
				"-e", "frame.number", "-e", "frame.len", "-e", "frame.cap_len", "-e", "frame.time_epoch",
				"-e", "frame.interface_id", "-e", "frame.packet_flags_direction",
				"-e", "frame.packet_flags_reception_type").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			recs, err := fileReadAll(t, f, 64)
			if err != io.EOF {
				t.Fatal(err)
			}
			quirk := fileTsharkQuirks[filepath.Base(path)]
			var lines []string
			for _, line := range strings.Fields(string(out)) {
				num, _, _ := strings.Cut(line, ",")
				if reason, ok := quirk[num]; !ok || !strings.HasPrefix(reason, "not a packet") {
					lines = append(lines, line)
				}
			}
			if len(lines) != len(recs) {
				t.Fatalf("tshark sees %d frames, ReadBatch %d", len(lines), len(recs))
			}
			for i, line := range lines {
				cols := strings.Split(line, ",")
				if len(cols) != 7 {
					t.Fatalf("tshark line %q", line)
				}
				num := cols[0]
				wire, _ := strconv.Atoi(cols[1])
				capLen, _ := strconv.Atoi(cols[2])
				epoch := cols[3]
				ifid, _ := strconv.Atoi(cols[4]) // empty for pcap: 0
				dir, _ := strconv.ParseUint(strings.TrimPrefix(cols[5], "0x"), 16, 32)
				rtype, _ := strconv.ParseUint(strings.TrimPrefix(cols[6], "0x"), 16, 32)
				r := recs[i]
				if wire != int(r.meta.WireLen) || capLen != len(r.data) || ifid != int(r.meta.Ifindex) {
					t.Errorf("frame %s: tshark len %d caplen %d if %d; ReadBatch %d %d %d",
						num, wire, capLen, ifid, r.meta.WireLen, len(r.data), r.meta.Ifindex)
				}
				if pt := fileTsharkPktType(dir, rtype); pt != r.meta.PktType {
					t.Errorf("frame %s: tshark direction %d reception %d, ReadBatch packet type %d", num, dir, rtype, r.meta.PktType)
				}
				if epoch == "" || quirk[num] != "" {
					continue // a Simple Packet Block has no timestamp: tshark leaves it empty
				}
				if ts := fileEpochNs(t, epoch); math.Abs(float64(ts-r.ts)) > 1 {
					t.Errorf("frame %s: tshark time %s, ReadBatch %d", num, epoch, r.ts)
				}
			}
		})
	}
}

// fileTsharkQuirks are frames where tshark 4.0 and fastop rightly differ, by
// file and frame number.
var fileTsharkQuirks = map[string]map[string]string{
	"multi-section.pcapng": {
		"3":  "not a packet: tshark shows a Decryption Secrets Block as a frame",
		"13": "time: tshark overflows 64 bits converting 123456789012 units of 10^-12 s (it shows 0.012776324)",
		"16": "time: tshark overflows 64 bits converting a 2^-40 s fraction (it shows 3.011802496 for 3.75)",
	},
}

// fileTsharkPktType maps epb_flags as tshark shows them to the packet type the
// reader should give (see pcapngDirection).
func fileTsharkPktType(dir, rtype uint64) decode.PktType {
	switch {
	case dir == 2:
		return decode.PktOutgoing
	case rtype == 2:
		return decode.PktMulticast
	case rtype == 3:
		return decode.PktBroadcast
	case rtype == 4:
		return decode.PktOtherHost
	case dir == 1 || rtype == 1:
		return decode.PktHost
	}
	return decode.PktUnknown
}

// fileEpochNs parses tshark's "1382197969.322823000" exactly.
func fileEpochNs(t *testing.T, s string) int64 {
	sec, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000000000")[:9]
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("tshark time %q", s)
	}
	return a*1e9 + b
}

// fileWriteSample writes a file with Writer for the cross-checks.
func fileWriteSample(t *testing.T, path string) {
	fd, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(fd)
	w, err := NewWriter(bw, decode.LinkEthernet, 128)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		ts := int64(1700000000)*1e9 + int64(i)*123456789
		if err := w.WriteRecord(ts, fileFrame(40+i*10, byte(i)), uint32(40+i*20)); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := fd.Close(); err != nil {
		t.Fatal(err)
	}
}

var fileUpdateFixtures = flag.Bool("update-fixtures", false, "rewrite ring/pcapfile/testdata/*.pcap* from the test builders")

// TestFileFixtures keeps testdata/ in step with fileValid: the committed
// fixtures (read by TestTshark and seeding FuzzReadFile) are exactly what the
// builders make. Regenerate them with go test ./ring -run Fixtures -update-fixtures.
func TestFileFixtures(t *testing.T) {
	for _, tf := range fileValid() {
		if len(tf.data) > 64<<10 {
			continue // keep testdata small
		}
		path := filepath.Join("testdata", tf.name)
		if *fileUpdateFixtures {
			if err := os.WriteFile(path, tf.data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./ring -run Fixtures -update-fixtures)", err)
		}
		if !bytes.Equal(got, tf.data) {
			t.Errorf("%s differs from what the builder makes (run go test ./ring -run Fixtures -update-fixtures)", path)
		}
	}
}

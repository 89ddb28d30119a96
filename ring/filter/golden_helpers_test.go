package filter

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fastop/fastop/decode"
)

// The golden files of the test corpus (testdata/corpus/golden/README.md):
// libpcap 1.10.3's compiled programs and its per-packet verdicts.

// corpus returns the corpus directory or fails the test when it is missing.
func corpus(t testing.TB) string {
	t.Helper()
	dir := corpusDir()
	if dir == "" {
		t.Fatal("test corpus missing (it is part of the repository: restore testdata/corpus)")
	}
	return dir
}

var linkNames = map[string]decode.LinkType{
	"EN10MB": decode.LinkEthernet, "LINUX_SLL": decode.LinkLinuxSLL, "LINUX_SLL2": decode.LinkLinuxSLL2,
	"RAW": decode.LinkRaw, "IPV4": decode.LinkIPv4, "IPV6": decode.LinkIPv6, "NULL": decode.LinkNull,
}

type verdictRow struct {
	capture string
	expr    string
	packets int
	matched int
	bitmap  []byte
}

// accepted reports libpcap's verdict for packet i.
func (v *verdictRow) accepted(i int) bool { return v.bitmap[i/8]>>(i%8)&1 != 0 }

func readTSV(t testing.TB, path string, fields int) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := strings.Split(line, "\t")
		if len(r) != fields {
			t.Fatalf("%s: line %q has %d fields, want %d", path, line, len(r), fields)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func loadVerdicts(t testing.TB) []verdictRow {
	t.Helper()
	rows := readTSV(t, filepath.Join(corpus(t), "golden", "verdicts.tsv"), 5)
	out := make([]verdictRow, 0, len(rows))
	for _, r := range rows {
		n, err1 := strconv.Atoi(r[2])
		m, err2 := strconv.Atoi(r[3])
		bm, err3 := hex.DecodeString(r[4])
		if err1 != nil || err2 != nil || err3 != nil || len(bm) != (n+7)/8 {
			t.Fatalf("verdicts.tsv: bad row %q", r)
		}
		out = append(out, verdictRow{r[0], r[1], n, m, bm})
	}
	return out
}

// goldenPrograms maps link type → expression → libpcap's program.
func goldenPrograms(t testing.TB) map[decode.LinkType]map[string]Program {
	t.Helper()
	out := map[decode.LinkType]map[string]Program{}
	for _, r := range readTSV(t, filepath.Join(corpus(t), "golden", "programs.tsv"), 3) {
		lt, ok := linkNames[r[0]]
		if !ok {
			t.Fatalf("programs.tsv: unknown link type %q", r[0])
		}
		p, err := ParseDDD(r[2])
		if err != nil {
			t.Fatalf("programs.tsv %q: %v", r[1], err)
		}
		if out[lt] == nil {
			out[lt] = map[string]Program{}
		}
		out[lt][r[1]] = p
	}
	return out
}

// twoColumnPrograms reads programs-savefile-null.tsv or
// programs-linux-live-en10mb.tsv.
func twoColumnPrograms(t testing.TB, name string) map[string]Program {
	t.Helper()
	out := map[string]Program{}
	for _, r := range readTSV(t, filepath.Join(corpus(t), "golden", name), 2) {
		p, err := ParseDDD(r[1])
		if err != nil {
			t.Fatalf("%s %q: %v", name, r[0], err)
		}
		out[r[0]] = p
	}
	return out
}

var captureCache sync.Map // path → *captureFile

func capture(t testing.TB, rel string) *captureFile {
	t.Helper()
	path := filepath.Join(corpus(t), "pcap", rel)
	if f, ok := captureCache.Load(path); ok {
		return f.(*captureFile)
	}
	f, err := readCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	captureCache.Store(path, f)
	return f
}

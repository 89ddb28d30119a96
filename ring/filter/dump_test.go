package filter

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDumpMatchesTcpdump prints programs from testdata/tcpdump-d.tsv
// (made with tcpdump -ddd and -d) and compares with tcpdump's own text.
func TestDumpMatchesTcpdump(t *testing.T) {
	rows := readTSV(t, filepath.Join("testdata", "tcpdump-d.tsv"), 4)
	for _, r := range rows {
		p, err := ParseDDD(r[2])
		if err != nil {
			t.Fatalf("%q: %v", r[0], err)
		}
		want := strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\\`, `\`).Replace(r[3])
		if got := p.String(); got != want {
			t.Errorf("%q %s:\n got:\n%s\nwant:\n%s", r[0], r[1], got, want)
		}
		// -ddd round trip
		q, err := ParseDDD(p.DDD())
		if err != nil || len(q) != len(p) {
			t.Fatalf("%q: DDD round trip: %v", r[0], err)
		}
		for i := range p {
			if p[i] != q[i] {
				t.Errorf("%q: DDD round trip changed instruction %d", r[0], i)
			}
		}
	}
	if len(rows) < 40 {
		t.Errorf("only %d rows in testdata/tcpdump-d.tsv", len(rows))
	}
}

func TestParseDDDErrors(t *testing.T) {
	for _, s := range []string{"", "x", "2\n6 0 0 0\n", "1\n6 0 0\n", "1\n70000 0 0 0\n", "1\n6 256 0 0\n", "1\n6 0 0 4294967296\n"} {
		if _, err := ParseDDD(s); err == nil {
			t.Errorf("ParseDDD(%q) succeeded", s)
		}
	}
	p, err := ParseDDD("2;40 0 0 12;6 0 0 0")
	if err != nil || len(p) != 2 || p[0] != (Instruction{Op: 40, K: 12}) {
		t.Errorf("golden-file form: %v %v", p, err)
	}
}

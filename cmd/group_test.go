package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fastop/fastop/table/group"
)

// Every capture of the corpus, replayed with each --group: the rows of the
// last JSON report (-L 0: all of them) add up exactly to the flows of the
// same replay with -P (one row per flow), bytes and packets in both
// directions, and each row says its group. -t runs too, with the row type
// in its heading.
func TestGroupCorpusSums(t *testing.T) {
	dir := corpusDir(t)
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && (strings.HasSuffix(p, ".pcap") || strings.HasSuffix(p, ".pcapng")) {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 50 {
		t.Fatalf("only %d captures under %s", len(files), dir)
	}
	type dir4 struct{ sb, sp, rb, rp uint64 }
	sums := func(t *testing.T, args ...string) (dir4, int) {
		t.Helper()
		out, err := runFastop(t, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var r struct {
			Flows []struct {
				Group      *string
				Sent, Recv struct{ Bytes, Packets uint64 }
			}
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		var d dir4
		for _, f := range r.Flows {
			d.sb, d.sp, d.rb, d.rp = d.sb+f.Sent.Bytes, d.sp+f.Sent.Packets, d.rb+f.Recv.Bytes, d.rp+f.Recv.Packets
			want := ""
			for _, a := range args {
				if strings.HasPrefix(a, "--group=") {
					want = strings.TrimPrefix(a, "--group=")
				}
			}
			if (f.Group == nil) != (want == "") || (f.Group != nil && *f.Group != want) {
				t.Fatalf("%v: a row of group %v", args, f.Group)
			}
		}
		return d, len(r.Flows)
	}
	for _, f := range files {
		name, _ := filepath.Rel(dir, f)
		t.Run(name, func(t *testing.T) {
			base := []string{"-r", f, "--json", "-L", "0", "-l"}
			want, flows := sums(t, append(base, "-P")...)
			for _, by := range group.Names()[1:] {
				got, rows := sums(t, append(base, "--group="+by, "--group-prefix=16,48")...)
				if got != want {
					t.Errorf("--group %s: rows sum to %+v, the flows to %+v", by, got, want)
				}
				if rows > flows {
					t.Errorf("--group %s: %d rows for %d flows", by, rows, flows)
				}
			}
		})
	}
	out, err := runFastop(t, "-r", files[0], "-t", "--group", "service", "-L", "3")
	if err != nil || !strings.Contains(out, "   # Service (protocol/port)") {
		t.Errorf("-t --group service: %v\n%s", err, out)
	}
}

package cmd

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/fastop/fastop/bench/netns"
)

// TestHostileInterfaceName captures on an interface whose name carries an
// OSC sequence (Linux allows ESC and BEL in names): neither "Listening on"
// on stdout nor "interface:" on stderr writes the raw bytes, in text and
// in JSON mode.
func TestHostileInterfaceName(t *testing.T) {
	ns := netns.NewT(t)
	name := "v\x1b]0;X\x07" // ESC ] 0 ; X BEL: sets a terminal's title
	peer := netns.IfName("p")
	for _, args := range [][]string{
		{"link", "add", "name", name, "type", "veth", "peer", "name", peer},
		{"link", "set", name, "up"},
		{"link", "set", peer, "up"},
	} {
		if out, err := exec.Command("ip", append([]string{"-n", ns.Name}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	for _, mode := range []string{"-t", "--json"} {
		t.Run(mode, func(t *testing.T) {
			t.Setenv("HOME", t.TempDir())
			var out, errOut bytes.Buffer
			err := ns.Do(func() error {
				root := NewRootCommand(IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, nil)
				root.SetArgs([]string{"-i", name, mode, "-s", "1", "-n"})
				return root.ExecuteContext(context.Background())
			})
			if err != nil {
				t.Fatalf("fastop: %v (stderr %q)", err, errOut.String())
			}
			for what, b := range map[string][]byte{"stdout": out.Bytes(), "stderr": errOut.Bytes()} {
				if bytes.ContainsAny(b, "\x1b\x07") {
					t.Errorf("%s holds the raw name: %q", what, b)
				}
			}
			if !strings.Contains(errOut.String(), "interface: v?]0;X?\n") {
				t.Errorf("stderr %q, want the cleaned name after interface:", errOut.String())
			}
			if mode == "-t" && !strings.HasPrefix(out.String(), "Listening on v?]0;X?\n") {
				t.Errorf("stdout starts %q, want the cleaned name after Listening on", out.String()[:min(out.Len(), 40)])
			}
		})
	}
}

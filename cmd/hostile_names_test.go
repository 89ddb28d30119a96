package cmd

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileNamesInArgs puts ESC and an OSC sequence in what the command
// line names (an unknown flag, a -r file, a -c file): every line fastop
// writes has them cleaned, on stdout and on stderr.
func TestHostileNamesInArgs(t *testing.T) {
	const osc = "\x1b]0;pwned\x07"
	dir := t.TempDir()
	replay := filepath.Join(dir, "cap"+osc+".pcap")
	writeReplayFile(t, replay)
	tests := []struct {
		name        string
		args        []string
		code        int
		out, errOut string // what stdout starts with and stderr contains
	}{
		{"unknown flag", []string{"--x" + osc}, exitUsage, "", "fastop: unknown flag: --x?]0;pwned?\n"},
		{"unknown shorthand", []string{"-\x1b"}, exitUsage, "", `fastop: unknown shorthand flag: '\x1b' in -?`},
		{"missing -r file", []string{"-t", "-r", filepath.Join(dir, "no"+osc+".pcap")}, exitError, "", "no?]0;pwned?.pcap"},
		{"missing -c file", []string{"-t", "-c", filepath.Join(dir, "rc"+osc), "-r", replay}, exitError, "", "rc?]0;pwned?"},
		{"-r file", []string{"-t", "-s", "2", "-r", replay}, exitOK, "Reading " + filepath.Join(dir, "cap?]0;pwned?.pcap") + "\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", t.TempDir())
			var out, errOut bytes.Buffer
			root := NewRootCommand(IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, nil)
			root.SetArgs(tt.args)
			ctx := context.Background()
			code := exitStatus(root.ExecuteContext(ctx), ctx, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut.String())
			}
			for what, b := range map[string][]byte{"stdout": out.Bytes(), "stderr": errOut.Bytes()} {
				if bytes.ContainsAny(b, "\x1b\x07") {
					t.Errorf("%s holds raw control bytes: %q", what, b)
				}
			}
			if !strings.HasPrefix(out.String(), tt.out) {
				t.Errorf("stdout starts %q, want %q", out.String()[:min(out.Len(), 80)], tt.out)
			}
			if !strings.Contains(errOut.String(), tt.errOut) {
				t.Errorf("stderr %q, want it to contain %q", errOut.String(), tt.errOut)
			}
		})
	}
}

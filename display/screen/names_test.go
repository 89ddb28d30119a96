package screen

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/fastop/fastop/display/internal/vt"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
)

// TestHostileNamesEndToEnd runs names a PTR record could carry (escape
// sequences, newlines, a 1000-byte name, invalid UTF-8) through the
// resolver and the renderer: every cell stays printable and every row keeps
// its layout.
func TestHostileNamesEndToEnd(t *testing.T) {
	hostile := map[string][]string{
		"10.0.0.1": {"\x1b[2J\x1b[H\x1b]0;pwned\x07evil.example."},
		"10.0.0.2": {"line1\nline2\r\n.example"},
		"10.0.0.3": {strings.Repeat("a", 1000) + ".example"},
		"10.0.0.4": {"\xff\xfe\x9b31m\u202ertl.example"},
		"10.0.0.5": {"\x00nul\x7fdel"},
	}
	lookup := func(_ context.Context, addr string) ([]string, error) {
		if n, ok := hostile[addr]; ok {
			return n, nil
		}
		return nil, errors.New("no PTR record")
	}
	r := naming.NewResolver(naming.ResolverConfig{Lookup: lookup})
	defer r.Close()
	s := &table.Snapshot{Window: win40}
	for i := 1; i <= 5; i++ {
		s.Flows = append(s.Flows, flow("10.9.9.9", uint16(i), "10.0.0."+string(rune('0'+i)), 443, uint64(1000*i), 10))
	}
	st := DefaultUIState()
	st.View.Ports = table.PortsOn
	f := &frame{Snap: s, State: &st, Namer: r, Services: naming.BuiltinServices()}
	g := term.NewGrid(80, 24)
	var rd renderer
	rd.Render(g, f) // asks for the names
	for i := 1; i <= 5; i++ {
		a := netip.MustParseAddr("10.0.0." + string(rune('0'+i)))
		if n := waitName(t, r, a); len(n) > naming.MaxNameLen {
			t.Errorf("a name of %d bytes was kept", len(n))
		}
	}
	rd.Render(g, f)
	checkGrid(t, g)
	rows := strings.Split(g.String(), "\n")
	for y := 2; y < 12; y += 2 {
		row := rows[y]
		if row[26:30] != " => " || len(row) < 57 || row[56] != ' ' {
			t.Errorf("row %d lost its layout: %q", y, row)
		}
		if !strings.HasSuffix(strings.TrimRight(row[30:56], " "), ":https") {
			t.Errorf("row %d: the service suffix was pushed out: %q", y, row[30:56])
		}
	}
	// The painter's bytes hold no control character but its own sequences.
	var p term.Painter
	out := p.Frame(g, false, 0, 0)
	v := vt.New(80, 24)
	v.Write(t, []byte(term.EnterScreen))
	v.Write(t, out)
	if !v.Equal(g) {
		t.Error("the terminal differs from the frame")
	}
	for _, bad := range []string{"\n", "\r", "\a", "\x1b]", "\x1b[2J\x1b[H\x1b]", "\u202e", "\x9b"} {
		if strings.Contains(strings.ReplaceAll(string(out), "\x1b[2J", ""), bad) {
			t.Errorf("frame bytes contain %q", bad)
		}
	}
}

// waitName waits until r knows a's name.
func waitName(t *testing.T, r *naming.Resolver, a netip.Addr) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if n, ok := r.Name(a); ok {
			return n
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no name for %v", a)
	return ""
}

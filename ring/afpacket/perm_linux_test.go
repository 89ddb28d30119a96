package afpacket

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/fastop/fastop/bench/netns"
)

// TestOpenWithoutPrivilege: without CAP_NET_RAW, Open fails with
// ErrPermission (and os.ErrPermission) and names the setcap fix. As root it
// runs itself again as nobody, with no capabilities.
func TestOpenWithoutPrivilege(t *testing.T) {
	if os.Geteuid() != 0 {
		g, err := Open(&Config{Interface: "lo"})
		if err == nil {
			g.Close()
			t.Skip("skipping: this process may capture without root (it has CAP_NET_RAW)")
		}
		if !errors.Is(err, ErrPermission) || !errors.Is(err, os.ErrPermission) ||
			!strings.Contains(err.Error(), "setcap cap_net_raw+ep $(command -v fastop)") {
			t.Fatalf("Open without CAP_NET_RAW: %v", err)
		}
		return
	}
	t.Logf("as nobody:\n%s", netns.RerunAsNobody(t, "TestOpenWithoutPrivilege"))
}

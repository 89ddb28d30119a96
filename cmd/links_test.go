package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fastop/fastop/ring/afpacket"
	"github.com/fastop/fastop/table"
)

// fakeBondSys writes a sysfs tree in which this host's real interface top
// (with its real ifindex) is a bond of the given slaves, and points
// sysfsRoot at it for the test.
func fakeBondSys(t *testing.T, top string, index int, slaves ...string) string {
	t.Helper()
	root := t.TempDir()
	write := func(p, v string) {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(top+"/ifindex", strconv.Itoa(index))
	write(top+"/uevent", "DEVTYPE=bond")
	write(top+"/bonding/slaves", strings.Join(slaves, " "))
	write(top+"/bonding/mode", "balance-xor 2")
	write(top+"/bonding/xmit_hash_policy", "layer3+4 1")
	for i, s := range slaves {
		write(s+"/ifindex", strconv.Itoa(100+i))
		write(s+"/operstate", "up")
		write(s+"/speed", "1000")
		write(s+"/bonding_slave/state", "active")
		write(s+"/bonding_slave/mii_status", "up")
	}
	old := sysfsRoot
	sysfsRoot = root
	t.Cleanup(func() { sysfsRoot = old })
	return root
}

func lookup(t *testing.T, name string) afpacket.Interface {
	t.Helper()
	ifc, err := afpacket.LookupInterface(name)
	if err != nil {
		t.Skipf("needs interface %s here: %v", name, err)
	}
	return ifc
}

// TestExpandLinks: a bond named by -i becomes its links (or stays itself
// with --master), -v says so, a link named twice is refused, and a sysfs
// of another namespace (ifindex differs) is not believed.
func TestExpandLinks(t *testing.T) {
	lo := lookup(t, "lo")
	fakeBondSys(t, "lo", lo.Index, "fo-l1", "fo-l2")

	var errOut bytes.Buffer
	o := &Options{Interface: "lo", Verbose: true}
	targets, given, err := expandLinks(o, []string{"lo"}, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	want := []linkTarget{{name: "fo-l1", master: "lo", sysfs: true}, {name: "fo-l2", master: "lo", sysfs: true}}
	if len(targets) != 2 || targets[0] != want[0] || targets[1] != want[1] || len(given) != 1 || given[0].Name != "lo" {
		t.Errorf("targets %+v, given %+v; want %+v and lo", targets, given, want)
	}
	wantV := "fastop: lo: bond (balance-xor, layer3+4): links fo-l1 (active, 1000 Mb/s), fo-l2 (active, 1000 Mb/s); capturing on each link, not on lo (--master captures lo itself)\n"
	if errOut.String() != wantV {
		t.Errorf("-v says\n%q\nwant\n%q", errOut.String(), wantV)
	}

	o.Master = true
	errOut.Reset()
	targets, _, err = expandLinks(o, []string{"lo"}, &errOut)
	if err != nil || len(targets) != 1 || targets[0] != (linkTarget{name: "lo", sysfs: true}) {
		t.Errorf("--master: %+v, %v", targets, err)
	}
	if !strings.Contains(errOut.String(), "--master: capturing the bond itself") {
		t.Errorf("--master -v says %q", errOut.String())
	}

	// A link named directly and through its bond.
	names, err := afpacket.InterfaceNames()
	if err != nil {
		t.Fatal(err)
	}
	other := ""
	for _, n := range names {
		if n != "lo" {
			other = n
			break
		}
	}
	if other != "" {
		fakeBondSys(t, "lo", lo.Index, "fo-l1", other)
		o = &Options{Interface: "lo," + other}
		_, _, err := expandLinks(o, []string{"lo", other}, &errOut)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), other+" is captured twice (through lo and "+other+"); name it once") {
			t.Errorf("twice: %v", err)
		}
	}

	// Another namespace's sysfs: its "lo" has another ifindex.
	fakeBondSys(t, "lo", lo.Index+1000, "fo-l1")
	errOut.Reset()
	o = &Options{Interface: "lo", Verbose: true}
	targets, _, err = expandLinks(o, []string{"lo"}, &errOut)
	if err != nil || len(targets) != 1 || targets[0] != (linkTarget{name: "lo"}) {
		t.Errorf("other namespace: %+v, %v", targets, err)
	}
	if !strings.Contains(errOut.String(), "shows another network namespace") {
		t.Errorf("other namespace: -v says %q", errOut.String())
	}
}

// TestExpandLinksVLANOnBond: a VLAN on a bond is refused with the way to
// capture it, rather than capturing every VLAN of the bond's links.
func TestExpandLinksVLANOnBond(t *testing.T) {
	lo := lookup(t, "lo")
	root := fakeBondSys(t, "bond7", 77, "fo-l1")
	os.MkdirAll(filepath.Join(root, "lo"), 0o755)
	os.WriteFile(filepath.Join(root, "lo/ifindex"), []byte(strconv.Itoa(lo.Index)), 0o644)
	os.WriteFile(filepath.Join(root, "lo/uevent"), []byte("DEVTYPE=vlan\n"), 0o644)
	os.Symlink("../bond7", filepath.Join(root, "lo/lower_bond7"))
	_, _, err := expandLinks(&Options{Interface: "lo"}, []string{"lo"}, &bytes.Buffer{})
	var ue *usageError
	if !errors.As(err, &ue) || err.Error() != "-i lo: a VLAN on bond bond7: capture its links with -i bond7 -f 'vlan ID' (they carry every VLAN), or the VLAN device itself with --master" {
		t.Errorf("VLAN on a bond: %v", err)
	}
}

// TestExpandLinksTooMany: more links than the flow table tells apart
// (table.MaxLinks) are refused at start, not merged into one.
func TestExpandLinksTooMany(t *testing.T) {
	lo := lookup(t, "lo")
	for _, n := range []int{table.MaxLinks, table.MaxLinks + 1} {
		var slaves []string
		for i := range n {
			slaves = append(slaves, fmt.Sprint("fo-m", i))
		}
		fakeBondSys(t, "lo", lo.Index, slaves...)
		targets, _, err := expandLinks(&Options{Interface: "lo"}, []string{"lo"}, &bytes.Buffer{})
		var ue *usageError
		switch {
		case n <= table.MaxLinks && (err != nil || len(targets) != n):
			t.Errorf("%d links: %d targets, %v", n, len(targets), err)
		case n > table.MaxLinks && (!errors.As(err, &ue) || err.Error() != fmt.Sprintf("-i lo: %d links to capture, more than the 64 fastop tells apart: name fewer, or capture a bond itself with --master", n)):
			t.Errorf("%d links: %v", n, err)
		}
	}
}

// TestOpenLiveNamesTheLink: a link of a bond that cannot be opened is
// named, with its bond and the reason.
func TestOpenLiveNamesTheLink(t *testing.T) {
	lo := lookup(t, "lo")
	fakeBondSys(t, "lo", lo.Index, "fo-nolink9")
	_, err := openLive(&Options{Interface: "lo", Fanout: 1, FanoutMode: "hash"}, &bytes.Buffer{})
	if err == nil || !strings.HasPrefix(err.Error(), `link fo-nolink9 of lo: interface "fo-nolink9" not found (have: `) {
		t.Errorf("openLive: %v", err)
	}
	if !errors.Is(err, afpacket.ErrNoSuchInterface) {
		t.Errorf("the cause is lost: %v", err)
	}
}

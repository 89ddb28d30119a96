package links

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tree writes a fake /sys/class/net under a temporary directory: each key
// is a path below the root ("bond0/bonding/mode"); a value starting with
// "->" makes a symlink to that target instead of a file.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, v := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(v, "->"); ok {
			if err := os.Symlink(target, full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(full, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// nic is the files of a plain link.
func nic(name, index, speed, oper string, m map[string]string) {
	m[name+"/ifindex"] = index + "\n"
	m[name+"/operstate"] = oper + "\n"
	m[name+"/uevent"] = "INTERFACE=" + name + "\nIFINDEX=" + index + "\n"
	if speed != "" {
		m[name+"/speed"] = speed + "\n"
	}
}

// fakeSys is a host with: bond0 (802.3ad, layer3+4) = eth0 (active, up,
// 10G) + eth1 (backup, MII down, speed unreadable); bond0.100, a VLAN on
// it; team0 = eth2 + eth3 (speed -1); vlan5 on eth4 (plain); veth0 (no
// DEVTYPE, no speed file); an empty bond, bond9.
func fakeSys(t *testing.T) string {
	m := map[string]string{}
	nic("eth0", "2", "10000", "up", m)
	nic("eth1", "3", "", "down", m)
	nic("eth2", "4", "1000", "up", m)
	nic("eth3", "5", "-1", "up", m)
	nic("eth4", "6", "100", "up", m)
	nic("veth0", "7", "", "up", m)
	nic("bond0", "10", "10000", "up", m)
	m["bond0/uevent"] = "DEVTYPE=bond\nINTERFACE=bond0\nIFINDEX=10\n"
	m["bond0/bonding/slaves"] = "eth0 eth1\n"
	m["bond0/bonding/mode"] = "802.3ad 4\n"
	m["bond0/bonding/xmit_hash_policy"] = "layer3+4 1\n"
	m["bond0/bonding/ad_aggregator"] = "1\n"
	m["bond0/lower_eth0"] = "->../eth0"
	m["bond0/lower_eth1"] = "->../eth1"
	m["eth0/bonding_slave/state"] = "active\n"
	m["eth0/bonding_slave/mii_status"] = "up\n"
	m["eth0/bonding_slave/link_failure_count"] = "0\n"
	m["eth0/bonding_slave/ad_aggregator_id"] = "1\n"
	m["eth1/bonding_slave/state"] = "backup\n"
	m["eth1/bonding_slave/mii_status"] = "down\n"
	m["eth1/bonding_slave/link_failure_count"] = "3\n"
	m["eth1/bonding_slave/ad_aggregator_id"] = "2\n"
	nic("bond0.100", "11", "10000", "up", m)
	m["bond0.100/uevent"] = "DEVTYPE=vlan\nINTERFACE=bond0.100\n"
	m["bond0.100/lower_bond0"] = "->../bond0"
	nic("team0", "12", "", "up", m)
	m["team0/uevent"] = "DEVTYPE=team\nINTERFACE=team0\n"
	m["team0/lower_eth3"] = "->../eth3"
	m["team0/lower_eth2"] = "->../eth2"
	nic("vlan5", "13", "100", "up", m)
	m["vlan5/uevent"] = "DEVTYPE=vlan\n"
	m["vlan5/lower_eth4"] = "->../eth4"
	nic("bond9", "14", "", "down", m)
	m["bond9/uevent"] = "DEVTYPE=bond\n"
	m["bond9/bonding/slaves"] = "\n"
	m["bond9/bonding/mode"] = "active-backup 1\n"
	return tree(t, m)
}

type linkWant struct {
	name, master, state string
	speed               int64
}

func TestExpand(t *testing.T) {
	root := fakeSys(t)
	tests := []struct {
		name   string
		master string
		vlan   bool
		links  []linkWant
	}{
		{"bond0", "bond0", false, []linkWant{
			{"eth0", "bond0", "active", 10_000_000_000},
			{"eth1", "bond0", "down", 0},
		}},
		{"bond0.100", "bond0", true, []linkWant{
			{"eth0", "bond0", "active", 10_000_000_000},
			{"eth1", "bond0", "down", 0},
		}},
		{"team0", "team0", false, []linkWant{
			{"eth2", "team0", "up", 1_000_000_000},
			{"eth3", "team0", "up", 0}, // speed -1
		}},
		{"vlan5", "", false, []linkWant{{"vlan5", "", "up", 100_000_000}}},
		{"eth0", "", false, []linkWant{{"eth0", "", "active", 10_000_000_000}}},
		{"veth0", "", false, []linkWant{{"veth0", "", "up", 0}}}, // no speed file
		{"gone0", "", false, []linkWant{{"gone0", "", "unknown", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Expand(root, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if e.Master != tt.master || e.VLAN != tt.vlan || e.Expanded() != (tt.master != "") {
				t.Errorf("master %q vlan %v expanded %v, want %q %v", e.Master, e.VLAN, e.Expanded(), tt.master, tt.vlan)
			}
			var got []linkWant
			for _, l := range e.Links {
				got = append(got, linkWant{l.Name, l.Master, l.State(), l.Speed})
			}
			if !reflect.DeepEqual(got, tt.links) {
				t.Errorf("links\n got %+v\nwant %+v", got, tt.links)
			}
		})
	}
}

func TestReadBond(t *testing.T) {
	root := fakeSys(t)
	d, err := Read(root, "bond0")
	if err != nil {
		t.Fatal(err)
	}
	want := BondInfo{Slaves: []string{"eth0", "eth1"}, Mode: "802.3ad", HashPolicy: "layer3+4", Aggregator: 1}
	if d.Kind != Bond || d.DevType != "bond" || d.Index != 10 || !reflect.DeepEqual(*d.Bond, want) {
		t.Errorf("bond0: %+v %+v, want kind bond, index 10, %+v", d, d.Bond, want)
	}
	s, err := Read(root, "eth1")
	if err != nil {
		t.Fatal(err)
	}
	wantS := SlaveInfo{State: "backup", MII: "down", LinkFailures: 3, Aggregator: 2}
	if s.Slave == nil || *s.Slave != wantS || s.Kind != Plain {
		t.Errorf("eth1: %+v %+v, want %+v", s, s.Slave, wantS)
	}
	p, err := Read(root, "veth0")
	if err != nil {
		t.Fatal(err)
	}
	if p.Slave != nil || p.Bond != nil || p.Kind != Plain || p.Speed != 0 || p.Index != 7 {
		t.Errorf("veth0: %+v", p)
	}
}

func TestExpandErrors(t *testing.T) {
	root := fakeSys(t)
	_, err := Expand(root, "bond9")
	if err == nil || !strings.Contains(err.Error(), "bond9 is a bond with no links") || !strings.Contains(err.Error(), "--master") {
		t.Errorf("empty bond: %v", err)
	}
	for _, bad := range []string{"", "..", "a/b"} {
		if _, err := Read(root, bad); err == nil || !strings.Contains(err.Error(), "bad device name") {
			t.Errorf("Read(%q): %v", bad, err)
		}
	}
	if _, err := Read(root, "gone0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read(gone0): %v, want ErrNotFound", err)
	}
	// A slave listed by the bond but missing from sysfs names both.
	m := map[string]string{"bond1/bonding/slaves": "eth7\n", "bond1/uevent": "DEVTYPE=bond\n"}
	_, err = Expand(tree(t, m), "bond1")
	if err == nil || !strings.Contains(err.Error(), "eth7 of bond1") {
		t.Errorf("missing slave: %v", err)
	}
}

// TestReadSystem reads this machine's own devices: whatever they are, Read
// agrees with the ifindex and a bond's slaves are its members.
func TestReadSystem(t *testing.T) {
	ents, err := os.ReadDir(DefaultRoot)
	if err != nil {
		t.Skipf("no %s here: %v", DefaultRoot, err)
	}
	for _, e := range ents {
		d, err := Read("", e.Name())
		if e.Name() == "bonding_masters" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("bonding_masters (a file): %v, want ErrNotFound", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if d.Index <= 0 {
			t.Errorf("%s: ifindex %d", e.Name(), d.Index)
		}
	}
}

// FuzzRead writes arbitrary contents into a bond's and a slave's sysfs
// files: Read and Expand never panic, a speed is never negative, and names
// read from bonding/slaves never hold white space or are empty.
func FuzzRead(f *testing.F) {
	f.Add("eth0 eth1\n", "802.3ad 4\n", "10000\n", "active\n", "1\n")
	f.Add("", "", "-1\n", "", "")
	f.Add("\x00 ../x", "balance-rr", "4294967295", "backup\nx", "-7")
	f.Add("eth0\teth0", "x", "99999999999999999999", "", "1 2")
	f.Add("eth0", "x", "9300000000000", "", "")
	f.Fuzz(func(t *testing.T, slaves, mode, speed, state, agg string) {
		root := t.TempDir()
		for p, v := range map[string]string{
			"bond0/bonding/slaves":                slaves,
			"bond0/bonding/mode":                  mode,
			"bond0/bonding/ad_aggregator":         agg,
			"eth0/speed":                          speed,
			"eth0/bonding_slave/state":            state,
			"eth0/bonding_slave/ad_aggregator_id": agg,
		} {
			full := filepath.Join(root, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		d, err := Read(root, "bond0")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range d.Members() {
			if s == "" || strings.ContainsAny(s, " \t\n") {
				t.Errorf("member %q", s)
			}
		}
		e, err := Read(root, "eth0")
		if err != nil {
			t.Fatal(err)
		}
		if e.Speed < 0 {
			t.Errorf("speed %d from %q", e.Speed, speed)
		}
		// Members may name anything: Expand reads them or names the one
		// it cannot read, never panics.
		Expand(root, "bond0")
	})
}

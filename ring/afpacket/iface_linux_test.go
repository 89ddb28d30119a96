package afpacket

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/fastop/fastop/decode"
	"golang.org/x/sys/unix"
)

// nlLink builds an RTM_NEWLINK message as the kernel sends it.
func nlLink(seq uint32, index int32, flags uint32, arphrd uint16, name string, mac []byte, stats []uint64) []byte {
	ne := binary.NativeEndian
	attr := func(typ uint16, v []byte) []byte {
		a := make([]byte, 4, 4+len(v)+3)
		ne.PutUint16(a[0:], uint16(4+len(v)))
		ne.PutUint16(a[2:], typ)
		a = append(a, v...)
		for len(a)%4 != 0 {
			a = append(a, 0)
		}
		return a
	}
	b := make([]byte, 32)
	ne.PutUint16(b[4:], unix.RTM_NEWLINK)
	ne.PutUint32(b[8:], seq)
	ne.PutUint16(b[16+2:], arphrd)
	ne.PutUint32(b[16+4:], uint32(index))
	ne.PutUint32(b[16+8:], flags)
	b = append(b, attr(unix.IFLA_IFNAME, append([]byte(name), 0))...)
	b = append(b, attr(unix.IFLA_ADDRESS, mac)...)
	var sb []byte
	for _, v := range stats {
		sb = ne.AppendUint64(sb, v)
	}
	b = append(b, attr(unix.IFLA_STATS64, sb)...)
	ne.PutUint32(b[0:], uint32(len(b)))
	return b
}

func TestNetlinkParse(t *testing.T) {
	stats := make([]uint64, 24)
	for i := range stats {
		stats[i] = uint64(100 + i)
	}
	mac := []byte{2, 0, 0, 0, 0, 1}
	msg := nlLink(7, 42, unix.IFF_UP|unix.IFF_RUNNING, unix.ARPHRD_ETHER, "eth0", mac, stats)
	stale := nlLink(6, 1, 0, unix.ARPHRD_LOOPBACK, "lo", nil, nil)
	var got []linkInfo
	done, err := nlParse(append(stale, msg...), 7, false, func(typ uint16, body []byte) {
		if l, ok := parseLink(body); ok && typ == unix.RTM_NEWLINK {
			got = append(got, l)
		}
	})
	if !done || err != nil || len(got) != 1 {
		t.Fatalf("done %v, err %v, %d links (the stale reply must be skipped)", done, err, len(got))
	}
	l := got[0]
	if l.Index != 42 || l.Name != "eth0" || string(l.MAC) != string(mac) || l.Type != unix.ARPHRD_ETHER || !l.running() || !l.adminUp() {
		t.Errorf("link = %+v", l)
	}
	want := IfaceCounters{RxPackets: 100, TxPackets: 101, RxBytes: 102, TxBytes: 103, RxErrors: 104, TxErrors: 105,
		RxDropped: 106, TxDropped: 107, RxFIFO: 114, RxMissed: 115}
	if !l.HasStats || l.Stats != want {
		t.Errorf("stats = %+v, want %+v", l.Stats, want)
	}

	// An error reply carries a negative errno.
	e := make([]byte, 36)
	ne := binary.NativeEndian
	ne.PutUint32(e[0:], 36)
	ne.PutUint16(e[4:], unix.NLMSG_ERROR)
	ne.PutUint32(e[8:], 9)
	code := -int32(unix.ENODEV)
	ne.PutUint32(e[16:], uint32(code))
	done, err = nlParse(e, 9, false, func(uint16, []byte) { t.Error("no message expected") })
	if !done || !errors.Is(err, unix.ENODEV) {
		t.Errorf("error reply: done %v, err %v", done, err)
	}

	// Damaged input never panics.
	for cut := range len(msg) {
		nlParse(msg[:cut], 7, true, func(_ uint16, body []byte) { parseLink(body) })
	}
	bad := append([]byte(nil), msg...)
	ne.PutUint32(bad[0:], 3)
	if _, err := nlParse(bad, 7, false, func(uint16, []byte) {}); err == nil {
		t.Error("a message length below the header was accepted")
	}
}

func TestLinkTypeOf(t *testing.T) {
	tests := []struct {
		arphrd uint16
		want   decode.LinkType
		ok     bool
	}{
		{unix.ARPHRD_ETHER, decode.LinkEthernet, true},
		{unix.ARPHRD_LOOPBACK, decode.LinkEthernet, true},
		{unix.ARPHRD_NONE, decode.LinkRaw, true},
		{unix.ARPHRD_RAWIP, decode.LinkRaw, true},
		{unix.ARPHRD_PPP, decode.LinkRaw, true},
		{unix.ARPHRD_IPGRE, 0, false},
		{unix.ARPHRD_INFINIBAND, 0, false},
	}
	for _, tc := range tests {
		got, ok := linkTypeOf(tc.arphrd)
		if got != tc.want || ok != tc.ok {
			t.Errorf("linkTypeOf(%d) = %v, %v; want %v, %v", tc.arphrd, got, ok, tc.want, tc.ok)
		}
	}
}

// TestNetlinkLoopback asks the kernel (no privileges needed) about the
// loopback interface of this namespace.
func TestNetlinkLoopback(t *testing.T) {
	nl, err := openNetlink()
	if err != nil {
		t.Fatal(err)
	}
	defer nl.close()
	names, err := nl.names()
	if err != nil || len(names) == 0 {
		t.Fatalf("names: %v, %v", names, err)
	}
	lo, err := nl.link("lo")
	if errors.Is(err, unix.ENODEV) {
		t.Skip("skipping: no interface called lo here")
	}
	if err != nil {
		t.Fatal(err)
	}
	if lo.Type != unix.ARPHRD_LOOPBACK || lo.Flags&unix.IFF_LOOPBACK == 0 || lo.Name != "lo" || !lo.HasStats {
		t.Errorf("lo = %+v", lo)
	}
	if _, err := nl.link("fastop-none0"); !errors.Is(err, unix.ENODEV) {
		t.Errorf("missing link: err = %v, want ENODEV", err)
	}
}

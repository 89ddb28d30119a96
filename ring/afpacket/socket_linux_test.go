package afpacket

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSyscallError checks that each failure gives one line naming the
// fix, and that errors.Is matches both the sentinel and the errno.
func TestSyscallError(t *testing.T) {
	tests := []struct {
		errno    unix.Errno
		sentinel error
		mention  string
	}{
		{unix.EPERM, ErrPermission, "setcap cap_net_raw+ep $(command -v fastop)"},
		{unix.EACCES, ErrPermission, "CAP_NET_RAW"},
		{unix.ENOMEM, ErrRingMemory, "smaller --buffer"},
		{unix.ENODEV, ErrNoSuchInterface, "disappeared"},
		{unix.ENETDOWN, ErrInterfaceDown, "is down"},
		{unix.EINVAL, nil, "setsockopt PACKET_RX_RING"},
	}
	for _, tc := range tests {
		err := syscallError("eth0", 1, "setsockopt PACKET_RX_RING", tc.errno)
		if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
			t.Errorf("%v: %v does not match %v", tc.errno, err, tc.sentinel)
		}
		if !errors.Is(err, tc.errno) {
			t.Errorf("%v: %v does not match the errno", tc.errno, err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, tc.mention) || !strings.Contains(msg, `"eth0"`) {
			t.Errorf("%v: message %q: want one line starting with ring:, naming eth0 and %q", tc.errno, msg, tc.mention)
		}
	}
	if err := syscallError("eth0", 0, "socket", unix.EPERM); !errors.Is(err, os.ErrPermission) {
		t.Errorf("EPERM does not match os.ErrPermission: %v", err)
	}
}

func TestFanoutType(t *testing.T) {
	tests := []struct {
		m        FanoutMode
		rollover bool
		want     int
	}{
		{FanoutHash, false, unix.PACKET_FANOUT_HASH},
		{FanoutCPU, false, unix.PACKET_FANOUT_CPU},
		{FanoutLB, false, unix.PACKET_FANOUT_LB},
		{FanoutQM, true, unix.PACKET_FANOUT_QM | unix.PACKET_FANOUT_FLAG_ROLLOVER},
	}
	for _, tc := range tests {
		if got := fanoutType(tc.m, tc.rollover); got != tc.want {
			t.Errorf("fanoutType(%v, %v) = %#x, want %#x", tc.m, tc.rollover, got, tc.want)
		}
	}
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], htons(unix.ETH_P_ALL))
	if b != [2]byte{0, 3} {
		t.Errorf("htons(ETH_P_ALL) is % x in memory, want 00 03 (network order)", b)
	}
}

package links

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// KernelRelease returns the running kernel's release, as uname -r prints
// it: the bond transmit hash depends on it.
func KernelRelease() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", fmt.Errorf("links: uname: %w", err)
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}

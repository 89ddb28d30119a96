//go:build !linux

package links

import "errors"

// KernelRelease is Linux's only: elsewhere there are no Linux bonds.
func KernelRelease() (string, error) {
	return "", errors.New("links: no Linux kernel release on this system")
}

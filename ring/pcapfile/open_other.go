//go:build !unix

package pcapfile

import (
	"context"
	"io"
	"os"
)

// Without the netpoller's pipes, FIFOs and stdin are read as they are.
func openFIFO(path string) (*os.File, error) { return os.Open(path) }

func cancellable(_ context.Context, fd *os.File, own bool) (io.ReadCloser, error) {
	if own {
		return fd, nil
	}
	return io.NopCloser(fd), nil
}

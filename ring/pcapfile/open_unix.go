//go:build unix

package pcapfile

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
)

// openFIFO opens a FIFO without waiting for a writer: open(2) of a FIFO
// blocks, uninterruptibly for Go, until one comes; O_NONBLOCK returns at
// once and leaves the descriptor in the netpoller.
func openFIFO(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// cancellable returns a reader of fd whose reads end when ctx is done. A
// pipe or FIFO gets a non-blocking descriptor in the netpoller; stdin's is
// a duplicate, so that neither os.Stdin nor other holders of the pipe see
// it change. Then it waits for the first bytes (or the writer's hang-up):
// on a FIFO opened without a writer, a read reports end of file until a
// writer has come. Anything else (a regular file on stdin) reads as is.
func cancellable(ctx context.Context, fd *os.File, own bool) (io.ReadCloser, error) {
	st, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode()&os.ModeNamedPipe == 0 {
		if st.Mode().IsRegular() {
			if own {
				return fd, nil
			}
			return io.NopCloser(fd), nil
		}
		return nil, fmt.Errorf("not a regular file or a pipe (mode %v): pipe a pcap or pcapng file in", st.Mode().Type())
	}
	if !own {
		// A duplicate of stdin, non-blocking, in the netpoller.
		nfd, err := syscall.Dup(int(fd.Fd()))
		if err != nil {
			return nil, os.NewSyscallError("dup", err)
		}
		syscall.CloseOnExec(nfd)
		if err := syscall.SetNonblock(nfd, true); err != nil {
			syscall.Close(nfd)
			return nil, os.NewSyscallError("fcntl", err)
		}
		fd = os.NewFile(uintptr(nfd), fd.Name())
	}
	r := newCtxReader(ctx, fd)
	if err := waitReadable(r, own); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// waitReadable parks until the pipe's first byte, which it keeps for the
// first Read, or ctx is done. Before a wake, a read of 0 bytes on a FIFO
// opened here means that no writer has come yet (open did not wait for
// one), so it waits; after a wake, or on a pipe, it is the end of file.
func waitReadable(r *ctxReader, fifo bool) error {
	rc, err := r.f.SyscallConn()
	if err != nil {
		return err
	}
	var b [1]byte
	woken := false
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, err := syscall.Read(int(fd), b[:])
		switch {
		case n == 1:
			r.first = append(r.first[:0], b[0])
			return true
		case err == syscall.EAGAIN:
			woken = true
			return false
		case err != nil:
			rerr = err
			return true
		case fifo && !woken:
			woken = true
			return false
		}
		return true // end of file: the first Read reports it again
	})
	switch {
	case err != nil && r.ctx.Err() != nil:
		return fmt.Errorf("waiting for a writer: %w", r.ctx.Err())
	case err != nil:
		return err
	case rerr != nil:
		return os.NewSyscallError("read", rerr)
	}
	return nil
}

package pcapfile

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// stdin is what the path "-" reads (a variable for tests).
var stdin = os.Stdin

// OpenContext is [Open] for any path -r may name: a regular file, a FIFO,
// or "-" for standard input (a pipe or a file), as tcpdump -r - reads it.
// Waiting for a FIFO's writer, and every later read from a FIFO or a pipe,
// ends when ctx is done, with an error wrapping ctx.Err(): a writer that
// never comes or stalls cannot hold the reader past SIGINT. Devices,
// sockets and directories are refused with one line.
func OpenContext(ctx context.Context, path string) (*File, error) {
	if path == "-" {
		return openStream(ctx, "stdin", stdin, false)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	switch m := st.Mode(); {
	case m.IsRegular():
		return Open(path)
	case m&os.ModeNamedPipe != 0:
		fd, err := openFIFO(path)
		if err != nil {
			return nil, err
		}
		return openStream(ctx, path, fd, true)
	case m&os.ModeDevice != 0:
		return nil, fmt.Errorf("%s is a device, not a capture file: give a pcap or pcapng file, a FIFO, or - for stdin", path)
	case m.IsDir():
		return nil, fmt.Errorf("%s is a directory, not a capture file", path)
	default:
		return nil, fmt.Errorf("%s is not a regular file or a FIFO (mode %v): give a pcap or pcapng file, a FIFO, or - for stdin", path, m.Type())
	}
}

// openStream reads a FIFO or stdin. A regular file on stdin is read as it
// is; a pipe is switched to the netpoller so that reads can be cancelled.
func openStream(ctx context.Context, name string, fd *os.File, own bool) (*File, error) {
	r, err := cancellable(ctx, fd, own)
	if err != nil {
		if own {
			fd.Close()
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f := &File{name: name, r: r, closer: r, buf: make([]byte, bufSize)}
	if err := f.start(); err != nil {
		r.Close()
		return nil, err
	}
	return f, nil
}

// ctxReader reads a pollable descriptor until ctx is done: a deadline set
// when ctx ends wakes a read parked in the netpoller.
type ctxReader struct {
	ctx   context.Context
	f     *os.File
	stop  func() bool
	first []byte // read ahead while waiting for a writer
}

func newCtxReader(ctx context.Context, f *os.File) *ctxReader {
	return &ctxReader{ctx: ctx, f: f, stop: context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Now()) })}
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if len(r.first) > 0 && len(p) > 0 {
		n := copy(p, r.first)
		r.first = r.first[n:]
		return n, nil
	}
	n, err := r.f.Read(p)
	if err != nil && err != io.EOF && r.ctx.Err() != nil {
		return n, fmt.Errorf("reading stopped: %w", r.ctx.Err())
	}
	return n, err
}

func (r *ctxReader) Close() error {
	r.stop()
	return r.f.Close()
}

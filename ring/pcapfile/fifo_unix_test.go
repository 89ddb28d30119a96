//go:build unix

package pcapfile

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fastop/fastop/ring"
)

func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// within runs f and fails the test if it has not returned after a
// generous guard (a hang is the bug; this is not a timing assertion).
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not return after its context was cancelled", what)
	}
}

// TestFIFO: -r on a FIFO or stdin reads it, and cancelling the context
// ends a wait for a writer that never comes, and a read from a writer that
// stalls (issue 12 item 10).
func TestFIFO(t *testing.T) {
	tf := fileValid()[0]

	t.Run("no writer", func(t *testing.T) {
		path := mkfifo(t)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		var err error
		within(t, "OpenContext on a FIFO without a writer", func() { _, err = OpenContext(ctx, path) })
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), path) {
			t.Errorf("err = %v, want context.Canceled naming the FIFO", err)
		}
	})

	t.Run("stalled writer", func(t *testing.T) {
		path := mkfifo(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		wc := make(chan *os.File, 1)
		go func() {
			w, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				close(wc)
				return
			}
			// The header and the first record, then nothing more.
			w.Write(tf.data[:24+16+len(tf.recs[0].data)])
			wc <- w
		}()
		f, err := OpenContext(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		w := <-wc
		if w == nil {
			return
		}
		defer w.Close()
		recs := make([]ring.Record, 8)
		n, err := f.ReadBatch(recs)
		if n != 1 || err != nil {
			t.Fatalf("ReadBatch = %d, %v; want the one record written", n, err)
		}
		time.AfterFunc(50*time.Millisecond, cancel)
		within(t, "ReadBatch from a stalled writer", func() { n, err = f.ReadBatch(recs) })
		if n != 0 || !errors.Is(err, context.Canceled) {
			t.Errorf("ReadBatch = %d, %v; want context.Canceled", n, err)
		}
	})

	t.Run("writer", func(t *testing.T) {
		path := mkfifo(t)
		go func() {
			w, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			w.Write(tf.data)
			w.Close()
		}()
		f, err := OpenContext(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		got, err := fileReadAll(t, f, 3)
		if err != io.EOF {
			t.Fatal(err)
		}
		fileSameRecs(t, got, tf.recs)
	})

	t.Run("stdin", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer func(old *os.File) { stdin = old }(stdin)
		stdin = r
		go func() { w.Write(tf.data); w.Close() }()
		f, err := OpenContext(context.Background(), "-")
		if err != nil {
			t.Fatal(err)
		}
		got, err := fileReadAll(t, f, 3)
		if err != io.EOF {
			t.Fatal(err)
		}
		fileSameRecs(t, got, tf.recs)
		f.Close()
	})

	t.Run("stdin stalled", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		defer func(old *os.File) { stdin = old }(stdin)
		stdin = r
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		within(t, "OpenContext on a silent stdin", func() { _, err = OpenContext(ctx, "-") })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})

	t.Run("device", func(t *testing.T) {
		_, err := OpenContext(context.Background(), "/dev/null")
		if err == nil || !strings.Contains(err.Error(), "/dev/null is a device") {
			t.Errorf("err = %v, want a refusal naming the device", err)
		}
	})
}

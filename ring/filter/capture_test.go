package filter

import (
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/fastop/fastop/decode"
	"github.com/fastop/fastop/ring"
	"github.com/fastop/fastop/ring/pcapfile"
)

// captureFile is a capture read whole into memory with fastop's own reader,
// for the golden, fuzz and benchmark tests.
type captureFile struct {
	Link      decode.LinkType
	BigEndian bool   // byte order of the file (pcap header or first section)
	Snaplen   uint32 // pcap header's, or the first pcapng interface's
	Records   []ring.Record
}

// readCapture reads every record of a pcap or pcapng file. Records alias
// the file's bytes, which stay in memory. Their metadata is what the bytes
// say (link type and lengths), as libpcap sees a file when it produced the
// golden verdicts: the pcapng direction flags and interface ids are dropped.
func readCapture(path string) (*captureFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := pcapfile.FromBytes(path, data)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := &captureFile{Link: f.LinkType(), BigEndian: f.BigEndian(), Snaplen: f.Snaplen()}
	batch := make([]ring.Record, 256)
	for {
		n, err := f.ReadBatch(batch)
		for _, r := range batch[:n] {
			r.Meta = decode.Meta{Link: r.Meta.Link, PktType: decode.PktUnknown, WireLen: r.Meta.WireLen}
			r.TS = 0
			out.Records = append(out.Records, r)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// corpusDir returns the test corpus, testdata/corpus under the repository
// root (the nearest directory above the working directory that holds
// go.mod), or "" when it is missing.
func corpusDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	c := filepath.Join(dir, "testdata", "corpus")
	if st, err := os.Stat(c); err == nil && st.IsDir() {
		return c
	}
	return ""
}

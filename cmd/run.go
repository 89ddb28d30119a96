package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fastop/fastop/display/report"
	"github.com/fastop/fastop/ring/filter"
	"github.com/fastop/fastop/ring/pcapfile"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/pipeline"
	"golang.org/x/term"
)

// runMonitor is the monitor: fastop without a subcommand.
func runMonitor(ctx context.Context, o *Options, streams IO) error {
	if o.DumpFilter || o.Read != "" {
		// No socket is opened: nothing privileged is left to do.
		if err := limitPrivileges(streams.ErrOut, o.Verbose); err != nil {
			return err
		}
	}
	if o.DumpFilter {
		return dumpFilter(ctx, o, streams)
	}
	screen := o.wantScreen(streams.Out)
	switch {
	case o.Read != "" && screen && o.Export.on():
		return usageErrorf("--ipfix with -r: the screen does not export; add -t or --json, or redirect stdout")
	case o.Read != "" && screen:
		return runFileScreen(ctx, o, streams)
	case o.Read != "":
		return runFile(ctx, o, streams)
	}
	return runLive(ctx, o, streams, screen)
}

// wantScreen says whether to show the full screen: when stdout is a
// terminal and neither -t, --json nor -s asks for reports. (iftop ignores
// -s on its screen; a timed single report only makes sense as text.)
func (o *Options) wantScreen(out io.Writer) bool {
	if o.Text || o.JSON || o.Seconds > 0 {
		return false
	}
	f, ok := out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// reporter writes text or JSON reports, flushing after each one so that a
// pipe or a file sees whole reports at once (iftop block-buffers and loses
// the tail when it is killed).
type reporter struct {
	w     *bufio.Writer
	json  bool
	text  report.TextOptions
	jopts report.JSONOptions
	rep   report.Reporter // its rows and output, reused from one report to the next
	err   error
}

func newReporter(o *Options, out io.Writer, iface string) *reporter {
	r := &reporter{w: bufio.NewWriterSize(out, 64<<10), json: o.JSON}
	r.text = report.TextOptions{
		View:         o.set.view,
		Sort:         o.set.order,
		Limit:        o.Lines,
		Bytes:        o.Bytes,
		NumericPorts: o.NoPortNames,
		Group:        o.set.group,
	}
	r.jopts = report.JSONOptions{
		View:      o.set.view,
		Sort:      o.set.order,
		Limit:     o.set.jsonLimit,
		Interface: iface,
		Group:     o.set.group,
	}
	return r
}

// header writes what comes before the first report: verb and the
// (cleaned) name of what is read.
func (r *reporter) header(verb, name string) error {
	if r.json {
		return nil
	}
	r.w.Write(report.AppendHeader(nil, verb, name))
	return r.w.Flush()
}

func (r *reporter) report(s *table.Snapshot) error {
	if r.err != nil {
		return r.err
	}
	// Write errors stick in r.w; Flush returns them.
	if r.json {
		r.rep.WriteJSON(r.w, s, &r.jopts)
	} else {
		r.rep.WriteText(r.w, s, &r.text)
	}
	s.Release()
	r.err = r.w.Flush()
	return r.err
}

func (o *Options) classifierConfig() table.ClassifierConfig {
	return table.ClassifierConfig{
		NetFilter:  o.set.net4,
		NetFilter6: o.set.net6,
		LinkLocal:  o.LinkLocal,
	}
}

// runFile replays a capture file. A file has no interface: unless -F or -G
// say which side is local, pairs are ordered as third-party traffic.
func runFile(ctx context.Context, o *Options, streams IO) error {
	f, err := openCapture(ctx, o.Read)
	if err != nil {
		return err
	}
	defer f.Close()
	flt, err := fileFilter(o, f)
	if err != nil {
		return err
	}
	x, err := startExporters(o, nil, false, streams.ErrOut)
	if err != nil {
		return err
	}
	headless := o.headless(streams.Out)
	rep := newReporter(o, streams.Out, f.Name())
	if !headless {
		if err := rep.header("Reading", f.Name()); err != nil {
			x.close(nil)
			return err
		}
	}
	cfg := pipeline.FileConfig{
		Workers:    o.Workers,
		Classifier: table.NewClassifier(o.classifierConfig()),
		MaxFlows:   o.MaxFlows,
		Every:      o.Seconds == 0,
		StopAfter:  int64(o.Seconds) * int64(time.Second),
		Filter:     flt,
		Emit:       rep.report,
	}
	if x.ipfix != nil {
		cfg.Tick = x.tick
		cfg.Emit = func(s *table.Snapshot) error {
			x.final(s)
			if headless {
				s.Release()
				return nil
			}
			return rep.report(s)
		}
	}
	err = pipeline.RunFile(ctx, f, cfg)
	if cerr := x.close(nil); err == nil {
		err = cerr
	}
	return err
}

// openCapture opens -r's file, saying so in one line when it is missing.
// A FIFO or - (stdin) is read until ctx ends, however its writer behaves.
func openCapture(ctx context.Context, path string) (*pcapfile.File, error) {
	f, err := pcapfile.OpenContext(ctx, path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file", path)
	}
	return f, err
}

// compileFile compiles -f for a capture file's link type. Like iftop,
// fastop counts IP and IPv6 only, so the program is "(expr) and (ip or
// ip6)". A pcapng file with several link types is filtered with the first
// interface's.
func compileFile(expr string, f *pcapfile.File) (filter.Program, error) {
	return filter.Compile(expr, filter.Options{
		Link:    f.LinkType(),
		Snaplen: filter.DefaultSnaplen,
		// A NULL capture's address family is in its writer's byte order.
		NullBigEndian: f.BigEndian(),
		IPOnly:        true,
		Neighbors:     filter.KernelNeighbors{},
	})
}

// fileFilter compiles -f for f; nil when there is none.
func fileFilter(o *Options, f *pcapfile.File) (*pipeline.Filter, error) {
	if strings.TrimSpace(o.Filter) == "" {
		return nil, nil
	}
	prog, err := compileFile(o.Filter, f)
	if err != nil {
		return nil, err
	}
	return pipeline.NewFilter(prog)
}

// dumpFilter prints the program -f compiles to, as tcpdump -d does: for
// the file's link type with -r, for a live Ethernet socket otherwise.
func dumpFilter(ctx context.Context, o *Options, streams IO) error {
	var prog filter.Program
	var err error
	if o.Read != "" {
		f, ferr := openCapture(ctx, o.Read)
		if ferr != nil {
			return ferr
		}
		defer f.Close()
		prog, err = compileFile(o.Filter, f)
	} else {
		prog, err = compileLive(o.Filter, o.Snaplen)
	}
	if err != nil {
		return err
	}
	_, err = io.WriteString(streams.Out, prog.String())
	return err
}

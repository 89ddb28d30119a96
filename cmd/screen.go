package cmd

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/display/screen"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/ring/filter"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/crash"
	"github.com/fastop/fastop/table/pipeline"
)

// screenControl is what the screen can ask of the capture.
type screenControl struct {
	Interface string                     // shown in "Listening on"
	Members   int                        // fanout width
	SetFilter func(expr string) error    // the f key; nil when filters cannot change
	Export    func() screen.ExportStatus // the IPFIX exporter's errors; nil when none
}

// runScreen shows the full-screen UI on the terminal until q, ^C, SIGTERM
// or ctx ends. Snapshots arrive on snaps at every tick; the channel is
// closed when the source ends (a file), and the last screen stays up until q.
// It opens /dev/tty itself and fails with one line when there is none.
func runScreen(ctx context.Context, o *Options, streams IO, snaps <-chan *table.Snapshot, ctl screenControl) error {
	tty, err := term.OpenTTY()
	if err != nil {
		return err
	}
	defer tty.Close()
	// A panic in any other goroutine, or SIGQUIT, must not leave the shell
	// on the alternate screen in raw mode.
	defer crash.Register(func() { tty.Abandon(term.LeaveScreen) })()
	defer crash.RelayQuit()()
	names := naming.NewResolver(naming.ResolverConfig{})
	defer names.Close()
	cfg := o.screenConfig(ctl, os.Getenv)
	cfg.Namer = names
	cfg.Redraw = names.Updated()
	return screen.Run(ctx, tty, snaps, cfg)
}

// screenConfig turns the options (and ~/.iftoprc) into the screen's
// configuration and starting state.
func (o *Options) screenConfig(ctl screenControl, getenv func(string) string) screen.Config {
	st := screen.DefaultUIState()
	st.View = o.set.view
	st.Group = o.set.group.By
	st.Order = o.set.order
	st.DNS = !o.NoDNS
	st.PortNames = !o.NoPortNames
	st.Bars = !o.NoBars
	st.Mode = o.ui.lineMode
	st.Totals = o.ui.totals
	st.Log = o.ui.logScale
	st.Strip = !o.ui.hideStrip
	st.FilterCode = o.Filter
	if o.ui.screenFilter != "" {
		// applyRC compiled it already: an invalid one never gets here.
		if re, err := screen.CompileFilter(o.ui.screenFilter); err == nil {
			st.Filter, st.FilterText = re, o.ui.screenFilter
		}
	}
	cfg := screen.Config{
		State:        st,
		MaxBandwidth: float64(o.set.maxBW),
		Bytes:        o.Bytes,
		Services:     naming.DefaultServices(),
		Prefixes:     o.set.group.Prefixes,
		ASCII:        !term.UTF8Locale(getenv),
		Live:         o.Read == "",
		Version:      version,
		SetFilter:    ctl.SetFilter,
		Export:       ctl.Export,
	}
	name := ctl.Interface
	switch {
	case o.Read != "":
		if name == "" {
			name = o.Read
		}
		cfg.Listening = "Reading " + name
		cfg.EndMsg = "End of " + name + ": q quits"
	default:
		if name == "" {
			name = o.Interface
		}
		cfg.Listening = "Listening on " + name
	}
	return cfg
}

// runFileScreen replays -r FILE on the screen: the file goes through the
// pipeline, one snapshot per 2 s of capture time, paced at --speed, into
// runScreen, which keeps the last one up until q. The f key installs a new
// filter on the replay without losing the counts. (For run.go: -r on a
// terminal without -t or --json.)
func runFileScreen(ctx context.Context, o *Options, streams IO) error {
	f, err := openCapture(ctx, o.Read)
	if err != nil {
		return err
	}
	defer f.Close()
	flt, err := fileFilter(o, f)
	if err != nil {
		return err
	}
	if flt == nil {
		flt, _ = pipeline.NewFilter(nil) // none yet, but f may install one
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	snaps := make(chan *table.Snapshot)
	pace := time.Duration(float64(2*time.Second) / o.Speed)
	replayDone := make(chan struct{})
	// The replay reads f: it must end before the deferred f.Close runs.
	defer func() { cancel(); <-replayDone }()
	go func() {
		defer crash.Guard()
		defer close(replayDone)
		defer close(snaps)
		cfg := pipeline.FileConfig{
			Workers:    o.Workers,
			Classifier: table.NewClassifier(o.classifierConfig()),
			MaxFlows:   o.MaxFlows,
			Every:      true,
			Filter:     flt,
			Emit: func(s *table.Snapshot) error {
				select {
				case snaps <- s:
				case <-ctx.Done():
					return ctx.Err()
				}
				select {
				case <-time.After(pace):
				case <-ctx.Done():
					return ctx.Err()
				}
				return nil
			},
		}
		// A damaged file ends the replay early; the screen keeps what was
		// read, as the text report does.
		pipeline.RunFile(ctx, f, cfg)
	}()
	setFilter := func(expr string) error {
		var prog filter.Program
		if strings.TrimSpace(expr) != "" {
			if prog, err = compileFile(expr, f); err != nil {
				return err
			}
		}
		return flt.Set(prog)
	}
	return runScreen(ctx, o, streams, snaps, screenControl{Interface: f.Name(), SetFilter: setFilter})
}

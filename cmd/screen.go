package cmd

import (
	"context"
	"errors"

	"github.com/fastop/fastop/table"
)

// screenControl is what the screen can ask of the capture.
type screenControl struct {
	Interface string                  // shown in "Listening on"
	Members   int                     // fanout width
	SetFilter func(expr string) error // the f key; nil when filters cannot change
}

// runScreen shows the full-screen UI on the terminal until q, ^C, SIGTERM
// or ctx ends. Snapshots arrive on snaps at every tick; the channel is
// closed when the source ends (a file), and the last screen stays up until q.
// (Placeholder until the screen work lands.)
func runScreen(ctx context.Context, o *Options, streams IO, snaps <-chan *table.Snapshot, ctl screenControl) error {
	return errors.New("the full screen is not built yet: use -t or --json")
}

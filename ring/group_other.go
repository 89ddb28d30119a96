//go:build !linux

package ring

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/fastop/fastop/ring/filter"
)

// afGroup has no implementation outside Linux: Open fails, so none of its
// methods is reached through a Group that Open returned.
type afGroup struct{}

func afUnsupported() error {
	return fmt.Errorf("ring: %w on %s (AF_PACKET needs Linux)", ErrNotSupported, runtime.GOOS)
}

func afOpen(*Config) (*afGroup, error) { return nil, afUnsupported() }

func (*afGroup) run(context.Context, func(int) Handler) error { return afUnsupported() }
func (*afGroup) stats() Stats                                 { return Stats{} }
func (*afGroup) setFilter(filter.Program) error               { return afUnsupported() }
func (*afGroup) state() State                                 { return 0 }
func (*afGroup) cpuTime() (time.Duration, error)              { return 0, afUnsupported() }
func (*afGroup) close() error                                 { return nil }

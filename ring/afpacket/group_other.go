//go:build !linux

package afpacket

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/fastop/fastop/ring/filter"
)

// group has no implementation outside Linux: Open fails, so none of its
// methods is reached through a Group that Open returned.
type group struct{}

func unsupported() error {
	return fmt.Errorf("ring: %w on %s (AF_PACKET needs Linux)", ErrNotSupported, runtime.GOOS)
}

func openGroup(*Config) (*group, error) { return nil, unsupported() }

func (*group) run(context.Context, func(int) Handler) error { return unsupported() }
func (*group) stats() Stats                                 { return Stats{} }
func (*group) setFilter(filter.Program) error               { return unsupported() }
func (*group) state() State                                 { return 0 }
func (*group) cpuTime() (time.Duration, error)              { return 0, unsupported() }
func (*group) close() error                                 { return nil }

//go:build !linux

package gen

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

var errUnsupported = errors.New("gen: sending raw frames needs Linux")

// Sender sends frames (Linux only).
type Sender struct{}

// NewSender fails outside Linux.
func NewSender(iface string, bypass bool) (*Sender, error) {
	return nil, fmt.Errorf("%w (this is %s)", errUnsupported, runtime.GOOS)
}

// Close does nothing outside Linux.
func (s *Sender) Close() error { return nil }

// Run fails outside Linux.
func (s *Sender) Run(ctx context.Context, cfg RunConfig) (Result, error) {
	return Result{}, errUnsupported
}

// ProcessCPU fails outside Linux.
func ProcessCPU() (CPU, error) { return CPU{}, errUnsupported }

// ThreadCPU fails outside Linux.
func ThreadCPU() (CPU, error) { return CPU{}, errUnsupported }

// PidCPU fails outside Linux.
func PidCPU(pid int) (CPU, error) { return CPU{}, errUnsupported }

// TaskCPU fails outside Linux.
func TaskCPU(pid, tid int) (time.Duration, error) { return 0, errUnsupported }

// ProcCPU fails outside Linux.
func ProcCPU(pid int) (time.Duration, error) { return 0, errUnsupported }

// ResetPeakRSS is Linux only.
func ResetPeakRSS() error { return errUnsupported }

// PeakRSS is Linux only.
func PeakRSS(pid int) (uint64, error) { return 0, errUnsupported }

package cmd

import (
	"io"
	"math"
	"net/netip"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/report"
	"github.com/fastop/fastop/ring/afpacket"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
	"github.com/spf13/pflag"
)

// settings are the options after parsing and validation: what the packages'
// configs are made from.
type settings struct {
	net4, net6 netip.Prefix
	maxBW      uint64 // bits/s; 0: automatic scale
	order      display.Order
	buffer     int64
	view       table.View
	jsonLimit  int // flows per JSON report; 0: all
	group      group.Config
}

// complete validates the options and fills o.set. Every error is a usage
// error: it names the option and what it accepts.
func (o *Options) complete(fs *pflag.FlagSet, errOut io.Writer) error {
	if err := o.applyRC(fs, errOut); err != nil {
		return err
	}
	var err error
	s := &o.set
	if o.NetFilter != "" {
		if s.net4, err = parseNetFilter(o.NetFilter); err != nil {
			return &usageError{err}
		}
	}
	if o.NetFilter6 != "" {
		if s.net6, err = parseNetFilter6(o.NetFilter6); err != nil {
			return &usageError{err}
		}
	}
	if o.MaxBandwidth != "" {
		if s.maxBW, err = parseRate(o.MaxBandwidth); err != nil {
			return usageErrorf("-m: %v", err)
		}
	}
	if s.order, err = display.ParseOrder(o.Sort); err != nil {
		return usageErrorf("-o: %v", err)
	}
	if s.buffer, err = parseSize(o.Buffer); err != nil {
		return usageErrorf("--buffer: %v", err)
	}
	if err := o.checkRanges(); err != nil {
		return err
	}
	// JSON reports are bounded by default too: a line per report of every
	// flow in a table of millions would be hundreds of MB. -L 0 asks for
	// all of them.
	s.jsonLimit = report.DefaultJSONLimit
	if fs.Changed("lines") || o.Lines > 0 {
		s.jsonLimit = o.Lines
	}
	if o.Read != "" && o.Interface != "" {
		return usageErrorf("-r and -i cannot be used together: read a file or capture live")
	}
	if o.Ports {
		s.view.Ports = table.PortsOn
	}
	if err := o.completeGroup(); err != nil {
		return err
	}
	return o.Export.complete(o)
}

// Ranges of the numeric options. -s and -L are ints in iftop; above
// maxSeconds, -s in nanoseconds would overflow a time.Duration. Flows are
// numbered with 32-bit integers in the table, hence maxFlowsLimit.
const (
	maxSeconds    = math.MaxInt32
	maxLines      = math.MaxInt32
	maxMembers    = 256
	maxFlowsLimit = 1 << 30
	minSpeed      = 0.01
	maxSpeed      = 10000
)

// checkRanges refuses any numeric option outside what it can hold, naming
// the range.
func (o *Options) checkRanges() error {
	ints := []struct {
		name     string
		v        int
		min, max int
		unit     string
	}{
		{"-s", o.Seconds, 0, maxSeconds, " (seconds)"},
		{"-L", o.Lines, 0, maxLines, ""},
		{"--snaplen", o.Snaplen, 1, afpacket.MaxSnaplen, " (bytes)"},
		{"--fanout", o.Fanout, 0, maxMembers, ""},
		{"--workers", o.Workers, 1, maxMembers, ""},
		{"--max-flows", o.MaxFlows, 1, maxFlowsLimit, ""},
	}
	for _, c := range ints {
		if c.v < c.min || c.v > c.max {
			lo := c.min
			if c.name == "--fanout" {
				lo = 1 // 0 is the default (one per CPU), not a width to offer
			}
			return usageErrorf("%s %d: out of range; use %d to %d%s", c.name, c.v, lo, c.max, c.unit)
		}
	}
	// !(a <= x) also catches NaN.
	if !(o.Speed >= minSpeed && o.Speed <= maxSpeed) {
		return usageErrorf("--speed %v: out of range; use %v to %v", o.Speed, minSpeed, maxSpeed)
	}
	return nil
}

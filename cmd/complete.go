package cmd

import (
	"io"
	"net/netip"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/table"
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
	if o.Seconds < 0 {
		return usageErrorf("-s %d: the number of seconds must be positive", o.Seconds)
	}
	if o.Lines < 0 {
		return usageErrorf("-L %d: the number of lines must be positive", o.Lines)
	}
	if o.Workers < 1 || o.Workers > 256 {
		return usageErrorf("--workers %d: use 1 to 256", o.Workers)
	}
	if o.Fanout < 0 || o.Fanout > 256 {
		return usageErrorf("--fanout %d: use 1 to 256", o.Fanout)
	}
	if o.MaxFlows < 1 {
		return usageErrorf("--max-flows %d: must be at least 1", o.MaxFlows)
	}
	if o.Read != "" && o.Interface != "" {
		return usageErrorf("-r and -i cannot be used together: read a file or capture live")
	}
	if o.Speed <= 0 {
		return usageErrorf("--speed %v: must be positive", o.Speed)
	}
	if o.Ports {
		s.view.Ports = table.PortsOn
	}
	return nil
}

package cmd

import (
	"io"

	"github.com/spf13/pflag"
)

// applyRC reads ~/.iftoprc (or -c FILE) and sets every option the command
// line did not set. Warnings go to errOut as FILE:LINE: lines.
// (Placeholder until the config work lands: it reads nothing.)
func (o *Options) applyRC(fs *pflag.FlagSet, errOut io.Writer) error {
	return nil
}

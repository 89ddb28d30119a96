package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/screen"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
	"github.com/spf13/pflag"
)

// rcUI holds what ~/.iftoprc can set that has no command-line option: the
// screen's starting state (iftop's keys s, d, t, T, L and l).
type rcUI struct {
	hideSrc, hideDst bool
	lineMode         table.LineMode
	totals           bool
	logScale         bool
	screenFilter     string
}

// rcFile returns the rc file to read and whether it was named with -c.
// Without -c it is ~/.iftoprc; with no home directory there is none (iftop
// would read ./iftoprc, a surprise under a service manager).
func (o *Options) rcFile() (path string, explicit bool) {
	if o.ConfigFile != "" {
		return o.ConfigFile, true
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", false
	}
	return filepath.Join(home, ".iftoprc"), false
}

// applyRC reads ~/.iftoprc (or -c FILE) and sets every option the command
// line did not set. Warnings go to errOut as FILE:LINE: lines. A missing
// ~/.iftoprc is silent; a -c FILE that cannot be read is an error.
func (o *Options) applyRC(fset *pflag.FlagSet, errOut io.Writer) error {
	path, explicit := o.rcFile()
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		if explicit {
			return fmt.Errorf("-c %s: cannot read the config file: %w", path, unwrapPathError(err))
		}
		if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(errOut, "%s: warning: cannot read the config file: %v\n", term.Clean(path), unwrapPathError(err))
		}
		return nil
	}
	defer f.Close()
	entries, warnings, err := display.ParseRC(f, path)
	if err != nil {
		if explicit {
			return fmt.Errorf("-c %w", err)
		}
		fmt.Fprintf(errOut, "%s: warning: config file ignored: %v\n", term.Clean(path), err)
		return nil
	}
	for _, w := range warnings {
		fmt.Fprintln(errOut, w)
	}
	for _, w := range o.applyRCEntries(fset, path, entries) {
		fmt.Fprintln(errOut, w)
	}
	return nil
}

// unwrapPathError drops the *PathError's path and op: the message names
// the file already.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// lineModes are line-display's values in display.RCKeys order.
var lineModes = [...]table.LineMode{table.TwoLine, table.OneLineBoth, table.OneLineSent, table.OneLineRecv}

// applyRCEntries sets the options from entries and returns warnings. A key
// whose option was given on the command line is skipped silently: the
// command line wins (iftop warns "repeated directive" there; the warning
// tells nothing new). A value that does not parse is skipped with a warning
// and the option keeps its default, as in iftop.
func (o *Options) applyRCEntries(fset *pflag.FlagSet, path string, entries []display.RCEntry) []string {
	var warnings []string
	warn := func(e display.RCEntry, format string, args ...any) {
		warnings = append(warnings, display.RCWarning(path, e.Line, fmt.Sprintf(format, args...)))
	}
	// set gives a flag a value without marking it changed, so that what
	// came from the file is not mistaken for the command line.
	set := func(e display.RCEntry, name, value string) {
		fl := fset.Lookup(name)
		if fl == nil || fl.Changed {
			return
		}
		if err := fl.Value.Set(value); err != nil {
			warn(e, "invalid value %q for directive %q: %v", value, e.Key, err)
		}
	}
	setBool := func(e display.RCEntry, name string, v bool) { set(e, name, strconv.FormatBool(v)) }
	setCount := func(e display.RCEntry, name string) {
		n := display.RCIntValue(e.Value)
		if n < 0 || n > 1<<31-1 {
			warn(e, "invalid value %q for directive %q: use a number from 0 to 2147483647", e.Value, e.Key)
			return
		}
		set(e, name, strconv.FormatInt(n, 10))
	}
	changed := func(name string) bool { return fset.Changed(name) }

	for _, e := range entries {
		key, _ := display.LookupRCKey(e.Key)
		b := display.RCBoolValue(e.Value)
		if key.Kind == display.RCEnum {
			if _, ok := display.RCEnumValue(e.Value, key.Enum); !ok {
				warn(e, "invalid enumeration value %q for directive %q", e.Value, e.Key)
				continue
			}
		}
		switch e.Key {
		case "interface":
			set(e, "interface", e.Value)
		case "dns-resolution":
			setBool(e, "no-dns", !b)
		case "port-resolution":
			setBool(e, "no-port-names", !b)
		case "filter-code":
			set(e, "filter", e.Value)
		case "show-bars":
			setBool(e, "no-bars", !b)
		case "promiscuous":
			setBool(e, "promiscuous", b)
		case "hide-source":
			o.ui.hideSrc = b
		case "hide-destination":
			o.ui.hideDst = b
		case "use-bytes":
			setBool(e, "bytes", b)
		case "sort":
			set(e, "sort", e.Value)
		case "line-display":
			i, _ := display.RCEnumValue(e.Value, key.Enum)
			o.ui.lineMode = lineModes[i]
		case "show-totals":
			o.ui.totals = b
		case "log-scale":
			o.ui.logScale = b
		case "max-bandwidth":
			if changed("max-bandwidth") {
				continue
			}
			if _, err := parseRate(e.Value); err != nil {
				warn(e, "max-bandwidth: %v; the scale stays automatic", err)
				continue
			}
			set(e, "max-bandwidth", e.Value)
		case "net-filter":
			if changed("net-filter") {
				continue
			}
			if _, err := parseNetFilter(e.Value); err != nil {
				warn(e, "net-filter: %v; no net filter", err)
				continue
			}
			set(e, "net-filter", e.Value)
		case "net-filter6":
			if changed("net-filter6") {
				continue
			}
			if _, err := parseNetFilter6(e.Value); err != nil {
				warn(e, "net-filter6: %v; no net filter", err)
				continue
			}
			set(e, "net-filter6", e.Value)
		case "link-local":
			setBool(e, "link-local", b)
		case "port-display":
			if changed("ports") {
				continue
			}
			i, _ := display.RCEnumValue(e.Value, key.Enum)
			o.set.view.Ports = table.PortDisplay(i) // off, source-only, destination-only, on
			setBool(e, "ports", o.set.view.Ports == table.PortsOn)
		case "timed-output":
			setCount(e, "seconds")
		case "no-curses":
			setBool(e, "text", b)
		case "num-lines":
			setCount(e, "lines")
		case "screen-filter":
			if _, err := screen.CompileFilter(e.Value); err != nil {
				warn(e, "screen-filter: %v", err)
				continue
			}
			o.ui.screenFilter = e.Value
		case "json", "wait", "verbose":
			setBool(e, e.Key, b)
		case "buffer":
			if changed("buffer") {
				continue
			}
			if _, err := parseSize(e.Value); err != nil {
				warn(e, "buffer: %v", err)
				continue
			}
			set(e, "buffer", e.Value)
		case "fanout", "fanout-mode", "snaplen", "max-flows", "speed", "workers":
			set(e, e.Key, e.Value)
		default:
			// ParseRC returns only keys of display.RCKeys; a key added
			// there must be handled here (TestRCKeysAllHandled).
			warn(e, "directive %q is not supported here", e.Key)
		}
	}
	o.set.view.HideSrc, o.set.view.HideDst = o.ui.hideSrc, o.ui.hideDst
	return warnings
}

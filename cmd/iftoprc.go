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
	"github.com/fastop/fastop/table/group"
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
	hideStrip        bool // link-strip: no (the i key)
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
	entries, warnings, err := display.ParseRC(f, path, knownRC)
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

// rcKind is how a directive's value is read.
type rcKind uint8

// Values of rcKind.
const (
	rcString rcKind = iota // taken as written
	rcBool                 // true only for exactly "yes" or "true" (display.RCBoolValue)
	rcInt                  // strtol: leading digits, junk after them ignored, none is 0 (display.RCIntValue)
	rcEnum                 // one of enum, exactly
	rcRate                 // bits/s as -m takes it: digits and an optional K, M, G or B
	rcNumber               // fastop's numeric options, parsed strictly as on the command line
)

// rcDirective is one directive of ~/.iftoprc: its name, how its value is
// read, the flag it stands for ("" for the screen's starting state, which
// has no flag) and how it is applied. rcDirectives is the only list:
// ParseRC knows the names from it, IFTOPRC.md documents each
// (TestRCDirectives), and applyRCEntries runs each apply.
type rcDirective struct {
	name  string
	kind  rcKind
	enum  []string // rcEnum's values
	flag  string
	apply func(a *rcApplier, d *rcDirective, e display.RCEntry)
}

// rcDirectives lists every directive fastop reads, iftop's first
// (docs/iftop.md#config-file: same names, same value types), then
// screen-filter (which iftop documents but rejects), then fastop's own under
// their long option names.
var rcDirectives = []rcDirective{
	{name: "interface", kind: rcString, flag: "interface", apply: rcSet},
	{name: "dns-resolution", kind: rcBool, flag: "no-dns", apply: rcSetNot},
	{name: "port-resolution", kind: rcBool, flag: "no-port-names", apply: rcSetNot},
	{name: "filter-code", kind: rcString, flag: "filter", apply: rcSet},
	{name: "show-bars", kind: rcBool, flag: "no-bars", apply: rcSetNot},
	{name: "promiscuous", kind: rcBool, flag: "promiscuous", apply: rcSetBool},
	{name: "hide-source", kind: rcBool, apply: rcUIBool(func(u *rcUI) *bool { return &u.hideSrc })},      // the s key
	{name: "hide-destination", kind: rcBool, apply: rcUIBool(func(u *rcUI) *bool { return &u.hideDst })}, // the d key
	{name: "use-bytes", kind: rcBool, flag: "bytes", apply: rcSetBool},
	{name: "sort", kind: rcEnum, enum: sortValues, flag: "sort", apply: rcSet},
	{name: "line-display", kind: rcEnum, enum: lineDisplayValues, apply: rcLineDisplay},            // the t key
	{name: "show-totals", kind: rcBool, apply: rcUIBool(func(u *rcUI) *bool { return &u.totals })}, // the T key
	{name: "log-scale", kind: rcBool, apply: rcUIBool(func(u *rcUI) *bool { return &u.logScale })}, // the L key
	{name: "max-bandwidth", kind: rcRate, flag: "max-bandwidth", apply: rcChecked(checkRate, "; the scale stays automatic")},
	{name: "net-filter", kind: rcString, flag: "net-filter", apply: rcChecked(checkNetFilter, "; no net filter")},
	{name: "net-filter6", kind: rcString, flag: "net-filter6", apply: rcChecked(checkNetFilter6, "; no net filter")},
	{name: "link-local", kind: rcBool, flag: "link-local", apply: rcSetBool},
	{name: "port-display", kind: rcEnum, enum: portDisplayValues, flag: "ports", apply: rcPortDisplay},
	{name: "timed-output", kind: rcInt, flag: "seconds", apply: rcSetCount},
	{name: "no-curses", kind: rcBool, flag: "text", apply: rcSetBool},
	{name: "num-lines", kind: rcInt, flag: "lines", apply: rcSetCount},
	{name: "screen-filter", kind: rcString, apply: rcScreenFilter}, // the l key

	{name: "json", kind: rcBool, flag: "json", apply: rcSetBool},
	{name: "fanout", kind: rcNumber, flag: "fanout", apply: rcSet},
	{name: "fanout-mode", kind: rcString, flag: "fanout-mode", apply: rcSet},
	{name: "buffer", kind: rcString, flag: "buffer", apply: rcChecked(checkSize, "")},
	{name: "snaplen", kind: rcNumber, flag: "snaplen", apply: rcSet},
	{name: "wait", kind: rcBool, flag: "wait", apply: rcSetBool},
	{name: "max-flows", kind: rcNumber, flag: "max-flows", apply: rcSet},
	{name: "speed", kind: rcNumber, flag: "speed", apply: rcSet},
	{name: "workers", kind: rcNumber, flag: "workers", apply: rcSet},
	{name: "verbose", kind: rcBool, flag: "verbose", apply: rcSetBool},
	{name: "master", kind: rcBool, flag: "master", apply: rcSetBool},
	{name: "group", kind: rcEnum, enum: group.Names(), flag: "group", apply: rcSet},
	{name: "group-prefix", kind: rcString, flag: "group-prefix", apply: rcChecked(checkGroupPrefix, "; networks stay /24 and /64")},
	{name: "link-strip", kind: rcBool, apply: func(a *rcApplier, _ *rcDirective, e display.RCEntry) { // the i key
		a.o.ui.hideStrip = !display.RCBoolValue(e.Value)
	}},
}

// The values of the enum directives, as iftop spells them.
var (
	sortValues        = []string{"2s", "10s", "40s", "source", "destination"}
	lineDisplayValues = []string{"two-line", "one-line-both", "one-line-sent", "one-line-received"}
	portDisplayValues = []string{"off", "source-only", "destination-only", "on"} // table.PortDisplay's order
)

// The checks of rcChecked.
func checkRate(v string) error       { _, err := parseRate(v); return err }
func checkNetFilter(v string) error  { _, err := parseNetFilter(v); return err }
func checkNetFilter6(v string) error { _, err := parseNetFilter6(v); return err }
func checkSize(v string) error       { _, err := parseSize(v); return err }

// lookupRC returns the directive called name.
func lookupRC(name string) (*rcDirective, bool) {
	for i := range rcDirectives {
		if rcDirectives[i].name == name {
			return &rcDirectives[i], true
		}
	}
	return nil, false
}

// knownRC reports whether name is a directive (for display.ParseRC).
func knownRC(name string) bool {
	_, ok := lookupRC(name)
	return ok
}

// rcApplier applies directives to the options and collects warnings.
type rcApplier struct {
	o        *Options
	fset     *pflag.FlagSet
	path     string
	warnings []string
}

func (a *rcApplier) warn(e display.RCEntry, format string, args ...any) {
	a.warnings = append(a.warnings, display.RCWarning(a.path, e.Line, fmt.Sprintf(format, args...)))
}

// set gives a flag a value without marking it changed, so that what came
// from the file is not mistaken for the command line. A flag given on the
// command line keeps its value.
func (a *rcApplier) set(e display.RCEntry, name, value string) {
	fl := a.fset.Lookup(name)
	if fl == nil || fl.Changed {
		return
	}
	if err := fl.Value.Set(value); err != nil {
		a.warn(e, "invalid value %q for directive %q: %v", value, e.Key, err)
	}
}

// The ways a directive is applied.

// rcSet sets the flag to the value as written.
func rcSet(a *rcApplier, d *rcDirective, e display.RCEntry) { a.set(e, d.flag, e.Value) }

// rcSetBool sets a bool flag to iftop's reading of the value.
func rcSetBool(a *rcApplier, d *rcDirective, e display.RCEntry) {
	a.set(e, d.flag, strconv.FormatBool(display.RCBoolValue(e.Value)))
}

// rcSetNot sets a "no-" flag to the opposite of the value.
func rcSetNot(a *rcApplier, d *rcDirective, e display.RCEntry) {
	a.set(e, d.flag, strconv.FormatBool(!display.RCBoolValue(e.Value)))
}

// rcSetCount sets a count flag to iftop's reading of the value, refusing
// what does not fit an int32 or is negative.
func rcSetCount(a *rcApplier, d *rcDirective, e display.RCEntry) {
	n := display.RCIntValue(e.Value)
	if n < 0 || n > 1<<31-1 {
		a.warn(e, "invalid value %q for directive %q: use a number from 0 to 2147483647", e.Value, e.Key)
		return
	}
	a.set(e, d.flag, strconv.FormatInt(n, 10))
}

// rcChecked sets the flag to the value once check accepts it; a value it
// refuses is a warning (its error, then after) and the option keeps its
// default.
func rcChecked(check func(string) error, after string) func(*rcApplier, *rcDirective, display.RCEntry) {
	return func(a *rcApplier, d *rcDirective, e display.RCEntry) {
		if a.fset.Changed(d.flag) {
			return
		}
		if err := check(e.Value); err != nil {
			a.warn(e, "%s: %v%s", d.name, err, after)
			return
		}
		a.set(e, d.flag, e.Value)
	}
}

// rcUIBool sets a field of the screen's starting state.
func rcUIBool(field func(*rcUI) *bool) func(*rcApplier, *rcDirective, display.RCEntry) {
	return func(a *rcApplier, _ *rcDirective, e display.RCEntry) { *field(&a.o.ui) = display.RCBoolValue(e.Value) }
}

// lineModes are line-display's values in its enum's order.
var lineModes = [...]table.LineMode{table.TwoLine, table.OneLineBoth, table.OneLineSent, table.OneLineRecv}

func rcLineDisplay(a *rcApplier, d *rcDirective, e display.RCEntry) {
	i, _ := display.RCEnumValue(e.Value, d.enum)
	a.o.ui.lineMode = lineModes[i]
}

// rcPortDisplay keeps all four of iftop's port displays (-P has only on
// and off).
func rcPortDisplay(a *rcApplier, d *rcDirective, e display.RCEntry) {
	if a.fset.Changed(d.flag) {
		return
	}
	i, _ := display.RCEnumValue(e.Value, d.enum)
	a.o.set.view.Ports = table.PortDisplay(i) // off, source-only, destination-only, on
	a.set(e, d.flag, strconv.FormatBool(a.o.set.view.Ports == table.PortsOn))
}

func rcScreenFilter(a *rcApplier, _ *rcDirective, e display.RCEntry) {
	if _, err := screen.CompileFilter(e.Value); err != nil {
		a.warn(e, "screen-filter: %v", err)
		return
	}
	a.o.ui.screenFilter = e.Value
}

// applyRCEntries sets the options from entries and returns warnings. A key
// whose option was given on the command line is skipped silently: the
// command line wins (iftop warns "repeated directive" there; the warning
// tells nothing new). A value that does not parse is skipped with a warning
// and the option keeps its default, as in iftop.
func (o *Options) applyRCEntries(fset *pflag.FlagSet, path string, entries []display.RCEntry) []string {
	a := &rcApplier{o: o, fset: fset, path: path}
	for _, e := range entries {
		d, ok := lookupRC(e.Key)
		if !ok {
			// ParseRC returns only known keys.
			a.warn(e, "directive %q is not supported here", e.Key)
			continue
		}
		if d.kind == rcEnum {
			if _, ok := display.RCEnumValue(e.Value, d.enum); !ok {
				a.warn(e, "invalid enumeration value %q for directive %q", e.Value, e.Key)
				continue
			}
		}
		d.apply(a, d, e)
	}
	o.set.view.HideSrc, o.set.view.HideDst = o.ui.hideSrc, o.ui.hideDst
	return a.warnings
}

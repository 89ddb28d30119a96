package cmd

import (
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/table/group"
	"github.com/spf13/pflag"
)

// RowOptions say what a row is.
type RowOptions struct {
	Group  string // --group
	Prefix string // --group-prefix
}

// AddFlags registers --group and --group-prefix.
func (r *RowOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&r.Group, "group", "host", "what a row is: `type` host (iftop's host pairs), service, src-net, dst-net, vlan or link (the g key cycles them)")
	fs.StringVar(&r.Prefix, "group-prefix", group.DefaultPrefixes.String(), "prefix `lengths` of src-net and dst-net rows: IPV4,IPV6")
}

// completeGroup checks --group and --group-prefix into o.set.group.
func (o *Options) completeGroup() error {
	by, err := group.ParseBy(o.Rows.Group)
	if err != nil {
		return usageErrorf("--group: %v", err)
	}
	p, err := group.ParsePrefixes(o.Rows.Prefix)
	if err != nil {
		return usageErrorf("--group-prefix: %v", err)
	}
	o.set.group = group.Config{By: by, Prefixes: p}
	if by == group.Service {
		// Which port of a flow is its service: the one /etc/services
		// names (the reports; the screen passes its own table).
		o.set.group.Services = naming.DefaultServices()
	}
	return nil
}

func checkGroupPrefix(v string) error { _, err := group.ParsePrefixes(v); return err }

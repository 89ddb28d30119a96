package screen

import (
	"github.com/fastop/fastop/table/group"
)

// groupMsg is the status hint of each row type (the g key).
var groupMsg = [...]string{
	group.Host:    "Rows: host pairs",
	group.Service: "Rows: services",
	group.SrcNet:  "Rows: source networks",
	group.DstNet:  "Rows: destination networks",
	group.VLAN:    "Rows: VLANs",
	group.Link:    "Rows: links",
}

// cycleGroup is the g key: the next row type. Like a change of view, it
// rebuilds a frozen order under the new rows.
func (s *UIState) cycleGroup() action {
	s.Group = s.Group.Next()
	s.Scroll = 0
	a := s.say(groupMsg[s.Group])
	a.Freeze = s.Frozen
	return a
}

// rows is how the frame's rows are grouped under st: the g key's row type,
// the --group-prefix lengths, and the services table, which picks a flow's
// service port whether names are shown or not.
func (f *frame) rows(st *UIState) group.Config {
	c := group.Config{By: st.Group, Prefixes: f.Prefixes}
	if st.Group == group.Service && f.Services != nil {
		c.Services = f.Services
	}
	return c
}

package screen

import (
	"github.com/fastop/fastop/display/term"
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

// rowTypes name the row types on the rule above the totals, so that what a
// row is stays said after the g key's hint is gone.
var rowTypes = [...]string{
	group.Service: " rows: services ",
	group.SrcNet:  " rows: source networks ",
	group.DstNet:  " rows: dest networks ",
	group.VLAN:    " rows: VLANs ",
	group.Link:    " rows: links ",
}

// drawRowType writes the row type on the left of the rule above the
// totals (host pairs: nothing, as iftop), where the health note on its
// right leaves room for it.
func drawRowType(g *term.Grid, st *UIState, gl glyphs) {
	if st.Group == group.Host || int(st.Group) >= len(rowTypes) {
		return
	}
	y := g.H - 4
	free := 0 // rule cells from column 0 up to the first other cell
	for _, c := range g.Row(y) {
		if c.R != gl.h {
			break
		}
		free++
	}
	label := rowTypes[st.Group]
	if 2+len(label)+1 <= free {
		g.PutString(2, y, label)
	}
}

package screen

import (
	"strings"
	"testing"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/term"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

// The g key cycles the row types with a hint each, back to host pairs;
// it starts the list from the top and, while the order is frozen, asks
// for the order to be captured again under the new rows.
func TestGroupKey(t *testing.T) {
	st := DefaultUIState()
	st.Scroll = 3
	want := []struct {
		by  group.By
		msg string
	}{
		{group.Service, "Rows: services"},
		{group.SrcNet, "Rows: source networks"},
		{group.DstNet, "Rows: destination networks"},
		{group.VLAN, "Rows: VLANs"},
		{group.Link, "Rows: links"},
		{group.Host, "Rows: host pairs"},
	}
	for _, w := range want {
		var a action
		st, a = st.key('g')
		if st.Group != w.by || st.Msg != w.msg || !a.NewMsg || a.Freeze || st.Scroll != 0 {
			t.Fatalf("after g: group %v, msg %q, action %+v, scroll %d; want %v, %q", st.Group, st.Msg, a, st.Scroll, w.by, w.msg)
		}
	}
	st.Frozen = true
	st, a := st.key('g')
	if !a.Freeze || st.Group != group.Service {
		t.Errorf("g while frozen: action %+v, group %v; want a new frozen order of services", a, st.Group)
	}
}

// groupFrame is the fixture frame with VLANs and per-link splits on its
// flows, under row type by.
func groupFrame(by group.By) *frame {
	st := DefaultUIState()
	st.Group = by
	f := fixtureFrame(st)
	s := f.Snap
	for i := range s.Flows {
		fl := &s.Flows[i]
		if !fl.Key.IsOther() {
			fl.Key.VLAN = uint16(i%3) * 100
		}
		fl.Links = []table.FlowLink{{Link: i % 2, Sent: fl.Sent, Recv: fl.Recv}}
	}
	return f
}

// TestRenderGroupGolden draws grouped rows: labels on the left (a
// destination network on the right, the local side hidden), sums of the
// flows' rates, the other row its own.
func TestRenderGroupGolden(t *testing.T) {
	tests := []struct {
		name string
		f    *frame
	}{
		{"service", groupFrame(group.Service)},
		{"dst_net_16", func() *frame { f := groupFrame(group.DstNet); f.Prefixes = group.Prefixes{V4: 16, V6: 48}; return f }()},
		{"vlan_oneline", func() *frame { f := groupFrame(group.VLAN); f.State.Mode = table.OneLineBoth; return f }()},
		{"link_totals", func() *frame { f := groupFrame(group.Link); f.State.Totals = true; return f }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, _ := renderFrame(80, 24, tt.f)
			if tt.name == "service" {
				// Where the health note leaves no room, the row type is
				// not written over it.
				small, _ := renderFrame(60, 14, groupFrame(group.Service))
				checkGrid(t, small)
				if row := strings.Split(small.String(), "\n")[10]; strings.Contains(row, "rows:") || !strings.Contains(row, "dropped") {
					t.Errorf("60x14 rule: %q", row)
				}
			}
			checkGrid(t, g)
			displaytest.Golden(t, "screen_group_"+tt.name, g.AppendText(nil, true))
		})
	}
}

// The screen filter matches a grouped row's label; sorting by name sorts
// labels; the frozen order keeps grouped rows.
func TestRenderGroupFilterSortFreeze(t *testing.T) {
	f := groupFrame(group.Service)
	f.State.Filter, f.State.FilterText = mustFilter(t, "^(tcp|udp)/443"), "^(tcp|udp)/443"
	g, info := renderFrame(80, 24, f)
	text := g.String()
	if info.Rows != 2 || !strings.Contains(text, "tcp/443 https") || !strings.Contains(text, "udp/443 https") || strings.Contains(text, "tcp/5201") {
		t.Errorf("filter: %d rows:\n%s", info.Rows, text)
	}

	f = groupFrame(group.VLAN)
	f.State.Order = display.SortSource // by the label text
	g, _ = renderFrame(80, 24, f)
	rows := strings.Split(g.String(), "\n")
	var labels []string
	for y := 2; y < len(rows)-5; y += 2 {
		if l := strings.TrimSpace(cut(rows[y], 20)); l != "" {
			labels = append(labels, l)
		}
	}
	if strings.Join(labels, ",") != "(other),untagged,vlan 100,vlan 200" {
		t.Errorf("by name: %q", labels)
	}

	var r renderer
	f = groupFrame(group.Link)
	order := r.Order(f)
	if len(order) != 3 {
		t.Fatalf("frozen order of %d link rows, want 3 (eth0, wlan0, other)", len(order))
	}
	f.State.Frozen, f.Frozen = true, order[1:2]
	g = term.NewGrid(80, 24)
	r.Render(g, f)
	rows = strings.Split(g.String(), "\n")
	if got := strings.TrimSpace(cut(rows[4], 30)); got != "" {
		t.Errorf("frozen to one row, yet row 4 shows %q", got)
	}
}

// cut returns the first n bytes of s, or all of it.
func cut(s string, n int) string { return s[:min(n, len(s))] }

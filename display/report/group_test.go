package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/internal/displaytest"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

// jsonGroupReport is a report whose rows are group rows (JSON.md), decoded
// with exact types and no unknown fields.
type jsonGroupReport struct {
	Flows []struct {
		Group   string    `json:"group"`
		Key     string    `json:"key"`
		Service *string   `json:"service"`
		Proto   *string   `json:"proto"`
		Port    *uint16   `json:"port"`
		Net     *string   `json:"net"`
		Family  *uint8    `json:"family"`
		VLAN    *uint16   `json:"vlan"`
		Link    *string   `json:"link"`
		Sent    *jsonStat `json:"sent"`
		Recv    *jsonStat `json:"recv"`
	} `json:"flows"`
	Time, Start, Interface json.RawMessage
	Totals, Capture        json.RawMessage
	Interfaces             json.RawMessage
	Bonds                  json.RawMessage
}

func decodeGroupReport(t *testing.T, line []byte) jsonGroupReport {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var r jsonGroupReport
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decode: %v\n%s", err, line)
	}
	return r
}

func groupFixture() *table.Snapshot {
	s := displaytest.FixtureSnapshot()
	// VLANs and per-link splits, which the fixture's flows do not carry.
	for i := range s.Flows {
		f := &s.Flows[i]
		f.Key.VLAN = uint16(i%3) * 100
		if f.Key.IsOther() {
			f.Key.VLAN = 0
		}
		half := func(st table.Stat) (a, b table.Stat) {
			a = table.Stat{Win: [3]uint64{st.Win[0] / 2, st.Win[1] / 2, st.Win[2] / 2}, Bytes: st.Bytes / 2, Packets: st.Packets / 2}
			b = table.Stat{Win: [3]uint64{st.Win[0] - a.Win[0], st.Win[1] - a.Win[1], st.Win[2] - a.Win[2]}, Bytes: st.Bytes - a.Bytes, Packets: st.Packets - a.Packets}
			return a, b
		}
		s0, s1 := half(f.Sent)
		r0, r1 := half(f.Recv)
		f.Links = []table.FlowLink{{Link: 0, Sent: s0, Recv: r0}, {Link: 1, Sent: s1, Recv: r1}}
	}
	return s
}

// TestJSONGroupSums: for every row type, the rows of an unlimited report
// add up exactly to the snapshot's flows (bytes and packets, both
// directions), every field of the group row shape is there, and the
// fields of the row's kind are set.
func TestJSONGroupSums(t *testing.T) {
	s := groupFixture()
	var wantSent, wantRecv table.Stat
	for i := range s.Flows {
		wantSent.Add(&s.Flows[i].Sent)
		wantRecv.Add(&s.Flows[i].Recv)
	}
	for _, by := range []group.By{group.Service, group.SrcNet, group.DstNet, group.VLAN, group.Link} {
		t.Run(by.String(), func(t *testing.T) {
			o := &JSONOptions{Group: group.Config{By: by, Services: naming.BuiltinServices()}}
			r := decodeGroupReport(t, AppendJSON(nil, s, o))
			var sb, sp, rb, rp uint64
			keys := map[string]bool{}
			for _, f := range r.Flows {
				if f.Group != by.String() {
					t.Errorf("row %q: group %q, want %q", f.Key, f.Group, by)
				}
				if keys[f.Key] {
					t.Errorf("two rows %q", f.Key)
				}
				keys[f.Key] = true
				sb, sp = sb+*f.Sent.Bytes, sp+*f.Sent.Packets
				rb, rp = rb+*f.Recv.Bytes, rp+*f.Recv.Packets
				if f.Key == "other" {
					continue
				}
				set := map[string]bool{"proto": f.Proto != nil, "net": f.Net != nil, "family": f.Family != nil, "vlan": f.VLAN != nil, "link": f.Link != nil}
				want := map[group.By][]string{group.Service: {"proto"}, group.SrcNet: {"net", "family"}, group.DstNet: {"net", "family"}, group.VLAN: {"vlan"}, group.Link: {"link"}}[by]
				for field, isSet := range set {
					if isSet != strings.Contains(strings.Join(want, ","), field) {
						t.Errorf("row %q: field %s set %v", f.Key, field, isSet)
					}
				}
			}
			if sb != wantSent.Bytes || sp != wantSent.Packets || rb != wantRecv.Bytes || rp != wantRecv.Packets {
				t.Errorf("sums sent %d/%d recv %d/%d, want %d/%d %d/%d", sb, sp, rb, rp, wantSent.Bytes, wantSent.Packets, wantRecv.Bytes, wantRecv.Packets)
			}
			if !keys["other"] {
				t.Errorf("no other row: %v", keys)
			}
		})
	}
}

// TestJSONGroupService checks a service row in full: both directions of
// HTTP over TCP fold into one row, named.
func TestJSONGroupService(t *testing.T) {
	s := groupFixture()
	o := &JSONOptions{Group: group.Config{By: group.Service, Services: naming.BuiltinServices()}}
	r := decodeGroupReport(t, AppendJSON(nil, s, o))
	for _, f := range r.Flows {
		if f.Key != "tcp/443" {
			continue
		}
		if f.Service == nil || *f.Service != "https" || *f.Proto != "tcp" || *f.Port != 443 || f.Net != nil || f.VLAN != nil || f.Link != nil {
			t.Errorf("tcp/443 row: %+v", f)
		}
		// The fixture's one tcp/443 flow: the remote side is the server.
		checkStat(t, "tcp/443 sent", s, f.Sent, &s.Flows[4].Sent)
		checkStat(t, "tcp/443 recv", s, f.Recv, &s.Flows[4].Recv)
		return
	}
	t.Fatalf("no tcp/443 row in %+v", r.Flows)
}

func TestGroupGolden(t *testing.T) {
	s := groupFixture()
	svc := naming.BuiltinServices()
	text := []struct {
		name string
		o    TextOptions
	}{
		{"text_group_service", TextOptions{Group: group.Config{By: group.Service, Services: svc}, Services: svc, Limit: -1}},
		{"text_group_dst_net_by_dest", TextOptions{Group: group.Config{By: group.DstNet, Prefixes: group.Prefixes{V4: 16, V6: 32}}, Sort: display.SortDest}},
		{"text_group_link", TextOptions{Group: group.Config{By: group.Link}}},
	}
	for _, tt := range text {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := writeText(&out, s, &tt.o); err != nil {
				t.Fatal(err)
			}
			checkTextShape(t, out.Bytes())
			displaytest.Golden(t, tt.name, out.Bytes())
		})
	}
	for _, by := range []group.By{group.Service, group.SrcNet, group.VLAN} {
		name := "json_group_" + strings.ReplaceAll(by.String(), "-", "_")
		t.Run(name, func(t *testing.T) {
			displaytest.Golden(t, name, AppendJSON(nil, s, &JSONOptions{Group: group.Config{By: by, Services: svc}}))
		})
	}
}

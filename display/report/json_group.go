package report

import (
	"strconv"

	"github.com/fastop/fastop/display"
	"github.com/fastop/fastop/display/naming"
	"github.com/fastop/fastop/table"
	"github.com/fastop/fastop/table/group"
)

// appendJSONGroupRow writes a row of group.Rows (--group other than host)
// in the group row shape of JSON.md: what the row is, every field present,
// null where it does not apply to this kind of row.
func appendJSONGroupRow(dst []byte, s *table.Snapshot, f *table.Flow, c *group.Config) []byte {
	k := group.Decode(c.By, &f.Key)
	dst = append(dst, `{"group":"`...)
	dst = append(dst, c.By.String()...)
	dst = append(dst, `","key":`...)
	if k.Other {
		dst = append(dst, `"other"`...)
	} else {
		dst = appendJSONString(dst, string(display.AppendGroupLabel(nil, c.By, &f.Key, nil, s.Interfaces)))
	}
	var svc string
	if k.By == group.Service && k.Port != 0 && c.Services != nil && !k.Other {
		svc, _ = c.Services.Lookup(k.Port, k.Proto)
	}
	dst = appendJSONStringOrNull(dst, `,"service":`, svc)
	dst = append(dst, `,"proto":`...)
	if k.By == group.Service && !k.Other {
		dst = appendJSONString(dst, naming.ProtoName(k.Proto))
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"port":`...)
	dst = appendJSONPort(dst, k.Port)
	dst = append(dst, `,"net":`...)
	if p := k.Prefix(); p.IsValid() {
		dst = append(dst, '"')
		dst = p.AppendTo(dst)
		dst = append(dst, `","family":`...)
		dst = strconv.AppendUint(dst, uint64(k.Family), 10)
	} else {
		dst = append(dst, `null,"family":null`...)
	}
	dst = append(dst, `,"vlan":`...)
	if k.By == group.VLAN && !k.Other {
		dst = strconv.AppendUint(dst, uint64(k.VLAN), 10)
	} else {
		dst = append(dst, "null"...)
	}
	var link string
	if k.By == group.Link && !k.Other && k.Link >= 0 && k.Link < len(s.Interfaces) {
		link = s.Interfaces[k.Link].Name
	}
	dst = appendJSONStringOrNull(dst, `,"link":`, link)
	dst = append(dst, `,"sent":`...)
	dst = appendJSONStat(dst, s, &f.Sent)
	dst = append(dst, `,"recv":`...)
	dst = appendJSONStat(dst, s, &f.Recv)
	return append(dst, '}')
}

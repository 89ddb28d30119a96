package bondhash

import (
	"reflect"
	"testing"
)

// whatIfFlows uses flows whose layer3+4 hashes are golden vectors in
// hash_test.go (variant 5.18):
//
//	A 10.0.0.1:40000 → 10.0.0.2:80        0x29a989c7: %2 = 1, %3 = 0
//	B 192.168.1.10:443 → 192.168.1.20:51000 0x1370ad2d: %2 = 1, %3 = 1
//	C [2001:db8::1]:5353 → [::2]:53        0x1b1b6fe5: %2 = 1, %3 = 1
//	D the fragment of B (no ports)          0x0f0f0f0f: %2 = 1, %3 = 0
//	E TCP whose ports were not captured: cannot be predicted
func whatIfFlows() []FlowBytes {
	d := tcp4("192.168.1.10", "192.168.1.20", 443, 51000)
	d.Fragment = true
	e := tcp4("10.9.9.9", "10.9.9.8", 0, 0)
	e.HasPorts = false
	return []FlowBytes{
		{Flow: tcp4("10.0.0.1", "10.0.0.2", 40000, 80), Bytes: 100, Link: -1},
		{Flow: tcp4("192.168.1.10", "192.168.1.20", 443, 51000), Bytes: 200, Link: -1},
		{Flow: udp6("2001:db8::1", "2001:db8::2", 5353, 53), Bytes: 300, Link: -1},
		{Flow: d, Bytes: 400, Link: -1},
		{Flow: e, Bytes: 50, Link: -1},
	}
}

func TestSplitIfLayer34(t *testing.T) {
	// The bond runs layer2 now; the what-if switches only the policy.
	c := Config{Mode: ModeXOR, Policy: PolicyLayer2, Variant: V5_18}
	s := SplitIfLayer34(c, whatIfFlows(), 3)
	want := Split{Bytes: []uint64{500, 500, 0}, Flows: []int{2, 2, 0}, Unknown: 50, UnknownFlows: 1, Why: ReasonPortsUnknown}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("over 3 links: %+v; want %+v", s, want)
	}
	s = SplitIfLayer34(c, whatIfFlows(), 2)
	want = Split{Bytes: []uint64{0, 1000}, Flows: []int{0, 4}, Unknown: 50, UnknownFlows: 1, Why: ReasonPortsUnknown}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("over 2 links: %+v; want %+v", s, want)
	}
	// A mode that does not hash answers nothing, whatever the policy.
	c.Mode = ModeActiveBackup
	s = SplitIfLayer34(c, whatIfFlows(), 2)
	if s.Unknown != 1050 || s.UnknownFlows != 5 || s.Why != ReasonMode {
		t.Fatalf("active-backup: %+v; want everything unknown for the mode", s)
	}
	if s := SplitIfLayer34(c, nil, 0); len(s.Bytes) != 0 || s.Unknown != 0 {
		t.Fatalf("no flows, no links: %+v", s)
	}
}

func TestIfLinkFails(t *testing.T) {
	c := Config{Mode: Mode8023AD, Policy: PolicyLayer34, Variant: V5_18}
	flows := whatIfFlows()

	// Link 1 of 3 fails: over 2 links every flow hashes to 1, which is
	// old link 2 (link 1 is gone, link 2 moves down into its place).
	got := IfLinkFails(c, flows, 3, 1)
	wantMoves := []Move{
		{Index: 0, From: 0, To: 2},
		{Index: 1, From: 1, To: 2},
		{Index: 2, From: 1, To: 2},
		{Index: 3, From: 0, To: 2},
		{Index: 4, From: -1, To: -1, Why: ReasonPortsUnknown},
	}
	if !reflect.DeepEqual(got.Moves, wantMoves) {
		t.Errorf("moves %+v; want %+v", got.Moves, wantMoves)
	}
	if want := []uint64{0, 0, 1000}; !reflect.DeepEqual(got.After.Bytes, want) || got.After.Unknown != 50 {
		t.Errorf("after %+v; want %v and 50 unknown", got.After, want)
	}
	if want := []uint64{0, 0, 500}; !reflect.DeepEqual(got.FromFailed.Bytes, want) || got.FromFailed.Unknown != 0 {
		t.Errorf("from the failed link %+v; want %v", got.FromFailed, want)
	}

	// Where a flow was seen, that is its link: A seen on link 1 counts
	// among the failed link's flows.
	flows[0].Link = 1
	got = IfLinkFails(c, flows, 3, 1)
	if want := []uint64{0, 0, 600}; !reflect.DeepEqual(got.FromFailed.Bytes, want) {
		t.Errorf("with A seen on link 1, from the failed link %+v; want %v", got.FromFailed.Bytes, want)
	}

	// Link 2 of 3 fails: B and C stay on link 1 (hash % 2 = 1 and
	// % 3 = 1), A and D move from 0 to 1.
	flows[0].Link = -1
	got = IfLinkFails(c, flows, 3, 2)
	wantMoves = []Move{
		{Index: 0, From: 0, To: 1},
		{Index: 3, From: 0, To: 1},
		{Index: 4, From: -1, To: -1, Why: ReasonPortsUnknown},
	}
	if !reflect.DeepEqual(got.Moves, wantMoves) {
		t.Errorf("link 2 fails: moves %+v; want %+v", got.Moves, wantMoves)
	}
	if got.FromFailed.Flows[0]+got.FromFailed.Flows[1]+got.FromFailed.Flows[2] != 0 {
		t.Errorf("link 2 carried nothing, yet %+v", got.FromFailed)
	}

	// One link, or a link that is not there: nothing can be said.
	for _, tt := range []struct{ links, failed int }{{1, 0}, {3, 3}, {3, -1}, {0, 0}} {
		got := IfLinkFails(c, flows, tt.links, tt.failed)
		if got.After.Unknown != 1050 || got.After.Why != ReasonNoLinks {
			t.Errorf("links %d failed %d: %+v; want all unknown", tt.links, tt.failed, got.After)
		}
	}
}

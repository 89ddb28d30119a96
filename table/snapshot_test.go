package table

import "testing"

// A retained snapshot goes back to the pool only at its last Release, so
// a second holder never reads memory a later snapshot reuses.
func TestSnapshotRetain(t *testing.T) {
	f := NewFlows(FlowsConfig{})
	tests := []struct {
		name    string
		retains int
	}{
		{"no retain", 0},
		{"one retain", 1},
		{"three retains", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := f.Snapshot(1)
			for range tc.retains {
				s.Retain()
			}
			for i := range tc.retains {
				s.Release()
				if s.Flows == nil {
					t.Fatalf("after %d of %d releases the flows went back to the pool", i+1, tc.retains+1)
				}
			}
			s.Release()
			if s.Flows != nil {
				t.Fatalf("after the last release the flows are still held")
			}
			if got := len(f.pool); got != 1 {
				t.Fatalf("pool holds %d slices, want 1", got)
			}
			<-f.pool
		})
	}
}

package crash

import "testing"

// TestGuard checks that a panic under Guard runs the registered functions
// once, before the panic goes on with its own value, and that an
// unregistered function does not run.
func TestGuard(t *testing.T) {
	var ran []string
	Register(func() { ran = append(ran, "a") })
	unregister := Register(func() { ran = append(ran, "gone") })
	Register(func() { panic("a restore that fails") })
	Register(func() { ran = append(ran, "b") })
	unregister()

	got := func() (v any) {
		defer func() { v = recover() }()
		func() {
			defer Guard()
			panic("boom")
		}()
		return nil
	}()
	if got != "boom" {
		t.Fatalf("the panic went on with %v, want boom", got)
	}
	if len(ran) != 2 || !(ran[0] == "a" && ran[1] == "b" || ran[0] == "b" && ran[1] == "a") {
		t.Fatalf("ran %q, want a and b once each", ran)
	}
	Run() // nothing is left registered
	if len(ran) != 2 {
		t.Fatalf("ran %q after a second Run", ran)
	}
	// Without a panic Guard runs nothing.
	Register(func() { ran = append(ran, "c") })
	func() { defer Guard() }()
	if len(ran) != 2 {
		t.Fatalf("Guard without a panic ran %q", ran)
	}
	Run()
}

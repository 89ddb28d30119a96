//go:build !linux

package main

// Elsewhere the thread is not pinned: one "CPU", whichever the system
// picks, so a round's two sides may run on different CPUs.
func allowedCPUs() ([]int, error) { return []int{-1}, nil }

func pin(int) error { return nil }

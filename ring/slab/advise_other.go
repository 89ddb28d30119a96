//go:build !linux

package slab

func advise([]byte) {}

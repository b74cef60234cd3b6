//go:build !linux

package main

import "testing"

// loopCPU runs f in b.Loop (the CPU time is measured on Linux only).
func loopCPU(b *testing.B, f func()) {
	for b.Loop() {
		f()
	}
}

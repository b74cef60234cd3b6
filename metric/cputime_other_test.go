//go:build !linux

package metric

import "testing"

// loopCPU runs f in b.Loop (the thread's CPU time is measured on Linux
// only).
func loopCPU(b *testing.B, f func() error) {
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
}

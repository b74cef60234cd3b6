package main

import (
	"testing"

	"golang.org/x/sys/unix"
)

// processCPU returns the CPU time the process has used, in ns.
func processCPU() int64 {
	var u unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return u.Utime.Nano() + u.Stime.Nano()
}

// loopCPU runs f in b.Loop and reports the process's CPU time per op
// ("cpu-ns/op") beside the wall time: on a shared machine another
// process's load stretches the wall time more than this one's CPU time.
func loopCPU(b *testing.B, f func()) {
	start, n := processCPU(), 0
	for b.Loop() {
		f()
		n++
	}
	if n > 0 {
		b.ReportMetric(float64(processCPU()-start)/float64(n), "cpu-ns/op")
	}
}

package kernel

import "unsafe"

// withTail completes a kernel that reads whole vectors of vectorBytes only:
// the lanes after the last whole vector go to the kernel tail (a generic one).
func withTail[W word](vectorBytes int, vectors, tail func([]W) int) func([]W) int {
	lanes := vectorBytes / int(unsafe.Sizeof(W(0)))
	return func(x []W) int {
		whole := len(x) - len(x)%lanes
		return vectors(x) + tail(x[whole:])
	}
}

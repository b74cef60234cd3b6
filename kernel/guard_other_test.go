//go:build !unix

package kernel

import "testing"

func guardedPages(t *testing.T, size int) []byte {
	t.Skip("guard pages need mmap and mprotect")
	return nil
}

func catchFault(f func()) error { f(); return nil }

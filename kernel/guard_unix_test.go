//go:build unix

package kernel

import (
	"fmt"
	"runtime/debug"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// guardedPages maps size bytes (rounded up to pages) between two PROT_NONE
// pages: a read of one byte before or after the returned slice faults.
func guardedPages(t *testing.T, size int) []byte {
	t.Helper()
	page := unix.Getpagesize()
	data := (size + page - 1) / page * page
	if data == 0 {
		data = page
	}
	mem, err := unix.Mmap(-1, 0, data+2*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { _ = unix.Munmap(mem) })
	if err := unix.Mprotect(mem[:page], unix.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	if err := unix.Mprotect(mem[page+data:], unix.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	return mem[page : page+data : page+data]
}

// catchFault runs f, turning a memory fault (a read of a guard page) into
// an error instead of a crash.
func catchFault(f func()) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("fault: %v", r)
		}
	}()
	f()
	return nil
}

// TestGuardPagesFault proves the guard-page harness can fail: a read one
// byte past the slice, and one byte before it, must be caught.
func TestGuardPagesFault(t *testing.T) {
	mem := guardedPages(t, 4096)
	for _, p := range []unsafe.Pointer{unsafe.Add(unsafe.Pointer(unsafe.SliceData(mem)), len(mem)), unsafe.Add(unsafe.Pointer(unsafe.SliceData(mem)), -1)} {
		var sink byte
		if err := catchFault(func() { sink = *(*byte)(p) }); err == nil {
			t.Fatalf("reading a guard byte did not fault (read %d)", sink)
		}
	}
}

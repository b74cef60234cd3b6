//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package window

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"unsafe"

	"golang.org/x/sys/unix"
)

const canMap = true

var pageSize = int64(os.Getpagesize())

// mappableFD returns the descriptor of ra if it is a regular file, or -1.
func mappableFD(ra io.ReaderAt) int {
	f, ok := ra.(*os.File)
	if !ok {
		return -1
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return -1
	}
	return int(f.Fd())
}

// mapped maps rows [row, row+n), calls f with them and unmaps them. The
// window starts at the page that holds its first byte. The pages are
// populated at once where the OS can (MAP_POPULATE), so that counting does
// not take a fault per page; once unmapped they stay in the page cache,
// not in this process.
func (r *Reader) mapped(l Layout, row, n int64, f func(int64, []byte) error) error {
	at := l.Offset + row*l.RowBytes
	base := at / pageSize * pageSize
	size := int(n * l.RowBytes)
	m, err := unix.Mmap(r.fd, base, int(at-base)+size, unix.PROT_READ, unix.MAP_SHARED|populate)
	if err != nil {
		return errNoMap
	}
	defer unix.Munmap(m)
	r.Mapped += int64(size)
	return callFaulting(f, n, m[at-base:], m, base)
}

// callFaulting calls f(n, data) and turns a memory fault in the mapping m,
// which starts at byte base of the file, into an ErrChanged error: the page
// was gone, the file shorter than when it was mapped.
func callFaulting(f func(int64, []byte) error, n int64, data, m []byte, base int64) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		e := recover()
		if e == nil {
			return
		}
		var fault interface{ Addr() uintptr }
		if pe, ok := e.(error); ok && errors.As(pe, &fault) {
			start := uintptr(unsafe.Pointer(unsafe.SliceData(m)))
			if a := fault.Addr(); a >= start && a < start+uintptr(len(m)) {
				err = fmt.Errorf("%w: the page at byte %d is gone (the file was truncated)", ErrChanged, base+int64(a-start))
				return
			}
		}
		panic(e)
	}()
	return f(n, data)
}

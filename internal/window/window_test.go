package window

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"

	"github.com/sparsekit/l0/internal/rows"
)

// file writes a file of a header of offset bytes and rows rows of
// rowBytes, each byte its own index mod 251, and returns it open.
func file(t *testing.T, offset, rows, rowBytes int) (*os.File, []byte) {
	t.Helper()
	data := make([]byte, offset+rows*rowBytes)
	for i := range data {
		data[i] = byte(i % 251)
	}
	path := filepath.Join(t.TempDir(), "array")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, data
}

// machineOrder returns the little-endian elements of b in the machine's
// byte order.
func machineOrder(b []byte, size int) []byte {
	out := append([]byte(nil), b...)
	rows.ToHost(out, size)
	return out
}

// TestRows reads every range of a small array through both paths and with
// budgets from less than a row to more than the array, at aligned and
// unaligned offsets, and checks the windows tile the range with the right
// bytes, each aligned for its elements.
func TestRows(t *testing.T) {
	for _, c := range []struct{ offset, rowBytes, elem int }{
		{128, 64, 4}, {4096, 24, 8}, {3, 12, 4}, {10, 6, 2}, {0, 5, 1}, {8000, 4096, 4},
	} {
		const count = 9
		f, data := file(t, c.offset, count, c.rowBytes)
		l := Layout{Offset: int64(c.offset), RowBytes: int64(c.rowBytes), Rows: count, ElemSize: c.elem}
		for _, mapping := range []bool{false, true} {
			for _, budget := range []int{1, c.rowBytes, 2*c.rowBytes + 1, 1 << 20} {
				for from := int64(0); from <= count; from++ {
					for to := from; to <= count; to++ {
						r := NewReader(f, budget, map[bool]int{true: budget}[mapping])
						next := from
						err := r.Rows(l, from, to, func(n int64, b []byte) error {
							want := machineOrder(data[c.offset+int(next)*c.rowBytes:c.offset+int(next+n)*c.rowBytes], c.elem)
							if !bytes.Equal(b, want) {
								return fmt.Errorf("rows [%d, %d): wrong bytes", next, next+n)
							}
							if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%uintptr(c.elem) != 0 {
								return fmt.Errorf("rows [%d, %d): not aligned", next, next+n)
							}
							if n > max(1, int64(budget/c.rowBytes)) {
								return fmt.Errorf("%d rows in a window of %d bytes", n, budget)
							}
							next += n
							return nil
						})
						if err != nil || next != to {
							t.Fatalf("%+v, mapping %v, budget %d, [%d, %d): %v, read to %d", c, mapping, budget, from, to, err, next)
						}
						wantMapped := mapping && canMap && !rows.HostBigEndian && c.offset%c.elem == 0
						if (r.Mapped > 0) != (wantMapped && to > from) || r.Mapped+r.Read != (to-from)*int64(c.rowBytes) {
							t.Fatalf("%+v, mapping %v: %d bytes mapped, %d read", c, mapping, r.Mapped, r.Read)
						}
					}
				}
			}
		}
	}
}

// TestEmptyRows checks rows of no bytes come in one call, however many.
func TestEmptyRows(t *testing.T) {
	f, _ := file(t, 16, 0, 0)
	calls := 0
	err := NewReader(f, 1, 1).Rows(Layout{Offset: 16, Rows: 1 << 62, ElemSize: 4}, 0, 1<<62, func(n int64, b []byte) error {
		calls++
		if n != 1<<62 || len(b) != 0 {
			return fmt.Errorf("%d rows, %d bytes", n, len(b))
		}
		return nil
	})
	if err != nil || calls != 1 {
		t.Errorf("%d calls: %v", calls, err)
	}
}

// TestBadRanges checks ranges outside the array are errors, not panics.
func TestBadRanges(t *testing.T) {
	f, _ := file(t, 0, 4, 8)
	l := Layout{RowBytes: 8, Rows: 4, ElemSize: 4}
	for _, r := range [][2]int64{{-1, 2}, {3, 2}, {0, 5}} {
		if err := NewReader(f, 64, 64).Rows(l, r[0], r[1], func(int64, []byte) error { return nil }); err == nil {
			t.Errorf("rows %v: no error", r)
		}
	}
	for _, bad := range []Layout{{RowBytes: 6, Rows: 4, ElemSize: 4}, {RowBytes: 8, Rows: 4}, {RowBytes: -8, Rows: 4, ElemSize: 4},
		{Offset: 1 << 62, RowBytes: 1 << 40, Rows: 1 << 30, ElemSize: 4}} {
		if err := NewReader(f, 64, 64).Rows(bad, 0, bad.Rows, func(int64, []byte) error { return nil }); err == nil {
			t.Errorf("layout %+v: no error", bad)
		}
	}
	want := errors.New("stop")
	if err := NewReader(f, 8, 8).Rows(l, 0, 4, func(int64, []byte) error { return want }); err != want {
		t.Errorf("the caller's error: %v", err)
	}
}

// TestShrunk checks a file that is shorter than its layout, or that is
// truncated while a window is counted, is an ErrChanged error on both
// paths, never a crash: on the mapped path the truncation takes the
// window's pages away under the caller, which faults (SIGBUS).
func TestShrunk(t *testing.T) {
	for _, mapping := range []bool{false, true} {
		if mapping && faultsEmulated() {
			t.Log("mapped: skipped under qemu-user, which does not deliver the fault precisely")
			continue
		}
		f, _ := file(t, 64, 100, 4096)
		l := Layout{Offset: 64, RowBytes: 4096, Rows: 100, ElemSize: 4}
		if err := f.Truncate(0); err == nil {
			t.Fatal("truncated a read-only file")
		}
		w, err := os.OpenFile(f.Name(), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		err = NewReader(f, 16<<10, map[bool]int{true: 16 << 10}[mapping]).Rows(l, 0, 100, func(n int64, b []byte) error {
			if err := w.Truncate(64 + 4096*2); err != nil {
				return err
			}
			for _, x := range b {
				sum += int(x)
			}
			return nil
		})
		w.Close()
		if !errors.Is(err, ErrChanged) {
			t.Errorf("mapping %v: %v, want ErrChanged", mapping, err)
		}
		t.Logf("mapping %v: %v", mapping, err)
	}
}

// TestNotAFile checks a source that is not a file is read, not mapped.
func TestNotAFile(t *testing.T) {
	data := make([]byte, 100)
	binary.LittleEndian.PutUint32(data[4:], 7)
	r := NewReader(bytes.NewReader(data), 1<<20, 1<<20)
	err := r.Rows(Layout{Offset: 4, RowBytes: 8, Rows: 12, ElemSize: 4}, 0, 12, func(n int64, b []byte) error {
		if binary.NativeEndian.Uint32(b) != 7 {
			return errors.New("wrong order")
		}
		return nil
	})
	if err != nil || r.Mapped != 0 || r.Read != 96 {
		t.Errorf("%v: %d mapped, %d read", err, r.Mapped, r.Read)
	}
	if runtime.GOOS == "linux" {
		t.Logf("mapping available: %v", canMap)
	}
}

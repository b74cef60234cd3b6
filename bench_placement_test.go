//go:build linux

package l0_test

import (
	"fmt"
	"slices"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sparsekit/l0/kernel"
)

// The placement benchmarks: the same call on the same bytes, placed so that
// x ends on a page boundary, with the page after it
//
//   - touched: mapped and written once (what a Go buffer in a busy heap
//     has after it, and what every other benchmark measures);
//   - page-end: mapped but never touched, so not present (a fresh make, an
//     mmap'd file window, memory from C);
//   - page-end-guard: PROT_NONE (a guard page).
//
// A load that reaches into a page that is not present, even one whose lanes
// there are all masked off, costs a microcode assist of hundreds of cycles
// (SPEC §7): the page-end cases show it as a ratio below 1 against touched
// (vs-touched, measured against the touched twin in the same moments),
// which internal/benchratio prints per case and as the worst per level:
//
//	go test -run '^$' -bench BenchmarkPlacement -count 5 . | go run ./internal/benchratio
//
// On a shared machine prefer alternating passes to -count alone, which
// repeats each case back to back.

// placements are the states of the page after x, touched first: the
// reference of the others.
var placements = []string{"touched", "page-end", "page-end-guard"}

// placementSizes are the bytes of x: ten float32, a page, four pages.
var placementSizes = []int{40, 4 << 10, 16 << 10}

// placeAtPageEnd returns size bytes, a copy of data, that end on a page
// boundary of a fresh mapping, the page after them in the given state. It
// fails the benchmark at cleanup if a page-end case found the next page
// present: something (not a masked-off lane, which never makes a page
// present) read it, and the case measured nothing.
func placeAtPageEnd(b *testing.B, data []byte, placement string) []byte {
	b.Helper()
	page := unix.Getpagesize()
	dataPages := (len(data) + page - 1) / page
	mem, err := unix.Mmap(-1, 0, (dataPages+1)*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		b.Fatalf("mmap: %v", err)
	}
	// Base pages only: a transparent huge page would make the next page
	// present along with x.
	_ = unix.Madvise(mem, unix.MADV_NOHUGEPAGE)
	end := dataPages * page
	x, next := mem[end-len(data):end:end], mem[end:]
	copy(x, data)
	switch placement {
	case "touched":
		next[0] = 1
	case "page-end":
		b.Cleanup(func() {
			if resident(next[:page]) {
				b.Errorf("the page after x became present: the page-end case measured a touched page")
			}
		})
	case "page-end-guard":
		if err := unix.Mprotect(next, unix.PROT_NONE); err != nil {
			b.Fatalf("mprotect: %v", err)
		}
	default:
		b.Fatalf("unknown placement %q", placement)
	}
	b.Cleanup(func() { _ = unix.Munmap(mem) })
	return x
}

// resident reports whether the page p starts is present, by mincore(2).
func resident(p []byte) bool {
	var vec [1]byte
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), uintptr(unsafe.Pointer(&vec[0])))
	return errno == 0 && vec[0]&1 != 0
}

// placementCase is one call measured at every placement: name, the element
// type, and the call on x (of which it may use a prefix, returned as the
// bytes it read: whole rows of a matrix).
type placementCase struct {
	family, typ string
	width       int
	shape       func(n int) int // the bytes of an input of at most n bytes; 0 to skip
	call        func(x []byte)
	sizes       []int // in place of placementSizes
}

var placementCounts = make([]uint64, 512)

// inputs returns the sizes of c's inputs (placementSizes, or c.sizes) of
// which c.shape leaves some bytes.
func (c placementCase) inputs() []int {
	sizes := placementSizes
	if c.sizes != nil {
		sizes = c.sizes
	}
	var out []int
	for _, n := range sizes {
		if c.shape(n) > 0 {
			out = append(out, n)
		}
	}
	return out
}

// whole returns the shape of inputs of whole elements of width bytes.
func whole(width int) func(n int) int { return func(n int) int { return n / width * width } }

// matrixOf returns the shape of inputs of whole rows of cols elements of
// width bytes.
func matrixOf(width, cols int) func(n int) int {
	return func(n int) int { return n / (cols * width) * cols * width }
}

func countCase[T kernel.Element](typ string) placementCase {
	var zero T
	w := int(unsafe.Sizeof(zero))
	return placementCase{"CountNonZero", typ, w, whole(w), func(x []byte) { sink += kernel.CountNonZero(elems[T](x)) }, nil}
}

// placementCases: the counts of every lane width, the threshold rules in
// both modes (CountAboveKeys: a threshold below zero), rows, column tiles
// (an AddNonZeroColumnsN or AddAboveColumnsN is N columns wide) and a
// stream.
var placementCases = []placementCase{
	countCase[float32]("f32"), countCase[uint8]("u8"), countCase[kernel.BFloat16]("bf16"), countCase[float64]("f64"),
	{"CountAbove", "f32", 4, whole(4), func(x []byte) { sink += kernel.CountAbove(elems[float32](x), 0) }, nil},
	{"CountAboveKeys", "f32", 4, whole(4), func(x []byte) { sink += kernel.CountAbove(elems[float32](x), -0.5) }, nil},
	{"CountAbsAbove", "f32", 4, whole(4), func(x []byte) { sink += kernel.CountAbsAbove(elems[float32](x), 0.5) }, nil},
	// Rows of 512 float32 (2 KiB), or one row of all of a shorter x.
	{"CountNonZeroRows512", "f32", 4, whole(4), func(x []byte) {
		v := elems[float32](x)
		_ = kernel.CountNonZeroRows(placementCounts[:4], v, min(512, len(v)))
	}, nil},
	{"AddNonZeroColumns3", "f32", 4, matrixOf(4, 3), func(x []byte) { _ = kernel.AddNonZeroColumns(placementCounts[:3], elems[float32](x)) }, nil},
	{"AddNonZeroColumns100", "f32", 4, matrixOf(4, 100), func(x []byte) { _ = kernel.AddNonZeroColumns(placementCounts[:100], elems[float32](x)) }, nil},
	{"AddAboveColumns100", "f32", 4, matrixOf(4, 100), func(x []byte) { _ = kernel.AddAboveColumns(placementCounts[:100], elems[float32](x), 0) }, nil},
	// A stream (rows of at least 1 KiB, 16 of them or more) with a partial
	// vector at the end of each row: 16 rows of 260 float32.
	{"AddNonZeroColumns260", "f32", 4, matrixOf(4, 260), func(x []byte) { _ = kernel.AddNonZeroColumns(placementCounts[:260], elems[float32](x)) }, []int{16 * 260 * 4}},
}

// againstTouched makes b.N calls on x and as many on y, the same bytes with
// the page after them touched, in alternating blocks, and returns the median
// over pairs of blocks of the speed on x over the speed on y, and the time
// of all the calls on x. The two are timed in the same moments, and a pair
// that a burst of another process's work lands in moves the median little:
// the ratio holds on a shared machine whose speed changes from one
// millisecond to the next.
func againstTouched(b *testing.B, call func([]byte), x, y []byte) (float64, time.Duration) {
	const blocks = 32
	per := max(1, b.N/blocks)
	var onX time.Duration
	var ratios []float64
	b.ResetTimer()
	for done, turn := 0, 0; done < b.N; turn++ {
		k := min(per, b.N-done)
		first, second := x, y
		if turn%2 == 1 {
			first, second = y, x
		}
		t0 := time.Now()
		for i := 0; i < k; i++ {
			call(first)
		}
		t1 := time.Now()
		for i := 0; i < k; i++ {
			call(second)
		}
		t2 := time.Now()
		tx, ty := t1.Sub(t0), t2.Sub(t1)
		if turn%2 == 1 {
			tx, ty = ty, tx
		}
		onX += tx
		ratios = append(ratios, float64(ty)/float64(max(tx, 1)))
		done += k
	}
	slices.Sort(ratios)
	return ratios[len(ratios)/2], onX
}

// BenchmarkPlacement: each case at every level and size, at each placement
// of x against the end of a page (see above). MB/s is x's bytes per second;
// read-limit as in the other benchmarks, on the same bytes. A page-end case
// also calls its touched twin, in alternating blocks, and reports the ratio
// of the speeds as vs-touched (1: no cost; 0.5: twice the time); ns/op and
// MB/s are its own calls' only.
func BenchmarkPlacement(b *testing.B) {
	for _, c := range placementCases {
		b.Run(fmt.Sprintf("family=%s/type=%s", c.family, c.typ), func(b *testing.B) {
			eachLevel(b, func(b *testing.B) {
				for _, n := range c.inputs() {
					size := c.shape(n)
					for _, p := range placements {
						b.Run(fmt.Sprintf("n=%s/placement=%s", sizeName(n), p), func(b *testing.B) {
							data := sharedData(size, c.width)
							x := placeAtPageEnd(b, data, p)
							b.SetBytes(int64(size))
							b.ReportAllocs()
							if p == "touched" {
								b.ResetTimer()
								start := time.Now()
								for i := 0; i < b.N; i++ {
									c.call(x)
								}
								reportReadLimit(b, x, time.Since(start))
								return
							}
							ratio, elapsed := againstTouched(b, c.call, x, placeAtPageEnd(b, data, "touched"))
							b.ReportMetric(float64(elapsed)/float64(b.N), "ns/op")
							b.ReportMetric(float64(size)*float64(b.N)/elapsed.Seconds()/1e6, "MB/s")
							b.ReportMetric(ratio, "vs-touched")
							reportReadLimit(b, x, elapsed)
						})
					}
				}
			})
		})
	}
}

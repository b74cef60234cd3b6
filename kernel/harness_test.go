package kernel

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"unsafe"
)

// TestMain makes CI prove which path it ran: when L0_REQUIRE_LEVEL names a
// level, the tests fail unless dispatch selected exactly that level.
func TestMain(m *testing.M) {
	if want := os.Getenv("L0_REQUIRE_LEVEL"); want != "" {
		if err := checkRequiredLevel(want); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

func checkRequiredLevel(want string) error {
	l, err := ParseLevel(want)
	if err != nil {
		return fmt.Errorf("L0_REQUIRE_LEVEL: %w", err)
	}
	if Best() != l || Active() != l {
		return fmt.Errorf("L0_REQUIRE_LEVEL=%s, but dispatch selected %s (available: %v)", want, Active(), Levels())
	}
	return nil
}

func TestRequiredLevel(t *testing.T) {
	want := os.Getenv("L0_REQUIRE_LEVEL")
	if want == "" {
		t.Skip("L0_REQUIRE_LEVEL is not set")
	}
	if err := checkRequiredLevel(want); err != nil {
		t.Fatal(err)
	}
	t.Logf("dispatch selected %s, as required", Active())
}

// forEachLevel runs f as a subtest named after each level this CPU offers,
// with that level pinned.
func forEachLevel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, l := range Levels() {
		t.Run(l.String(), func(t *testing.T) {
			restore := SetLevel(l)
			defer restore()
			if Active() != l {
				t.Fatalf("SetLevel(%s) selected %s", l, Active())
			}
			f(t)
		})
	}
}

// fromBits returns the element whose bit pattern is the low bits of u.
func fromBits[T Element](u uint64) T {
	var v T
	switch unsafe.Sizeof(v) {
	case 1:
		b := uint8(u)
		v = *(*T)(unsafe.Pointer(&b))
	case 2:
		b := uint16(u)
		v = *(*T)(unsafe.Pointer(&b))
	case 4:
		b := uint32(u)
		v = *(*T)(unsafe.Pointer(&b))
	default:
		v = *(*T)(unsafe.Pointer(&u))
	}
	return v
}

// elements reinterprets the bytes b as elements of T (len(b) must be a
// multiple of the width, and b aligned to it).
func elements[T Element](b []byte) []T {
	var zero T
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(zero)))
}

// alignedBytes returns n bytes starting offset bytes past a 64-byte boundary.
func alignedBytes(n, offset int) []byte {
	backing := make([]uint64, (n+offset+128)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(backing))), len(backing)*8)
	skip := int((64 - uintptr(unsafe.Pointer(&b[0]))%64) % 64)
	return b[skip+offset : skip+offset+n : skip+offset+n]
}

// typeCase describes one element type for the table-driven tests, with
// the bytes-level operations they need.
type typeCase struct {
	name     string
	width    int
	zeros    []uint64 // bit patterns that are zero
	nonZeros []uint64 // bit patterns that are not
	count    func(b []byte) int
	rows     func(counts []uint64, b []byte, width int) error
	add      func(counts []uint64, b []byte) error // AddNonZeroColumns
	index    map[string]indexValues                // AddNonZeroIndexCounts, by index type
	naive    func(b []byte) int                    // an oracle independent of the kernels
	fill     func(b []byte, bits uint64)
}

// indexValues is an Add...IndexCounts function of one index and value
// type, on bytes.
type indexValues func(counts []uint64, features int, ib, vb []byte, k int) error

func nonZeroIndex[I Index, T Element](counts []uint64, features int, ib, vb []byte, k int) error {
	return AddNonZeroIndexCounts(counts, features, elements[I](ib), elements[T](vb), k)
}

func newCase[T Element](name string, isZero func(T) bool, zeros, nonZeros []uint64) typeCase {
	var zero T
	return typeCase{
		name:     name,
		width:    int(unsafe.Sizeof(zero)),
		zeros:    zeros,
		nonZeros: nonZeros,
		count:    func(b []byte) int { return CountNonZero(elements[T](b)) },
		rows: func(counts []uint64, b []byte, width int) error {
			return CountNonZeroRows(counts, elements[T](b), width)
		},
		add:   func(counts []uint64, b []byte) error { return AddNonZeroColumns(counts, elements[T](b)) },
		index: byIndexType[indexValues](nonZeroIndex[int32, T], nonZeroIndex[int64, T], nonZeroIndex[uint16, T], nonZeroIndex[uint32, T]),
		naive: func(b []byte) int {
			n := 0
			for _, v := range elements[T](b) {
				if !isZero(v) {
					n++
				}
			}
			return n
		},
		fill: func(b []byte, bits uint64) {
			v := fromBits[T](bits)
			for i := range elements[T](b) {
				elements[T](b)[i] = v
			}
		},
	}
}

// put writes the element of bits at index i of b.
func (c typeCase) put(b []byte, i int, bits uint64) {
	for k := 0; k < c.width; k++ {
		b[i*c.width+k] = byte(bits >> (8 * k))
	}
}

// random fills b with elements that are zero with probability 1/2: a zero
// pattern (for floats, +0 or -0), else an edge value or random bits.
func (c typeCase) random(rng *rand.Rand, b []byte) {
	for i := 0; i < len(b)/c.width; i++ {
		var bits uint64
		switch r := rng.IntN(8); {
		case r < 4:
			bits = c.zeros[rng.IntN(len(c.zeros))]
		case r < 6:
			bits = c.nonZeros[rng.IntN(len(c.nonZeros))]
		default:
			bits = rng.Uint64()
		}
		c.put(b, i, bits)
	}
}

func half16IsZero(v uint16) bool { return v&0x7fff == 0 }

// typeCases is every element type with its edge values: +0 and -0 for
// floats (0x8000 for the 16-bit ones), NaN payloads, ±Inf, the smallest
// subnormal of each sign, and for integers the patterns with only the top
// bit set, which count there.
var typeCases = []typeCase{
	newCase[float32]("f32", func(v float32) bool { return v == 0 },
		[]uint64{0, 0x80000000},
		[]uint64{1, 0x80000001, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc00001, 0xffffffff, 0x3f800000, 0x00800000, 0x40000000}),
	newCase[float64]("f64", func(v float64) bool { return v == 0 },
		[]uint64{0, 1 << 63},
		[]uint64{1, 1<<63 | 1, 0x7ff0000000000000, 0xfff0000000000000, 0x7ff8000000000000, 0x7ff0000000000001, 0xffffffffffffffff, 0x3ff0000000000000, 1 << 32, 1 << 62}),
	newCase[Float16]("f16", func(v Float16) bool { return half16IsZero(uint16(v)) },
		[]uint64{0, 0x8000},
		[]uint64{1, 0x8001, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xffff, 0x3c00, 0x0400, 0x4000}),
	newCase[BFloat16]("bf16", func(v BFloat16) bool { return half16IsZero(uint16(v)) },
		[]uint64{0, 0x8000},
		[]uint64{1, 0x8001, 0x7f80, 0xff80, 0x7fc0, 0x7f81, 0xffff, 0x3f80, 0x0080, 0x4000}),
	newCase[int8]("i8", func(v int8) bool { return v == 0 }, []uint64{0}, []uint64{1, 0x80, 0xff, 0x7f, 0x40}),
	newCase[int16]("i16", func(v int16) bool { return v == 0 }, []uint64{0}, []uint64{1, 0x8000, 0xffff, 0x7fff, 0x0100}),
	newCase[int32]("i32", func(v int32) bool { return v == 0 }, []uint64{0}, []uint64{1, 0x80000000, 0xffffffff, 0x7fffffff, 0x00010000}),
	newCase[int64]("i64", func(v int64) bool { return v == 0 }, []uint64{0}, []uint64{1, 1 << 63, ^uint64(0), 1 << 32, 1<<63 - 1}),
	newCase[uint8]("u8", func(v uint8) bool { return v == 0 }, []uint64{0}, []uint64{1, 0x80, 0xff, 0x7f, 0x40}),
	newCase[uint16]("u16", func(v uint16) bool { return v == 0 }, []uint64{0}, []uint64{1, 0x8000, 0xffff, 0x7fff, 0x0100}),
	newCase[uint32]("u32", func(v uint32) bool { return v == 0 }, []uint64{0}, []uint64{1, 0x80000000, 0xffffffff, 0x7fffffff, 0x00010000}),
	newCase[uint64]("u64", func(v uint64) bool { return v == 0 }, []uint64{0}, []uint64{1, 1 << 63, ^uint64(0), 1 << 32, 1<<63 - 1}),
}

// maxSweepBytes is the longest input of the exhaustive length sweeps: three
// unrolled blocks of the widest vector (4 x 64 bytes each), one more vector
// and a partial one, so every loop of every kernel runs and every tail length
// is seen.
const maxSweepBytes = 3*4*64 + 64 + 63 + 64

// offsetStep is the step between the start offsets (in a cache line) that
// the length sweeps try for elements of the given width: every element
// offset, or with -short (the race detector's run in CI, where each call
// costs ten times more; every other run tries them all) every third one.
func offsetStep(width int) int {
	if testing.Short() {
		return 3 * width
	}
	return width
}

// elementsOf reinterprets the bytes b as lanes of W.
func elementsOf[W word](b []byte) []W {
	var w W
	return unsafe.Slice((*W)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(w)))
}

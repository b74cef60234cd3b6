//go:build arm64 && gc && !purego

package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// neonKernel is one generated NEON kernel, called directly (without the
// generic tail and without chunking), with the pattern of one lane that
// counts and one that does not.
type neonKernel struct {
	name          string
	count         func(b []byte) int
	width         int
	nonZero, zero uint64
}

func newNEONKernel[W word](name string, f func([]W) int, nonZero, zero uint64) neonKernel {
	var w W
	width := int(unsafe.Sizeof(w))
	return neonKernel{
		name:    name,
		width:   width,
		nonZero: nonZero,
		zero:    zero,
		count: func(b []byte) int {
			return f(unsafe.Slice((*W)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/width))
		},
	}
}

// The non-zero pattern of each kernel is the one with every bit set that
// counts, so every lane counts and each test sets every bit that decides;
// the zero pattern of the float kernels is -0, which must not count.
var neonKernelCases = []neonKernel{
	newNEONKernel("Bits8", countNonZeroBits8NEON, 0xff, 0),
	newNEONKernel("Bits16", countNonZeroBits16NEON, 0xffff, 0),
	newNEONKernel("Float16", countNonZeroFloat16NEON, 0x7fff, 0x8000),
	newNEONKernel("Bits32", countNonZeroBits32NEON, 0xffffffff, 0),
	newNEONKernel("Float32", countNonZeroFloat32NEON, 0x7fffffff, 0x80000000),
	newNEONKernel("Bits64", countNonZeroBits64NEON, ^uint64(0), 0),
	newNEONKernel("Float64", countNonZeroFloat64NEON, 1<<63-1, 1<<63),
}

func (k neonKernel) fill(b []byte, bits uint64) {
	for i := 0; i < len(b); i++ {
		b[i] = byte(bits >> (8 * (i % k.width)))
	}
}

// TestNEONChunkNoOverflow: the lane counters of a kernel cannot overflow at
// the largest input a call gets (ChunkBytes, every lane non-zero), nor at
// several chunks at once, so the bound does not depend on the chunking. For
// 16-bit lanes ChunkBytes is exactly where four counters of a lane would
// reach 65536 without the widening.
func TestNEONChunkNoOverflow(t *testing.T) {
	if !Supported(NEON) {
		t.Skip("this CPU has no ASIMD")
	}
	b := alignedBytes(4*ChunkBytes+3*16, 0)
	for _, k := range neonKernelCases {
		t.Run(k.name, func(t *testing.T) {
			k.fill(b, k.nonZero)
			for _, size := range []int{ChunkBytes - 16, ChunkBytes, ChunkBytes + 16, len(b)} {
				if got, want := k.count(b[:size]), size/k.width; got != want {
					t.Fatalf("%d bytes, every lane non-zero: got %d, want %d", size, got, want)
				}
			}
			k.fill(b, k.zero)
			if got := k.count(b[:ChunkBytes]); got != 0 {
				t.Fatalf("%d bytes of %#x: got %d, want 0", ChunkBytes, k.zero, got)
			}
		})
	}
}

// TestNEONWholeVectorsOnly: a kernel counts the lanes of whole 16-byte
// vectors and leaves the rest to the caller, for every length through the
// main loop's blocks and the single-vector loop.
func TestNEONWholeVectorsOnly(t *testing.T) {
	if !Supported(NEON) {
		t.Skip("this CPU has no ASIMD")
	}
	for _, k := range neonKernelCases {
		b := alignedBytes(5*64+3*16+15, 0)
		k.fill(b, k.nonZero)
		for size := 0; size <= len(b); size += k.width {
			whole := size - size%16
			if got, want := k.count(b[:size]), whole/k.width; got != want {
				t.Fatalf("%s, %d bytes: got %d, want %d (the lanes of %d whole vectors)", k.name, size, got, want, whole/16)
			}
		}
	}
}

// TestNEONBlockBoundaries: one non-zero lane at each position of the first
// vectors after a widening, so a count lost or doubled at the switch from one
// block to the next shows.
func TestNEONBlockBoundaries(t *testing.T) {
	if !Supported(NEON) {
		t.Skip("this CPU has no ASIMD")
	}
	for _, k := range neonKernelCases {
		// blockBytes is the main loop's widening interval in bytes.
		blockBytes := map[int]int{1: 63 * 64, 2: 16383 * 64}[k.width]
		if blockBytes == 0 {
			continue // 32- and 64-bit counters widen only after 64 GiB
		}
		size := 2*blockBytes + 5*16
		b := alignedBytes(size, 0)
		for _, at := range []int{0, blockBytes - k.width, blockBytes, blockBytes + 64 - k.width, 2*blockBytes - k.width, 2 * blockBytes, size - k.width} {
			t.Run(fmt.Sprintf("%s/at=%d", k.name, at), func(t *testing.T) {
				k.fill(b, k.zero)
				k.fill(b[at:at+k.width], k.nonZero)
				if got := k.count(b); got != 1 {
					t.Fatalf("one non-zero lane at byte %d of %d: got %d, want 1", at, size, got)
				}
			})
		}
	}
}

// aboveThresholds are the thresholds of the CountAbove tests: zeros of both
// signs, values between representable ones, subnormals, the extremes and
// the infinities. NaN is left out: CountAbove never calls a kernel for it.
var aboveThresholds = []float64{0, math.Copysign(0, -1), 1, -1, 0.1, -0.1, 1e-50, -1e-50, 5e-324, -5e-324,
	1e-40, 6e-8, 65504, 3e38, -3e38, math.MaxFloat64, -math.MaxFloat64, math.Inf(1), math.Inf(-1)}

// neonAboveCase is one CountAbove width: the generated kernels called
// directly, the NEON table's kernels (which add the generic tail), the one
// aboveOf picks per threshold, and the generic oracle.
type neonAboveCase[W word] struct {
	name string
	// raw and rawNonNegative are the generated kernels for any threshold
	// (keys) and for thresholds >= 0 (bits).
	raw, rawNonNegative func(x []W, lo, span W) int
	// neon returns the NEON table's kernel for a threshold that needs keys
	// or not.
	neon     func(keys bool) rangeKernel[W]
	oracle   rangeKernel[W]
	floor    func(float64) floatBits[W]
	patterns typeCase // the element type's zero and non-zero edge values
}

func (c neonAboveCase[W]) run(t *testing.T) {
	if !Supported(NEON) {
		t.Skip("this CPU has no ASIMD")
	}
	var w W
	width := int(unsafe.Sizeof(w))
	edges := append(append([]uint64{}, c.patterns.zeros...), c.patterns.nonZeros...)
	rng := rand.New(rand.NewPCG(9, uint64(width)))
	for _, threshold := range aboveThresholds {
		r := aboveRange(c.floor(threshold))
		lo, span := r.lo, r.span
		if !r.ok {
			continue
		}
		// Every length through the main loop, its blocks of four vectors,
		// the single vectors and the generic tail, at every lane offset in
		// a cache line (every 16 bytes with -short).
		step := width
		if testing.Short() {
			step = 16
		}
		for offset := 0; offset < 64; offset += step {
			for n := 0; n <= maxSweepBytes/width; n++ {
				x := elementsOf[W](alignedBytes(n*width, offset))
				for i := range x {
					if rng.IntN(2) == 0 {
						x[i] = W(edges[rng.IntN(len(edges))])
					} else {
						x[i] = W(rng.Uint64())
					}
				}
				if got, want := c.neon(r.keys)(x, lo, span), c.oracle(x, lo, span); got != want {
					t.Fatalf("threshold %g, offset %d, n=%d: NEON %d, generic %d", threshold, offset, n, got, want)
				}
				// Each generated kernel on its own, for every threshold it
				// takes: the general one for all, the other for lo >= 0.
				whole := x[:n-n%(16/width)]
				want := c.oracle(whole, lo, span)
				if got := c.raw(whole, lo, span); got != want {
					t.Fatalf("threshold %g, offset %d, n=%d: general kernel %d, generic %d", threshold, offset, len(whole), got, want)
				}
				if lo>>(8*width-1) == 0 {
					if got := c.rawNonNegative(whole, lo, span); got != want {
						t.Fatalf("threshold %g, offset %d, n=%d: non-negative kernel %d, generic %d", threshold, offset, len(whole), got, want)
					}
				}
			}
		}
	}

	// The largest input of one call, every lane above the threshold: the
	// lane counters of both kernels must not overflow.
	zero := aboveRange(c.floor(0))
	lo, span := zero.lo, zero.span
	x := elementsOf[W](alignedBytes(ChunkBytes, 0))
	for _, raw := range []func(x []W, lo, span W) int{c.raw, c.rawNonNegative} {
		for _, bits := range []uint64{1, c.patterns.nonZeros[2]} { // the smallest subnormal, +Inf
			for i := range x {
				x[i] = W(bits)
			}
			if got := raw(x, lo, span); got != len(x) {
				t.Fatalf("%d lanes of %#x above 0: got %d", len(x), bits, got)
			}
		}
		for i := range x {
			x[i] = W(c.patterns.zeros[1]) // -0 is not above 0
		}
		if got := raw(x, lo, span); got != 0 {
			t.Fatalf("%d lanes of -0 above 0: got %d", len(x), got)
		}
	}
}

// typeCaseNamed returns the harness's edge values of one element type.
func typeCaseNamed(name string) typeCase {
	for _, c := range typeCases {
		if c.name == name {
			return c
		}
	}
	panic("no type case " + name)
}

// TestNEONCountAbove checks the NEON CountAbove kernels against the generic
// ones for every float type, threshold, length and lane offset, and their
// lane counters at the largest input of one call.
func TestNEONCountAbove(t *testing.T) {
	k, g := implFor(NEON), &genericImpl
	t.Run("f16", neonAboveCase[uint16]{"f16", countAboveKeysFloat16NEON, countAboveBitsFloat16NEON, aboveCount[uint16](k), g.above.keyInRange.w16.count, float16Floor, typeCaseNamed("f16")}.run)
	t.Run("bf16", neonAboveCase[uint16]{"bf16", countAboveKeysFloat16NEON, countAboveBitsFloat16NEON, aboveCount[uint16](k), g.above.keyInRange.w16.count, bfloat16Floor, typeCaseNamed("bf16")}.run)
	t.Run("f32", neonAboveCase[uint32]{"f32", countAboveKeysFloat32NEON, countAboveBitsFloat32NEON, aboveCount[uint32](k), g.above.keyInRange.w32.count, float32Floor, typeCaseNamed("f32")}.run)
	t.Run("f64", neonAboveCase[uint64]{"f64", countAboveKeysFloat64NEON, countAboveBitsFloat64NEON, aboveCount[uint64](k), g.above.keyInRange.w64.count, float64Floor, typeCaseNamed("f64")}.run)
}

// aboveCount returns the x > t count kernel of table k for a threshold
// that needs keys or not.
func aboveCount[W floatWord](k *impl) func(keys bool) rangeKernel[W] {
	return func(keys bool) rangeKernel[W] {
		if keys {
			return rangeOf[W](&k.above.keyInRange).count
		}
		return rangeOf[W](&k.above.bitsInRange).count
	}
}

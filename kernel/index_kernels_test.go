package kernel

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// The index family's kernels one by one: each level's max, mask and
// scatter kernels against the generic ones, on every length up to a few
// 64-lane groups past the unrolled loops, at every start offset in a cache
// line, and against guard pages on both sides of every slice they read.

// maxIndexLanes is the longest input of the kernel sweeps, in lanes: four
// 64-lane groups, 64 more for the scatter's unrolled words, and a partial
// group.
const maxIndexLanes = 4*64 + 64 + 37

// kernelCase is one kernel of the family on bytes, at the level of f: run
// returns what it computed, as a comparable string of bytes.
type kernelCase struct {
	name  string
	width int // of the lanes it reads
	run   func(f *indexFamily, b []byte, rng *rand.Rand) []byte
}

func maxCase[I indexWord](name string, pick func(f *indexFamily) maxKernel[I]) kernelCase {
	return kernelCase{name, int(unsafe.Sizeof(I(0))), func(f *indexFamily, b []byte, _ *rand.Rand) []byte {
		m := pick(f)(elements[I](b))
		return unsafe.Slice((*byte)(unsafe.Pointer(&m)), unsafe.Sizeof(m))
	}}
}

// maskOut runs a mask kernel into a bitmap full of ones, so that a bit past
// the lanes left set shows.
func maskOut(n int, mask func(bits []uint64)) []byte {
	bits := make([]uint64, (n+63)/64)
	for i := range bits {
		bits[i] = ^uint64(0)
	}
	mask(bits)
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(bits))), 8*len(bits))
}

func maskCase[W word](name string, pick func(f *indexFamily) maskKernel[W]) kernelCase {
	return kernelCase{name, int(unsafe.Sizeof(W(0))), func(f *indexFamily, b []byte, _ *rand.Rand) []byte {
		x := elements[W](b)
		return maskOut(len(x), func(bits []uint64) { pick(f)(bits, x) })
	}}
}

// rangeMaskCase runs with lo and span drawn from the same generator in
// every run of a test (the tests reseed it): random, or near the edges.
func rangeMaskCase[W uint16 | uint32 | uint64](name string, pick func(f *indexFamily) rangeMaskKernel[W]) kernelCase {
	return kernelCase{name, int(unsafe.Sizeof(W(0))), func(f *indexFamily, b []byte, rng *rand.Rand) []byte {
		x := elements[W](b)
		lo, span := W(rng.Uint64()), W(rng.Uint64())
		if rng.IntN(2) == 0 { // a threshold's range: up to +Inf's key
			infs := map[uintptr]uint64{2: 0x7c00, 4: 0x7f800000, 8: 0x7ff0000000000000}
			inf := W(infs[unsafe.Sizeof(lo)])
			lo = W(rng.IntN(3))
			span = inf - lo
		}
		return maskOut(len(x), func(bits []uint64) { pick(f)(bits, x, lo, span) })
	}}
}

// scatterCase scatters the lanes of b, most of them reduced below a random
// number of counters (some left as they are, out of range), with random
// bits, into counters that start near 255.
func scatterCase[I indexWord](name string, pick func(f *indexFamily) scatterKernel[I]) kernelCase {
	return kernelCase{name, int(unsafe.Sizeof(I(0))), func(f *indexFamily, b []byte, rng *rand.Rand) []byte {
		index := elements[I](b)
		small := make([]uint8, 1+rng.IntN(300))
		for i := range small {
			small[i] = uint8(250 + rng.IntN(6))
		}
		outOfRange := rng.IntN(4) == 0
		for i := range index {
			if !outOfRange || rng.IntN(len(index)) != 0 {
				index[i] %= I(len(small))
			}
		}
		bits := make([]uint64, (len(index)+63)/64)
		for i := range bits {
			bits[i] = rng.Uint64()
		}
		carries := make([]uint32, len(index))
		n, bad := pick(f)(small, index, bits, carries)
		if bad >= 0 { // small and carries then hold an unspecified part
			return fmt.Appendf(nil, "bad %d", bad)
		}
		out := fmt.Appendf(nil, "%d carries: ", n)
		out = append(out, small...)
		return append(out, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(carries))), 4*n)...)
	}}
}

// widenCase widens the bytes of b into counts that start random, and
// returns the counts and b, which must be zero after.
var widenCase = kernelCase{"widen", 1, func(f *indexFamily, b []byte, rng *rand.Rand) []byte {
	counts := make([]uint64, len(b))
	for i := range counts {
		counts[i] = rng.Uint64() >> 1
	}
	f.widen(counts, b)
	out := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(counts))), 8*len(counts))
	return append(slices.Clone(out), b...)
}}

var indexKernelCases = []kernelCase{
	widenCase,
	maxCase("max16", func(f *indexFamily) maxKernel[uint16] { return f.max.u16 }),
	maxCase("max32", func(f *indexFamily) maxKernel[uint32] { return f.max.u32 }),
	maxCase("max64", func(f *indexFamily) maxKernel[uint64] { return f.max.u64 }),
	maskCase("nonZero bits8", func(f *indexFamily) maskKernel[uint8] { return f.mask.nonZero.bits8 }),
	maskCase("nonZero bits16", func(f *indexFamily) maskKernel[uint16] { return f.mask.nonZero.bits16 }),
	maskCase("nonZero float16", func(f *indexFamily) maskKernel[uint16] { return f.mask.nonZero.float16 }),
	maskCase("nonZero bits32", func(f *indexFamily) maskKernel[uint32] { return f.mask.nonZero.bits32 }),
	maskCase("nonZero float32", func(f *indexFamily) maskKernel[uint32] { return f.mask.nonZero.float32 }),
	maskCase("nonZero bits64", func(f *indexFamily) maskKernel[uint64] { return f.mask.nonZero.bits64 }),
	maskCase("nonZero float64", func(f *indexFamily) maskKernel[uint64] { return f.mask.nonZero.float64 }),
	rangeMaskCase("aboveBits f16", func(f *indexFamily) rangeMaskKernel[uint16] { return f.mask.aboveBits.f16 }),
	rangeMaskCase("aboveBits f32", func(f *indexFamily) rangeMaskKernel[uint32] { return f.mask.aboveBits.f32 }),
	rangeMaskCase("aboveBits f64", func(f *indexFamily) rangeMaskKernel[uint64] { return f.mask.aboveBits.f64 }),
	rangeMaskCase("aboveKeys f16", func(f *indexFamily) rangeMaskKernel[uint16] { return f.mask.aboveKeys.f16 }),
	rangeMaskCase("aboveKeys f32", func(f *indexFamily) rangeMaskKernel[uint32] { return f.mask.aboveKeys.f32 }),
	rangeMaskCase("aboveKeys f64", func(f *indexFamily) rangeMaskKernel[uint64] { return f.mask.aboveKeys.f64 }),
	rangeMaskCase("absAbove f16", func(f *indexFamily) rangeMaskKernel[uint16] { return f.mask.absAbove.f16 }),
	rangeMaskCase("absAbove f32", func(f *indexFamily) rangeMaskKernel[uint32] { return f.mask.absAbove.f32 }),
	rangeMaskCase("absAbove f64", func(f *indexFamily) rangeMaskKernel[uint64] { return f.mask.absAbove.f64 }),
	scatterCase("scatter16", func(f *indexFamily) scatterKernel[uint16] { return f.scatter.u16 }),
	scatterCase("scatter32", func(f *indexFamily) scatterKernel[uint32] { return f.scatter.u32 }),
	scatterCase("scatter64", func(f *indexFamily) scatterKernel[uint64] { return f.scatter.u64 }),
}

// randomLanes fills b with lanes of width bytes: zero, small, large, all
// ones, the patterns of floats' zeros, or random bits.
func randomLanes(rng *rand.Rand, b []byte, width int) {
	for i := 0; i+width <= len(b); i += width {
		var v uint64
		switch rng.IntN(6) {
		case 0:
		case 1:
			v = uint64(rng.IntN(1000))
		case 2:
			v = ^uint64(0) >> uint(rng.IntN(64))
		case 3:
			v = 1 << (8*width - 1) // -0, and the largest signed magnitude's neighbour
		default:
			v = rng.Uint64()
		}
		for k := 0; k < width; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
}

// TestIndexKernelsGeneric checks every kernel of each level against the
// generic one, every length up to maxIndexLanes at every offset of its
// lane width in a cache line.
func TestIndexKernelsGeneric(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		f := &active.Load().index
		for ci, c := range indexKernelCases {
			rng := rand.New(rand.NewPCG(61, uint64(ci)))
			for n := 0; n <= maxIndexLanes; n++ {
				for offset := 0; offset < 64; offset += c.width * (1 + n%7) {
					b := alignedBytes(n*c.width, offset)
					randomLanes(rng, b, c.width)
					seed := rng.Uint64()
					want := c.run(&genericIndexFamily, slices.Clone(b), rand.New(rand.NewPCG(seed, 0)))
					got := c.run(f, b, rand.New(rand.NewPCG(seed, 0)))
					if !slices.Equal(got, want) {
						t.Fatalf("%s, %d lanes at offset %d: got %x, want %x", c.name, n, offset, got, want)
					}
				}
			}
		}
	})
}

// TestIndexKernelsGuardPages runs every kernel of each level on slices
// that end at, or begin at, a page no one may read.
func TestIndexKernelsGuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		f := &active.Load().index
		mem := guardedPages(t, 8*maxIndexLanes)
		for ci, c := range indexKernelCases {
			rng := rand.New(rand.NewPCG(71, uint64(ci)))
			for n := 0; n <= maxIndexLanes; n++ {
				size := n * c.width
				for _, b := range [][]byte{mem[len(mem)-size:], mem[:size:size]} {
					randomLanes(rng, b, c.width)
					if err := catchFault(func() { c.run(f, b, rng) }); err != nil {
						t.Fatalf("%s, %d lanes: read outside the slice: %v", c.name, n, err)
					}
				}
			}
		}
	})
}

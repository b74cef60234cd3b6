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

// kernelRun runs one kernel of the index family on bytes, lanes of width
// bytes, and returns what it computed as a comparable string of bytes.
type kernelRun struct {
	width int // of the lanes it reads
	run   func(b []byte, rng *rand.Rand) []byte
}

// indexKernelRun returns the run of k if it is a kernel of the index
// family (a mask of any rule, max, scatter or widen).
func indexKernelRun(k any) (kernelRun, bool) {
	switch k := k.(type) {
	case maskKernel[uint8]:
		return maskRun(k), true
	case maskKernel[uint16]:
		return maskRun(k), true
	case maskKernel[uint32]:
		return maskRun(k), true
	case maskKernel[uint64]:
		return maskRun(k), true
	case rangeMaskKernel[uint16]:
		return rangeMaskRun(k), true
	case rangeMaskKernel[uint32]:
		return rangeMaskRun(k), true
	case rangeMaskKernel[uint64]:
		return rangeMaskRun(k), true
	case maxKernel[uint16]:
		return maxRun(k), true
	case maxKernel[uint32]:
		return maxRun(k), true
	case maxKernel[uint64]:
		return maxRun(k), true
	case scatterKernel[uint16]:
		return scatterRun(k), true
	case scatterKernel[uint32]:
		return scatterRun(k), true
	case scatterKernel[uint64]:
		return scatterRun(k), true
	case widenKernel:
		return widenRun(k), true
	}
	return kernelRun{}, false
}

func maxRun[I indexWord](k maxKernel[I]) kernelRun {
	return kernelRun{int(unsafe.Sizeof(I(0))), func(b []byte, _ *rand.Rand) []byte {
		m := k(elementsOf[I](b))
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

func maskRun[W word](k maskKernel[W]) kernelRun {
	return kernelRun{int(unsafe.Sizeof(W(0))), func(b []byte, _ *rand.Rand) []byte {
		x := elementsOf[W](b)
		return maskOut(len(x), func(bits []uint64) { k(bits, x) })
	}}
}

// rangeMaskRun runs with lo and span drawn from the same generator in
// every run of a test (the tests reseed it): random, or near the edges.
func rangeMaskRun[W floatWord](k rangeMaskKernel[W]) kernelRun {
	return kernelRun{int(unsafe.Sizeof(W(0))), func(b []byte, rng *rand.Rand) []byte {
		x := elementsOf[W](b)
		lo, span := W(rng.Uint64()), W(rng.Uint64())
		if rng.IntN(2) == 0 { // a threshold's range: up to +Inf's key
			infs := map[uintptr]uint64{2: 0x7c00, 4: 0x7f800000, 8: 0x7ff0000000000000}
			inf := W(infs[unsafe.Sizeof(lo)])
			lo = W(rng.IntN(3))
			span = inf - lo
		}
		return maskOut(len(x), func(bits []uint64) { k(bits, x, lo, span) })
	}}
}

// scatterRun scatters the lanes of b, most of them reduced below a random
// number of counters (some left as they are, out of range), with random
// bits, into counters that start near 255.
func scatterRun[I indexWord](k scatterKernel[I]) kernelRun {
	return kernelRun{int(unsafe.Sizeof(I(0))), func(b []byte, rng *rand.Rand) []byte {
		index := elementsOf[I](b)
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
		n, bad := k(small, index, bits, carries)
		if bad >= 0 { // small and carries then hold an unspecified part
			return fmt.Appendf(nil, "bad %d", bad)
		}
		out := fmt.Appendf(nil, "%d carries: ", n)
		out = append(out, small...)
		return append(out, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(carries))), 4*n)...)
	}}
}

// widenRun widens the bytes of b into counts that start random, and
// returns the counts and b, which must be zero after.
func widenRun(k widenKernel) kernelRun {
	return kernelRun{1, func(b []byte, rng *rand.Rand) []byte {
		counts := make([]uint64, len(b))
		for i := range counts {
			counts[i] = rng.Uint64() >> 1
		}
		k(counts, b)
		out := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(counts))), 8*len(counts))
		return append(slices.Clone(out), b...)
	}}
}

// indexKernelCase is one index kernel of the active level's table, with
// the generic kernel at the same place of the generic table.
type indexKernelCase struct {
	path           string
	level, generic kernelRun
}

// indexKernelCases returns every kernel of the index family in the active
// table: whatever rules the table holds, each mask is tested.
func indexKernelCases(t *testing.T) []indexKernelCase {
	level, generic := tableKernels(active.Load()), tableKernels(&genericImpl)
	var cases []indexKernelCase
	for i, k := range level {
		if run, ok := indexKernelRun(k.kernel); ok {
			g, _ := indexKernelRun(generic[i].kernel)
			cases = append(cases, indexKernelCase{k.path, run, g})
		}
	}
	if len(cases) < 23 {
		t.Fatalf("only %d kernels of the index family in the table", len(cases))
	}
	return cases
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
		for ci, c := range indexKernelCases(t) {
			width := c.level.width
			rng := rand.New(rand.NewPCG(61, uint64(ci)))
			for n := 0; n <= maxIndexLanes; n++ {
				for offset := 0; offset < 64; offset += width * (1 + n%7) {
					b := alignedBytes(n*width, offset)
					randomLanes(rng, b, width)
					seed := rng.Uint64()
					want := c.generic.run(slices.Clone(b), rand.New(rand.NewPCG(seed, 0)))
					got := c.level.run(b, rand.New(rand.NewPCG(seed, 0)))
					if !slices.Equal(got, want) {
						t.Fatalf("%s, %d lanes at offset %d: got %x, want %x", c.path, n, offset, got, want)
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
		mem := guardedPages(t, 8*maxIndexLanes)
		for ci, c := range indexKernelCases(t) {
			width := c.level.width
			rng := rand.New(rand.NewPCG(71, uint64(ci)))
			for n := 0; n <= maxIndexLanes; n++ {
				size := n * width
				for _, b := range [][]byte{mem[len(mem)-size:], mem[:size:size]} {
					randomLanes(rng, b, width)
					if err := catchFault(func() { c.level.run(b, rng) }); err != nil {
						t.Fatalf("%s, %d lanes: read outside the slice: %v", c.path, n, err)
					}
				}
			}
		}
	})
}

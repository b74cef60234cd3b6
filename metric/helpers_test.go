package metric

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/sparsekit/l0/kernel"

	"github.com/stretchr/testify/require"
)

// The test oracle: element by element, from the definitions, sharing no
// code with the kernels.

// fromBits returns the element whose bit pattern is the low bytes of u.
func fromBits[T kernel.Element](u uint64) T {
	return *(*T)(unsafe.Pointer(&u)) // little-endian: the low bytes come first
}

// isNonZero is the definition: floats ignore the sign bit, integers do not.
func isNonZero[T kernel.Element](v T) bool {
	switch v := any(v).(type) {
	case float32:
		return math.Float32bits(v)&0x7fffffff != 0
	case float64:
		return math.Float64bits(v)&^(1<<63) != 0
	case kernel.Float16:
		return v&0x7fff != 0
	case kernel.BFloat16:
		return v&0x7fff != 0
	}
	var zero T
	return v != zero
}

// value returns the exact value of a float element as a float64.
func value[T kernel.Float](v T) float64 {
	switch v := any(v).(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	case kernel.BFloat16:
		return float64(math.Float32frombits(uint32(v) << 16))
	case kernel.Float16:
		sign := 1.0
		if v&0x8000 != 0 {
			sign = -1
		}
		exp, frac := int(v>>10&0x1f), float64(v&0x3ff)
		switch exp {
		case 0:
			return sign * math.Ldexp(frac, -24)
		case 0x1f:
			if frac != 0 {
				return math.NaN()
			}
			return math.Inf(int(sign))
		}
		return sign * math.Ldexp(1024+frac, exp-25)
	}
	panic("unreachable")
}

// oracleSlots counts x of shape l per component with counts.
func oracleSlots[T kernel.Element](x []T, l layout, counts func(T) bool) []uint64 {
	out := make([]uint64, l.slots)
	for i, v := range x {
		if counts(v) {
			out[i/l.features%l.slots]++
		}
	}
	return out
}

// oracleColumns counts x of shape l per (component, feature).
func oracleColumns[T kernel.Element](x []T, l layout, counts func(T) bool) []uint64 {
	out := make([]uint64, l.slots*l.features)
	for i, v := range x {
		if counts(v) {
			out[i%len(out)]++
		}
	}
	return out
}

// interesting returns bit patterns of the edge values of T's kind: zeros,
// -0, the smallest subnormal, NaN, ±Inf, ±0.5, ±1, ±1.5.
func interesting[T kernel.Element]() []uint64 {
	var zero T
	switch any(zero).(type) {
	case float32:
		return []uint64{0, 0x80000000, 1, 0x80000001, 0x7fc00000, 0xffc00001, 0x7f800000, 0xff800000,
			0x3f000000, 0xbf000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0xbfc00000}
	case float64:
		return []uint64{0, 1 << 63, 1, 1<<63 | 1, 0x7ff8000000000000, 0xfff0000000000001, 0x7ff0000000000000, 0xfff0000000000000,
			0x3fe0000000000000, 0xbfe0000000000000, 0x3ff0000000000000, 0xbff0000000000000, 0x3ff8000000000000, 0xbff8000000000000}
	case kernel.Float16:
		return []uint64{0, 0x8000, 1, 0x8001, 0x7e00, 0xfc01, 0x7c00, 0xfc00, 0x3800, 0xb800, 0x3c00, 0xbc00, 0x3e00, 0xbe00}
	case kernel.BFloat16:
		return []uint64{0, 0x8000, 1, 0x8001, 0x7fc0, 0xff81, 0x7f80, 0xff80, 0x3f00, 0xbf00, 0x3f80, 0xbf80, 0x3fc0, 0xbfc0}
	}
	return []uint64{0, 1, ^uint64(0), 1 << (8*unsafe.Sizeof(zero) - 1)}
}

// randomData returns n elements, about half of them zero (+0 or -0 for
// floats), the rest edge values or random bit patterns.
func randomData[T kernel.Element](rng *rand.Rand, n int) []T {
	edges := interesting[T]()
	x := make([]T, n)
	for i := range x {
		switch r := rng.IntN(10); {
		case r < 5:
			x[i] = fromBits[T](edges[rng.IntN(2)]) // 0 or -0 (or 1 for integers)
		case r < 7:
			x[i] = fromBits[T](edges[rng.IntN(len(edges))])
		default:
			x[i] = fromBits[T](rng.Uint64())
		}
	}
	return x
}

// withChecksum returns b with its trailing CRC-32C recomputed, so that a
// test or fuzz input reaches the checks behind the checksum.
func withChecksum(b []byte) []byte {
	if len(b) < checksumSize {
		return b
	}
	b = append([]byte(nil), b...)
	body := len(b) - checksumSize
	binary.LittleEndian.PutUint32(b[body:], crc32.Checksum(b[:body], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// marshaler is a metric's state as bytes, to compare before and after a
// call that must change nothing.
type marshaler interface{ MarshalBinary() ([]byte, error) }

func stateOf(t testing.TB, m marshaler) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	require.NoError(t, err)
	return b
}

// forEachLevel runs f once per kernel level this CPU can run, so that the
// metrics are checked on top of every kernel, not only the best.
func forEachLevel(t *testing.T, f func(t *testing.T)) {
	for _, l := range kernel.Levels() {
		t.Run("level="+l.String(), func(t *testing.T) {
			restore := kernel.SetLevel(l)
			defer restore()
			f(t)
		})
	}
}

// testElements lists every element type once for the tests run per type:
// its name, its tests, and for the float types the tests of the
// thresholded rules (nil for the integers).
var testElements = []struct {
	name  string
	all   elementTests
	float floatTests
}{
	{"float32", elementSuite[float32]{}, floatSuite[float32]{}},
	{"float64", elementSuite[float64]{}, floatSuite[float64]{}},
	{"float16", elementSuite[kernel.Float16]{}, floatSuite[kernel.Float16]{}},
	{"bfloat16", elementSuite[kernel.BFloat16]{}, floatSuite[kernel.BFloat16]{}},
	{"int8", elementSuite[int8]{}, nil},
	{"int16", elementSuite[int16]{}, nil},
	{"int32", elementSuite[int32]{}, nil},
	{"int64", elementSuite[int64]{}, nil},
	{"uint8", elementSuite[uint8]{}, nil},
	{"uint16", elementSuite[uint16]{}, nil},
	{"uint32", elementSuite[uint32]{}, nil},
	{"uint64", elementSuite[uint64]{}, nil},
}

// elementTests are the tests run for every element type, the methods of
// elementSuite[T]: Go cannot pass a generic function uninstantiated, so
// each test is a method, instantiated once per type in testElements.
type elementTests interface {
	seed(t *testing.T)
	l0NormOracle(t *testing.T)
	activityOracle(t *testing.T)
}

type elementSuite[T kernel.Element] struct{}

func (elementSuite[T]) seed(t *testing.T)           { testSeed[T](t) }
func (elementSuite[T]) l0NormOracle(t *testing.T)   { testL0NormTypes[T](t) }
func (elementSuite[T]) activityOracle(t *testing.T) { testActivityTypes[T](t) }

// floatTests are the tests run for every float type.
type floatTests interface {
	l0NormAbove(t *testing.T)
	activityAbove(t *testing.T)
}

type floatSuite[F kernel.Float] struct{}

func (floatSuite[F]) l0NormAbove(t *testing.T)   { testL0NormAboveTypes[F](t) }
func (floatSuite[F]) activityAbove(t *testing.T) { testActivityAboveTypes[F](t) }

// forEachElement runs, at every kernel level, test for every element type
// and float (unless nil) for every float type, as subtests named after the
// types.
func forEachElement(t *testing.T, test func(elementTests, *testing.T), float func(floatTests, *testing.T)) {
	forEachLevel(t, func(t *testing.T) {
		for _, e := range testElements {
			t.Run(e.name, func(t *testing.T) { test(e.all, t) })
		}
		for _, e := range testElements {
			if float != nil && e.float != nil {
				t.Run(e.name, func(t *testing.T) { float(e.float, t) })
			}
		}
	})
}

// randomLayout returns a random shape for a metric of the given components
// (features fixed when features >= 0), mixing long rows, short rows and
// empty batches.
func randomLayout(rng *rand.Rand, components, features int) []int {
	batch := []int{0, 1, 2, 3, 7, 16, 33, 200}[rng.IntN(8)]
	if features < 0 {
		features = []int{0, 1, 2, 3, 5, 8, 17, minRowFeatures - 1, minRowFeatures, minRowFeatures + 1, 130, 300}[rng.IntN(12)]
	}
	if batch > 1 && batch*max(components, 1)*features > 1<<14 {
		batch = 1 + (1<<14)/(max(components, 1)*features) // keep the test quick
	}
	if components == 0 {
		return []int{batch, features}
	}
	return []int{batch, components, features}
}

// shapeOf returns the shape of a batch for a metric of the given
// components: [batch, features], or [batch, components, features].
func shapeOf(batch, components, features int) []int {
	if components == 0 {
		return []int{batch, features}
	}
	return []int{batch, components, features}
}

// layoutOf returns the layout of a valid shape.
func layoutOf(shape []int) layout {
	if len(shape) == 2 {
		return layout{batch: shape[0], slots: 1, features: shape[1]}
	}
	return layout{batch: shape[0], slots: shape[1], features: shape[2]}
}

// product returns the number of elements of a valid shape.
func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// trials returns n, or a quarter of it with -short (the race detector run).
func trials(n int) int {
	if testing.Short() {
		return max(n/4, 6)
	}
	return n
}

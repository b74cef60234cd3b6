package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// floatRule is a rule of counting by threshold, with its oracle on float64
// values: x > t (CountAbove, CountAboveRows, AddAboveColumns) or |x| > t
// (CountAbsAbove, CountAbsAboveRows, AddAbsAboveColumns).
type floatRule struct {
	name  string
	holds func(v, t float64) bool
	// always is a value that holds against every finite threshold.
	always float64
}

var (
	ruleAbove    = floatRule{"above", func(v, t float64) bool { return v > t }, math.Inf(1)}
	ruleAbsAbove = floatRule{"abs", func(v, t float64) bool { return math.Abs(v) > t }, math.Inf(1)}
	floatRules   = []floatRule{ruleAbove, ruleAbsAbove}
)

// floatCase describes one float type for the threshold tests: its value in
// float64 computed independently of the kernels' keys, its edge patterns,
// and each rule's functions on bytes.
type floatCase struct {
	name    string
	width   int
	value   func(bits uint64) float64
	edges   []uint64
	addCols func(counts []uint64, b []byte) error
	funcs   map[string]ruleFuncs
}

// ruleFuncs are one rule's functions, on bytes: one per shape, the index
// counts by index type.
type ruleFuncs struct {
	count func(b []byte, t float64) int
	rows  func(counts []uint64, b []byte, width int, t float64) error
	add   func(counts []uint64, b []byte, t float64) error
	index map[string]indexThreshold
}

// indexThreshold is an Add...IndexCounts function of a threshold rule, of
// one index and value type, on bytes.
type indexThreshold func(counts []uint64, features int, ib, vb []byte, k int, t float64) error

func aboveIndex[I Index, T Float](counts []uint64, features int, ib, vb []byte, k int, t float64) error {
	return AddAboveIndexCounts(counts, features, elements[I](ib), elements[T](vb), k, t)
}

func absAboveIndex[I Index, T Float](counts []uint64, features int, ib, vb []byte, k int, t float64) error {
	return AddAbsAboveIndexCounts(counts, features, elements[I](ib), elements[T](vb), k, t)
}

func newFloatCase[T Float](name string, value func(uint64) float64, edges []uint64) floatCase {
	return floatCase{
		name:    name,
		width:   int(unsafe.Sizeof(T(0))),
		value:   value,
		edges:   edges,
		addCols: func(c []uint64, b []byte) error { return AddNonZeroColumns(c, elements[T](b)) },
		funcs: map[string]ruleFuncs{
			ruleAbove.name: {
				count: func(b []byte, t float64) int { return CountAbove(elements[T](b), t) },
				rows:  func(c []uint64, b []byte, w int, t float64) error { return CountAboveRows(c, elements[T](b), w, t) },
				add:   func(c []uint64, b []byte, t float64) error { return AddAboveColumns(c, elements[T](b), t) },
				index: byIndexType[indexThreshold](aboveIndex[int32, T], aboveIndex[int64, T], aboveIndex[uint16, T], aboveIndex[uint32, T]),
			},
			ruleAbsAbove.name: {
				count: func(b []byte, t float64) int { return CountAbsAbove(elements[T](b), t) },
				rows:  func(c []uint64, b []byte, w int, t float64) error { return CountAbsAboveRows(c, elements[T](b), w, t) },
				add:   func(c []uint64, b []byte, t float64) error { return AddAbsAboveColumns(c, elements[T](b), t) },
				index: byIndexType[indexThreshold](absAboveIndex[int32, T], absAboveIndex[int64, T], absAboveIndex[uint16, T], absAboveIndex[uint32, T]),
			},
		},
	}
}

// count, rows and add are rule r's functions on b.
func (c floatCase) count(r floatRule, b []byte, t float64) int { return c.funcs[r.name].count(b, t) }

func (c floatCase) rows(r floatRule, counts []uint64, b []byte, width int, t float64) error {
	return c.funcs[r.name].rows(counts, b, width, t)
}

func (c floatCase) add(r floatRule, counts []uint64, b []byte, t float64) error {
	return c.funcs[r.name].add(counts, b, t)
}

// index is rule r's index counts of index type x, on bytes.
func (c floatCase) index(r floatRule, x indexType) indexThreshold {
	return c.funcs[r.name].index[x.name]
}

// halfValue is the value of an IEEE half pattern: math.Ldexp on the
// integer significand.
func halfValue(u uint64) float64 {
	h := uint16(u)
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, mant := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0x1f:
		if mant != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	case 0:
		return sign * math.Ldexp(mant, -24)
	}
	return sign * math.Ldexp(1024+mant, exp-25)
}

// floatCases: each float type with its edge patterns: ±0, the smallest and
// largest subnormals, the smallest normal, ±1, the largest finite values,
// ±Inf and NaN payloads (quiet, signalling, negative, largest).
var floatCases = []floatCase{
	newFloatCase[float32]("f32", func(u uint64) float64 { return float64(math.Float32frombits(uint32(u))) },
		[]uint64{0, 0x80000000, 1, 0x80000001, 0x007fffff, 0x807fffff, 0x00800000, 0x3f800000, 0xbf800000, 0x3dcccccd,
			0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc00001, 0x7fffffff, 0xffffffff}),
	newFloatCase[float64]("f64", math.Float64frombits,
		[]uint64{0, 1 << 63, 1, 1<<63 | 1, 0x000fffffffffffff, 0x800fffffffffffff, 0x0010000000000000, 0x3ff0000000000000, 0xbff0000000000000,
			0x3fb999999999999a, 0x7fefffffffffffff, 0xffefffffffffffff, 0x7ff0000000000000, 0xfff0000000000000,
			0x7ff8000000000000, 0x7ff0000000000001, 0xfff8000000000001, 0x7fffffffffffffff, 0xffffffffffffffff}),
	newFloatCase[Float16]("f16", halfValue,
		[]uint64{0, 0x8000, 1, 0x8001, 0x03ff, 0x83ff, 0x0400, 0x3c00, 0xbc00, 0x2e66, 0x7bff, 0xfbff, 0x7c00, 0xfc00,
			0x7e00, 0x7c01, 0xfe01, 0x7fff, 0xffff}),
	newFloatCase[BFloat16]("bf16", func(u uint64) float64 { return float64(math.Float32frombits(uint32(u) << 16)) },
		[]uint64{0, 0x8000, 1, 0x8001, 0x007f, 0x807f, 0x0080, 0x3f80, 0xbf80, 0x3dcd, 0x7f7f, 0xff7f, 0x7f80, 0xff80,
			0x7fc0, 0x7f81, 0xffc1, 0x7fff, 0xffff}),
}

// put writes the pattern bits at index i of b.
func (c floatCase) put(b []byte, i int, bits uint64) {
	for k := 0; k < c.width; k++ {
		b[i*c.width+k] = byte(bits >> (8 * k))
	}
}

func (c floatCase) get(b []byte, i int) uint64 {
	var bits uint64
	for k := 0; k < c.width; k++ {
		bits |= uint64(b[i*c.width+k]) << (8 * k)
	}
	return bits
}

// edgeOf returns the edge pattern of value v.
func (c floatCase) edgeOf(v float64) uint64 {
	for _, e := range c.edges {
		if c.value(e) == v {
			return e
		}
	}
	panic("no edge pattern of this value")
}

// naive counts the elements of b whose float64 value holds rule r with t:
// Go's own comparison, exact since every element is exact in float64.
func (c floatCase) naive(r floatRule, b []byte, t float64) int {
	n := 0
	for i := 0; i < len(b)/c.width; i++ {
		if r.holds(c.value(c.get(b, i)), t) {
			n++
		}
	}
	return n
}

// nan returns the first NaN pattern among c's edges: it counts by no rule.
func (c floatCase) nan() uint64 {
	for _, e := range c.edges {
		if math.IsNaN(c.value(e)) {
			return e
		}
	}
	panic("no NaN edge")
}

// forEachRule runs f as a subtest per rule.
func forEachRule(t *testing.T, f func(t *testing.T, r floatRule)) {
	for _, r := range floatRules {
		t.Run(r.name, func(t *testing.T) { f(t, r) })
	}
}

// random fills b with edge patterns, random bits, and values near the
// thresholds the tests use (small numbers of either sign, a few ulps from
// the edges).
func (c floatCase) random(rng *rand.Rand, b []byte) {
	for i := 0; i < len(b)/c.width; i++ {
		var bits uint64
		switch r := rng.IntN(8); {
		case r < 2:
			bits = c.edges[rng.IntN(len(c.edges))]
		case r < 4:
			bits = rng.Uint64()
		default:
			bits = c.edges[rng.IntN(len(c.edges))] + uint64(rng.IntN(5)) - 2
			if r > 5 { // a "normal" value around 1 in magnitude
				bits = c.near(rng)
			}
		}
		c.put(b, i, bits)
	}
}

// near returns a pattern of magnitude about 2^-4..2^4, of either sign.
func (c floatCase) near(rng *rand.Rand) uint64 {
	f := rng.NormFloat64()
	switch c.name {
	case "f32":
		return uint64(math.Float32bits(float32(f)))
	case "f64":
		return math.Float64bits(f)
	case "bf16":
		return uint64(math.Float32bits(float32(f)) >> 16)
	}
	return uint64(float16Floor(f).bits) + uint64(rng.IntN(3))
}

// thresholds are the thresholds every float test compares at: zero of each
// sign, NaN, ±Inf, each edge value of the type exactly and one float64 ulp
// either side, values between two representable ones, beyond the type's
// range, and tiny ones that round to zero in every type.
func (c floatCase) thresholds() []float64 {
	ts := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 0.1, -0.1, 0.5, -0.5, 1.5, -2.5,
		1e-50, -1e-50, 1e-320, -1e-320, 1e300, -1e300, math.MaxFloat64, -math.MaxFloat64, math.MaxFloat32, 70000, -70000,
		math.Float64frombits(0x7ff8000000000001), math.Float64frombits(0xfff0000000000001)}
	for _, e := range c.edges {
		v := c.value(e)
		if math.IsNaN(v) {
			continue
		}
		ts = append(ts, v, math.Nextafter(v, math.Inf(1)), math.Nextafter(v, math.Inf(-1)))
		if next := c.value(e + 1); !math.IsNaN(next) && !math.IsInf(next, 0) {
			ts = append(ts, (v+next)/2)
		}
	}
	return ts
}

// TestCountAboveNaiveOracle checks CountAbove and CountAbsAbove at every
// level against the plain float64 comparison, on every edge pattern
// against every threshold and on random data.
func TestCountAboveNaiveOracle(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		forEachRule(t, func(t *testing.T, r floatRule) {
			rng := rand.New(rand.NewPCG(11, 12))
			for _, c := range floatCases {
				edges := alignedBytes(len(c.edges)*c.width, 0)
				for i, e := range c.edges {
					c.put(edges, i, e)
				}
				random := alignedBytes(1000*c.width, 0)
				c.random(rng, random)
				for _, th := range c.thresholds() {
					for _, b := range [][]byte{edges, random} {
						if got, want := c.count(r, b, th), c.naive(r, b, th); got != want {
							t.Fatalf("%s threshold %v (%#x), %d elements: got %d, want %d", c.name, th, math.Float64bits(th), len(b)/c.width, got, want)
						}
					}
					for _, e := range c.edges {
						one := alignedBytes(c.width, 0)
						c.put(one, 0, e)
						if got, want := c.count(r, one, th), c.naive(r, one, th); got != want {
							t.Fatalf("%s: %#x against %v: got %d, want %d", c.name, e, th, got, want)
						}
					}
				}
			}
		})
	})
}

// TestThresholdKeysExhaustive16 decides x > t and |x| > t for every 16-bit
// pattern x of Float16 and BFloat16 by the range comparisons the kernels
// use (the key, or the bits without the sign), against the float64
// comparison, for every threshold of the table and for thresholds at and
// between many representable values.
func TestThresholdKeysExhaustive16(t *testing.T) {
	for _, c := range floatCases {
		if c.width != 2 {
			continue
		}
		floor := float16Floor
		if c.name == "bf16" {
			floor = bfloat16Floor
		}
		ths := c.thresholds()
		for bits := uint64(0); bits < 1<<16; bits += 1999 {
			if v := c.value(bits); !math.IsNaN(v) {
				ths = append(ths, v, math.Nextafter(v, math.Inf(1)), math.Nextafter(v, math.Inf(-1)))
			}
		}
		for _, th := range ths {
			above, abs := aboveRange(floor(th)), absRange(floor(th))
			for bits := 0; bits < 1<<16; bits++ {
				b := uint16(bits)
				v := c.value(uint64(bits))
				if got, want := above.ok && key(b)-above.lo <= above.span, v > th; got != want {
					t.Fatalf("%s: %#04x > %v (%#x): keys say %v", c.name, bits, th, math.Float64bits(th), got)
				}
				if !above.keys && above.ok && (b-above.lo <= above.span) != (v > th) {
					t.Fatalf("%s: %#04x > %v (%#x): bits mode is wrong", c.name, bits, th, math.Float64bits(th))
				}
				if got, want := abs.ok && b&0x7fff-abs.lo <= abs.span, math.Abs(v) > th; got != want {
					t.Fatalf("%s: |%#04x| > %v (%#x): the range says %v", c.name, bits, th, math.Float64bits(th), got)
				}
			}
		}
	}
}

// TestCountAboveLengthsOffsets: every length up to maxSweepBytes at every
// start offset in a cache line, against the generic kernels (themselves
// checked against the naive oracle above).
func TestCountAboveLengthsOffsets(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		forEachRule(t, func(t *testing.T, r floatRule) {
			rng := rand.New(rand.NewPCG(13, 14))
			ths := []float64{0, -0.5, 1, math.Inf(-1)}
			for _, c := range floatCases {
				for offset := 0; offset < 64; offset += offsetStep(c.width) {
					for n := 0; n <= maxSweepBytes/c.width; n++ {
						b := alignedBytes(n*c.width, offset)
						c.random(rng, b)
						th := ths[n%len(ths)]
						got := c.count(r, b, th)
						if want := atLevel(Generic, func() int { return c.count(r, b, th) }); got != want {
							t.Fatalf("%s offset=%d n=%d threshold %v: got %d, generic %d", c.name, offset, n, th, got, want)
						}
					}
				}
			}
		})
	})
}

// TestCountAbovePatterns: all lanes one pattern (every lane or none
// counts: the rule's always, NaN), and a single lane that counts at each
// index among NaNs.
func TestCountAbovePatterns(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		forEachRule(t, func(t *testing.T, r floatRule) {
			for _, c := range floatCases {
				maxN := maxSweepBytes / c.width
				b := alignedBytes(maxN*c.width, 0)
				always, nan := c.edgeOf(r.always), c.nan()
				for _, th := range []float64{0, -1, 1e-50} {
					for n := 0; n <= maxN; n++ {
						for i := 0; i < n; i++ {
							c.put(b, i, always)
						}
						if got := c.count(r, b[:n*c.width], th); got != n {
							t.Fatalf("%s n=%d all %v against %v: got %d", c.name, n, r.always, th, got)
						}
						for i := 0; i < n; i++ {
							c.put(b, i, nan)
						}
						if got := c.count(r, b[:n*c.width], th); got != 0 {
							t.Fatalf("%s n=%d all NaN against %v: got %d", c.name, n, th, got)
						}
					}
					for i := 0; i < maxN; i++ {
						for j := 0; j < maxN; j++ {
							c.put(b, j, nan)
						}
						c.put(b, i, always)
						if got := c.count(r, b, th); got != 1 {
							t.Fatalf("%s: one %v at %d of %d: got %d", c.name, r.always, i, maxN, got)
						}
					}
				}
			}
		})
	})
}

// TestCountAboveGuardPages puts every length flush against a PROT_NONE page
// after its end and before its start.
func TestCountAboveGuardPages(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		forEachRule(t, func(t *testing.T, r floatRule) {
			mem := guardedPages(t, 2*maxSweepBytes)
			rng := rand.New(rand.NewPCG(15, 16))
			floatCases[0].random(rng, mem[:len(mem)/4*4])
			for _, c := range floatCases {
				for n := 0; n <= maxSweepBytes/c.width; n++ {
					size := n * c.width
					for _, b := range [][]byte{mem[len(mem)-size:], mem[:size:size]} {
						for _, th := range []float64{-0.25, 0.25} {
							var got int
							if err := catchFault(func() { got = c.count(r, b, th) }); err != nil {
								t.Fatalf("%s n=%d: read outside the slice: %v", c.name, n, err)
							}
							if want := c.naive(r, b, th); got != want {
								t.Fatalf("%s n=%d: got %d, want %d", c.name, n, got, want)
							}
						}
					}
				}
			}
		})
	})
}

// TestCountAbovePastChunks: lengths past ChunkBytes and the lane counters'
// widening bound, all lanes counting, and random.
func TestCountAbovePastChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("long inputs")
	}
	forEachLevel(t, func(t *testing.T) {
		forEachRule(t, func(t *testing.T, r floatRule) {
			rng := rand.New(rand.NewPCG(17, 18))
			for _, c := range floatCases {
				chunk := ChunkBytes / c.width
				b := alignedBytes((2*chunk+131)*c.width, 0)
				for i := 0; i < len(b)/c.width; i++ {
					c.put(b, i, c.edgeOf(r.always))
				}
				for _, n := range []int{chunk - 1, chunk, chunk + 1, 2*chunk + 131} {
					if got := c.count(r, b[:n*c.width], 1e300); got != n {
						t.Fatalf("%s n=%d all %v: got %d", c.name, n, r.always, got)
					}
				}
				c.random(rng, b)
				if got, want := c.count(r, b, 0.25), c.naive(r, b, 0.25); got != want {
					t.Fatalf("%s n=%d random: got %d, want %d", c.name, len(b)/c.width, got, want)
				}
			}
		})
	})
}

// TestCountAboveAllocs: CountAbove and CountAbsAbove allocate nothing, at
// any level.
func TestCountAboveAllocs(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		for _, r := range floatRules {
			for _, c := range floatCases {
				b := alignedBytes(4096, 0)
				for _, th := range []float64{-0.5, 0.5} {
					if allocs := testing.AllocsPerRun(10, func() { c.count(r, b, th) }); allocs != 0 {
						t.Fatalf("%s %s: %v allocations", r.name, c.name, allocs)
					}
				}
			}
		}
	})
}

// halfFloor is an independent round-down(t) for the 16-bit floats: a binary
// search over the patterns' keys, from -Inf to +Inf, for the largest whose
// float64 value is not above t.
func halfFloor(t float64, inf uint16, value func(uint64) float64) uint16 {
	fromKey := func(k int32) uint16 { // the pattern whose key is k
		if k >= 0 {
			return uint16(k)
		}
		return 0x8000 | uint16(-1-k)
	}
	lo, hi := -1-int32(inf), int32(inf)
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if value(uint64(fromKey(mid))) <= t {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return fromKey(lo)
}

// TestHalfFloors compares float16Floor and bfloat16Floor with the binary
// search at the table's thresholds, at every pattern's value, one float64
// ulp either side of it, and at random float64s of every magnitude.
func TestHalfFloors(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, c := range floatCases {
		if c.width != 2 {
			continue
		}
		floor, inf := float16Floor, uint16(0x7c00)
		if c.name == "bf16" {
			floor, inf = bfloat16Floor, 0x7f80
		}
		ths := c.thresholds()
		for bits := uint64(0); bits < 1<<16; bits++ {
			v := c.value(bits)
			if math.IsNaN(v) {
				continue
			}
			// Either side of v in float64 and in float32 (the floors go
			// through float32), and halfway to the next pattern.
			f := float32(v)
			ths = append(ths, v, math.Nextafter(v, math.Inf(1)), math.Nextafter(v, math.Inf(-1)),
				float64(math.Nextafter32(f, float32(math.Inf(1)))), float64(math.Nextafter32(f, float32(math.Inf(-1)))))
			if next := c.value(bits + 1); !math.IsNaN(next) && !math.IsInf(next, 0) && !math.IsInf(v, 0) {
				ths = append(ths, v+(next-v)/2)
			}
		}
		for _, v := range []float64{65504.5, 65519.999, 65520, 65535.9, 65536, 0x1p-25, 0x1.8p-24, 0x1p-149, 0x1p-150, 3.4e38, 3.5e38} {
			ths = append(ths, v, -v)
		}
		for i := 0; i < 100000; i++ {
			ths = append(ths, math.Float64frombits(rng.Uint64()), math.Ldexp(rng.NormFloat64(), rng.IntN(80)-40))
		}
		for _, th := range ths {
			got := floor(th)
			if math.IsNaN(th) {
				if got.ok {
					t.Fatalf("%s: NaN threshold has a floor", c.name)
				}
				continue
			}
			want := halfFloor(th, inf, c.value)
			if got.bits == 0x8000 && want == 0 { // -0 and +0 are both the floor of 0
				continue
			}
			if !got.ok || got.bits != want || got.inf != inf {
				t.Fatalf("%s: floor(%v = %#x) = %#04x (%v), want %#04x", c.name, th, math.Float64bits(th), got.bits, got.ok, want)
			}
		}
	}
}

package kernel

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// indexType describes one index type for the index family's tests, with
// AddIndexCounts and CheckIndex on bytes. The functions of each rule, by
// index type, are the element type cases' (typeCase.index, floatCase.index).
type indexType struct {
	name   string
	width  int
	signed bool
	top    int64 // the largest index of the type
	all    func(counts []uint64, features int, ib []byte, k int) error
	check  func(ib []byte, limit int) error
}

// byIndexType holds one function per index type, by indexTypes' names.
func byIndexType[F any](i32, i64, u16, u32 F) map[string]F {
	return map[string]F{"i32": i32, "i64": i64, "u16": u16, "u32": u32}
}

func newIndexType[I Index](name string, signed bool, top int64) indexType {
	return indexType{
		name:   name,
		width:  int(unsafe.Sizeof(I(0))),
		signed: signed,
		top:    top,
		all: func(counts []uint64, features int, ib []byte, k int) error {
			return AddIndexCounts(counts, features, elements[I](ib), k)
		},
		check: func(ib []byte, limit int) error { return CheckIndex(elements[I](ib), limit) },
	}
}

var indexTypes = []indexType{
	newIndexType[int32]("i32", true, math.MaxInt32),
	newIndexType[int64]("i64", true, math.MaxInt64),
	newIndexType[uint16]("u16", false, math.MaxUint16),
	newIndexType[uint32]("u32", false, math.MaxUint32),
}

// put writes index v at entry i of b (two's complement for the signed).
func (x indexType) put(b []byte, i int, v int64) {
	for k := 0; k < x.width; k++ {
		b[i*x.width+k] = byte(uint64(v) >> (8 * k))
	}
}

// get reads entry i of b.
func (x indexType) get(b []byte, i int) int64 {
	var u uint64
	for k := 0; k < x.width; k++ {
		u |= uint64(b[i*x.width+k]) << (8 * k)
	}
	if x.signed && x.width < 8 && u>>(8*x.width-1) != 0 {
		u |= ^uint64(0) << (8 * x.width)
	}
	return int64(u)
}

// indices returns n entries of random indices in [0, features), at a start
// offset in a cache line. Each run of k entries holds distinct indices when
// features allows, as top-k outputs do, and otherwise repeats some.
func (x indexType) indices(rng *rand.Rand, n, features, offset int) []byte {
	b := alignedBytes(n*x.width, offset/x.width*x.width)
	limit := features
	if int64(features) > x.top {
		limit = int(x.top) + 1
	}
	for i := 0; i < n; i++ {
		x.put(b, i, int64(rng.IntN(limit)))
	}
	return b
}

// naiveIndexCounts is the oracle: entry i adds counts(i) to
// counts[((i/k)%C)*features + index[i]], or, if an index is outside
// [0, features), counts is unchanged and the first such entry is returned.
func naiveIndexCounts(counts []uint64, features int, x indexType, ib []byte, k int, counted func(i int) bool) int {
	n := len(ib) / x.width
	for i := 0; i < n; i++ {
		if v := x.get(ib, i); v < 0 || v >= int64(features) {
			return i
		}
	}
	for i := 0; i < n; i++ {
		if counted(i) {
			counts[((i/k)%(len(counts)/features))*features+int(x.get(ib, i))]++
		}
	}
	return -1
}

// nonZeroAt returns whether element i of the values b of type c is not
// zero, by the type's own oracle.
func nonZeroAt(c typeCase, b []byte) func(i int) bool {
	return func(i int) bool { return c.naive(b[i*c.width:(i+1)*c.width]) == 1 }
}

// holdsAt returns whether element i of the values b of float type c holds
// rule r with threshold t, compared in float64.
func holdsAt(c floatCase, r floatRule, b []byte, t float64) func(i int) bool {
	return func(i int) bool { return r.holds(c.value(c.get(b, i)), t) }
}

// layout is one shape of the tests: features per component, components,
// entries per row, and rows.
type layout struct{ features, components, k, rows int }

func (l layout) String() string {
	return fmt.Sprintf("%d features x %d components, %d rows of %d", l.features, l.components, l.rows, l.k)
}

// indexLayouts cover both modes (direct: few entries for the counters;
// scratch: many), one and several components, rows of 1 to past a block,
// lengths around the 64-entry words of the bitmaps and the unrolled scatter
// loop, and counters that carry (more than 255 entries each).
func indexLayouts() []layout {
	var ls []layout
	for n := 0; n <= 200; n++ {
		ls = append(ls, layout{64, 1, 1, n})
	}
	for _, n := range []int{255, 256, 257, 511, 512, 513, 2047, 2048, 2049, 4100} {
		ls = append(ls, layout{5, 1, 1, n}, layout{1000, 1, 1, n})
	}
	ls = append(ls,
		layout{1, 1, 1, 700},
		layout{3, 1, 7, 150},
		layout{50, 3, 7, 40},
		layout{20, 2, 64, 30},
		layout{7, 5, 3, 333},
		layout{4000, 1, 16, 10},
		layout{70000, 1, 32, 300},
		layout{10, 2, 3000, 3},
		layout{300, 4, 65, 9},
	)
	return ls
}

// TestIndexCountsNaiveOracle checks every function of the family at every
// level, for every index type and value type, against the naive oracle, on
// counts that already hold counts.
func TestIndexCountsNaiveOracle(t *testing.T) {
	layouts := indexLayouts()
	ths := []float64{0, math.Copysign(0, -1), 0.5, -0.5, 1e-50, math.NaN(), math.Inf(1), math.Inf(-1)}
	if testing.Short() { // every tenth length of the sweep, fewer long runs and thresholds
		layouts = slices.DeleteFunc(layouts, func(l layout) bool {
			return l.features == 64 && l.rows%10 != 3 || l.k == 1 && l.rows > 300 && l.rows%256 != 1
		})
		ths = []float64{0, -0.5, math.NaN()}
	}
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(31, 32))
		for _, x := range indexTypes {
			for li, l := range layouts {
				n := l.rows * l.k
				ib := x.indices(rng, n, l.features, li%64)
				start := make([]uint64, l.features*l.components)
				for i := range start {
					start[i] = uint64(rng.IntN(1000))
				}
				run := func(what string, f func(counts []uint64) error, counted func(i int) bool) {
					t.Helper()
					want := slices.Clone(start)
					if bad := naiveIndexCounts(want, l.features, x, ib, l.k, counted); bad >= 0 {
						t.Fatalf("the test made a bad index at %d", bad)
					}
					got := slices.Clone(start)
					if err := f(got); err != nil {
						t.Fatalf("%s, %s index, %v: %v", what, x.name, l, err)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("%s, %s index, %v: counts differ from the oracle's at %d", what, x.name, l, firstDiff(got, want))
					}
				}
				run("AddIndexCounts", func(c []uint64) error { return x.all(c, l.features, ib, l.k) }, func(int) bool { return true })
				for _, c := range typeCases {
					vb := alignedBytes(n*c.width, (li*c.width)%64)
					c.random(rng, vb)
					run("AddNonZeroIndexCounts "+c.name, func(counts []uint64) error { return c.index[x.name](counts, l.features, ib, vb, l.k) }, nonZeroAt(c, vb))
				}
				for _, c := range floatCases {
					vb := alignedBytes(n*c.width, 0)
					c.random(rng, vb)
					for _, th := range ths {
						for _, r := range floatRules {
							run(fmt.Sprintf("%s index counts %s %v", r.name, c.name, th), func(counts []uint64) error { return c.index(r, x)(counts, l.features, ib, vb, l.k, th) }, holdsAt(c, r, vb, th))
						}
					}
				}
			}
		}
	})
}

func firstDiff(a, b []uint64) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// TestIndexCountsThresholds checks the thresholds of every float type, at
// every level, on each edge pattern against every threshold of
// floatCase.thresholds, scattered over a few features.
func TestIndexCountsThresholds(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		x := indexTypes[0]
		for _, c := range floatCases {
			n := 4 * len(c.edges)
			vb := alignedBytes(n*c.width, 0)
			ib := alignedBytes(n*x.width, 0)
			for i := 0; i < n; i++ {
				c.put(vb, i, c.edges[i%len(c.edges)])
				x.put(ib, i, int64(i%3))
			}
			for _, th := range c.thresholds() {
				for _, r := range floatRules {
					want := make([]uint64, 3)
					naiveIndexCounts(want, 3, x, ib, 1, holdsAt(c, r, vb, th))
					got := make([]uint64, 3)
					if err := c.index(r, x)(got, 3, ib, vb, 1, th); err != nil || !slices.Equal(got, want) {
						t.Fatalf("%s %s %v (%#x): got %v, %v; want %v", r.name, c.name, th, math.Float64bits(th), got, err, want)
					}
				}
			}
		}
	})
}

// TestIndexCountsRepeated counts runs of one index, long enough to carry
// many times, with and without values, in one component and in two.
func TestIndexCountsRepeated(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		for _, x := range indexTypes {
			for _, n := range []int{255, 256, 257, 1000, 65536 + 3, 300000} {
				ib := alignedBytes(n*x.width, 0)
				for i := 0; i < n; i++ {
					x.put(ib, i, 2)
				}
				counts := make([]uint64, 4)
				if err := x.all(counts, 4, ib, 1); err != nil || !slices.Equal(counts, []uint64{0, 0, uint64(n), 0}) {
					t.Fatalf("%s, %d entries of index 2: got %v, %v", x.name, n, counts, err)
				}
				vb := alignedBytes(n*4, 0)
				for i := 0; i < n; i += 3 {
					vb[4*i+3] = 0x3f // 0.5, every third value; the others +0
				}
				counts = make([]uint64, 8)
				if err := typeCases[0].index[x.name](counts, 4, ib, vb, 1); err != nil {
					t.Fatal(err)
				}
				want := make([]uint64, 8)
				naiveIndexCounts(want, 4, x, ib, 1, nonZeroAt(typeCases[0], vb))
				if !slices.Equal(counts, want) {
					t.Fatalf("%s, %d entries of index 2 in two components: got %v, want %v", x.name, n, counts, want)
				}
			}
		}
	})
}

// TestIndexCountsBadIndex puts an index outside [0, features) (negative,
// features itself, the type's largest) at the first, a middle and the last
// entry, in each mode (direct, scratch, and scratch with every index checked
// first), and requires ErrIndex naming the entry and counts unchanged.
func TestIndexCountsBadIndex(t *testing.T) {
	defer func(p int) { maxPendingCarries = p }(maxPendingCarries)
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(41, 42))
		for _, x := range indexTypes {
			for _, mode := range []struct {
				name      string
				features  int
				n, k, cs  int
				maxCarry  int
				hasValues bool
			}{
				{"direct", 5000, 100, 10, 1, 1 << 16, false},
				{"direct components", 500, 60, 6, 3, 1 << 16, true},
				{"scratch", 50, 5000, 1, 1, 1 << 16, false},
				{"scratch values", 50, 5000, 50, 1, 1 << 16, true},
				{"scratch components", 30, 3000, 10, 2, 1 << 16, true},
				{"checked first", 20, 5000, 1, 1, 2, true},
			} {
				maxPendingCarries = mode.maxCarry
				bads := []int64{int64(mode.features), x.top}
				if x.signed {
					bads = append(bads, -1, -int64(mode.features), math.MinInt32)
				}
				for _, pos := range []int{0, 1, mode.n / 2, mode.n - 1} {
					for _, bad := range bads {
						ib := x.indices(rng, mode.n, mode.features, 0)
						x.put(ib, pos, bad)
						bad = x.get(ib, pos)
						vb := alignedBytes(mode.n*4, 0)
						typeCases[0].random(rng, vb)
						counts := make([]uint64, mode.features*mode.cs)
						for i := range counts {
							counts[i] = uint64(i)
						}
						var err error
						if mode.hasValues {
							err = typeCases[0].index[x.name](counts, mode.features, ib, vb, mode.k)
						} else {
							err = x.all(counts, mode.features, ib, mode.k)
						}
						what := fmt.Sprintf("%s, %s index %d at %d of %d", mode.name, x.name, bad, pos, mode.n)
						if !errors.Is(err, ErrIndex) || !strings.Contains(err.Error(), fmt.Sprintf("index[%d] = %d,", pos, bad)) {
							t.Fatalf("%s: error %v", what, err)
						}
						for i, c := range counts {
							if c != uint64(i) {
								t.Fatalf("%s: counts[%d] changed to %d", what, i, c)
							}
						}
						// The scratch must be clean for the next call.
						ib = x.indices(rng, mode.n, mode.features, 0)
						want := make([]uint64, len(counts))
						naiveIndexCounts(want, mode.features, x, ib, mode.k, func(int) bool { return true })
						clear(counts)
						if err := x.all(counts, mode.features, ib, mode.k); err != nil || !slices.Equal(counts, want) {
							t.Fatalf("%s: the next call got %v", what, err)
						}
					}
				}
			}
		}
	})
}

// TestIndexCountsShape: every malformed layout is an ErrShape error that
// changes nothing.
func TestIndexCountsShape(t *testing.T) {
	for _, c := range []struct {
		counts, features, entries, values, k int
	}{
		{4, 4, 4, 4, 0},
		{4, 4, 4, 4, -1},
		{4, 4, 4, 3, 1},
		{4, 4, 4, 5, 1},
		{4, -4, 4, 4, 1},
		{4, 0, 0, 0, 1},
		{0, 0, 4, 4, 1},
		{6, 4, 4, 4, 1},
		{0, 4, 4, 4, 1},
		{8, 4, 6, 6, 4},
		{4, 4, 5, 5, 2},
	} {
		counts := make([]uint64, c.counts)
		for i := range counts {
			counts[i] = 7
		}
		index := make([]int32, c.entries)
		values := make([]float32, c.values)
		for i := range values {
			values[i] = 1
		}
		ib, vb := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(index))), 4*len(index)), unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(values))), 4*len(values))
		errs := []error{AddNonZeroIndexCounts(counts, c.features, index, values, c.k)}
		for _, r := range floatRules {
			errs = append(errs, floatCases[0].index(r, indexTypes[0])(counts, c.features, ib, vb, c.k, 0))
		}
		if c.values == c.entries {
			errs = append(errs, AddIndexCounts(counts, c.features, index, c.k))
		}
		for _, err := range errs {
			if !errors.Is(err, ErrShape) {
				t.Errorf("%+v: error %v, want ErrShape", c, err)
			}
		}
		for _, v := range counts {
			if v != 7 {
				t.Fatalf("%+v: counts changed: %v", c, counts)
			}
		}
	}
	// What is not malformed: no entries, no counters, no features.
	for _, c := range []struct{ counts, features, k int }{{0, 0, 1}, {0, 5, 3}, {10, 5, 1}} {
		if err := AddIndexCounts(make([]uint64, c.counts), c.features, []uint16{}, c.k); err != nil {
			t.Errorf("%+v, no entries: %v", c, err)
		}
	}
}

// TestCheckIndex checks CheckIndex against the naive scan, at every level,
// on every length around the vector groups, with one index out of range
// at each position, and the limits at the edges of each type.
func TestCheckIndex(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(51, 52))
		for _, x := range indexTypes {
			for n := 0; n <= 300; n++ {
				ib := x.indices(rng, n, 1000, n%64)
				if err := x.check(ib, 1000); err != nil {
					t.Fatalf("%s, %d entries in range: %v", x.name, n, err)
				}
				if n == 0 {
					continue
				}
				pos := rng.IntN(n)
				for _, bad := range []int64{1000, x.top, -1} {
					if bad < 0 && !x.signed {
						continue
					}
					x.put(ib, pos, bad)
					err := x.check(ib, 1000)
					if !errors.Is(err, ErrIndex) || !strings.Contains(err.Error(), fmt.Sprintf("index[%d] = %d,", pos, bad)) {
						t.Fatalf("%s, %d entries, %d at %d: %v", x.name, n, bad, pos, err)
					}
				}
			}
			one := alignedBytes(x.width, 0)
			x.put(one, 0, x.top)
			if err := x.check(one, math.MaxInt); (err == nil) != (x.top < math.MaxInt64) {
				t.Errorf("%s: the largest index against math.MaxInt: %v", x.name, err)
			}
			if err := x.check(one, 0); !errors.Is(err, ErrIndex) {
				t.Errorf("%s: limit 0: %v", x.name, err)
			}
			x.put(one, 0, 0)
			if err := x.check(one, -5); !errors.Is(err, ErrIndex) {
				t.Errorf("%s: limit -5: %v", x.name, err)
			}
		}
	})
}

// TestIndexLimit: the unsigned bound of each index type's lanes, and its
// largest value.
func TestIndexLimit(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"int32 10", indexLimit[int32](10), 10},
		{"int32 MaxInt", indexLimit[int32](math.MaxInt), min(math.MaxInt, 1<<31)},
		{"uint32 MaxInt", indexLimit[uint32](math.MaxInt), min(math.MaxInt, 1<<32)},
		{"int64 MaxInt", indexLimit[int64](math.MaxInt), math.MaxInt64},
		{"uint16 70000", indexLimit[uint16](70000), 65536},
		{"uint16 0", indexLimit[uint16](0), 0},
		{"int64 -3", indexLimit[int64](-3), 0},
		{"top int32", indexTop[int32](), math.MaxInt32},
		{"top int64", indexTop[int64](), math.MaxInt64},
		{"top uint16", indexTop[uint16](), math.MaxUint16},
		{"top uint32", indexTop[uint32](), math.MaxUint32},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestIndexCountsManyCounters counts into more counters than the generic
// runs pair (maxPairedCounters), with runs of one index long enough to
// carry, in one component and in two.
func TestIndexCountsManyCounters(t *testing.T) {
	forEachLevel(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(81, 82))
		for _, x := range []indexType{indexTypes[0], indexTypes[1]} {
			for _, l := range []layout{{maxPairedCounters + 1000, 1, 1, 60000}, {maxPairedCounters/2 + 500, 2, 10, 6000}} {
				n := l.rows * l.k
				ib := x.indices(rng, n, l.features, 0)
				for i := 0; i < 1000; i++ {
					x.put(ib, i, 5)
				}
				vb := alignedBytes(4*n, 0)
				typeCases[0].random(rng, vb)
				for _, r := range indexRules(x, vb, -0.5) {
					want := make([]uint64, l.features*l.components)
					naiveIndexCounts(want, l.features, x, ib, l.k, r.counted)
					got := make([]uint64, len(want))
					if err := r.add(got, l.features, ib, l.k); err != nil || !slices.Equal(got, want) {
						t.Fatalf("%s, %s index, %v: error %v, counts differ at %d", r.name, x.name, l, err, firstDiff(got, want))
					}
				}
			}
		}
	})
}

// indexRule is one rule of the index family on float32 values vb, with its
// threshold bound: its index counts and the oracle of the entries it
// counts.
type indexRule struct {
	name    string
	add     func(counts []uint64, features int, ib []byte, k int) error
	counted func(i int) bool
}

// indexRules returns every rule of the index family for index type x:
// every entry, x != 0, and each threshold rule with threshold t.
func indexRules(x indexType, vb []byte, t float64) []indexRule {
	c := floatCases[0] // float32
	rules := []indexRule{
		{"all", x.all, func(int) bool { return true }},
		{"nonZero", func(counts []uint64, features int, ib []byte, k int) error {
			return typeCases[0].index[x.name](counts, features, ib, vb, k)
		}, nonZeroAt(typeCases[0], vb)},
	}
	for _, r := range floatRules {
		rules = append(rules, indexRule{r.name, func(counts []uint64, features int, ib []byte, k int) error {
			return c.index(r, x)(counts, features, ib, vb, k, t)
		}, holdsAt(c, r, vb, t)})
	}
	return rules
}

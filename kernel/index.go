package kernel

import (
	"errors"
	"fmt"
	"math"
)

// The index family: per-feature counts of sparse activations, given as
// (feature index, value) entries rather than dense rows.
//
// A top-k sparse autoencoder's encoder gives, per activation vector, k
// feature indices and their k values; a batch-top-k encoder or an
// activation cache gives a flat list of entries. Each function here adds,
// for every entry whose value counts, one to the counter of its feature:
// the dense AddNonZeroColumns' counts, without the dense matrix.

// Index is the set of feature index types: int32 and int64 (torch's topk
// indices), uint16 and uint32 (delphi's caches).
type Index interface {
	int32 | int64 | uint16 | uint32
}

// ErrIndex is the error, wrapped with the position and the value, of an
// index outside [0, features): negative, or not below the number of
// features. It is not ErrShape: the shapes may be right and one index
// wrong.
var ErrIndex = errors.New("kernel: index out of range")

// AddIndexCounts adds one to a counter for every entry of index: entry i,
// in row i/k of k entries, adds one to counts[c*features + index[i]] where
// c = (i/k) % C is the row's component and C = len(counts)/features the
// number of components.
//
// Two layouts of sparse activations fit this one signature:
//
//   - a flat list of entries (batch-top-k, caches): len(counts) = features,
//     one component; k is then any positive divisor of len(index), 1 will
//     do;
//   - top-k outputs of shape [batch, k], or [batch, C, k] with components:
//     counts holds C rows of features counters, component-major, and k is
//     the number of entries per vector and component. Row r of index
//     belongs to component r % C, as a row-major [batch, C, k] array has
//     it.
//
// Every index is checked against [0, features) before anything is added:
// an index outside it (a negative one included) is an error wrapping
// ErrIndex that names the first such entry, and counts is left exactly as
// it was. An error wrapping ErrShape, counts unchanged too, rejects: k <= 0;
// features < 0; features == 0 with entries or counters; len(counts) not a
// multiple of features, or zero with entries; len(index) not a multiple of
// k.
//
// Duplicate entries (the same index twice in a row) count twice: nothing
// here can tell them from two vectors. AddIndexCounts runs the level that
// Active reports, allocates nothing in steady state (it keeps narrow
// scratch counters in a pool, see IndexScratchBytes), reads no byte outside
// its slices, and works through long inputs in pieces of at most
// ChunkBytes per assembly call. Calls on different counts may run at the
// same time.
func AddIndexCounts[I Index](counts []uint64, features int, index []I, k int) error {
	g, err := checkIndexShape(len(counts), features, len(index), len(index), k)
	if err != nil || len(index) == 0 {
		return err
	}
	return addIndexAll(counts, g, index, &active.Load().index)
}

// AddNonZeroIndexCounts is AddIndexCounts for the entries whose value is
// not zero, with CountNonZero's meaning of zero: +0 and -0 for the float
// types (NaN, ±Inf and subnormals count), the all-zero pattern for the
// integers. values[i] is the value of entry i, so len(values) must be
// len(index) (an ErrShape error otherwise). Every index is checked, also
// those of entries whose value does not count.
//
// With the values of a ReLU top-k encoder, which can leave zeros among the
// k, the counts are the dense batch's AddNonZeroColumns counts.
func AddNonZeroIndexCounts[I Index, T Element](counts []uint64, features int, index []I, values []T, k int) error {
	g, err := checkIndexShape(len(counts), features, len(index), len(values), k)
	if err != nil || len(index) == 0 {
		return err
	}
	f := &active.Load().index
	m := &f.mask.nonZero
	switch v := any(values).(type) {
	case []float32:
		return addIndexValues(counts, g, index, words[uint32](v), nonZeroTest(0x7fffffff, m.float32), f)
	case []float64:
		return addIndexValues(counts, g, index, words[uint64](v), nonZeroTest(^uint64(0)>>1, m.float64), f)
	case []Float16:
		return addIndexValues(counts, g, index, words[uint16](v), nonZeroTest(0x7fff, m.float16), f)
	case []BFloat16:
		return addIndexValues(counts, g, index, words[uint16](v), nonZeroTest(0x7fff, m.float16), f)
	case []int8:
		return addIndexValues(counts, g, index, words[uint8](v), nonZeroTest(0xff, m.bits8), f)
	case []uint8:
		return addIndexValues(counts, g, index, v, nonZeroTest(0xff, m.bits8), f)
	case []int16:
		return addIndexValues(counts, g, index, words[uint16](v), nonZeroTest(0xffff, m.bits16), f)
	case []uint16:
		return addIndexValues(counts, g, index, v, nonZeroTest(0xffff, m.bits16), f)
	case []int32:
		return addIndexValues(counts, g, index, words[uint32](v), nonZeroTest(0xffffffff, m.bits32), f)
	case []uint32:
		return addIndexValues(counts, g, index, v, nonZeroTest(0xffffffff, m.bits32), f)
	case []int64:
		return addIndexValues(counts, g, index, words[uint64](v), nonZeroTest(^uint64(0), m.bits64), f)
	case []uint64:
		return addIndexValues(counts, g, index, v, nonZeroTest(^uint64(0), m.bits64), f)
	}
	panic("unreachable: Element has no other types")
}

// AddAboveIndexCounts is AddNonZeroIndexCounts for the entries whose value
// is greater than threshold, compared exactly as CountAbove compares: NaN
// values never count, a NaN threshold counts nothing (every index is still
// checked), -0 equals +0, and the threshold need not be representable in
// the element type.
func AddAboveIndexCounts[I Index, T Float](counts []uint64, features int, index []I, values []T, k int, threshold float64) error {
	g, err := checkIndexShape(len(counts), features, len(index), len(values), k)
	if err != nil || len(index) == 0 {
		return err
	}
	f := &active.Load().index
	switch v := any(values).(type) {
	case []float32:
		r := aboveRange(float32Floor(threshold))
		return addIndexValues(counts, g, index, words[uint32](v), aboveTest(r, f.mask.above(r.keys).f32), f)
	case []float64:
		r := aboveRange(float64Floor(threshold))
		return addIndexValues(counts, g, index, words[uint64](v), aboveTest(r, f.mask.above(r.keys).f64), f)
	case []Float16:
		r := aboveRange(float16Floor(threshold))
		return addIndexValues(counts, g, index, words[uint16](v), aboveTest(r, f.mask.above(r.keys).f16), f)
	case []BFloat16:
		r := aboveRange(bfloat16Floor(threshold))
		return addIndexValues(counts, g, index, words[uint16](v), aboveTest(r, f.mask.above(r.keys).f16), f)
	}
	panic("unreachable: Float has no other types")
}

// AddAbsAboveIndexCounts is AddNonZeroIndexCounts for the entries whose
// absolute value is greater than threshold, compared exactly as
// CountAbsAbove compares: NaN values never count, a NaN threshold counts
// nothing (every index is still checked), a negative threshold counts
// every value but NaN.
func AddAbsAboveIndexCounts[I Index, T Float](counts []uint64, features int, index []I, values []T, k int, threshold float64) error {
	g, err := checkIndexShape(len(counts), features, len(index), len(values), k)
	if err != nil || len(index) == 0 {
		return err
	}
	f := &active.Load().index
	m := &f.mask.absAbove
	switch v := any(values).(type) {
	case []float32:
		return addIndexValues(counts, g, index, words[uint32](v), absTest(absRange(float32Floor(threshold)), m.f32), f)
	case []float64:
		return addIndexValues(counts, g, index, words[uint64](v), absTest(absRange(float64Floor(threshold)), m.f64), f)
	case []Float16:
		return addIndexValues(counts, g, index, words[uint16](v), absTest(absRange(float16Floor(threshold)), m.f16), f)
	case []BFloat16:
		return addIndexValues(counts, g, index, words[uint16](v), absTest(absRange(bfloat16Floor(threshold)), m.f16), f)
	}
	panic("unreachable: Float has no other types")
}

// CheckIndex returns nil if every element of index is in [0, limit), and
// otherwise an error wrapping ErrIndex that names the first one outside
// it. With limit = math.MaxInt it checks that no index is negative (an
// int64 index of math.MaxInt is then rejected too, which no count of
// features can admit). It is the range check of the Add...IndexCounts
// functions on its own, for callers that count entries without counters
// per feature (the L0 norm of top-k outputs: the number of counted entries
// per row). It reads no byte outside index, allocates nothing unless it
// fails, and checks long inputs in chunks of at most ChunkBytes.
func CheckIndex[I Index](index []I, limit int) error {
	bad := -1
	f := &active.Load().index
	switch x := any(index).(type) {
	case []int32:
		bad = firstOutside(words[uint32](x), indexLimit(limit, math.MaxInt32), f.max.u32)
	case []int64:
		bad = firstOutside(words[uint64](x), indexLimit(limit, math.MaxInt64), f.max.u64)
	case []uint16:
		bad = firstOutside(x, indexLimit(limit, math.MaxUint16), f.max.u16)
	case []uint32:
		bad = firstOutside(x, indexLimit(limit, math.MaxUint32), f.max.u32)
	}
	if bad >= 0 {
		return indexError(index, bad, limit)
	}
	return nil
}

// indexError is the ErrIndex error of entry i.
func indexError[I Index](index []I, i, limit int) error {
	return fmt.Errorf("%w: index[%d] = %d, outside [0, %d)", ErrIndex, i, index[i], limit)
}

// indexShape is a checked layout: features counters per component, C
// components, rows of k entries.
type indexShape struct {
	features, components, k int
}

// checkIndexShape checks the layout of an Add...IndexCounts call: counters
// counts, entries index entries with values values each, rows of k.
func checkIndexShape(counts, features, entries, values, k int) (indexShape, error) {
	switch {
	case k <= 0:
		return indexShape{}, fmt.Errorf("%w: rows of %d entries", ErrShape, k)
	case values != entries:
		return indexShape{}, fmt.Errorf("%w: %d indices but %d values", ErrShape, entries, values)
	case features < 0:
		return indexShape{}, fmt.Errorf("%w: %d features", ErrShape, features)
	case features == 0 && (entries > 0 || counts > 0):
		return indexShape{}, fmt.Errorf("%w: %d entries and %d counts for no features", ErrShape, entries, counts)
	case features > 0 && counts%features != 0:
		return indexShape{}, fmt.Errorf("%w: %d counts are not whole components of %d features", ErrShape, counts, features)
	case counts == 0 && entries > 0:
		return indexShape{}, fmt.Errorf("%w: %d entries to count into no counts", ErrShape, entries)
	case entries%k != 0:
		return indexShape{}, fmt.Errorf("%w: %d entries are not whole rows of %d", ErrShape, entries, k)
	}
	g := indexShape{features: features, k: k}
	if features > 0 {
		g.components = counts / features
	}
	return g, nil
}

// indexLimit is the bound of an index's lanes, read unsigned: a lane is in
// range when it is below min(limit, top+1), top being the largest value of
// the index type. A negative index, read unsigned, is above the largest
// non-negative one, so it is out of range as it must be.
func indexLimit(limit int, top uint64) uint64 {
	if limit <= 0 {
		return 0
	}
	return min(uint64(limit), top+1)
}

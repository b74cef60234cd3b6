package kernel

import (
	"errors"
	"fmt"
	"unsafe"
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
	return addIndexAll(counts, g, index, active.Load())
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
	k, bad := &active.Load().allEntries, -1
	switch unsafe.Sizeof(index[0]) {
	case 2:
		bad = firstOutside(words[uint16](index), indexLimit[I](limit), indexOf[uint16](k).max)
	case 4:
		bad = firstOutside(words[uint32](index), indexLimit[I](limit), indexOf[uint32](k).max)
	default:
		bad = firstOutside(words[uint64](index), indexLimit[I](limit), indexOf[uint64](k).max)
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

// indexLimit is the bound of the lanes of indices of type I, read
// unsigned: a lane is in range when it is below min(limit, top+1), top
// being the largest value of I. A negative index, read unsigned, is above
// the largest non-negative one, so it is out of range as it must be.
func indexLimit[I Index](limit int) uint64 {
	if limit <= 0 {
		return 0
	}
	return min(uint64(limit), indexTop[I]()+1)
}

// indexTop is the largest value of the index type I: every bit of its
// width, but the sign bit for a signed type.
func indexTop[I Index]() uint64 {
	top := ^uint64(0) >> (64 - 8*unsafe.Sizeof(I(0)))
	if ^I(0) < 0 {
		top >>= 1
	}
	return top
}
